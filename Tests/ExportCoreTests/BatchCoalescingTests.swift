import ExportCore
import Testing

@Suite struct BatchCoalescingTests {
    func forecastBatch(rows: Int, itemPrefix: String = "item") -> ForecastBatch {
        var batch = ForecastBatch(forecastTypeCount: 2)
        for r in 0..<rows {
            batch.append(
                series: SeriesKey(itemId: "\(itemPrefix)\(r / 3)", dimensions: []),
                timestamp: Int64(r),
                target: r == 4 ? nil : Double(r),
                windowStart: 0,
                windowEnd: 10_000,
                forecasts: [Double(r), 2]
            )
        }
        return batch
    }

    func metricsBatch(rows: Int) -> MetricsBatch {
        var batch = MetricsBatch(metricCount: 2)
        for r in 0..<rows {
            batch.append(
                series: SeriesKey(itemId: "item\(r / 3)", dimensions: []),
                window: r % 3 == 2 ? .summary : .computed,
                windowStart: 0,
                windowEnd: 10_000,
                metrics: [Double(r), r == 1 ? nil : 0.5]
            )
        }
        return batch
    }

    @Test func adjacentRangesOfOneBatchBecomeOne() {
        let batch = forecastBatch(rows: 12)
        let copy = batch
        let merged = ForecastBatch.coalescing([(batch, 0..<3), (copy, 3..<6), (batch, 6..<12)])
        #expect(merged.map(\.rows) == [0..<12])

        let metrics = metricsBatch(rows: 9)
        let mergedMetrics = MetricsBatch.coalescing(metrics.seriesRuns().map { (metrics, $0) })
        #expect(mergedMetrics.map(\.rows) == [0..<9])
    }

    @Test func gapsReorderingAndOtherBatchesAreKeptApart() {
        let first = forecastBatch(rows: 12)
        // Equal rows in storage of its own: not known to be the same batch, so not merged.
        let equal = forecastBatch(rows: 12)
        let other = forecastBatch(rows: 12, itemPrefix: "other")
        let merged = ForecastBatch.coalescing([
            (first, 0..<3), (first, 3..<6),  // merged
            (first, 9..<12),  // a gap
            (first, 6..<9),  // back in the batch
            (equal, 9..<12),  // another storage, although adjacent
            (other, 12..<12), (other, 0..<3),
        ])
        #expect(merged.map(\.rows) == [0..<6, 9..<12, 6..<9, 9..<12, 12..<12, 0..<3])
        #expect(ForecastBatch.coalescing([]).isEmpty)
        #expect(ForecastBatch.coalescing([(first, 2..<5)]).map(\.rows) == [2..<5])
    }

    @Test func aBatchChangedAfterCopyingIsAnotherBatch() {
        let batch = forecastBatch(rows: 6)
        // Each column written once after the copy: every column takes part in the comparison.
        let edits: [(inout ForecastBatch) -> Void] = [
            { $0.seriesIndex[5] = 0 },
            { $0.timestamp[5] += 1 },
            { $0.target.values[5] += 1 },
            { $0.windowStart[5] -= 1 },
            { $0.windowEnd[5] += 1 },
            { $0.forecasts[1].values[5] += 1 },
            { $0.series[0] = SeriesKey(itemId: "renamed", dimensions: []) },
        ]
        for (index, edit) in edits.enumerated() {
            var changed = batch
            edit(&changed)
            #expect(!batch.sharesColumns(with: changed), "edit \(index)")
            #expect(ForecastBatch.coalescing([(batch, 0..<3), (changed, 3..<6)]).count == 2, "edit \(index)")
        }
        #expect(batch.sharesColumns(with: batch))

        let metrics = metricsBatch(rows: 6)
        var changedMetrics = metrics
        changedMetrics.metrics[1].append(nil)
        #expect(!metrics.sharesColumns(with: changedMetrics))
        var changedWindows = metrics
        changedWindows.backtestWindow[0] = .summary
        #expect(!metrics.sharesColumns(with: changedWindows))
        #expect(metrics.sharesColumns(with: metrics))
    }
}
