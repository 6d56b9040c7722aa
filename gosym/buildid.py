"""Build IDs: the identifiers profilers record to tell one build from another.

The reader lives in the container layer (gosym.container.notes: ELF notes,
Go's text mark, Mach-O LC_UUID); this module keeps the names profiles and
callers import.  Nothing is parsed here.
"""
from __future__ import annotations

from gosym.container.notes import BuildIds, read_build_ids

# The name this module used before the readers were merged.
BuildIDs = BuildIds

__all__ = ["BuildIDs", "BuildIds", "read_build_ids"]
