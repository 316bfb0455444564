"""Quality app: inspections on tablets, SPC, nonconformance and genealogy."""
