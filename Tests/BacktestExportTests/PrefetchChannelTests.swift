import ExportCore
import Testing

@testable import BacktestExport

@Suite struct PrefetchChannelTests {
    /// A producer that stays ahead of its consumer (the usual case when reading is faster than
    /// writing, as with `--trust-input-order`) must not make the channel keep every batch it
    /// handed out: a taken batch is released at once.
    @Test func takenBatchesAreReleasedWhileTheProducerStaysAhead() async throws {
        let channel = PrefetchChannel(depth: 3)
        try await channel.send(ForecastBatch(forecastTypeCount: 1))
        try await channel.send(ForecastBatch(forecastTypeCount: 1))
        for _ in 0..<100 {
            _ = try #require(try await channel.take())
            try await channel.send(ForecastBatch(forecastTypeCount: 1))
            #expect(channel.heldBatchCount == 2)
        }
        channel.finish(.success(()))
        var rest = 0
        while try await channel.take() != nil { rest += 1 }
        #expect(rest == 2)
        #expect(channel.heldBatchCount == 0)
    }
}
