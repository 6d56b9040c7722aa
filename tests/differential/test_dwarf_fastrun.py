"""The line decoder's fast run of Go's common opcodes (csrc/dwarf_line.c)
gives the rows of its general loop (LineSection.decode(reference=True)),
column for column, on every fixture and public-corpus binary with DWARF,
and on the edges of the fast run (operands of more than one byte, files
past 16 bits, a column or discriminator, the row arrays filling up)."""
from __future__ import annotations

import array

import pytest

from gosym import _dwarf
from gosym.dwarf import open_dwarf
from tests.support import dwarfwriter as dw


def _same(ls, offs, hint=0):
    fast = ls.decode(offs, hint)
    ref = ls.decode(offs, hint, reference=True)
    for k, (a, b) in enumerate(zip(fast, ref)):
        assert type(a) is type(b) and a == b, f"column {k} differs"
    return len(fast[0])


def test_go_binaries_fast_equals_reference(fixture_rows, corpus_rows):
    rows = checked = 0
    for r in list(fixture_rows) + [r for r in corpus_rows if r.get("dwarf", "none") != "none"]:
        if not r.get("path") or r.get("flagset") in ("sw", "w"):
            continue
        try:
            d = open_dwarf(r["path"])
        except Exception:
            continue
        with d:
            rows += _same(d._line_section(), d.line_offsets())
            checked += 1
    if not checked:
        pytest.skip("no binary with DWARF")
    assert rows > 0


def test_fast_run_edges():
    h = dw.Header(version=5, files=[dw.FileEnt("a.go", 0)], dirs=[dw.FileEnt(".")])
    ops = [("set_address", 0x401000, 8), ("special", 20), ("negate_stmt",), ("special", 40),
           ("advance_line", 63), ("advance_line", -64), ("advance_line", 64), ("advance_line", -65),
           ("advance_pc", 127), ("advance_pc", 128), ("copy",), ("set_file", 127), ("special", 30),
           ("set_file", 128), ("special", 30), ("const_add_pc",), ("special", 255),
           ("set_file", 70000), ("special", 30), ("set_file", 2), ("special", 30),
           ("set_column", 5), ("special", 30), ("set_column", 0), ("special", 30),
           ("set_discriminator", 3), ("special", 30), ("special", 30), ("set_prologue_end",),
           ("special", 30), ("set_basic_block",), ("copy",), ("fixed_advance_pc", 9), ("copy",),
           ("end_sequence",)]
    line_str, strs = dw.Strings(), dw.Strings()
    sec = dw.write_unit(h, ops, line_str, strs)
    ls = _dwarf.LineSection(sec, bytes(line_str.data), bytes(strs.data), False)
    offs = array.array("Q", [0])
    for hint in (0, 1, 2, 3, 5):          # the arrays fill up inside a run of rows
        assert _same(ls, offs, hint) == 16
    assert ls.decode(offs)[1].typecode == "I" and ls.decode(offs)[3].typecode == "I"
    # Opcode bases below the standard opcodes: 6 (negate_stmt) is special.
    for base in (1, 4, 7):
        h2 = dw.Header(version=4, opcode_base=base, files=[dw.FileEnt("a.go")])
        ops2 = [("set_address", 0x1000, 8)] + [("special", o) for o in range(base, 256, 7)] + [("end_sequence",)]
        sec2 = dw.write_unit(h2, ops2, dw.Strings(), dw.Strings())
        _same(_dwarf.LineSection(sec2, b"", b"", False), offs)
