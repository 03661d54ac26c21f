import ExportCore
import Testing

@testable import ExportCSV

@Suite("TargetCSVReader")
struct ReadingTargetReaderTests {
    @Test("reads item_id, dimensions, timestamp and target_value in any column order")
    func readsHistory() throws {
        let path = try writeReadingInput(
            "timestamp,color,item_id,target_value,store\n"
                + "2020-01-01,red,a,1.5,s1\n"
                + "2020-01-02 00:00:00,red,a,,s1\n"
                + "2020-01-01T00:00:00Z,blue,b,NaN,s2\n"
        )
        var reader = try TargetCSVReader(path: path, expectedDimensions: ["store", "color"], batchSize: 2)
        #expect(reader.dimensions == ["store", "color"])
        #expect(reader.columns.dimensions == [4, 1])
        let first = try #require(try reader.nextBatch())
        #expect(first.series == [SeriesKey(itemId: "a", dimensions: ["s1", "red"])])
        #expect(first.seriesIndex == [0, 0])
        #expect(first.timestamp == [utcMillis(2020, 1, 1), utcMillis(2020, 1, 2)])
        #expect(first.target == DoubleColumn(values: [1.5, 0], isPresent: [true, false]))
        let second = try #require(try reader.nextBatch())
        #expect(second.series == [SeriesKey(itemId: "b", dimensions: ["s2", "blue"])])
        #expect(second.target[0]?.isNaN == true)
        #expect(try reader.nextBatch() == nil)
    }

    @Test("without expected dimensions, every other column is one, in file order")
    func inputOrderDimensions() throws {
        let path = try writeReadingInput("color,item_id,timestamp,target_value,store\nred,a,2020-01-01,1,s1\n")
        var reader = try TargetCSVReader(path: path)
        #expect(reader.dimensions == ["color", "store"])
        #expect(try reader.nextBatch()?.series == [SeriesKey(itemId: "a", dimensions: ["red", "s1"])])
    }

    @Test("dimension names must equal the forecast file's")
    func dimensionMismatch() throws {
        let path = try writeReadingInput("item_id,store,timestamp,target_value\na,s1,2020-01-01,1\n")
        for expected in [[], ["region"], ["store", "region"]] {
            let e = readingError { () throws(ExportError) in
                _ = try TargetCSVReader(path: path, expectedDimensions: expected)
            }
            #expect(e?.code == .input)
            #expect(e?.location == .init(file: path, line: 1))
            #expect(e?.message.contains("differ from the forecast file's") == true)
        }
        #expect(throws: Never.self) { try TargetCSVReader(path: path, expectedDimensions: ["store"]) }
    }

    @Test("errors carry the location: missing column, bad number, bad timestamp, field count")
    func errors() throws {
        let missing = try writeReadingInput("item_id,timestamp\na,2020-01-01\n")
        let e1 = readingError { () throws(ExportError) in _ = try TargetCSVReader(path: missing) }
        #expect(e1?.message.contains("Missing required column 'target_value'") == true)
        #expect(e1?.location == .init(file: missing, line: 1))

        let bad = try writeReadingInput(
            "item_id,timestamp,target_value\na,2020-01-01,1\na,2020-01-02,x1\na,2020-02-30,1\na,1\n"
        )
        var reader = try TargetCSVReader(path: bad, batchSize: 1)
        #expect(try reader.nextBatch()?.rowCount == 1)
        let e2 = readingError { () throws(ExportError) in _ = try reader.nextBatch() }
        #expect(e2?.location == .init(file: bad, line: 3, column: 3, columnName: "target_value"))

        let badTime = try writeReadingInput("item_id,timestamp,target_value\na,2020-02-30,1\n")
        var timeReader = try TargetCSVReader(path: badTime)
        let e3 = readingError { () throws(ExportError) in _ = try timeReader.nextBatch() }
        #expect(e3?.location == .init(file: badTime, line: 2, column: 2, columnName: "timestamp"))
        #expect(e3?.message.contains("day 30 is out of range for 2020-02") == true)

        let short = try writeReadingInput("item_id,timestamp,target_value\na,1\n")
        var shortReader = try TargetCSVReader(path: short)
        let e4 = readingError { () throws(ExportError) in _ = try shortReader.nextBatch() }
        #expect(e4?.location == .init(file: short, line: 2, column: 3, columnName: "target_value"))
        #expect(e4?.message.contains("expected 3 fields, found 2") == true)
    }
}
