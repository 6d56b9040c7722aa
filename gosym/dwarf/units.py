"""DWARF compile units: each unit header of .debug_info and the few
attributes of its first DIE (name, comp_dir, producer, language,
stmt_list, the split-DWARF dwo name).

What does not live here: the sections (gosym.dwarf.sections), line
programs (gosym.dwarf.lines), the Dwarf object (gosym.dwarf.reader).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from gosym import _native
from gosym.errors import FormatError


@dataclass
class CompileUnit:
    """CompileUnit is one unit of .debug_info: its header and the name,
    comp_dir and line-program offset of its first DIE."""

    offset: int                  #: .debug_info offset of the unit header
    version: int                  #: DWARF version of the unit
    unit_type: int               #: DW_UT_* (1 compile, 2 type, 3 partial, 4 skeleton, 5 split)
    address_size: int             #: address size in bytes
    offset_size: int              #: 4 (32-bit DWARF) or 8 (64-bit DWARF)
    name: Optional[str] = None    #: DW_AT_name: the primary source file
    comp_dir: Optional[str] = None  #: DW_AT_comp_dir: the compilation directory
    producer: Optional[str] = None  #: DW_AT_producer: the compiler
    language: Optional[int] = None  #: DW_AT_language (DW_LANG_* code)
    stmt_list: Optional[int] = None  #: DW_AT_stmt_list: .debug_line offset of its line program
    dwo_name: Optional[str] = None   #: split DWARF: the unit's body is in a .dwo file


DW_UT_compile, DW_UT_type, DW_UT_partial, DW_UT_skeleton, DW_UT_split_compile, DW_UT_split_type = range(1, 7)
DW_AT_name, DW_AT_stmt_list, DW_AT_language, DW_AT_comp_dir, DW_AT_producer = 0x03, 0x10, 0x13, 0x1B, 0x25
DW_AT_str_offsets_base, DW_AT_dwo_name, DW_AT_GNU_dwo_name = 0x72, 0x76, 0x2130

# Fixed-size forms [DWARF5 7.5.6]: form -> bytes ("a": address size,
# "o": offset size, "r": ref_addr, which is the address size in DWARF 2).
_FIXED: Dict[int, Any] = {0x01: "a", 0x05: 2, 0x06: 4, 0x07: 8, 0x0B: 1, 0x0C: 1, 0x0E: "o", 0x10: "r", 0x11: 1,
          0x12: 2, 0x13: 4, 0x14: 8, 0x17: "o", 0x19: 0, 0x1C: 4, 0x1D: "o", 0x1E: 16, 0x1F: "o",
          0x20: 8, 0x21: 0, 0x24: 8, 0x25: 1, 0x26: 2, 0x27: 3, 0x28: 4, 0x29: 1, 0x2A: 2, 0x2B: 3,
          0x2C: 4, 0x1F20: "o", 0x1F21: "o"}
_ULEB_FORMS = {0x0F, 0x15, 0x1A, 0x1B, 0x22, 0x23, 0x1F01, 0x1F02}
_STRX = {0x1A: None, 0x25: 1, 0x26: 2, 0x27: 3, 0x28: 4, 0x1F02: None}


class _Cur:
    """A checked little cursor for the few DIEs read in Python."""

    def __init__(self, data: Any, section: str, big: bool, pos: int = 0, end: Optional[int] = None):
        self.d = data
        self.section = section
        self.big = big
        self.pos = pos
        self.end = len(data) if end is None else end

    def fail(self, msg: str, at: Optional[int] = None) -> FormatError:
        return FormatError(msg, section=self.section, offset=self.pos if at is None else at)

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise self.fail("read past the end of the unit")
        b = bytes(self.d[self.pos:self.pos + n])
        self.pos += n
        return b

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big" if self.big else "little")

    def _leb(self, kind: str) -> int:
        """A LEB128 through the C cursor (csrc/reader.h), bounded by the unit."""
        start = self.pos
        with memoryview(self.d) as whole, whole[:self.end] as mv:
            try:
                v, self.pos = _native.read_value(mv, kind, start)
            except FormatError as e:
                why = "past the end of the unit" if "past end" in e.message else "too long"
                raise self.fail(f"LEB128 {why}", start) from None
        return int(v)

    def uleb(self) -> int:
        return self._leb("uvarint")

    def sleb(self) -> int:
        return self._leb("sleb128")

    def cstr(self) -> str:
        d = self.d
        i = self.pos
        end = self.end
        # memoryview has no find(): scan in chunks of bytes.
        while i < end:
            chunk = bytes(d[i:min(end, i + 256)])
            k = chunk.find(b"\0")
            if k >= 0:
                s = bytes(d[self.pos:i + k]).decode("utf-8", "surrogateescape")
                self.pos = i + k + 1
                return s
            i += len(chunk)
        raise self.fail("string not terminated")


def _cstr_at(data: Any, off: int, section: str) -> str:
    if data is None:
        raise FormatError(f"string form without {section}", section=section, offset=off)
    return _Cur(data, section, False, off).cstr()


class _Abbrevs:
    """Abbreviation tables of .debug_abbrev, parsed per table offset on use."""

    def __init__(self, data: Any):
        self.data = data
        self.tables: Dict[int, Dict[int, List[Tuple[int, int, int]]]] = {}

    def get(self, table: int, code: int) -> List[Tuple[int, int, int]]:
        t = self.tables.get(table)
        if t is None:
            t = self.tables[table] = self._parse(table)
        if code not in t:
            raise FormatError(f"abbreviation code {code} not in table", section=".debug_abbrev", offset=table)
        return t[code]

    def _parse(self, off: int) -> Dict[int, List[Tuple[int, int, int]]]:
        c = _Cur(self.data, ".debug_abbrev", False, off)
        out: Dict[int, List[Tuple[int, int, int]]] = {}
        while True:
            code = c.uleb()
            if code == 0:
                return out
            c.uleb()          # tag
            c.take(1)         # has children
            attrs = []
            while True:
                name, form = c.uleb(), c.uleb()
                if name == 0 and form == 0:
                    break
                implicit = c.sleb() if form == 0x21 else 0
                attrs.append((name, form, implicit))
            out[code] = attrs


def parse_units(info: Any, abbrev: Any, strs: Any, line_str: Any, str_offsets: Any,
                big: bool) -> List[CompileUnit]:
    """parse_units reads every unit header of .debug_info and the
    attributes of its first DIE.  Linear in the number of units."""
    units: List[CompileUnit] = []
    abbrevs = _Abbrevs(abbrev) if abbrev is not None else None
    pos = 0
    n = len(info)
    while pos < n:
        c = _Cur(info, ".debug_info", big, pos)
        length = c.uint(4)
        offsz = 4
        if length == 0xFFFFFFFF:
            length = c.uint(8)
            offsz = 8
        elif length >= 0xFFFFFFF0:
            raise c.fail("reserved unit_length value", pos)
        end = c.pos + length
        if end > n:
            raise c.fail("unit extends past the section", pos)
        c.end = end
        version = c.uint(2)
        if not 2 <= version <= 5:
            raise c.fail(f"unsupported DWARF version {version}", pos)
        if version >= 5:
            unit_type = c.uint(1)
            addr_size = c.uint(1)
            abbrev_off = c.uint(offsz)
            if unit_type in (DW_UT_skeleton, DW_UT_split_compile):
                c.take(8)
            elif unit_type in (DW_UT_type, DW_UT_split_type):
                c.take(8 + offsz)
        else:
            unit_type = DW_UT_compile
            abbrev_off = c.uint(offsz)
            addr_size = c.uint(1)
        cu = CompileUnit(offset=pos, version=version, unit_type=unit_type,
                         address_size=addr_size, offset_size=offsz)
        code = c.uleb() if c.pos < end else 0
        if code and abbrevs is None:
            raise FormatError(".debug_info without .debug_abbrev", section=".debug_abbrev")
        if code:
            assert abbrevs is not None
            strx: Dict[int, int] = {}
            str_base: Optional[int] = None
            for name, form, implicit in abbrevs.get(abbrev_off, code):
                val = _read_attr(c, form, implicit, version, addr_size, offsz, strs, line_str)
                if form in _STRX:
                    strx[name] = val
                    continue
                if name == DW_AT_str_offsets_base:
                    str_base = val
                elif name == DW_AT_name and isinstance(val, str):
                    cu.name = val
                elif name == DW_AT_comp_dir and isinstance(val, str):
                    cu.comp_dir = val
                elif name == DW_AT_producer and isinstance(val, str):
                    cu.producer = val
                elif name == DW_AT_language and isinstance(val, int):
                    cu.language = val
                elif name == DW_AT_stmt_list and isinstance(val, int):
                    cu.stmt_list = val
                elif name in (DW_AT_dwo_name, DW_AT_GNU_dwo_name):
                    cu.dwo_name = val if isinstance(val, str) else "?"
            for name, idx in strx.items():
                s = _strx(idx, str_base, offsz, str_offsets, strs, big)
                if name == DW_AT_name:
                    cu.name = s
                elif name == DW_AT_comp_dir:
                    cu.comp_dir = s
                elif name == DW_AT_producer:
                    cu.producer = s
                elif name in (DW_AT_dwo_name, DW_AT_GNU_dwo_name):
                    cu.dwo_name = s or "?"
        units.append(cu)
        pos = end
    return units


def _strx(idx: int, base: Optional[int], offsz: int, str_offsets: Any, strs: Any, big: bool) -> Optional[str]:
    if str_offsets is None or strs is None:
        return None
    if base is None:
        base = 16 if offsz == 8 else 8   # past the .debug_str_offsets header
    at = base + idx * offsz
    if at + offsz > len(str_offsets):
        raise FormatError("string index past .debug_str_offsets", section=".debug_str_offsets", offset=at)
    off = int.from_bytes(bytes(str_offsets[at:at + offsz]), "big" if big else "little")
    return _cstr_at(strs, off, ".debug_str")


def _read_attr(c: _Cur, form: int, implicit: int, version: int, addr_size: int, offsz: int,
               strs: Any, line_str: Any) -> Any:
    """Read one attribute value: strings resolved, the rest as ints (blocks
    skipped, returned as None)."""
    while form == 0x16:        # DW_FORM_indirect
        form = c.uleb()
    if form == 0x08:
        return c.cstr()
    if form == 0x21:
        return implicit
    if form == 0x0D:
        return c.sleb()
    if form in _ULEB_FORMS:
        return c.uleb()
    spec = _FIXED.get(form)
    if spec is not None:
        if spec == "a":
            size = addr_size
        elif spec == "o":
            size = offsz
        elif spec == "r":
            size = addr_size if version == 2 else offsz
        else:
            size = int(spec)
        val = c.uint(size)
        if form == 0x0E:
            return _cstr_at(strs, val, ".debug_str")
        if form == 0x1F:
            return _cstr_at(line_str, val, ".debug_line_str")
        return val
    if form in (0x09, 0x18):    # block, exprloc
        c.take(c.uleb())
        return None
    if form == 0x0A:
        c.take(c.uint(1))
        return None
    if form == 0x03:
        c.take(c.uint(2))
        return None
    if form == 0x04:
        c.take(c.uint(4))
        return None
    raise c.fail(f"unknown attribute form {form:#x}")



__all__ = ["CompileUnit", "DW_AT_comp_dir", "DW_AT_dwo_name", "DW_AT_GNU_dwo_name", "DW_AT_language",
           "DW_AT_name", "DW_AT_producer", "DW_AT_stmt_list", "DW_AT_str_offsets_base", "DW_UT_compile",
           "DW_UT_partial", "DW_UT_skeleton", "DW_UT_split_compile", "DW_UT_split_type", "DW_UT_type",
           "parse_units"]
