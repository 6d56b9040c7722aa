"""open_dwarf -> line_rows() fast path: the units read on a second thread
while .debug_line is inflated and decoded, the file tables made on first use.
Both must give what the plain order gives (units first, then the programs
they name, every table read at once)."""
from __future__ import annotations

import array

import pytest

from gosym.container.compress import compression
from gosym.dwarf import Dwarf, find_section, open_dwarf


def _compressed_fixture(rows):
    for r in rows:
        if r.get("path") and r["goos"] == "linux" and r["flagset"] == "default" and r["program"] == "multipkg" \
                and r["toolchain"] == "1.27.3" and r["goarch"] == "amd64":
            return r["path"]
    pytest.skip("no linux/amd64 multipkg fixture")


def _plain(path):
    """The rows in the plain order: units, then their programs, then every table."""
    d = open_dwarf(path)
    d.units()
    offs = d.line_offsets()
    cols = d._line_section().decode(offs)
    return d, cols, [d.table(k) for k in range(len(offs))]


def _columns(rows):
    return [list(c) for c in (rows.address, rows.file, rows.line, rows.column, rows.flags, rows.discriminator,
                              rows.unit_row)]


def test_overlapped_units_give_the_same_rows(fixture_rows):
    path = _compressed_fixture(fixture_rows)
    with open_dwarf(path) as d:
        s = find_section(d.container, "info")
        assert s is not None and compression(d.container, s) is not None, "Go compresses .debug_info on ELF"
        assert d._decode_beside_units() is not None       # the overlapped path is taken here
    ref, cols, tables = _plain(path)
    with ref, open_dwarf(path) as d:
        rows = d.line_rows()
        assert _columns(rows) == [list(c) for c in cols]
        assert len(rows.tables) == len(tables) and rows.tables == tables
        assert rows.tables[-1] == tables[-1] and rows.tables[1:3] == tables[1:3]
        with pytest.raises(IndexError):
            rows.tables[len(tables)]


def test_walk_differing_from_units_decodes_the_units_programs(fixture_rows, monkeypatch):
    path = _compressed_fixture(fixture_rows)
    ref, _, _ = _plain(path)
    with ref:
        some = array.array("Q", ref.line_offsets()[1:])        # a program no unit names
        want = ref._line_section().decode(some)
    real = Dwarf.line_offsets

    def fewer(self):
        real(self)
        self._offsets = some
        return some

    monkeypatch.setattr(Dwarf, "line_offsets", fewer)
    with open_dwarf(path) as d:
        assert _columns(d.line_rows()) == [list(c) for c in want]


def test_tables_after_close(fixture_rows):
    path = _compressed_fixture(fixture_rows)
    ref, _, tables = _plain(path)
    with ref:
        want = [t.file_at(1) for t in tables]
    d = open_dwarf(path)
    rows = d.line_rows()
    d.close()
    assert [t.file_at(1) for t in rows.tables] == want
    assert rows.row_file(len(rows) - 1) is not None
