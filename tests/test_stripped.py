"""Stripped and header-less twins must read the same as the original (issue 6).

For the default-flag linux fixtures (amd64, 386, arm64, s390x, and the other
linux targets of the subset) and the public corpus's ELF rows: a copy with
every section header removed (tests/strip_helpers.drop_section_headers) and
a copy after `strip --strip-all` give the same pclntab version, text base,
function table (names, entries, ends) and the same `lookup` frames, inlined
ones included, for a sample of pcs.
"""
from __future__ import annotations

from array import array
from typing import Any, Dict, List, Tuple

import pytest

import gosym
from tests.strip_helpers import drop_section_headers, strip_all, strip_tool


def _frames(fr) -> List[Tuple[str, str, int, bool]]:
    return [(f.function, f.file, f.line, f.inlined) for f in fr]


def _snapshot(data: bytes, nsample: int = 150, **open_kw: Any) -> Dict[str, Any]:
    with gosym.open(data, **open_kw) as b:
        cols = b.functions.columns()
        entry, end = list(cols.entry), list(cols.end)
        n = len(entry)
        step = max(1, n // nsample)
        pcs = []
        for i in range(0, n, step):
            pcs += [entry[i], (entry[i] + end[i]) // 2, max(entry[i], end[i] - 1)]
        sym = b.symbolize(array("Q", pcs))
        return {
            "version": b.pclntab.version,
            "text_start": b.pclntab.text_start,
            "names": list(cols.name),
            "entry": entry,
            "end": end,
            "lookup": [_frames(b.lookup(pc)) for pc in pcs],
            "symbolize": [_frames(sym.frames(k)) for k in range(len(pcs))],
            "inline_layout": b.inline_layout,
        }


def _same(orig: Dict[str, Any], twin: Dict[str, Any], what: str) -> None:
    for key in ("version", "text_start", "inline_layout", "names", "entry", "end"):
        assert twin[key] == orig[key], f"{what}: {key} differs"
    for key in ("lookup", "symbolize"):
        bad = [k for k, (a, b) in enumerate(zip(orig[key], twin[key])) if a != b]
        assert not bad, f"{what}: {key} differs at {len(bad)} pcs, first: {orig[key][bad[0]]} vs {twin[key][bad[0]]}"


def _linux_rows(fixture_rows):
    rows = [r for r in fixture_rows if r.get("path") and r["goos"] == "linux"
            and r["flagset"] == "default"]
    if not rows:
        pytest.skip("no linux fixtures")
    return rows


def test_no_section_headers_fixtures(fixture_rows):
    for row in _linux_rows(fixture_rows):
        with open(row["path"], "rb") as fh:
            data = fh.read()
        what = f"{row['program']} {row['goarch']} {row['go_version']} without section headers"
        _same(_snapshot(data), _snapshot(drop_section_headers(data)), what)


@pytest.mark.skipif(strip_tool() is None, reason="no strip tool")
def test_strip_all_fixtures(fixture_rows, tmp_path):
    for row in _linux_rows(fixture_rows):
        with open(row["path"], "rb") as fh:
            data = fh.read()
        what = f"{row['program']} {row['goarch']} {row['go_version']} after strip --strip-all"
        _same(_snapshot(data), _snapshot(strip_all(row["path"], tmp_path)), what)


def test_no_section_headers_corpus(corpus_rows):
    rows = [r for r in corpus_rows if r.get("path") and r.get("format") == "ELF"]
    if not rows:
        pytest.skip("no corpus ELF binaries fetched")
    failures = []
    for row in rows:
        with open(row["path"], "rb") as fh:
            data = fh.read()
        try:
            orig = _snapshot(data, nsample=60)
        except gosym.GosymError:
            continue  # unreadable even with headers: not this test's business
        try:
            _same(orig, _snapshot(drop_section_headers(data), nsample=60), row["name"])
        except (AssertionError, gosym.GosymError) as e:
            failures.append(f"{row['name']}: {e}")
    assert not failures, "\n".join(failures)
