"""The one DWARF sequence lookup (gosym._dwarf: SequenceIndex, row_at and
lookup_rows share it) against a brute-force model: a pc is found iff some
sequence [lo, hi) holds it, the sequence found holds it, and the row is
the last one at or below pc (bisect)."""
from __future__ import annotations

import array
import bisect

from hypothesis import given, settings
from hypothesis import strategies as st

from gosym import _dwarf

seqs = st.lists(st.tuples(st.integers(0, 300), st.integers(0, 60)), max_size=30)
pcs = st.lists(st.integers(0, 400), max_size=40)


@settings(max_examples=300, deadline=None)
@given(seqs, pcs)
def test_sequence_index_matches_model(spec, probe):
    lo = array.array("Q", [a for a, _ in spec])
    hi = array.array("Q", [a + n for a, n in spec])
    index = _dwarf.SequenceIndex(lo, hi)
    assert len(index) == sum(1 for _, n in spec if n)
    for pc in probe:
        holders = [i for i in range(len(lo)) if lo[i] <= pc < hi[i]]
        got = index.find(pc)
        if holders:
            assert got in holders
        else:
            assert got == -1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 1000), max_size=50), st.integers(0, 1100), st.data())
def test_row_at_is_bisect(addrs, pc, data):
    a = array.array("Q", sorted(addrs))
    first = data.draw(st.integers(0, len(a)))
    end = data.draw(st.integers(first, len(a)))
    want = bisect.bisect_right(a, pc, first, end) - 1
    assert _dwarf.row_at(a, first, end, pc) == (want if want >= first else -1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 500), st.lists(st.integers(1, 20), min_size=1, max_size=6)),
                max_size=8), pcs)
def test_lookup_rows_matches_model(spec, probe):
    """Rows of several sequences (each ends with an end_sequence row);
    lookup_rows returns the last row at or below pc in a sequence holding it."""
    address, flags = array.array("Q"), array.array("B")
    ranges = []
    for start, steps in spec:
        first = len(address)
        pc = start
        for d in steps:
            address.append(pc)
            flags.append(0)
            pc += d
        address.append(pc)
        flags.append(_dwarf.END_SEQUENCE)
        ranges.append((start, pc, first, len(address) - 1))
    got = _dwarf.lookup_rows(address, flags, array.array("Q", probe))
    for pc, g in zip(probe, got):
        ok = [bisect.bisect_right(address, pc, f, e) - 1 for lo, hi, f, e in ranges if lo <= pc < hi]
        if ok:
            assert g in ok
        else:
            assert g == -1
