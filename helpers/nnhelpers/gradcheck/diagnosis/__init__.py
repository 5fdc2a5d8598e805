"""Name the likely cause of a wrong array: common patterns, wrong shapes, wrong values."""
