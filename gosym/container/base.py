"""The container model: Section, Segment, SymtabRef, Container (with its
virtual-address mapping, the one implementation of va -> file offset) and
the checked struct reader Bytes.

What does not live here: parsing a format (gosym.container.elf, .macho,
.pe, .raw), notes and build IDs (.notes), compression headers (.compress).
"""
from __future__ import annotations

import struct
from typing import Any, Iterator, List, Optional, Tuple

from gosym.errors import FormatError
from gosym.records import Record


class Section(Record):
    """Section is one named range of the file (ELF/Mach-O section, PE section)."""

    name: str
    addr: int          # virtual address (0 when not loaded)
    offset: int        # file offset (0 with no file bytes)
    size: int          # bytes in the file (0 for NOBITS / zerofill)
    mem_size: int      # bytes in memory
    mapped: bool       # part of the image mapped at run time
    flags: int = 0
    kind: int = 0      # format-specific type (sh_type, Mach-O section type)
    segment: str = ""  # Mach-O segment name


class Segment(Record):
    """Segment is one range mapped at run time (ELF PT_LOAD, Mach-O segment, PE section)."""

    name: str
    addr: int
    mem_size: int
    offset: int
    file_size: int
    flags: int = 0


# Bytes of one symbol-table entry per SymtabRef.kind: Elf32_Sym, Elf64_Sym
# [gABI "Symbol Table"], struct nlist / nlist_64 [Mach-O <mach-o/nlist.h>],
# IMAGE_SYMBOL [PE/COFF 5.4].  The Python copy of csrc/symtab.c: entry_size
# (tests/unit/test_layers.py checks that the two agree).
SYMBOL_ENTRY_SIZE = {"elf32": 16, "elf64": 24, "macho32": 12, "macho64": 16, "coff": 18}


class SymtabRef(Record):
    """SymtabRef locates a symbol table in the file for the C name search."""

    kind: str          # "elf32" | "elf64" | "macho32" | "macho64" | "coff"
    offset: int
    count: int
    str_offset: int
    str_size: int
    name: str = ""

    @property
    def entry_size(self) -> int:
        """entry_size is the bytes of one entry of this table."""
        return SYMBOL_ENTRY_SIZE[self.kind]

    @property
    def byte_size(self) -> int:
        """byte_size is the bytes the table and its strings take in the file."""
        return self.count * self.entry_size + self.str_size


