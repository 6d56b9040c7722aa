"""Address text: the lines a profiler or a user feeds to `gosym lookup`.

parse_addresses reads a whole buffer of plain hex lines in one C pass (the
parser in csrc/render.c); parse_address reads one line of any form Python's
int(text, 16) accepts.  Both give the same value for a plain line.
"""
from __future__ import annotations

from array import array
from typing import Any, Optional

from gosym import _native


def parse_address(text: str) -> Optional[int]:
    """parse_address reads one hex address, with or without 0x and
    surrounding blanks; None if the text is not one or it does not fit in
    64 bits."""
    try:
        v = int(text, 16)
    except ValueError:
        return None
    return v if 0 <= v < 1 << 64 else None


def parse_addresses(data: Any) -> Optional[array]:
    """parse_addresses reads a buffer of address lines (bytes; blank lines
    skipped; every other line: blanks, an optional 0x, 1-16 hex digits,
    blanks) into an array of uint64 in one C pass with no Python object per
    line; None when some line has another form (then parse each line with
    parse_address).  Linear in the buffer."""
    return _native.parse_addrs(data)
