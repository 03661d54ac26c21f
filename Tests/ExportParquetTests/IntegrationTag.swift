import Testing

extension Tag {
    /// Tests that need a tool beyond the toolchain (the Python readers); `scripts/test` runs them.
    @Tag static var integration: Self
}
