import ExportCore
import NIOCore

/// A plain text format for exercising the exporter without the real encoders: one line per row,
/// every column rendered with Swift's own descriptions (line breaks in keys escaped as `\\n`), and
/// a header line.
struct TextTableFormat: TableFormat {
    var fileExtension: String { "txt" }
    var formatName: String { "TEXT" }
    var codecName: String { "none" }
    /// Chunk size, small so that parts are written in several chunks.
    var chunkBytes = 64

    func makeEncoder(for context: PartContext) -> Encoder {
        Encoder(schema: context.tableSchema, chunkBytes: chunkBytes)
    }

    struct Encoder: TableEncoder {
        let schema: TableSchema
        let chunkBytes: Int
        var pending = ByteBuffer()
        var byteCount = 0

        init(schema: TableSchema, chunkBytes: Int) {
            self.schema = schema
            self.chunkBytes = chunkBytes
            write(schema.columnNames.joined(separator: "|") + "\n")
        }

        mutating func write(_ text: String) {
            pending.writeString(text)
            byteCount += text.utf8.count
        }

        mutating func append<Batch: ColumnarBatch>(_ batch: Batch, rows: Range<Int>) throws(ExportError) {
            let columns = schema.outputColumns(of: batch)
            for row in rows {
                var fields = batch.series[Int(batch.seriesIndex[row])].values.map { value in
                    value.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n")
                }
                for column in columns {
                    switch column {
                    case .times(let t): fields.append(String(t[row]))
                    case .backtestWindows(let w): fields.append(w[row].label)
                    case .doubles(let d): fields.append(d[row].map { "\($0)" } ?? "-")
                    }
                }
                write(fields.joined(separator: "|") + "\n")
            }
        }

        mutating func takeReadyBytes() -> ByteBuffer? {
            guard pending.readableBytes >= chunkBytes else { return nil }
            defer { pending.clear() }
            return pending
        }

        mutating func finish() throws(ExportError) -> ByteBuffer { pending }
    }
}
