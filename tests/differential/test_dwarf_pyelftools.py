"""Row-for-row equality of gosym's DWARF line tables with pyelftools.

pyelftools (a pure-Python DWARF reader written independently of gosym) runs
every line program of the same file; each of its state rows must equal
gosym's row: address, file register, line, column, is_stmt, end_sequence,
discriminator.  For ELF, pyelftools opens the file itself (and inflates
SHF_COMPRESSED and .zdebug sections itself).  For Mach-O and PE, which it
cannot open, this file extracts and inflates the sections with its own few
lines of code (not gosym's) and hands them to pyelftools' DWARFInfo.

Here, not in gosym, also live the helpers the other DWARF tests share.
"""
from __future__ import annotations

import io
import struct
import zlib
from typing import Dict, List, Optional, Tuple

import pytest

elftools = pytest.importorskip("elftools")
from elftools.dwarf.dwarfinfo import DebugSectionDescriptor, DwarfConfig, DWARFInfo  # noqa: E402
from elftools.elf.elffile import ELFFile  # noqa: E402

import gosym  # noqa: E402
from gosym.container import detect  # noqa: E402
from gosym.dwarf import END_SEQUENCE, IS_STMT, open_dwarf  # noqa: E402

Row = Tuple[int, int, int, int, bool, bool, int]


# ------------------------------------------------------------ pyelftools side

def pyelf_rows(info: DWARFInfo) -> Dict[int, List[Row]]:
    """Rows of every line program pyelftools finds through the CUs, by
    .debug_line offset.  is_stmt is left out (None) on end_sequence rows:
    pyelftools clears it there, which DWARF 5 6.2.5.3 does not ask for."""
    out: Dict[int, List[Row]] = {}
    for cu in info.iter_CUs():
        top = cu.get_top_DIE()
        if "DW_AT_stmt_list" not in top.attributes:
            continue
        off = top.attributes["DW_AT_stmt_list"].value
        if off in out:
            continue
        lp = info.line_program_for_CU(cu)
        if lp is None:
            continue
        rows = []
        for e in lp.get_entries():
            s = e.state
            if s is None:
                continue
            rows.append((s.address, s.file, s.line, s.column,
                         None if s.end_sequence else bool(s.is_stmt), bool(s.end_sequence),
                         s.discriminator))
        out[off] = rows
    return out


def gosym_rows(d) -> Dict[int, List[Row]]:
    """Rows of every line program gosym decodes (one C pass), by offset."""
    rows = d.line_rows()
    out: Dict[int, List[Row]] = {}
    a, f, ln, col, fl, disc, ur = (rows.address, rows.file, rows.line, rows.column, rows.flags,
                                   rows.discriminator, rows.unit_row)
    for k, t in enumerate(rows.tables):
        out[t.offset] = [(a[i], f[i], ln[i], col[i],
                          None if fl[i] & END_SEQUENCE else bool(fl[i] & IS_STMT),
                          bool(fl[i] & END_SEQUENCE), disc[i])
                         for i in range(ur[k], ur[k + 1])]
    return out


def assert_same(mine: Dict[int, List[Row]], ref: Dict[int, List[Row]], what: str) -> int:
    """Compare per program; report the first differing row.  Returns rows."""
    assert ref, f"{what}: pyelftools found no line program"
    assert sorted(mine) == sorted(ref), f"{what}: line programs differ: {sorted(set(mine) ^ set(ref))[:5]}"
    n = 0
    for off in ref:
        a, b = mine[off], ref[off]
        if a != b:
            for i, (x, y) in enumerate(zip(a, b)):
                assert x == y, f"{what}: program {off:#x} row {i}: gosym {x} != pyelftools {y}"
            assert len(a) == len(b), f"{what}: program {off:#x}: {len(a)} rows vs {len(b)}"
        n += len(b)
    return n


def _inflate(name: str, raw: bytes) -> bytes:
    if name.startswith((".zdebug", "__zdebug")):
        assert raw[:4] == b"ZLIB"
        out = zlib.decompress(raw[12:])
        assert len(out) == int.from_bytes(raw[4:12], "big")
        return out
    return raw


def pyelf_info_from_sections(path: str) -> DWARFInfo:
    """A pyelftools DWARFInfo over sections of a Mach-O or PE file, cut
    from the file by this test code and inflated with zlib here."""
    with open(path, "rb") as fh:
        data = fh.read()
    c = detect(data)
    want = {"info", "abbrev", "line", "str", "line_str", "str_offsets"}
    secs: Dict[str, DebugSectionDescriptor] = {}
    for s in c.sections:
        name = s.name
        for prefix in (".debug_", ".zdebug_", "__debug_", "__zdebug_"):
            if name.startswith(prefix):
                base = name[len(prefix):]
                if base == "str_offs":
                    base = "str_offsets"
                if base in want and s.size:
                    body = _inflate(name, data[s.offset:s.offset + s.size])
                    secs[base] = DebugSectionDescriptor(io.BytesIO(body), ".debug_" + base, None,
                                                        len(body), 0)
    cfg = DwarfConfig(little_endian=c.byte_order == "little", machine_arch=c.arch,
                      default_address_size=c.ptr_size)
    return DWARFInfo(config=cfg, debug_info_sec=secs.get("info"), debug_aranges_sec=None,
                     debug_abbrev_sec=secs.get("abbrev"), debug_frame_sec=None, eh_frame_sec=None,
                     debug_str_sec=secs.get("str"), debug_loc_sec=None, debug_ranges_sec=None,
                     debug_line_sec=secs.get("line"), debug_pubtypes_sec=None,
                     debug_pubnames_sec=None, debug_addr_sec=None,
                     debug_str_offsets_sec=secs.get("str_offsets"),
                     debug_line_str_sec=secs.get("line_str"), debug_loclists_sec=None,
                     debug_rnglists_sec=None, debug_sup_sec=None, gnu_debugaltlink_sec=None,
                     debug_types_sec=None)


