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
            ("1e-1", "reads as the quantile"), ("Timestamp", "reads as the required column 'timestamp'"),
            ("ITEM_ID", "reads as the required column 'item_id'"),
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
        let plain = ["région", "store", "quantity", "q1", "p10_lower", "\u{0442}\u{0438}\u{043F}"]
        #expect(try map(["mean"] + plain).schema.dimensions == plain)
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
