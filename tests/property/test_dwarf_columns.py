"""The column passes of `gosym check` (gosym._columns: row_starts,
intern_keys, gather, classify) against brute-force Python models; the
whole check runs against pyelftools and Go's debug/gosym in test_check.py."""
from __future__ import annotations

import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gosym import _columns, _dwarf

ES = _dwarf.END_SEQUENCE


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.booleans()), max_size=40))
def test_row_starts_matches_model(spec):
    """A row starts to cover code when it is not end_sequence and the next
    row is at a higher address."""
    address = array.array("Q", [a for a, _ in spec])
    flags = array.array("B", [ES if e else 0 for _, e in spec])
    want = [address[i] for i in range(len(spec) - 1)
            if not flags[i] & ES and address[i + 1] > address[i]]
    assert _columns.row_starts(address, flags).tolist() == want


def test_row_starts_rejects_mismatched_columns():
    with pytest.raises(ValueError, match="differ in length"):
        _columns.row_starts(array.array("Q", [1, 2]), array.array("B", [0]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-2, 2 ** 31 - 1), max_size=20), st.lists(st.integers(-3, 25), max_size=30))
def test_gather_matches_model(values, idx):
    """gather gives values[idx[k]], -1 where idx[k] is out of range."""
    vals = array.array("i", values)
    ix = array.array("q", idx)
    want = [values[i] if 0 <= i < len(values) else -1 for i in idx]
    assert _columns.gather(vals, ix).tolist() == want
    unsigned = array.array("I", [v for v in values if v >= 0])
    want_u = [unsigned[i] if 0 <= i < len(unsigned) else -1 for i in idx]
    assert _columns.gather(unsigned, ix).tolist() == want_u


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 12), max_size=60), st.dictionaries(st.integers(0, 12), st.sampled_from("abcd")))
def test_intern_keys_matches_model(keys, names):
    """Ids number distinct names in first-seen order, keys with no name map
    to -1, and name_of is asked once per distinct key."""
    calls = []

    def name_of(k):
        calls.append(k)
        return names.get(k)

    ids = {"pre": 0}
    got = _columns.intern_keys(array.array("I", keys), name_of, ids)
    model = {"pre": 0}
    want = []
    for k in keys:
        n = names.get(k)
        if n is None:
            want.append(-1)
            continue
        want.append(model.setdefault(n, len(model)))
    assert got.tolist() == want
    assert ids == model
    assert sorted(calls) == sorted(set(keys))


def _kind(pf, pl, df, dl, dr, fn):
    if fn is not None and fn < 0:
        return _columns.CMP_OUTSIDE
    if pl <= 0:
        return _columns.CMP_NEITHER if (dr < 0 or dl <= 0) else _columns.CMP_NO_PCLNTAB
    if dr < 0:
        return _columns.CMP_NO_DWARF
    if dl == 0:
        return _columns.CMP_DWARF_LINE0
    if pf == df:
        return _columns.CMP_AGREE if pl == dl else _columns.CMP_LINE
    return _columns.CMP_FILE if pl == dl else _columns.CMP_FILE_LINE


row = st.tuples(st.integers(-1, 2), st.integers(-1, 3), st.integers(-1, 2), st.integers(0, 3),
                st.integers(-1, 5), st.integers(-1, 3))


@settings(max_examples=300, deadline=None)
@given(st.lists(row, max_size=50), st.booleans())
def test_classify_matches_model(rows, with_func):
    cols = [array.array(t, [r[k] for r in rows]) for k, t in enumerate("iiiiqq")]
    got = _columns.classify(*cols[:5], cols[5] if with_func else None)
    want = [_kind(*r[:5], r[5] if with_func else None) for r in rows]
    assert got.tolist() == want
    assert len({_columns.CMP_AGREE, _columns.CMP_LINE, _columns.CMP_FILE, _columns.CMP_FILE_LINE,
                _columns.CMP_NO_DWARF, _columns.CMP_DWARF_LINE0, _columns.CMP_NO_PCLNTAB,
                _columns.CMP_NEITHER, _columns.CMP_OUTSIDE}) == 9


def test_classify_rejects_mismatched_columns():
    i, q = array.array("i", [1]), array.array("q", [0])
    with pytest.raises(ValueError, match="differ in length"):
        _columns.classify(i, i, i, array.array("i"), q)
    with pytest.raises(ValueError, match="differ in length"):
        _columns.classify(i, i, i, i, q, array.array("q", [0, 1]))
