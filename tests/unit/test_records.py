"""Records are typed, frozen classes (Func.record, the symbol-table
columns, Dwarf.describe, Binary.gosymtab), each with as_dict() for JSON;
their values are checked against independent readers: pyelftools for
sections and symbols, Go's own function table layout through the Func
properties for _func records."""
from __future__ import annotations

import json

import pytest

import gosym
from gosym.pclntab import FuncRecord
from gosym.symtab import GosymtabInfo, SymtabColumns, symtab_columns


def _linux_default(rows):
    for r in rows:
        if r["path"] and r["goos"] == "linux" and r["goarch"] == "amd64" and r["flagset"] == "default" \
                and not r["cgo"]:
            return r
    pytest.skip("no linux/amd64 default fixture")


def test_func_record_is_typed_and_frozen(fixture_rows):
    r = _linux_default(fixture_rows)
    with gosym.open(r["path"]) as b:
        for f in list(b.functions)[:200]:
            rec = f.record()
            assert isinstance(rec, FuncRecord)
            assert (rec.entry, rec.end, rec.name, rec.file) == (f.entry, f.end, f.name, f.file)
            assert rec.start_line == f.start_line
            with pytest.raises(AttributeError):         # frozen (gosym.records.Record)
                rec.pcln = 0  # type: ignore[misc]
            json.dumps(rec.as_dict())
            assert set(rec.as_dict()) == set(FuncRecord.__fields__)


def test_symtab_columns_match_pyelftools(fixture_rows):
    elftools = pytest.importorskip("elftools.elf.elffile", reason="needs pyelftools")
    r = _linux_default(fixture_rows)
    with open(r["path"], "rb") as fh:
        elf = elftools.ELFFile(fh)
        want = [(s["st_value"], s["st_size"], s["st_name"]) for s in elf.get_section_by_name(".symtab").iter_symbols()]
    with gosym.open(r["path"]) as b:
        ref = next(t for t in b.container.symtabs if t.name == ".symtab")
        cols = symtab_columns(b.container, ref)
        assert isinstance(cols, SymtabColumns)
        assert len(cols) == len(want)
        assert list(zip(cols.value, cols.size, cols.name_off)) == want


def test_gosymtab_and_dwarf_describe_are_typed(fixture_rows):
    elftools = pytest.importorskip("elftools.elf.elffile", reason="needs pyelftools")
    r = _linux_default(fixture_rows)
    with open(r["path"], "rb") as fh:
        elf = elftools.ELFFile(fh)
        gst = elf.get_section_by_name(".gosymtab")
        line = elf.get_section_by_name(".debug_line")
        want_gst = None if gst is None else (gst.name, gst["sh_size"])
        want_line = None if line is None else (line["sh_offset"], line["sh_size"])
    with gosym.open(r["path"]) as b:
        g = b.gosymtab
        if want_gst is None:
            assert g is None
        else:
            assert isinstance(g, GosymtabInfo) and (g.section, g.size) == want_gst
            assert g.as_dict() == {"section": want_gst[0], "size": want_gst[1]}
        if want_line is not None:
            d = b.dwarf.describe()
            s = d[".debug_line"]
            assert (s.file_offset, s.stored_size) == want_line
            json.dumps({k: v.as_dict() for k, v in d.items()})
