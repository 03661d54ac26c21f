/// Carries a value that is not `Sendable` to pool threads that never use it at the same time as
/// anyone else (the caller hands it over, or a lock or a job chain orders the uses).
struct HandedOver<Value>: @unchecked Sendable {
    let value: Value
}
