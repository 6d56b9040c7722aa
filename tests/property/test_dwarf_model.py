"""Property tests: random line programs from tests/support/dwarfwriter.py decode to
the rows of a small Python model of the line-number state machine, written
from DWARF 5 section 6.2 (not from gosym's C); mutated real sections give
rows or FormatError, nothing else.
"""
from __future__ import annotations

import array
import random
from typing import List, Tuple

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402

from gosym import _dwarf  # noqa: E402
from gosym.errors import FormatError, GosymError  # noqa: E402
from tests.support import dwarfwriter as dw  # noqa: E402

M64, M32 = 2 ** 64 - 1, 2 ** 32 - 1
IS_STMT, END_SEQ, BASIC_BLOCK, PROLOGUE_END, EPILOGUE_BEGIN = 1, 2, 4, 8, 16


def model_rows(h: dw.Header, ops: List[tuple]) -> List[Tuple[int, int, int, int, int, int]]:
    """The rows of a program [DWARF5 6.2.2 table 6.4 initial state, 6.2.5]:
    (address, file, line, column, flags, discriminator)."""
    rows = []

    def reset():
        return {"address": 0, "op_index": 0, "file": 1, "line": 1, "column": 0,
                "is_stmt": h.default_is_stmt, "basic_block": False, "end_sequence": False,
                "prologue_end": False, "epilogue_begin": False, "discriminator": 0}

    s = reset()

    def append_row():
        flags = ((IS_STMT if s["is_stmt"] else 0) | (END_SEQ if s["end_sequence"] else 0)
                 | (BASIC_BLOCK if s["basic_block"] else 0)
                 | (PROLOGUE_END if s["prologue_end"] else 0)
                 | (EPILOGUE_BEGIN if s["epilogue_begin"] else 0))
        rows.append((s["address"], s["file"], s["line"], s["column"], flags, s["discriminator"]))

    def advance(operation_advance):
        # 6.2.5.1: new address and op_index from the operation advance.
        total = s["op_index"] + operation_advance
        s["address"] = (s["address"] + h.min_inst_len * (total // h.max_ops)) & M64
        s["op_index"] = total % h.max_ops

    for op in ops:
        kind = op[0]
        if kind == "special":
            adjusted = op[1] - h.opcode_base
            advance(adjusted // h.line_range)
            s["line"] = (s["line"] + h.line_base + adjusted % h.line_range) & M32
            append_row()
            s.update(basic_block=False, prologue_end=False, epilogue_begin=False, discriminator=0)
        elif kind == "copy":
            append_row()
            s.update(discriminator=0, basic_block=False, prologue_end=False, epilogue_begin=False)
        elif kind == "advance_pc":
            advance(op[1])
        elif kind == "advance_line":
            s["line"] = (s["line"] + op[1]) & M32
        elif kind == "set_file":
            s["file"] = op[1]
        elif kind == "set_column":
            s["column"] = op[1]
        elif kind == "negate_stmt":
            s["is_stmt"] = not s["is_stmt"]
        elif kind == "set_basic_block":
            s["basic_block"] = True
        elif kind == "const_add_pc":
            advance((255 - h.opcode_base) // h.line_range)
        elif kind == "fixed_advance_pc":
            s["address"] = (s["address"] + op[1]) & M64
            s["op_index"] = 0
        elif kind == "set_prologue_end":
            s["prologue_end"] = True
        elif kind == "set_epilogue_begin":
            s["epilogue_begin"] = True
        elif kind in ("set_isa", "unknown_std", "define_file", "unknown_ext"):
            pass
        elif kind == "end_sequence":
            s["end_sequence"] = True
            append_row()
            s = reset()
        elif kind == "set_address":
            s["address"] = op[1]
            s["op_index"] = 0
        elif kind == "set_discriminator":
            s["discriminator"] = op[1]
        else:
            raise AssertionError(kind)
    return rows


def build(units, be: bool):
    line_str, strs = dw.Strings(), dw.Strings()
    sec = bytearray()
    offs = []
    for h, ops in units:
        h.big_endian = be
        offs.append(len(sec))
        sec += dw.write_unit(h, ops, line_str, strs)
    return bytes(sec), bytes(line_str.data), bytes(strs.data), offs


@settings(max_examples=int(__import__("os").environ.get("GOSYM_DWARF_EXAMPLES", "300")), deadline=None)
@given(dw.strategies())
def test_random_programs_match_model(case):
    units, be = case
    sec, line_str, strs, offs = build(units, be)
    ls = _dwarf.LineSection(sec, line_str, strs, be)
    assert list(ls.unit_offsets()) == offs
    cols = ls.decode(array.array("Q", offs))
    addr, file, line, col, flags, disc, unit_row = cols
    got = list(zip(addr, file, line, col, flags, disc))
    # Growing from one row (GS_DWL_MORE) and widening narrow columns
    # (GS_DWL_WIDEN: file >= 2**16, a non-zero column or discriminator)
    # in any order give the same rows.
    small = ls.decode(array.array("Q", offs), 1)
    assert list(zip(*small[:6])) == got and list(small[6]) == list(unit_row)
    # The decoder's general loop alone (no fast run of Go's common opcodes).
    ref = ls.decode(array.array("Q", offs), 0, reference=True)
    assert list(zip(*ref[:6])) == got and list(ref[6]) == list(unit_row)
    assert file.typecode == ("I" if any(f > 0xFFFF for f in file) else "H")
    assert isinstance(col, _dwarf.ZeroColumn) == (not any(col))
    assert isinstance(disc, _dwarf.ZeroColumn) == (not any(disc))
    expect = []
    for k, (h, ops) in enumerate(units):
        rows = model_rows(h, ops)
        assert got[unit_row[k]:unit_row[k + 1]] == rows, f"unit {k} (v{h.version})"
        expect += rows
        hd = ls.header(offs[k])
        assert (hd["version"], hd["offset_size"], hd["opcode_base"], hd["line_base"],
                hd["line_range"], hd["minimum_instruction_length"]) == \
            (h.version, h.offset_size, h.opcode_base, h.line_base, h.line_range, h.min_inst_len)
        dirs, files = ls.entries(offs[k])
        assert dirs == [d.name for d in h.dirs]
        want = [(f.name, f.dir) for f in h.files]
        assert [(f[0], f[1]) for f in files] == want
        if h.version >= 5:
            assert [f[4] for f in files] == [f.md5 for f in h.files]
            if h.time_form not in (None, dw.FORM_BLOCK):
                assert [f[2] for f in files] == [f.mtime for f in h.files]
            if h.size_form is not None:
                assert [f[3] for f in files] == [f.size for f in h.files]
        else:
            assert [(f[2], f[3]) for f in files] == [(f.mtime, f.size) for f in h.files]
        # DW_LNE_define_file (v2-4) entries, in program order [DWARF4 6.2.5.3].
        defined = [op[1] for op in ops if op[0] == "define_file"] if h.version < 5 else []
        assert [(f[0], f[1], f[2], f[3]) for f in ls.defined_files(offs[k])] == \
            [(name, 0, 0, 0) for name in defined]
    assert got == expect
    # The sequence index covers the same sequences as the rows.
    lo, hi, unit = ls.sequences(array.array("Q", offs))
    ends = [r for r in expect if r[4] & END_SEQ]
    assert list(hi) == [r[0] for r in ends]


def test_define_file_numbers_on_after_the_header():
    """A row whose file register is past the header's table names the file
    DW_LNE_define_file added (v2-4); in v5 the opcode is not defined."""
    for version in (2, 3, 4):
        h = dw.Header(version=version, dirs=[dw.FileEnt("/inc")],
                      files=[dw.FileEnt("a.c", dir=0), dw.FileEnt("b.h", dir=1)])
        ops = [("set_address", 0x1000, 8), ("copy",), ("define_file", "gen.c"),
               ("define_file", "more.c"), ("set_file", 4), ("special", 20), ("set_file", 3),
               ("special", 20), ("end_sequence",)]
        sec, line_str, strs, offs = build([(h, ops)], False)
        ls = _dwarf.LineSection(sec, line_str, strs, False)
        rows = ls.decode(array.array("Q", offs))
        assert list(rows[1]) == [1, 4, 3, 3]
        dirs, files = ls.entries(offs[0])
        from gosym.dwarf import LineTable, _resolve
        rdirs, rfiles = _resolve(version, "/src", dirs, files)
        t = LineTable(offs[0], version, None, rdirs, rfiles, ls)
        assert [t.file_at(k) for k in rows[1]] == ["/src/a.c", "/src/more.c", "/src/gen.c",
                                                     "/src/gen.c"]
        assert t.file_at(5) is None
        assert [f.name for f in t.all_files()] == ["a.c", "b.h", "gen.c", "more.c"]
    # A define_file whose entry overruns its length is malformed.
    h = dw.Header(version=4, files=[dw.FileEnt("a.c")])
    body = bytes([3]) + b"x.c\0"          # no dir/mtime/size ULEBs inside the length
    bad = dw.encode_ops([("set_address", 0, 8)], h) + b"\0" + bytes([len(body)]) + body
    sec, line_str, strs, offs = build([(h, [("set_address", 0, 8)])], False)
    prog = dw.encode_ops([("set_address", 0, 8)], h)
    patched = bytearray(sec.replace(prog, bad))
    # Fix unit_length for the longer program (32-bit DWARF: first 4 bytes).
    patched[0:4] = (len(patched) - 4).to_bytes(4, "little")
    with pytest.raises(FormatError):
        _dwarf.LineSection(bytes(patched), b"", b"", False).defined_files(0)


def test_sleb_and_opcode_edges():
    """Hand-picked edges: an advance_line of -1 wraps below line 1 (to
    2**32-1, an unsigned register), 10-byte LEB128 operands, an extended
    opcode of length 0, and VLIW op_index arithmetic."""
    h = dw.Header(version=4, max_ops=4, min_inst_len=2, opcode_base=13, line_base=-3, line_range=12)
    h.files = [dw.FileEnt("a.c")]
    ops = [("advance_line", -2), ("copy",), ("advance_pc", 2 ** 63), ("copy",),
           ("special", 13 + 12 * 5 + 7), ("const_add_pc",), ("copy",), ("end_sequence",)]
    raw = dw.write_unit(h, ops, dw.Strings(), dw.Strings())
    # splice an empty extended opcode (0, len 0) before the program's end
    sec = raw[:-3] + b"\x00\x00" + raw[-3:]
    sec = (len(sec) - 4 + 0).to_bytes(4, "little") + sec[4:]
    ls = _dwarf.LineSection(sec, None, None, False)
    got = list(zip(*ls.decode([0])[:6]))
    assert got == model_rows(h, ops)


# ------------------------------------------------------------ hostile input

def _check_hostile(data: bytes, offs: List[int]) -> None:
    ls = _dwarf.LineSection(data, b"\0abc\0", b"\0xyz\0", False)
    try:
        ls.decode(offs)
        ls.sequences(offs)
        for o in offs:
            ls.header(o)
            ls.entries(o)
    except FormatError as e:
        assert e.section == ".debug_line" and e.offset is not None
    try:
        ls.unit_offsets()
    except FormatError:
        pass


def test_mutated_sections(fixture_rows):
    """Truncations and bit flips of a real .debug_line (Go 1.27, DWARF 5,
    and Go 1.24, DWARF 2) give rows or FormatError, nothing else."""
    from gosym.dwarf import open_dwarf

    rng = random.Random(5)
    picked = [r for r in fixture_rows if r.get("path") and r["goos"] == "linux" and r["goarch"] == "amd64"
              and r["flagset"] == "default" and r["program"] == "multipkg"]
    assert picked
    for r in picked[:2]:
        with open_dwarf(r["path"]) as d:
            line = d.section("line")
            assert line is not None
            data = bytes(line.data)
            offs = list(d.line_offsets())
        # Units near the start keep each case fast.
        head = data[:offs[min(4, len(offs) - 1)] + 1]
        for cut in range(0, min(len(head), 3000), 7):
            _check_hostile(head[:cut], [0])
        for _ in range(400):
            b = bytearray(head)
            for _k in range(rng.randint(1, 4)):
                i = rng.randrange(len(b))
                b[i] ^= 1 << rng.randrange(8)
            _check_hostile(bytes(b), [o for o in offs if o < len(b)][:5])


@settings(max_examples=200, deadline=None)
@given(hypothesis.strategies.binary(max_size=200), hypothesis.strategies.integers(0, 16))
def test_random_bytes(data, off):
    _check_hostile(data, [off])


def test_errors_are_gosym_errors():
    with pytest.raises(GosymError):
        _dwarf.LineSection(b"\x10\x00\x00\x00\x07\x00", None, None, False).decode([0])
    with pytest.raises(FormatError, match="past the section"):
        _dwarf.LineSection(b"\x10\x00\x00\x00\x04\x00", None, None, False).decode([0])
    # 64-bit unit_length, truncated
    with pytest.raises(FormatError):
        _dwarf.LineSection(b"\xff\xff\xff\xff\x01", None, None, False).decode([0])
    # v5 line_strp without .debug_line_str
    h = dw.Header(version=5, dir_path_form=dw.FORM_LINE_STRP)
    h.dirs = [dw.FileEnt("d")]
    h.files = [dw.FileEnt("f")]
    raw = dw.write_unit(h, [], dw.Strings(), dw.Strings())
    with pytest.raises(FormatError, match="line_str"):
        _dwarf.LineSection(raw, None, b"\0", False).entries(0)
