// ExportCSV: see DESIGN.md.
