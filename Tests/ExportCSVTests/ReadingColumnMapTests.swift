import ExportCore
import Testing

@testable import ExportCSV

/// The column rules every input format shares (`BacktestColumnMap` takes a plain list of names).
@Suite("Column map")
struct ReadingColumnMapTests {
    static let required = [
        "item_id", "timestamp", "target_value", "backtestwindow_start_time", "backtestwindow_end_time",
    ]

    func map(_ extra: [String], dimensions: [String]? = nil) throws(ExportError) -> BacktestColumnMap {
        try BacktestColumnMap(columnNames: Self.required + extra, declaredDimensions: dimensions, file: "f.parquet")
    }

    @Test func forecastTypesInAnySpellingAndOrderComeOutInForecastsOrder() throws {
        let m = try map(["p90", "store", "0.10", "mean", "P50"])
        #expect(
            m.schema.forecastTypes == [
                .quantile(hundredths: 90), .quantile(hundredths: 10), .mean, .quantile(hundredths: 50),
            ]
        )
        #expect(m.forecastTypes == [5, 7, 8, 9])
        #expect(m.schema.dimensions == ["store"])
        #expect(m.dimensions == [6])
        #expect(m.schema.forecastedValues.columnNames.suffix(4) == ["mean", "p10", "p50", "p90"])
    }

    @Test func declaredDimensionsFixTheDimensionsAndTheirOrder() throws {
        let m = try map(["region", "mean", "store"], dimensions: ["store", "region"])
        #expect(m.schema.dimensions == ["store", "region"])
        #expect(m.dimensions == [7, 5])
        let none = try map(["mean"], dimensions: [])
        #expect(none.schema.dimensions.isEmpty)
        // A numeric name is a quantile error unless declared a dimension explicitly.
        #expect(throws: ExportError.self) { try map(["mean", "2024"]) }
        #expect(try map(["mean", "2024"], dimensions: ["2024"]).schema.dimensions == ["2024"])
        // So is `Mean`: the mean forecast in other letter case, or a dimension? Only --dimensions says.
        #expect {
            try map(["p50", "Mean"])
        } throws: { error in
            let e = error as? ExportError
            return e?.code == .input && e?.location?.column == 7 && e?.message.contains("'mean'") == true
        }
        let declared = try map(["p50", "Mean"], dimensions: ["Mean"])
        #expect(declared.schema.dimensions == ["Mean"])
        #expect(declared.schema.forecastTypes == [.quantile(hundredths: 50)])
    }

    @Test func anUndeclaredExtraColumnOrAMissingDeclaredOneIsAnError() {
        #expect {
            try map(["region", "mean", "store"], dimensions: ["store"])
        } throws: { error in
            let e = error as? ExportError
            return e?.code == .input && e?.location?.column == 6 && e?.message.contains("--dimensions") == true
        }
        #expect {
            try map(["mean"], dimensions: ["store"])
        } throws: { error in
            (error as? ExportError)?.message.contains("Dimension 'store' given by --dimensions") == true
        }
        #expect {
            try map(["mean", "p50"], dimensions: ["p50"])
        } throws: { error in
            (error as? ExportError)?.message.contains("cannot be a dimension") == true
        }
    }

    /// Names a person reads as a forecast type or a required column are refused as dimensions,
    /// unless --dimensions names them; plain dimension names (any script) stay dimensions.
    @Test func lookalikeNamesAreRefusedUnlessDeclared() throws {
        let refused: [(String, String)] = [
            ("\u{0440}10", "reads as the forecast type 'p10'"),  // Cyrillic er
            ("\u{FF50}\u{FF11}\u{FF10}", "reads as the forecast type 'p10'"),  // fullwidth
            ("p\u{0661}\u{0660}", "reads as the forecast type 'p10'"),  // Arabic-Indic digits
            ("p\u{200B}10", "invisible character (U+200B)"), ("\u{FEFF}store", "invisible character (U+FEFF)"),
            ("10%", "reads as the quantile 'p10'"), ("quantile_0.1", "reads as the quantile '0.1'"),
            ("1e-1", "reads as the quantile"), ("q0.1", "reads as the quantile '0.1'"),
            ("q10", "reads as the quantile 'p10'"), ("Q10", "reads as the quantile 'p10'"),
            ("p10%", "reads as the quantile 'p10'"), ("0,1", "reads as the quantile '0.1'"),
            ("tau_0.1", "reads as the quantile '0.1'"), ("percentile_10", "reads as the quantile 'p10'"),
            ("p10_forecast", "reads as the quantile 'p10'"), ("forecast_p10", "reads as the quantile 'p10'"),
            ("0.1q", "reads as the quantile '0.1'"), ("10th_percentile", "reads as the quantile 'p10'"),
            ("forecast_mean", "reads as the forecast type 'mean'"), ("q_0.1", "reads as the quantile '0.1'"),
        ]
        for (name, rule) in refused {
            #expect {
                try map(["mean", name])
            } throws: { error in
                let e = error as? ExportError
                return e?.code == .input && e?.location?.column == 7 && e?.message.contains(rule) == true
            }
            #expect(try map(["mean", name], dimensions: [name]).schema.dimensions == [name])
        }
        let plain = [
            "région", "store", "quantity", "q1", "p10_lower", "\u{0442}\u{0438}\u{043F}", "pressure",
            "forecast", "forecast_region", "pct_change", "tau", "quarter",
        ]
        #expect(try map(["mean"] + plain).schema.dimensions == plain)
    }

    /// A dimension is a column of both tables: one named like any other column of either, in any
    /// letter case, would make a part unreadable (pyarrow and polars refuse duplicate names;
    /// DuckDB, Athena and Glue compare names ignoring case), so it is refused even when declared.
    @Test func dimensionsNamedLikeAColumnOfEitherTableAreRefused() throws {
        let clashes: [(String, String)] = [
            ("RMSE", "accuracy-metrics-values column 'RMSE'"), ("rmse", "accuracy-metrics-values column 'RMSE'"),
            ("WAPE", "'WAPE'"), ("MAPE", "'MAPE'"), ("Mase", "'MASE'"), ("Average wQL", "'Average wQL'"),
            ("wQL[0.5]", "'wQL[0.5]'"), ("WQL[0.5]", "'wQL[0.5]'"), ("Backtest_Window", "'backtest_window'"),
            ("Timestamp", "forecasted-values column 'timestamp'"), ("ITEM_ID", "column 'item_id'"),
            ("Target_Value", "column 'target_value'"),
        ]
        for (name, rule) in clashes {
            for declared in [nil, [name]] {
                #expect {
                    try map(["mean", "p50", name], dimensions: declared)
                } throws: { error in
                    let e = error as? ExportError
                    let message = e?.message ?? ""
                    // Undeclared, a required column's name in other letter case is refused as a
                    // look-alike first; either way the message says why a dimension cannot have it.
                    let named =
                        message.contains("Dimension '\(name)' has the name of the ") && message.contains(rule)
                        || message.contains("Column '\(name)' reads as the required column")
                    return e?.code == .input && e?.location?.column == 8 && named && message.contains("ignoring case")
                }
            }
        }
        // A declared `MEAN` next to the mean forecast (undeclared, it is refused as a look-alike).
        #expect {
            try map(["mean", "p50", "MEAN"], dimensions: ["MEAN"])
        } throws: { error in
            (error as? ExportError)?.message.contains("the forecasted-values column 'mean'") == true
        }
        // Two dimensions that differ only in case clash the same way.
        #expect {
            try map(["mean", "store", "Store"])
        } throws: { error in
            (error as? ExportError)?.message.contains("Dimensions 'store' and 'Store' differ only in case") == true
        }
        // Only the columns this schema has: without a p90 forecast there is no `wQL[0.9]` column.
        #expect(try map(["mean", "p50", "wQL[0.9]"], dimensions: ["wQL[0.9]"]).schema.dimensions == ["wQL[0.9]"])
        #expect(throws: ExportError.self) { try ExportSchema(dimensions: ["rmse"], forecastTypes: [.mean]) }
    }

    /// The row labels pandas and Dask save with a frame are not data: no dimension, no error,
    /// unless --dimensions names them.
    @Test func pandasAndDaskIndexColumnsAreIgnoredUnlessDeclared() throws {
        for index in ["__index_level_0__", "__index_level_12__", "__null_dask_index__"] {
            let m = try map(["mean", index, "store"])
            #expect(m.schema.dimensions == ["store"] && m.dimensions == [7] && m.forecastTypes == [5])
            #expect(try map(["mean", index, "store"], dimensions: ["store"]).schema.dimensions == ["store"])
            let declared = try map(["mean", index], dimensions: [index])
            #expect(declared.schema.dimensions == [index] && declared.dimensions == [6])
        }
        // Only pandas' exact spelling: anything else is an ordinary column.
        for name in ["__index_level__", "__index_level_a__", "index_level_0", "__index_level_0"] {
            #expect(try map(["mean", name]).schema.dimensions == [name])
        }
    }

    @Test func nameRulesApplyToAnyListOfNames() {
        for (names, column, rule) in [
            (["mean", ""], 7, "Empty column name"), (["mean", "store "], 7, "leading or trailing spaces"),
            (["mean", "mean"], 7, "Duplicate column name"), (["mean", "p10", "0.1"], 8, "appears twice"),
            (["mean", "p50.5"], 7, "finer than Forecast allows"), (["0.005"], 6, "finer than Forecast allows"),
            (["p-5"], 6, "negative"),
        ] {
            #expect {
                try map(names)
            } throws: { error in
                let e = error as? ExportError
                return e?.code == .input && e?.location?.column == column && e?.location?.file == "f.parquet"
                    && e?.message.contains(rule) == true
            }
        }
    }
}
