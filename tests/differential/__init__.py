"""Differential tests: gosym against an independent reader or the real tool on the same binary."""
