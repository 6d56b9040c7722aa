"""Containers: the file formats that hold a Go program (ELF, Mach-O, PE, raw).

A container knows its sections, its segments (what is mapped at run time),
its symbols, and how virtual addresses map to file offsets.  Parsing reads
headers only; every offset and size read from the file is checked against the
buffer before use.
"""
from __future__ import annotations

from typing import Optional

from gosym.container.base import SYMBOL_ENTRY_SIZE, Bytes, Container, Section, Segment, SymtabRef
from gosym.errors import NotGoBinaryError


#: The first four bytes of an ELF file, then of the Mach-O kinds (thin 32/64-bit
#: either byte order, fat); a PE file starts with "MZ".
EXEC_MAGICS = (b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf",
               b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")


def detect(buf, arch: Optional[str] = None) -> Container:
    """detect parses buf as ELF, Mach-O (thin or fat) or PE by its magic."""
    head = bytes(buf[:4])
    if head == b"\x7fELF":
        from gosym.container.elf import parse_elf
        return parse_elf(buf)
    if head in EXEC_MAGICS[1:]:
        from gosym.container.macho import parse_macho
        return parse_macho(buf, arch=arch)
    if head[:2] == b"MZ":
        from gosym.container.pe import parse_pe
        return parse_pe(buf)
    raise NotGoBinaryError("not an ELF, Mach-O or PE file")


def is_executable_file(path: str) -> bool:
    """is_executable_file tells whether a file starts like an ELF, Mach-O or
    PE file (by its magic; nothing else is read)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head in EXEC_MAGICS or head[:2] == b"MZ"


__all__ = ["Bytes", "Container", "EXEC_MAGICS", "SYMBOL_ENTRY_SIZE", "Section", "Segment", "SymtabRef", "detect",
           "is_executable_file"]
