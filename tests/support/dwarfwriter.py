"""A test-only writer of DWARF line programs (.debug_line units).

A program is a header (`Header`) and a list of abstract operations (tuples
such as ("special", 42), ("advance_pc", 3), ("end_sequence",)); `write_unit`
encodes them per DWARF 5 section 6.2 (headers of versions 2-5, 32- or 64-bit
DWARF, either byte order) into bytes, adding strings to .debug_line_str and
.debug_str as the v5 entry formats ask.  `strategies` builds random valid
programs for hypothesis.  Nothing here imports gosym.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

# Standard opcodes and their operand counts [DWARF5 6.2.5.2, 7.22].
STD = {"copy": (1, 0), "advance_pc": (2, 1), "advance_line": (3, 1), "set_file": (4, 1),
       "set_column": (5, 1), "negate_stmt": (6, 0), "set_basic_block": (7, 0),
       "const_add_pc": (8, 0), "fixed_advance_pc": (9, 1), "set_prologue_end": (10, 0),
       "set_epilogue_begin": (11, 0), "set_isa": (12, 1)}
EXT = {"end_sequence": 1, "set_address": 2, "define_file": 3, "set_discriminator": 4}

# Forms [DWARF5 7.5.6] and content types [6.2.4.1].
FORM_BLOCK, FORM_DATA1, FORM_DATA2, FORM_DATA4, FORM_DATA8 = 0x09, 0x0B, 0x05, 0x06, 0x07
from tests.support.leb128 import sleb, uleb  # noqa: E402

FORM_STRING, FORM_STRP, FORM_UDATA, FORM_DATA16, FORM_LINE_STRP = 0x08, 0x0E, 0x0F, 0x1E, 0x1F
LNCT_PATH, LNCT_DIR, LNCT_TIME, LNCT_SIZE, LNCT_MD5 = 1, 2, 3, 4, 5






@dataclass
class FileEnt:
    """One directory or file entry as written."""

    name: str
    dir: int = 0
    mtime: int = 0
    size: int = 0
    md5: Optional[bytes] = None


@dataclass
class Header:
    """The parameters of one line-program header."""

    version: int = 4
    offset_size: int = 4
    big_endian: bool = False
    address_size: int = 8
    min_inst_len: int = 1
    max_ops: int = 1
    default_is_stmt: bool = True
    line_base: int = -5
    line_range: int = 14
    opcode_base: int = 13
    unknown_lengths: dict = field(default_factory=dict)   # opcode -> operand count (opcodes >= 13)
    dirs: List[FileEnt] = field(default_factory=list)
    files: List[FileEnt] = field(default_factory=list)
    # v5 formats: path form of directories and files; dir index form; extras.
    dir_path_form: int = FORM_STRING
    file_path_form: int = FORM_STRING
    dir_index_form: int = FORM_UDATA
    with_md5: bool = False
    time_form: Optional[int] = None
    size_form: Optional[int] = None

    def std_lengths(self) -> List[int]:
        out = []
        for op in range(1, self.opcode_base):
            if op <= 12:
                out.append(next(n for code, n in STD.values() if code == op))
            else:
                out.append(self.unknown_lengths.get(op, 0))
        return out


class Strings:
    """A string section being built (.debug_str / .debug_line_str)."""

    def __init__(self) -> None:
        self.data = bytearray(b"\0")     # offset 0: the empty string

    def add(self, s: str) -> int:
        off = len(self.data)
        self.data += s.encode() + b"\0"
        return off


def _u(v: int, n: int, be: bool) -> bytes:
    return v.to_bytes(n, "big" if be else "little")


def _form(form: int, value, h: Header, line_str: Strings, strs: Strings) -> bytes:
    be = h.big_endian
    if form == FORM_STRING:
        return value.encode() + b"\0"
    if form == FORM_LINE_STRP:
        return _u(line_str.add(value), h.offset_size, be)
    if form == FORM_STRP:
        return _u(strs.add(value), h.offset_size, be)
    if form == FORM_UDATA:
        return uleb(value)
    if form == FORM_DATA1:
        return _u(value, 1, be)
    if form == FORM_DATA2:
        return _u(value, 2, be)
    if form == FORM_DATA4:
        return _u(value, 4, be)
    if form == FORM_DATA8:
        return _u(value, 8, be)
    if form == FORM_DATA16:
        return bytes(value)
    if form == FORM_BLOCK:
        raw = _u(value, 4, be)
        return uleb(len(raw)) + raw
    raise ValueError(form)


def encode_ops(ops: List[tuple], h: Header) -> bytes:
    """encode_ops writes the opcodes of a program."""
    be = h.big_endian
    out = bytearray()
    for op in ops:
        kind = op[0]
        if kind == "special":
            assert h.opcode_base <= op[1] <= 255
            out.append(op[1])
        elif kind in STD:
            code, _n = STD[kind]
            assert code < h.opcode_base
            out.append(code)
            if kind in ("advance_pc", "set_file", "set_column", "set_isa"):
                out += uleb(op[1])
            elif kind == "advance_line":
                out += sleb(op[1])
            elif kind == "fixed_advance_pc":
                out += _u(op[1], 2, be)
        elif kind == "unknown_std":
            _, code, operands = op
            out.append(code)
            for v in operands:
                out += uleb(v)
        else:
            if kind == "end_sequence":
                body = bytes([1])
            elif kind == "set_address":
                body = bytes([2]) + _u(op[1], op[2], be)
            elif kind == "define_file":
                body = bytes([3]) + op[1].encode() + b"\0" + uleb(0) + uleb(0) + uleb(0)
            elif kind == "set_discriminator":
                body = bytes([4]) + uleb(op[1])
            elif kind == "unknown_ext":
                body = bytes([op[1]]) + op[2]
            else:
                raise ValueError(kind)
            out += b"\0" + uleb(len(body)) + body
    return bytes(out)


def write_unit(h: Header, ops: List[tuple], line_str: Strings, strs: Strings) -> bytes:
    """write_unit returns one .debug_line unit [DWARF5 6.2.4]."""
    be = h.big_endian
    osz = h.offset_size
    rest = bytearray()
    rest.append(h.min_inst_len)
    if h.version >= 4:
        rest.append(h.max_ops)
    rest.append(1 if h.default_is_stmt else 0)
    rest += struct.pack("b", h.line_base)
    rest.append(h.line_range)
    rest.append(h.opcode_base)
    rest += bytes(h.std_lengths())
    if h.version < 5:
        for d in h.dirs:
            rest += d.name.encode() + b"\0"
        rest += b"\0"
        for f in h.files:
            rest += f.name.encode() + b"\0" + uleb(f.dir) + uleb(f.mtime) + uleb(f.size)
        rest += b"\0"
    else:
        dfmt = [(LNCT_PATH, h.dir_path_form)]
        rest.append(len(dfmt))
        for ct, form in dfmt:
            rest += uleb(ct) + uleb(form)
        rest += uleb(len(h.dirs))
        for d in h.dirs:
            rest += _form(h.dir_path_form, d.name, h, line_str, strs)
        ffmt = [(LNCT_PATH, h.file_path_form), (LNCT_DIR, h.dir_index_form)]
        if h.with_md5:
            ffmt.append((LNCT_MD5, FORM_DATA16))
        if h.time_form is not None:
            ffmt.append((LNCT_TIME, h.time_form))
        if h.size_form is not None:
            ffmt.append((LNCT_SIZE, h.size_form))
        rest.append(len(ffmt))
        for ct, form in ffmt:
            rest += uleb(ct) + uleb(form)
        rest += uleb(len(h.files))
        for f in h.files:
            for ct, form in ffmt:
                val = {LNCT_PATH: f.name, LNCT_DIR: f.dir, LNCT_MD5: f.md5, LNCT_TIME: f.mtime,
                       LNCT_SIZE: f.size}[ct]
                rest += _form(form, val, h, line_str, strs)
    prog = encode_ops(ops, h)
    body = bytearray(_u(h.version, 2, be))
    if h.version >= 5:
        body += bytes([h.address_size, 0])
    body += _u(len(rest), osz, be) + rest + prog
    if osz == 8:
        return b"\xff\xff\xff\xff" + _u(len(body), 8, be) + bytes(body)
    return _u(len(body), 4, be) + bytes(body)


# ------------------------------------------------------------ hypothesis

def strategies():
    """strategies returns the hypothesis strategy of (headers+ops list,
    big_endian): one to three units sharing a byte order."""
    from hypothesis import strategies as st

    names = st.text(alphabet="abcxyz/._-", min_size=1, max_size=12).filter(lambda s: "\0" not in s)

    @st.composite
    def header(draw, be: bool) -> Header:
        version = draw(st.sampled_from([2, 3, 4, 5]))
        opcode_base = draw(st.sampled_from([1, 4, 10, 13, 14, 20]))
        h = Header(
            version=version,
            offset_size=draw(st.sampled_from([4, 8])),
            big_endian=be,
            address_size=draw(st.sampled_from([4, 8])),
            min_inst_len=draw(st.integers(1, 4)),
            max_ops=draw(st.sampled_from([1, 1, 3])) if version >= 4 else 1,
            default_is_stmt=draw(st.booleans()),
            line_base=draw(st.integers(-8, 1)),
            line_range=draw(st.integers(1, 16)),
            opcode_base=opcode_base,
            unknown_lengths={op: draw(st.integers(0, 3)) for op in range(13, opcode_base)},
        )
        ndirs = draw(st.integers(1 if version >= 5 else 0, 3))
        h.dirs = [FileEnt(draw(names)) for _ in range(ndirs)]
        nfiles = draw(st.integers(1, 4))
        h.with_md5 = version >= 5 and draw(st.booleans())
        h.files = [FileEnt(draw(names), draw(st.integers(0, ndirs if version < 5 else ndirs - 1)),
                           draw(st.integers(0, 2 ** 31)), draw(st.integers(0, 2 ** 31)),
                           draw(st.binary(min_size=16, max_size=16)) if h.with_md5 else None)
                   for _ in range(nfiles)]
        if version >= 5:
            h.dir_path_form = draw(st.sampled_from([FORM_STRING, FORM_LINE_STRP, FORM_STRP]))
            h.file_path_form = draw(st.sampled_from([FORM_STRING, FORM_LINE_STRP, FORM_STRP]))
            h.dir_index_form = draw(st.sampled_from([FORM_UDATA, FORM_DATA1, FORM_DATA2]))
            h.time_form = draw(st.sampled_from([None, FORM_UDATA, FORM_DATA4, FORM_BLOCK]))
            h.size_form = draw(st.sampled_from([None, FORM_UDATA, FORM_DATA8]))
        return h

    @st.composite
    def op(draw, h: Header) -> tuple:
        kinds = ["special", "special", "special", "end_sequence", "set_address", "set_discriminator",
                 "unknown_ext"]
        if h.version < 5:
            kinds.append("define_file")
        kinds += [k for k, (code, _n) in STD.items() if code < h.opcode_base]
        if h.opcode_base > 13:
            kinds.append("unknown_std")
        kind = draw(st.sampled_from(kinds))
        if kind == "special":
            return ("special", draw(st.integers(h.opcode_base, 255)))
        if kind in ("advance_pc",):
            return (kind, draw(st.integers(0, 300)))
        if kind in ("set_file", "set_column", "set_isa", "set_discriminator"):
            return (kind, draw(st.integers(0, 2 ** 32 - 1)))
        if kind == "advance_line":
            return (kind, draw(st.integers(-1000, 1000)))
        if kind == "fixed_advance_pc":
            return (kind, draw(st.integers(0, 0xFFFF)))
        if kind == "set_address":
            size = draw(st.sampled_from([4, 8]))
            return (kind, draw(st.integers(0, 2 ** (8 * size) - 1)), size)
        if kind == "define_file":
            return (kind, draw(names))
        if kind == "unknown_ext":
            return (kind, draw(st.integers(5, 255)), draw(st.binary(max_size=6)))
        if kind == "unknown_std":
            code = draw(st.integers(13, h.opcode_base - 1))
            return (kind, code, [draw(st.integers(0, 2 ** 40)) for _ in range(h.unknown_lengths[code])])
        return (kind,)

    @st.composite
    def unit(draw, be: bool):
        h = draw(header(be))
        ops = draw(st.lists(op(h), max_size=60))
        if draw(st.booleans()):
            ops.append(("end_sequence",))
        return h, ops

    @st.composite
    def section(draw):
        be = draw(st.booleans())
        return draw(st.lists(unit(be), min_size=1, max_size=3)), be

    return section()