def reference_rows(path: str) -> Dict[int, List[Row]]:
    """pyelftools' rows for any ELF, Mach-O or PE file."""
    with open(path, "rb") as fh:
        if fh.read(4) == b"\x7fELF":
            fh.seek(0)
            return pyelf_rows(ELFFile(fh).get_dwarf_info())
    return pyelf_rows(pyelf_info_from_sections(path))


def compare_file(path: str, what: str) -> int:
    with open_dwarf(path) as d:
        mine = gosym_rows(d)
    return assert_same(mine, reference_rows(path), what)


def has_dwarf(path: str) -> bool:
    with open(path, "rb") as fh:
        c = detect(fh.read())
    return any(s.name in (".debug_line", ".zdebug_line", "__debug_line", "__zdebug_line") and s.size
               for s in c.sections)


# ------------------------------------------------------------ tests

def _fixture_cases(rows) -> List[dict]:
    return [r for r in rows if r.get("path") and has_dwarf(r["path"])]


def test_fixtures_equal_pyelftools(fixture_rows):
    cases = _fixture_cases(fixture_rows)
    assert cases, "no fixture with DWARF"
    kinds = set()
    total = 0
    for r in cases:
        what = f"{r['program']} {r['toolchain']} {r['goos']}/{r['goarch']} {r['flagset']}"
        total += compare_file(r["path"], what)
        with open_dwarf(r["path"]) as d:
            line = d.section("line")
            assert line is not None
            kinds.add((d.container.format, line.compression))
    # The ELF fixtures compress (SHF_COMPRESSED zlib), Mach-O and PE use
    # .zdebug; the nocompressdwarf builds of all three do not compress.
    assert ("ELF", "zlib") in kinds and ("ELF", "none") in kinds, kinds
    assert ("Mach-O", "zdebug") in kinds and ("PE", "zdebug") in kinds, kinds
    assert ("Mach-O", "none") in kinds and ("PE", "none") in kinds, kinds
    assert total > 100000


def test_fixture_versions(fixture_rows):
    """Go >= 1.25 writes DWARF 5 line tables; older Go writes version 2."""
    seen = {}
    for r in _fixture_cases(fixture_rows):
        with open_dwarf(r["path"]) as d:
            versions = {d.table(k).version for k in range(len(d.line_offsets()))}
        seen[r["toolchain"]] = versions
    assert seen.get("1.27.3") == {5}, seen
    assert seen.get("1.24.11") == {2}, seen


def test_corpus_equal_pyelftools(corpus_rows):
    done = 0
    for r in corpus_rows:
        if r.get("dwarf", "none") == "none":
            continue
        if not r.get("path"):
            continue
        compare_file(r["path"], r["name"])
        done += 1
    if not done:
        pytest.skip("no corpus binary with DWARF fetched")


def test_lookup_agrees_with_rows(fixture_rows):
    """line_at(pc) returns the row that covers pc: for every row that is not
    followed by one at the same address, line_at(address) is that row (the
    rows equal pyelftools' in test_fixtures_equal_pyelftools), and lookup(pc)
    is the same answer as a list of one Frame ([] on a miss)."""
    r = next(r for r in _fixture_cases(fixture_rows)
             if r["toolchain"] == "1.27.3" and r["goos"] == "linux" and r["flagset"] == "default")
    with open_dwarf(r["path"]) as d:
        rows = d.line_rows()
        n = len(rows)
        checked = 0
        for i in range(0, n - 1, max(1, n // 3000)):
            if rows.flags[i] & END_SEQUENCE or rows.address[i + 1] == rows.address[i]:
                continue
            if rows.address[i + 1] < rows.address[i]:
                continue
            got = d.line_at(rows.address[i])
            assert got is not None, hex(rows.address[i])
            assert (got.file, got.line, got.column) == (rows.row_file(i), rows.line[i], rows.column[i])
            frames = d.lookup(rows.address[i])
            assert [(f.function, f.file, f.line, f.inlined, f.start_line, f.entry) for f in frames] == \
                [("", rows.row_file(i), rows.line[i], False, 0, None)]
            assert all(isinstance(f, gosym.Frame) for f in frames)
            checked += 1
        assert checked > 1000
        for miss in (0, 2 ** 64 - 1):
            assert d.line_at(miss) is None
            assert d.lookup(miss) == []


def test_lookup_matches_pclntab(fixture_rows):
    """The Go toolchain writes the same file:line into the pclntab and into
    DWARF: at function entries, both sources agree (compared through the
    Binary API)."""
    r = next(r for r in _fixture_cases(fixture_rows)
             if r["toolchain"] == "1.27.3" and r["goos"] == "linux" and r["flagset"] == "nolinline")
    with gosym.open(r["path"]) as b:
        d = b.dwarf
        assert d is not None
        agree = total = 0
        for f in list(b.functions)[:3000]:
            frames = b.lookup(f.entry)
            got = d.line_at(f.entry)
            if not frames or got is None or frames[0].file.startswith("<"):
                continue
            total += 1
            agree += (got.file, got.line) == (frames[-1].file, frames[-1].line)
        assert total > 500 and agree / total > 0.97, (agree, total)
