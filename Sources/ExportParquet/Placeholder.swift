// ExportParquet: see DESIGN.md.
