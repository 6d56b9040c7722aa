"""Unit tests: one part of gosym against values known independently (int.from_bytes, pyelftools facts, the package's own declared surface)."""
