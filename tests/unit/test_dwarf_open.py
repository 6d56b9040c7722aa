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


def test_units_read_in_pieces_equal_units_read_whole(fixture_rows):
    import random

    from gosym.dwarf.units import parse_units, parse_units_stream
    from gosym.errors import FormatError

    path = _compressed_fixture(fixture_rows)
    with open_dwarf(path) as d:
        info = bytes(d.section("info").data)
        more = (d._data("abbrev"), d._data("str"), d._data("line_str"), d._data("str_offsets"), False)
        whole = parse_units(info, *more)
        assert len(whole) > 10
        rnd = random.Random(14)
        for _ in range(5):
            cuts = sorted(rnd.sample(range(1, len(info)), rnd.randrange(1, 60)))
            pieces = [info[a:b] for a, b in zip([0] + cuts, cuts + [len(info)])]
            assert parse_units_stream(iter(pieces), *more) == whole
        assert parse_units_stream(iter([info]), *more) == whole
        # Pieces shorter than a unit's length field (the first ten units).
        head = info[:whole[10].offset]
        for size in (1, 3, 5, 13):
            assert parse_units_stream(iter([head[k:k + size] for k in range(0, len(head), size)]), *more) == \
                whole[:10]
        # A section cut inside its last unit: the same error, at the same section offset.
        cut = info[:whole[-1].offset + 7]
        with pytest.raises(FormatError) as a:
            parse_units(cut, *more)
        with pytest.raises(FormatError) as b:
            parse_units_stream(iter([cut[:100], cut[100:]]), *more)
        assert (a.value.section, a.value.offset) == (b.value.section, b.value.offset) == (".debug_info",
                                                                                          whole[-1].offset)
    # Through Dwarf.units(): the compressed section is read in pieces, not kept.
    with open_dwarf(path) as d:
        assert d.units() == whole and "info" not in d._secs


@pytest.mark.parametrize("hint", [1, 100, 5000])
def test_row_arrays_grow_to_any_size(fixture_rows, hint):
    # A first guess far too small: the arrays grow (by the rows per byte
    # seen, and at least a quarter each time) to the same rows.
    path = _compressed_fixture(fixture_rows)
    ref, cols, _ = _plain(path)
    with ref:
        got = ref._line_section().decode(ref.line_offsets(), hint)
    assert [list(c) for c in got] == [list(c) for c in cols]
