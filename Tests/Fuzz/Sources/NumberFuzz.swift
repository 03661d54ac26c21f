@testable import ExportCSV

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The input as a CSV field: when the parser accepts it, the value must be `strtod`'s (bit for bit;
/// any NaN for NaN); when `strtod` reads all of it and it uses nothing outside the parser's grammar
/// (no whitespace, hexadecimal or `nan(…)`), the parser must accept it. Then the first 8 bytes as
/// a double: its Java-style text must parse back to the same bits.
enum NumberFuzz {
    static func run(_ data: UnsafeBufferPointer<UInt8>) {
        let ours = CSVNumberParser.parseDouble(data)
        let reference = strtodWhole(data)
        switch (ours, reference) {
        case (let a?, let b?):
            guard a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) else {
                fuzzFailure("'\(text(data))' parsed as \(a) (\(hex(a))), strtod says \(b) (\(hex(b)))")
            }
        case (let a?, nil):
            fuzzFailure("'\(text(data))' parsed as \(a), strtod does not read it whole")
        case (nil, let b?):
            let outsideGrammar = data.contains {
                $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") || $0 == UInt8(ascii: "(") || isspace(Int32($0)) != 0
            }
            guard outsideGrammar else { fuzzFailure("'\(text(data))' rejected, strtod reads it whole as \(b)") }
        case (nil, nil):
            break
        }
        roundTrip(data)
    }

    /// `strtod` of the bytes, when it consumes all of them (and they hold no NUL).
    static func strtodWhole(_ data: UnsafeBufferPointer<UInt8>) -> Double? {
        guard !data.isEmpty, !data.contains(0) else { return nil }
        var copy = Array(data.map { CChar(bitPattern: $0) })
        copy.append(0)
        return copy.withUnsafeMutableBufferPointer { buffer -> Double? in
            var end: UnsafeMutablePointer<CChar>? = nil
            let value = strtod(buffer.baseAddress!, &end)
            return end == buffer.baseAddress! + data.count ? value : nil
        }
    }

    static func roundTrip(_ data: UnsafeBufferPointer<UInt8>) {
        guard data.count >= 8 else { return }
        let value = Double(bitPattern: UnsafeRawPointer(data.baseAddress!).loadUnaligned(as: UInt64.self))
        var printed: [UInt8] = []
        JavaDoubleFormatter.append(value, to: &printed)
        guard printed.count <= JavaDoubleFormatter.maxLength else {
            fuzzFailure("\(hex(value)) printed as \(printed.count) bytes, more than maxLength")
        }
        let back = printed.withUnsafeBufferPointer { CSVNumberParser.parseDouble($0) }
        guard let back, back.bitPattern == value.bitPattern || (back.isNaN && value.isNaN) else {
            fuzzFailure(
                "\(hex(value)) printed as '\(String(decoding: printed, as: UTF8.self))', parsed back as \(String(describing: back))"
            )
        }
    }

    static func text(_ data: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: data.prefix(200), as: UTF8.self)
    }

    static func hex(_ value: Double) -> String { "0x" + String(value.bitPattern, radix: 16) }
}
