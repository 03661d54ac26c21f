import Foundation

// A test-side Parquet reader: parses the footer with ThriftCompactReader, walks every page of every
// column chunk, checks the byte accounting, and decodes values for UNCOMPRESSED and SNAPPY files.

struct InspectError: Error, CustomStringConvertible {
    var description: String
}

struct InspectedPage {
    var type: Int64
    var headerOffset: Int
    var uncompressedSize: Int
    var compressedSize: Int
    var numValues: Int
    var encoding: Int64
}

struct InspectedChunk {
    var name: String
    var meta: ThriftStruct
    var pages: [InspectedPage]
    var chunkStart: Int
}

enum DecodedValue: Equatable {
    case null
    case string([UInt8])
    case int(Int64)
    case double(UInt64)
}

struct InspectedFile {
    let bytes: [UInt8]
    let footer: ThriftStruct
    /// Per row group, per column.
    var chunks: [[InspectedChunk]] = []

    init(_ data: [UInt8]) throws {
        bytes = data
        guard data.count >= 12, Array(data.prefix(4)) == Array("PAR1".utf8), Array(data.suffix(4)) == Array("PAR1".utf8)
        else { throw InspectError(description: "missing PAR1 magic") }
        let n = data.count
        let footerLength = Int(data[n - 8]) | Int(data[n - 7]) << 8 | Int(data[n - 6]) << 16 | Int(data[n - 5]) << 24
        let footerStart = n - 8 - footerLength
        guard footerStart >= 4 else { throw InspectError(description: "footer length \(footerLength) too large") }
        var reader = ThriftCompactReader(data, at: footerStart)
        footer = try reader.readStruct()
        guard reader.position == n - 8 else {
            throw InspectError(description: "footer parsed to \(reader.position), expected \(n - 8)")
        }
        let schema = footer.list(2)!.map { $0.structure! }
        let names = schema.dropFirst().map { $0.string(4)! }
        var expectedOffset = 4
        for group in footer.list(4) ?? [] {
            let g = group.structure!
            var columns: [InspectedChunk] = []
            for (index, chunkValue) in g.list(1)!.enumerated() {
                let meta = chunkValue.structure!.structure(3)!
                let start = Int(meta.int(11) ?? meta.int(9)!)
                guard start == expectedOffset else {
                    throw InspectError(
                        description: "chunk \(names[index]) starts at \(start), expected \(expectedOffset)"
                    )
                }
                let total = Int(meta.int(7)!)
                var position = start
                var pages: [InspectedPage] = []
                while position < start + total {
                    var r = ThriftCompactReader(data, at: position)
                    let h = try r.readStruct()
                    let sub = h.structure(5) ?? h.structure(7)!
                    pages.append(
                        InspectedPage(
                            type: h.int(1)!,
                            headerOffset: position,
                            uncompressedSize: Int(h.int(2)!),
                            compressedSize: Int(h.int(3)!),
                            numValues: Int(sub.int(1)!),
                            encoding: sub.int(2)!
                        )
                    )
                    position = r.position + Int(h.int(3)!)
                }
                guard position == start + total else {
                    throw InspectError(
                        description: "pages of \(names[index]) end at \(position), chunk at \(start + total)"
                    )
                }
                expectedOffset = position
                columns.append(InspectedChunk(name: names[index], meta: meta, pages: pages, chunkStart: start))
            }
            chunks.append(columns)
        }
        guard expectedOffset == footerStart else {
            throw InspectError(description: "row groups end at \(expectedOffset), footer starts at \(footerStart)")
        }
    }

    var schema: [ThriftStruct] { footer.list(2)!.map { $0.structure! } }

    /// The body of a page, decompressed.
    func body(of page: InspectedPage, codec: Int64) throws -> [UInt8] {
        var r = ThriftCompactReader(bytes, at: page.headerOffset)
        _ = try r.readStruct()
        let stored = Array(bytes[r.position..<(r.position + page.compressedSize)])
        let body: [UInt8]
        switch codec {
        case 0: body = stored
        case 1: body = try SnappyReferenceDecoder.decode(stored)
        default: throw InspectError(description: "test reader cannot decode codec \(codec)")
        }
        guard body.count == page.uncompressedSize else {
            throw InspectError(description: "page body is \(body.count) bytes, header says \(page.uncompressedSize)")
        }
        return body
    }

    /// Every value of column `c`, all row groups in order.
    func values(ofColumn c: Int) throws -> [DecodedValue] {
        let element = schema[c + 1]
        let optional = element.int(3) == 1
        let type = element.int(1)!
        var result: [DecodedValue] = []
        for group in chunks {
            let chunk = group[c]
            let codec = chunk.meta.int(4)!
            var dictionary: [DecodedValue] = []
            for page in chunk.pages {
                let body = try self.body(of: page, codec: codec)
                var p = 0
                func u32() -> Int {
                    defer { p += 4 }
                    return Int(body[p]) | Int(body[p + 1]) << 8 | Int(body[p + 2]) << 16 | Int(body[p + 3]) << 24
                }
                func u64() -> UInt64 {
                    var v: UInt64 = 0
                    for i in 0..<8 { v |= UInt64(body[p + i]) << (8 * UInt64(i)) }
                    p += 8
                    return v
                }
                if page.type == 2 {
                    for _ in 0..<page.numValues {
                        switch type {
                        case 6:
                            let n = u32()
                            dictionary.append(.string(Array(body[p..<(p + n)])))
                            p += n
                        case 2: dictionary.append(.int(Int64(bitPattern: u64())))
                        default: dictionary.append(.double(u64()))
                        }
                    }
                    guard p == body.count else { throw InspectError(description: "dictionary page has trailing bytes") }
                    continue
                }
                var present = [Bool](repeating: true, count: page.numValues)
                if optional {
                    let n = u32()
                    guard
                        let levels = RLEHybridReferenceDecoder.decode(
                            Array(body[p..<(p + n)]),
                            bitWidth: 1,
                            count: page.numValues
                        )
                    else { throw InspectError(description: "bad definition levels") }
                    present = levels.map { $0 == 1 }
                    p += n
                }
                let nonNull = present.filter { $0 }.count
                var decoded: [DecodedValue] = []
                if page.encoding == 8 {
                    let width = Int(body[p])
                    p += 1
                    guard let ids = RLEHybridReferenceDecoder.decode(Array(body[p...]), bitWidth: width, count: nonNull)
                    else { throw InspectError(description: "bad dictionary ids") }
                    guard ids.allSatisfy({ Int($0) < dictionary.count }) else {
                        throw InspectError(description: "dictionary id out of range")
                    }
                    decoded = ids.map { dictionary[Int($0)] }
                } else {
                    for _ in 0..<nonNull {
                        switch type {
                        case 6:
                            let n = u32()
                            decoded.append(.string(Array(body[p..<(p + n)])))
                            p += n
                        default:
                            let v = u64()
                            decoded.append(type == 2 ? .int(Int64(bitPattern: v)) : .double(v))
                        }
                    }
                    guard p == body.count else { throw InspectError(description: "PLAIN page has trailing bytes") }
                }
                var next = 0
                for isPresent in present {
                    if isPresent {
                        result.append(decoded[next])
                        next += 1
                    } else {
                        result.append(.null)
                    }
                }
            }
        }
        return result
    }
}
