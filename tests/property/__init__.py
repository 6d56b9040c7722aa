"""Property tests: random inputs from a writer against a small model of the format."""