class Container(Record):
    """Container is the parsed header view of one binary held in `buf`."""

    buf: Any                          # the mapped file (mmap or bytes); read-only
    format: str                       # "ELF" | "Mach-O" | "PE" | "raw"
    arch: str                         # GOARCH spelling where known
    byte_order: Any                   # "little" | "big"
    ptr_size: int                     # 4 | 8
    sections: List[Section] = []
    segments: List[Segment] = []
    symtabs: List[SymtabRef] = []
    kind: str = ""                    # ELF: EXEC/DYN/REL; PE: exe/dll; Mach-O: filetype
    image_base: int = 0               # PE
    base_offset: int = 0              # start of this container inside buf (fat Mach-O)
    size: int = 0                     # bytes of this container inside buf

    # ------------------------------------------------------------ queries
    def section(self, *names: str) -> Optional[Section]:
        """section returns the first section with one of the names, or None."""
        for name in names:
            for s in self.sections:
                if s.name == name:
                    return s
        return None

    def iter_sections(self) -> Iterator[Section]:
        """iter_sections yields every section in header order."""
        return iter(self.sections)

    def file_ranges(self) -> List[Tuple[int, int, int]]:
        """file_ranges lists the (address, file offset, size) of every range
        of file bytes loaded at an address, in the order va_to_offset tries
        them: the segments, then the sections with an address (a file with
        no program headers).  The native inline expansion gets this same
        list, so Python and C map addresses alike."""
        out = [(g.addr, g.offset, g.file_size) for g in self.segments if g.file_size]
        out += [(s.addr, s.offset, s.size) for s in self.sections if s.size and s.addr]
        return out

    def va_to_offset(self, va: int, length: int = 1) -> Optional[int]:
        """va_to_offset maps a virtual address to a file offset, or None when
        [va, va+length) is not backed by file bytes of one range
        (file_ranges).  The one implementation of this mapping."""
        for addr, off, size in self.file_ranges():
            if addr <= va and va + length <= addr + size:
                return off + (va - addr)
        return None

    def offset_to_va(self, offset: int) -> Optional[int]:
        """offset_to_va maps a file offset to the virtual address it is loaded
        at, or None when no segment maps it."""
        for seg in self.segments:
            if seg.offset <= offset < seg.offset + seg.file_size:
                return seg.addr + (offset - seg.offset)
        return None

    def find_symbol(self, *names: str) -> Optional[int]:
        """find_symbol returns the virtual address of the first symbol found
        with one of the names, or None.  Linear in the symbol tables, in C."""
        from gosym import _native

        for name in names:
            for tab in self.symtabs:
                hit = _native.symtab_find(self.buf, tab.kind, self.byte_order == "big",
                                          tab.offset, tab.count, tab.str_offset,
                                          tab.str_size, name)
                if hit is None:
                    continue
                _index, value, section = hit
                if tab.kind == "coff":
                    if section <= 0 or section > len(self.sections):
                        continue
                    # COFF values are relative to their section (whose
                    # addr already includes the image base).
                    return self.sections[section - 1].addr + value
                return value
        return None

    def has_symbols(self) -> bool:
        """has_symbols reports whether the container has a symbol table."""
        return any(t.count for t in self.symtabs)

    def read(self, offset: int, size: int) -> bytes:
        """read returns size bytes at a file offset, or raises FormatError."""
        if offset < 0 or size < 0 or offset + size > len(self.buf):  # type: ignore[arg-type]
            raise FormatError("read past end of file", offset=offset)
        return bytes(self.buf[offset:offset + size])  # type: ignore[index]

    def read_va(self, va: int, size: int) -> Optional[bytes]:
        """read_va returns size bytes at a virtual address, or None if unmapped."""
        off = self.va_to_offset(va, size)
        if off is None:
            return None
        return self.read(off, size)

    def read_ptr_va(self, va: int) -> Optional[int]:
        """read_ptr_va reads one pointer-sized word at a virtual address."""
        data = self.read_va(va, self.ptr_size)
        if data is None:
            return None
        return int.from_bytes(data, self.byte_order)

    def relocated_word(self, va: int) -> Optional[int]:
        """relocated_word returns the value a load-time relocation stores at va
        (PIE binaries leave such words zero in the file), or None."""
        return None


class Bytes:
    """Bytes is a checked struct reader over a buffer with a fixed byte order."""

    def __init__(self, buf, byte_order: str, section: str):
        self.buf = buf
        self.n = len(buf)
        self.prefix = "<" if byte_order == "little" else ">"
        self.section = section

    def unpack(self, fmt: str, offset: int):
        """unpack reads a struct at offset or raises FormatError naming it."""
        size = struct.calcsize(self.prefix + fmt)
        if offset < 0 or offset + size > self.n:
            raise FormatError(f"{self.section} truncated", section=self.section, offset=offset)
        return struct.unpack_from(self.prefix + fmt, self.buf, offset)

    def cstr(self, offset: int, limit: int = 4096) -> str:
        """cstr reads a NUL-terminated string (at most limit bytes)."""
        if offset < 0 or offset >= self.n:
            raise FormatError("string out of range", section=self.section, offset=offset)
        end = min(self.n, offset + limit)
        raw = bytes(self.buf[offset:end])
        nul = raw.find(b"\0")
        if nul >= 0:
            raw = raw[:nul]
        return raw.decode("utf-8", "replace")
