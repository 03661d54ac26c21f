// BacktestExport: see DESIGN.md.
