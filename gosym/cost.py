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
        out.append({"name": s.name, "size": s.size, "mem_size": s.mem_size,
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
    inl = b.inline_layout != 0 and any(
        b._tab.inline_tree_offset(i) for i in range(0, n, max(1, n // 2000)))
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
    files = b._tab.columns(files=True)[4] if n else []
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
        funcdata_off = None
        b.inline_layout  # sets up the inline context (finds gofunc)
        from gosym.pclntab import inline_context
        _layout, gofunc = inline_context(c, b._tab, info.address, b.go_version)
        if gofunc and info.address and info.address <= gofunc < info.address + info.size:
            funcdata_off = gofunc - info.address   # Go 1.26+: go:func.* inside the table
        tables = b._tab.account(funcdata_off)
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


def _human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def render_text(r: Dict[str, Any]) -> str:
    """render_text formats one report for people."""
    out = [f"file:     {r['path']}",
           f"format:   {r['format']} {r['arch']}, {r['go_version'] or 'Go version unknown'}",
           f"size:     {r['file_size']} bytes ({_human(r['file_size'])}); mapped at run time "
           f"{r['mapped_bytes']} ({_human(r['mapped_bytes'])}), not mapped {r['unmapped_bytes']}",
           "", f"{'SECTION':<28} {'FILE BYTES':>12} {'MEMORY':>12}  MAPPED  COMPRESSED"]
    for s in r["sections"]:
        comp = f"yes ({s['uncompressed_size']} inflated)" if s["compressed"] else ""
        out.append(f"{s['name'][:28]:<28} {s['size']:>12} {s['mem_size']:>12}  "
                   f"{'yes' if s['mapped'] else 'no':<6}  {comp}")
    p = r["pclntab"]
    out += ["", f"pclntab (Go {p['version']} format): {p['size']} bytes"]
    for name, n in sorted(p["tables"].items(), key=lambda kv: -kv[1]):
        if n:
            out.append(f"  {name:<24} {n:>12}  {100.0 * n / p['size']:5.1f}%")
    out += ["", f"symbol tables: {r['symtab_size']} bytes; DWARF: {r['dwarf_size']} bytes "
            f"({r['dwarf_uncompressed_size']} uncompressed)", "", "survives:"]
    for k, v in r["survives"].items():
        out.append(f"  {k:<18} {'yes' if v else 'no'}")
    return "\n".join(out) + "\n"


def render_csv(reports: List[Dict[str, Any]]) -> str:
    """render_csv gives one row per binary: sizes, pclntab tables, survival."""
    keys_t = sorted({k for r in reports for k in r["pclntab"]["tables"]})
    keys_s = list(reports[0]["survives"]) if reports else []
    head = ["path", "file_size", "mapped_bytes", "unmapped_bytes", "pclntab_size", "symtab_size",
            "dwarf_size", "dwarf_uncompressed_size"] + [f"pclntab_{k}" for k in keys_t] + \
        [f"survives_{k}" for k in keys_s]
    rows = [",".join(head)]
    for r in reports:
        vals = [r["path"], r["file_size"], r["mapped_bytes"], r["unmapped_bytes"], r["pclntab"]["size"],
                r["symtab_size"], r["dwarf_size"], r["dwarf_uncompressed_size"]]
        vals += [r["pclntab"]["tables"].get(k, 0) for k in keys_t]
        vals += [int(bool(r["survives"][k])) for k in keys_s]
        rows.append(",".join(str(v) for v in vals))
    return "\n".join(rows) + "\n"


def render_md(reports: List[Dict[str, Any]]) -> str:
    """render_md gives a Markdown table, binaries side by side."""
    names = [r["path"].rsplit("/", 1)[-1] for r in reports]
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(reports)]

    def row(label, f):
        lines.append(f"| {label} | " + " | ".join(str(f(r)) for r in reports) + " |")
    row("file size", lambda r: r["file_size"])
    row("mapped bytes", lambda r: r["mapped_bytes"])
    row("pclntab", lambda r: r["pclntab"]["size"])
    row("symbol tables", lambda r: r["symtab_size"])
    row("DWARF (file)", lambda r: r["dwarf_size"])
    for k in (reports[0]["survives"] if reports else {}):
        row(f"survives: {k}", lambda r, k=k: "yes" if r["survives"][k] else "no")
    return "\n".join(lines) + "\n"


def cmd_cost(args, out) -> int:
    """cmd_cost is `gosym cost`."""
    import json

    reports = [cost(p) for p in args.binary]
    if args.json:
        out.write(json.dumps(reports[0] if len(reports) == 1 else reports, indent=1) + "\n")
    elif args.csv:
        out.write(render_csv(reports))
    elif args.md:
        out.write(render_md(reports))
    else:
        out.write("\n".join(render_text(r) for r in reports))
    return 0


def add_parser(sub) -> None:
    """add_parser registers `cost` on the CLI's subparsers."""
    p = sub.add_parser("cost", help="what each table costs in the file and in memory, and what survives",
                       description=__doc__)
    p.add_argument("binary", metavar="BINARY", nargs="+")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="JSON (one object, or a list for several)")
    g.add_argument("--csv", action="store_true", help="CSV, one row per binary")
    g.add_argument("--md", action="store_true", help="Markdown table, binaries side by side")
    p.set_defaults(func=cmd_cost)
