"""DWARF sections: finding them in a container and reading them whole.

A DWARF section is found by name (.debug_*/.zdebug_* in ELF and PE,
__debug_*/__zdebug_* in Mach-O's __DWARF segment), then read through the
container layer (gosym.container.compress: the one reader of compression
headers, and the inflating with its size caps) once.

What does not live here: units (gosym.dwarf.units), line programs
(gosym.dwarf.lines, decoded in C by gosym._dwarf), the Dwarf object
(gosym.dwarf.reader).  Offsets in errors are section offsets of the
decompressed data, as readelf and llvm-dwarfdump print them.
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

from gosym.container import Container, Section
from gosym.container.compress import MAX_RATIO, MAX_SECTION, SHF_COMPRESSED, decompress, section_data
from gosym.records import Record


class DwarfSection(Record):
    """DwarfSection is one DWARF section's (decompressed) bytes and origin."""

    name: str                # canonical name: ".debug_line"
    stored_name: str         # as in the file: ".zdebug_line", "__debug_line"
    offset: int              # file offset of the stored bytes
    stored_size: int         # bytes in the file
    size: int                # bytes after decompression
    compression: str         # "none" | "zlib" (SHF_COMPRESSED) | "zstd" | "zdebug"
    data: Any = None

    def __repr__(self) -> str:
        return (f"DwarfSection(name={self.name!r}, stored_name={self.stored_name!r}, offset={self.offset!r}, "
                f"stored_size={self.stored_size!r}, size={self.size!r}, compression={self.compression!r})")


class SectionSummary(Record, frozen=True):
    """SectionSummary is what Dwarf.describe reports of one DWARF section:
    its name in the file, file offset, stored and decompressed sizes and
    compression.  as_dict() gives the JSON form."""

    stored_name: str
    file_offset: int
    stored_size: int
    size: int
    compression: str

    def as_dict(self) -> dict:
        """as_dict returns the fields as a dict (for JSON output)."""
        return {"stored_name": self.stored_name, "file_offset": self.file_offset,
                "stored_size": self.stored_size, "size": self.size, "compression": self.compression}


def _names(container: Container, base: str) -> Tuple[str, str]:
    if container.format == "Mach-O":
        # Mach-O section names are cut at 16 bytes (__debug_str_offs).
        return f"__debug_{base}"[:16], f"__zdebug_{base}"[:16]
    return f".debug_{base}", f".zdebug_{base}"


def find_section(container: Container, base: str) -> Optional[Section]:
    """find_section returns the container's section for DWARF section
    `base` ("line", "info", ...): .debug_*/.zdebug_* or __debug_*/__zdebug_*."""
    plain, z = _names(container, base)
    for s in container.sections:
        if s.name in (plain, z) and (container.format != "Mach-O" or s.segment in ("__DWARF", "")):
            return s
    return None



def read_section(container: Container, base: str) -> Optional[DwarfSection]:
    """read_section returns DWARF section `base` decompressed (or as a
    zero-copy view when stored plain), or None when the file lacks it."""
    s = find_section(container, base)
    if s is None or s.size == 0:
        return None
    data, kind = section_data(container, s)
    return DwarfSection(f".debug_{base}", s.name, s.offset, s.size, len(data), kind, data)


__all__ = ["DwarfSection", "SectionSummary", "MAX_RATIO", "MAX_SECTION", "SHF_COMPRESSED", "decompress", "find_section",
           "read_section"]
