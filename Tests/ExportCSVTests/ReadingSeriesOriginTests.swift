import ExportCore
import Testing

@testable import ExportCSV

/// The reader numbers its series in a table that outlives each batch (``SeriesOrigin``): within
/// one table a number always names the same key and two keys never share a number, whether the
/// file is read whole or in chunks on several threads, and when the table is started afresh past
/// its limit it gets a new table number.
@Suite("Reading: series origin")
struct ReadingSeriesOriginTests {
    /// Rows of `series` distinct ids (with dimensions), shuffled, so that every batch meets
    /// series that earlier batches met.
    static func text(rows: Int, series: Int, seed: UInt64) -> String {
        var random = SplitMix64(seed: seed)
        var out = "item_id,store,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,p50\n"
        for row in 0..<rows {
            let s = Int(random.next() % UInt64(series))
            // Ids of several lengths (word-sized and not), some quoted, and keys that differ only
            // in the dimension.
            let id = s % 3 == 0 ? "\"id,\(s / 2)\"" : "item_\(String(repeating: "x", count: s % 11))\(s / 2)"
            out += "\(id),store_\(s % 2),2020-01-0\(1 + row % 7),\(row),2020-01-01,2020-01-07,1.5\n"
        }
        return out
    }

    /// A reader of 3,000 shuffled rows of 200 series, in batches of 97 rows; read in chunks of
    /// `chunkBytes` on two threads when given, else whole on one.
    static func reader(seed: UInt64, chunkBytes: Int? = nil) throws -> BacktestCSVReader {
        let path = try writeReadingInput(text(rows: 3000, series: 200, seed: seed))
        return try BacktestCSVReader(
            source: try FileByteSource.openText(path: path),
            dimensions: ["store"],
            batchSize: 97,
            blockSize: 256,
            parallelChunkBytes: chunkBytes,
            threads: chunkBytes == nil ? 1 : 2
        )
    }

    /// Every batch's origin, checked against the keys: one number per series of the batch, one
    /// key per (table, number) and one number per (table, key).
    static func checkOrigins(
        _ reader: inout BacktestCSVReader
    ) throws -> (tables: Set<UInt64>, rows: Int, keys: Set<SeriesKey>) {
        var keyOf: [UInt64: [Int32: SeriesKey]] = [:]
        var numberOf: [UInt64: [SeriesKey: Int32]] = [:]
        var rows = 0
        var keys: Set<SeriesKey> = []
        while let batch = try reader.nextBatch() {
            rows += batch.rowCount
            let origin = try #require(batch.seriesOrigin)
            #expect(origin.ids.count == batch.series.count)
            #expect(Set(batch.series).count == batch.series.count)
            for (key, number) in zip(batch.series, origin.ids) {
                keys.insert(key)
                let seen = keyOf[origin.table, default: [:]][number]
                #expect(seen == nil || seen == key, "number \(number) of table \(origin.table) names two keys")
                keyOf[origin.table, default: [:]][number] = key
                let known = numberOf[origin.table, default: [:]][key]
                #expect(known == nil || known == number, "key \(key) has two numbers in table \(origin.table)")
                numberOf[origin.table, default: [:]][key] = number
            }
        }
        return (Set(keyOf.keys), rows, keys)
    }

    @Test("one table for a file read whole, its numbers consistent across batches")
    func wholeFile() throws {
        var reader = try Self.reader(seed: 1)
        let seen = try Self.checkOrigins(&reader)
        #expect(seen.rows == 3000)
        #expect(seen.keys.count == 200)
        #expect(seen.tables.count == 1)
    }

    @Test("one table per chunk in flight when read in chunks: each worker keeps its table from chunk to chunk")
    func chunks() throws {
        var reader = try Self.reader(seed: 2, chunkBytes: 4096)
        let seen = try Self.checkOrigins(&reader)
        #expect(seen.rows == 3000)
        #expect(seen.keys.count == 200)
        // Two threads, two chunks in flight per thread: four workers, each with one table.
        #expect(seen.tables.count == 4)
    }

    @Test("past its limit the table starts afresh under a new number")
    func limit() throws {
        var reader = try Self.reader(seed: 3)
        reader.rememberedSeries = 50
        let seen = try Self.checkOrigins(&reader)
        #expect(seen.rows == 3000)
        #expect(seen.keys.count == 200)
        // 200 series, a batch of 97 rows meets up to 97 new ones: several fresh tables.
        #expect(seen.tables.count >= 3)
    }

