"""Helpers shared by the tests: synthetic table writers, LEB128, strip helpers, reference walks, the uncovered-test ledger."""
