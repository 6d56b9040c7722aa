"""What a binary's symbol data costs, and what survives: `gosym cost`.

For one binary: every section's size in the file and in memory, whether the
loader maps it (ELF: inside a PT_LOAD's file range; Mach-O: in a segment
with vmsize > 0; PE: every section is part of the image), compressed and
uncompressed DWARF sizes, the pclntab split into its tables (summing to the
table's size exactly), and which kinds of answer the binary can still give.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import gosym
from gosym.container import Container, Section
from gosym.container.compress import compression
from gosym.container.notes import read_build_ids


def _uncompressed_size(c: Container, s: Section) -> Optional[int]:
    """The inflated size of a compressed section, from its own header
    (gosym.container.compress); None when stored plain or the header is bad."""
    try:
        comp = compression(c, s)
    except gosym.FormatError:
        return None
    return None if comp is None else comp.size


def _mapped_ranges(c: Container) -> List[tuple]:
    ranges = sorted((seg.offset, seg.offset + seg.file_size) for seg in c.segments if seg.file_size)
    merged: List[list] = []
    for a, b in ranges:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [tuple(r) for r in merged]


def _is_mapped(c: Container, s: Section, ranges) -> bool:
    if c.format == "ELF":
        if not s.size:
            return bool(s.flags & 0x2) and s.mem_size > 0  # NOBITS .bss: memory only
        return any(a <= s.offset and s.offset + s.size <= b for a, b in ranges)
    return s.mapped


def sections(c: Container) -> List[Dict[str, Any]]:
    """sections lists every section with its sizes and whether it is mapped."""
    ranges = _mapped_ranges(c)
    out = []
    for s in c.sections:
        if not s.name and not s.size and not s.mem_size:
            continue
        unc = _uncompressed_size(c, s)
        out.append({"name": s.name, "offset": s.offset, "size": s.size, "mem_size": s.mem_size,
                    "mapped": _is_mapped(c, s, ranges), "compressed": unc is not None,
                    "uncompressed_size": unc if unc is not None else s.size})
    return out


def _has_any(c: Container, *names: str) -> bool:
    return any(c.section(n) is not None and c.section(n).size > 0 for n in names)  # type: ignore[union-attr]


def survival(b: "gosym.Binary") -> Dict[str, Any]:
    """survival says, for each kind of answer, whether this binary can give it."""
    c = b.container
    cols = b.functions.columns()
    n = len(cols.entry)
    mid = b.functions[n // 2] if n else None
    lines = bool(mid and any(r.line > 0 for r in mid.lines()))
    funcs = b.functions
    inl = b.inline_layout != 0 and any(
        funcs[i].has_inline_tree for i in range(0, n, max(1, n // 2000)))
    dw = None
    try:
        dw = b.dwarf
    except gosym.GosymError:
        dw = None
    dwarf_lines = False
    if dw is not None:
        try:
            dwarf_lines = len(dw.line_rows()) > 0
        except gosym.GosymError:
            dwarf_lines = False
    bi = b.build_info
    files = b.functions.columns(files=True).file or [] if n else []
    absolute = [f for f in files if f.startswith("/") or (len(f) > 2 and f[1] == ":")]
    ids = read_build_ids(c)
    return {
        "function_names": n > 0,
        "file_line": lines,
        "inlined_frames": bool(inl),
        "start_lines": b.pclntab.version >= gosym.PclntabVersion.V120,
        "dwarf_lines": dwarf_lines,
        "dwarf_types": _has_any(c, ".debug_info", ".zdebug_info", "__debug_info", "__zdebug_info"),
        "frame_info": _has_any(c, ".debug_frame", ".zdebug_frame", ".eh_frame", "__debug_frame",
                               "__eh_frame"),
        "symbols": any(t.count > 1 for t in c.symtabs if t.name in (".symtab", "LC_SYMTAB", "COFF")),
        "dynamic_symbols": any(t.count > 1 for t in c.symtabs if t.name == ".dynsym"),
        "go_version": bool(bi and bi.go_version),
        "module_list": bool(bi and (bi.main or bi.deps)),
        "build_settings": bool(bi and bi.settings),
        "go_build_id": ids.go is not None,
        "gnu_build_id": ids.gnu is not None,
        "paths_trimmed": bool(files) and not absolute,
    }


def cost(path: str) -> Dict[str, Any]:
    """cost returns the report of one binary (the `gosym cost --json` document)."""
    with gosym.open(path) as b:
        c = b.container
        secs = sections(c)
        ranges = _mapped_ranges(c)
        mapped = sum(e - a for a, e in ranges)
        info = b.pclntab
        tables = b.pclntab_sizes()
        dwarf = [s for s in secs if s["name"].startswith((".debug_", ".zdebug_", "__debug_", "__zdebug_"))]
        symtab_size = sum(t.byte_size for t in c.symtabs)
        return {
            "path": path, "format": c.format, "arch": c.arch, "go_version": b.go_version,
            "file_size": len(c.buf) if c.base_offset == 0 else c.size,
            "mapped_bytes": mapped,
            "unmapped_bytes": (len(c.buf) if c.base_offset == 0 else c.size) - mapped,
            "sections": secs,
            "pclntab": {"size": info.size, "version": str(info.version), "tables": tables},
            "symtab_size": symtab_size,
            "dwarf_size": sum(s["size"] for s in dwarf),
            "dwarf_uncompressed_size": sum(s["uncompressed_size"] for s in dwarf),
            "survives": survival(b),
        }
