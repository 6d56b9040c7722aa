"""DWARF compile units: each unit header of .debug_info and the few
attributes of its first DIE (name, comp_dir, producer, language,
stmt_list, the split-DWARF dwo name).  The reading is done in C
(csrc/dwarf_form.c: the one DW_FORM reader, which the line-table entry
formats use too); this module gives the results their Python shape.

What does not live here: the sections (gosym.dwarf.sections), line
programs (gosym.dwarf.lines), the Dwarf object (gosym.dwarf.reader).
"""
from __future__ import annotations

from typing import Any, Iterable, List, Literal, Optional

from gosym import _dwarf
from gosym.records import Record


class CompileUnit(Record):
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


def parse_units(info: Any, abbrev: Any, strs: Any, line_str: Any, str_offsets: Any,
                big: bool, base: int = 0) -> List[CompileUnit]:
    """parse_units reads every unit header of .debug_info and the
    attributes of its first DIE, in C (gosym._dwarf.read_units over
    csrc/dwarf_form.c, the one DW_FORM reader).  Linear in the number of
    units; errors are FormatError naming the section and offset.  `info`
    may be a piece of whole units starting at section offset `base`."""
    return [CompileUnit(offset=off, version=ver, unit_type=ut, address_size=asz, offset_size=osz, name=name,
                        comp_dir=comp_dir, producer=producer, language=lang, stmt_list=stmt, dwo_name=dwo)
            for (off, ver, ut, asz, osz, name, comp_dir, producer, lang, stmt, dwo)
            in _dwarf.read_units(info, abbrev, strs, line_str, str_offsets, big, base)]


def parse_units_stream(chunks: Iterable[Any], abbrev: Any, strs: Any, line_str: Any, str_offsets: Any,
                       big: bool) -> List[CompileUnit]:
    """parse_units_stream is parse_units over .debug_info given in pieces
    (gosym.container.compress.section_chunks: inflated as the stream goes):
    the whole units of each piece are read in place, and only a unit cut by
    the end of a piece is copied (and completed from the next), so at most
    one piece and the largest unit are held, not the section."""
    order: Literal["little", "big"] = "big" if big else "little"
    pending = bytearray()     # the start of a unit cut by the end of a piece
    base = 0
    out: List[CompileUnit] = []

    def size_at(buf: Any, pos: int, n: int) -> Optional[int]:
        # The whole unit's size at buf[pos:], 0 when its length is not
        # there yet, None for a reserved length (the reader reports it).
        if pos + 4 > n:
            return 0
        length = int.from_bytes(buf[pos:pos + 4], order)
        if length == 0xFFFFFFFF:
            if pos + 12 > n:
                return 0
            return int.from_bytes(buf[pos + 4:pos + 12], order) + 12
        if length >= 0xFFFFFFF0:
            return None
        return length + 4

    def whole(buf: Any, n: int) -> int:
        # Bytes of the whole units at the start of buf[:n].
        pos = 0
        while True:
            size = size_at(buf, pos, n)
            if not size or pos + size > n:
                return pos
            pos += size

    def read(part: Any) -> None:
        nonlocal base
        out.extend(parse_units(part, abbrev, strs, line_str, str_offsets, big, base))
        base += len(part)

    for chunk in chunks:
        with memoryview(chunk) as view:
            start, end = 0, len(view)
            while pending and start < end:
                # Complete the cut unit (its length field first).
                size = size_at(pending, 0, len(pending))
                if size is None:
                    want = end - start            # reserved length: all to the reader
                elif size:
                    want = size - len(pending)
                else:                             # the length field itself: 4 bytes, or 12 (64-bit)
                    want = (4 if len(pending) < 4 else 12) - len(pending)
                take = min(want, end - start)
                pending += view[start:start + take]
                start += take
                size = size_at(pending, 0, len(pending))
                if size and len(pending) >= size:
                    read(pending)
                    pending = bytearray()
            if start < end:
                with view[start:] as rest:
                    n = whole(rest, end - start)
                    if n:
                        with rest[:n] as part:
                            read(part)
                    pending += rest[n:]
    if pending:
        read(pending)      # a partial unit at the end: the reader gives the error
    return out


__all__ = ["CompileUnit", "DW_AT_comp_dir", "DW_AT_dwo_name", "DW_AT_GNU_dwo_name", "DW_AT_language",
           "DW_AT_name", "DW_AT_producer", "DW_AT_stmt_list", "DW_AT_str_offsets_base", "DW_UT_compile",
           "DW_UT_partial", "DW_UT_skeleton", "DW_UT_split_compile", "DW_UT_split_type", "DW_UT_type",
           "parse_units", "parse_units_stream"]