    /// Every row's series is its own key, whatever the key's length (the table holds keys of up
    /// to 16 bytes inline, longer ones by reference) and while the table grows in the middle of a
    /// batch: 3,000 series of ids from 1 to 40 bytes (some differing only by a trailing byte or
    /// by the dimension), each met twice in random order, in one batch and in batches of 97;
    /// without the dimension, a key of one field (read without a copy up to 15 bytes).
    @Test(
        "each row's series is its key, for keys of every length and across table growth",
        arguments: [97, 10_000],
        [true, false]
    )
    func rowsKeepTheirKeys(batchSize: Int, withDimension: Bool) throws {
        var random = SplitMix64(seed: 11)
        var rows: [(id: String, store: String)] = []
        for s in 0..<3000 {
            // Series 2k and 2k + 1 share an id and differ in the dimension's last byte, or one
            // has it empty.
            let length = 1 + (s / 2) % 40
            let digits = String(s / 2)
            let id = String(repeating: "i", count: max(0, length - digits.count)) + digits
            let store = s % 4 == 0 ? "" : "s\(s % 2)"
            // Without the dimension, series 2k + 1 gets an id one byte longer than 2k's.
            let ownId = withDimension || s % 2 == 0 ? id : id + "x"
            rows.append((ownId, store))
            rows.append((ownId, store))
        }
        for i in stride(from: rows.count - 1, to: 0, by: -1) {
            rows.swapAt(i, Int(random.next() % UInt64(i + 1)))
        }
        let storeColumn = withDimension ? "store," : ""
        var text =
            "item_id,\(storeColumn)timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,p50\n"
        for (row, key) in rows.enumerated() {
            let store = withDimension ? key.store + "," : ""
            text += "\(key.id),\(store)2020-01-0\(1 + row % 7),\(row),2020-01-01,2020-01-07,1.5\n"
        }
        var reader = try BacktestCSVReader(
            source: try FileByteSource.openText(path: try writeReadingInput(text)),
            dimensions: withDimension ? ["store"] : [],
            batchSize: batchSize,
            blockSize: 4096
        )
        var read = 0
        while let batch = try reader.nextBatch() {
            for row in 0..<batch.rowCount {
                let expected = rows[Int(batch.target.values[row])]
                let key = batch.series[Int(batch.seriesIndex[row])]
                #expect(key == SeriesKey(itemId: expected.id, dimensions: withDimension ? [expected.store] : []))
            }
            read += batch.rowCount
        }
        #expect(read == rows.count)
    }

    @Test("the keyed hash depends on every byte and on the seed")
    func hash() {
        let a: [UInt8] = Array("item_000123\u{FF}".utf8)
        var b = a
        b[3] ^= 1
        let hashA = a.withUnsafeBytes { SeriesKeyInterner.hash($0, seed: 7) }
        #expect(hashA == a.withUnsafeBytes { SeriesKeyInterner.hash($0, seed: 7) })
        #expect(hashA != b.withUnsafeBytes { SeriesKeyInterner.hash($0, seed: 7) })
        #expect(hashA != a.withUnsafeBytes { SeriesKeyInterner.hash($0, seed: 8) })
        // A trailing zero byte is not the end of a shorter key.
        let shorter: [UInt8] = [1, 2, 3]
        let padded: [UInt8] = [1, 2, 3, 0]
        #expect(
            shorter.withUnsafeBytes { SeriesKeyInterner.hash($0, seed: 7) }
                != padded.withUnsafeBytes { SeriesKeyInterner.hash($0, seed: 7) }
        )
    }

    /// Short keys (at most 16 bytes, hashed from two words) and long ones (word by word): a
    /// change to any one byte, or one byte more or less, changes the hash; so does the seed.
    @Test(arguments: [1, 7, 8, 9, 12, 15, 16, 17, 24, 31, 40])
    func everyByteOfAKeyCounts(length: Int) {
        let key = (0..<length).map { UInt8(truncatingIfNeeded: 0x41 &+ $0 &* 7) }
        func hash(_ bytes: [UInt8], seed: UInt64 = 11) -> UInt64 {
            bytes.withUnsafeBytes { SeriesKeyInterner.hash($0, seed: seed) }
        }
        let reference = hash(key)
        #expect(hash(key, seed: 12) != reference)
        #expect(hash(key + [0]) != reference)
        #expect(hash(Array(key.dropLast())) != reference)
        for i in 0..<length {
            for flip: UInt8 in [0x01, 0x80, 0xFF] {
                var changed = key
                changed[i] ^= flip
                #expect(hash(changed) != reference, "byte \(i) xor \(flip)")
            }
        }
    }

    /// A one-field key's words read from the field alone equal those of the copied key (field
    /// and separator), for every length the direct read takes; the bytes around the field differ
    /// from run to run, so a read outside it would show.
    @Test(arguments: Array(0..<16))
    func aShortFieldsWordsAreItsCopiedKeys(length: Int) {
        var random = SplitMix64(seed: UInt64(length) + 1)
        for _ in 0..<200 {
            let buffer = (0..<(length + 32)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let start = 16
            let field = Array(buffer[start..<(start + length)])
            let copied = (field + [0xFF]).withUnsafeBytes { SeriesKeyInterner.shortKeyWords($0) }
            let direct = buffer.withUnsafeBufferPointer {
                SeriesKeyInterner.shortKeyWords(field: UnsafeBufferPointer(rebasing: $0[start..<(start + length)]))
            }
            #expect(direct == copied, "\(field)")
        }
    }
}
