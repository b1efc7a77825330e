"""Export: safe cells, the one customer → segment file, strategy sheets, the run files, the bundle."""
