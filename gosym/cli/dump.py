"""`gosym dump`: what is in a Go binary — header, function table, each
function's line table — or, with --dwarf-lines, every DWARF line row."""
from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

import gosym
from gosym.cli.common import add_debug_file_args, address_option, count_progress


def _header(b: "gosym.Binary") -> dict:
    """The header fields of `dump --json`."""
    info = b.pclntab
    bi = b.build_info
    return {
        "path": b.path,
        "format": b.format,
        "arch": b.arch,
        "byte_order": b.byte_order,
        "ptr_size": b.ptr_size,
        "go_version": b.go_version,
        "pclntab": info.as_dict(),
        "gosymtab": b.gosymtab.as_dict() if b.gosymtab else None,
        "build_info": bi.as_dict() if bi else None,
        "base_address": b.base_address,
        "notes": list(b.notes),
    }


def _dump_dwarf_lines(args: argparse.Namespace, out: TextIO) -> int:
    """dump --dwarf-lines: every DWARF line row, per line program (works on
    any ELF, Mach-O or PE file with .debug_line, Go or not)."""
    from gosym.dwarf import flag_names, open_dwarf

    with open_dwarf(args.binary, debug_file=args.debug_file,
                    check_build_id=not args.no_build_id_check) as d:
        w = 2 * d.container.ptr_size
        if args.json:
            head = {"path": args.binary, "debug_file": d.path if d.path != args.binary else None,
                    "format": d.container.format, "arch": d.container.arch,
                    "dwarf_sections": {k: v.as_dict() for k, v in d.describe().items()}}
            text = json.dumps(head, indent=1)
            out.write(text[:-2] + ',\n "dwarf_lines": [')
            for k, (t, rows) in enumerate(d.iter_tables()):
                unit = {"offset": t.offset, "version": t.version,
                        "unit": t.unit.name if t.unit else None,
                        "comp_dir": t.unit.comp_dir if t.unit else None,
                        "files": [f.path for f in t.all_files()],
                        "rows": [[rows.address[i], rows.file[i], rows.line[i], rows.column[i],
                                  flag_names(rows.flags[i]), rows.discriminator[i]]
                                 for i in range(len(rows))]}
                out.write(("\n  " if k == 0 else ",\n  ") + json.dumps(unit))
            out.write("\n ]\n}\n")
            return 0
        line = d.section("line")
        assert line is not None
        out.write(f"file:      {args.binary}\n")
        if d.path != args.binary:
            out.write(f"debug:     {d.path}\n")
        out.write(f"format:    {d.container.format} {d.container.arch}\n")
        out.write(f"section:   {line.stored_name}: {line.stored_size} bytes, {line.compression}"
                  f"{'' if line.compression == 'none' else f' -> {line.size} bytes'}\n")
        for t, rows in d.iter_tables():
            name = t.unit.name if t.unit and t.unit.name else "?"
            out.write(f"\nCU: {name}  (line program at {t.offset:#x}, version {t.version})\n")
            out.write(f"{'ADDRESS':<{w + 2}} FILE:LINE:COLUMN  FLAGS\n")
            for i in range(len(rows)):
                fl = " ".join(flag_names(rows.flags[i]))
                if rows.discriminator[i]:
                    fl += f" discriminator={rows.discriminator[i]}"
                path = t.file_at(rows.file[i]) or f"<file {rows.file[i]}>"
                out.write(f"{rows.address[i]:#0{w + 2}x} {path}:{rows.line[i]}:{rows.column[i]}  {fl}\n")
    return 0


def cmd_dump(args: argparse.Namespace, out: TextIO) -> int:
    """cmd_dump is `gosym dump`."""
    if getattr(args, "dwarf_lines", False):
        return _dump_dwarf_lines(args, out)
    with gosym.open(args.binary, base_address=args.base_address) as b:
        cols = b.functions.columns(files=True)   # entry files too, one C pass
        files = cols.file or []
        n = len(cols.name)
        tick = count_progress(args.lines and n > 5000 and sys.stderr.isatty())
        if args.json:
            head = _header(b)
            text = json.dumps(head, indent=1)
            out.write(text[:-2] + ',\n "functions": [')
            for i in range(n):
                row = {"name": cols.name[i], "entry": cols.entry[i], "end": cols.end[i],
                       "file": files[i], "start_line": cols.start_line[i]}
                if args.lines:
                    row["lines"] = [[r.pc, r.end, r.file, r.line] for r in b.functions[i].lines()]
                    tick(i + 1, n)
                out.write(("\n  " if i == 0 else ",\n  ") + json.dumps(row))
            out.write("\n ]\n}\n")
            return 0
        info = b.pclntab
        out.write(f"file:      {b.path}\n")
        out.write(f"format:    {b.format} {b.arch} {b.byte_order}-endian {b.ptr_size * 8}-bit\n")
        if b.base_address is not None:
            out.write(f"base:      {b.base_address:#x} ({b.container.base_from})\n")  # type: ignore[attr-defined]
        for note in b.notes:
            out.write(f"note:      {note}\n")
        out.write(f"go:        {b.go_version or 'unknown (no build info)'}\n")
        where = f"section {info.section}" if info.found_by == "section" else info.found_by
        out.write(f"pclntab:   Go {info.version} format (magic {info.magic:#010x}), {info.size} bytes "
                  f"at file offset {info.offset:#x}, found by {where}\n")
        out.write(f"           {info.nfunc} functions, {info.nfiles} files, quantum {info.quantum}")
        if info.text_start_from != "n/a":
            out.write(f", text start {info.text_start:#x} (from {info.text_start_from})")
        out.write("\n")
        gst = b.gosymtab
        if gst is not None:
            note = "empty, as since Go 1.3" if gst.size == 0 else f"{gst.size} bytes (Go 1.0-1.2 format, not decoded)"
            out.write(f"gosymtab:  {gst.section}: {note}\n")
        out.write("\n")
        w = 2 * b.ptr_size
        out.write(f"{'ENTRY':<{w + 2}} {'END':<{w + 2}} NAME  FILE:START_LINE\n")
        for i in range(n):
            loc = files[i]
            if cols.start_line[i]:
                loc += f":{cols.start_line[i]}"
            out.write(f"{cols.entry[i]:#0{w + 2}x} {cols.end[i]:#0{w + 2}x} {cols.name[i]}  {loc}\n")
            if args.lines:
                for r in b.functions[i].lines():
                    out.write(f"    {r.pc:#0{w + 2}x}-{r.end:#0{w + 2}x} {r.file}:{r.line}\n")
                tick(i + 1, n)
    return 0


def add_parser(sub) -> None:
    """add_parser registers `dump` on the CLI's subparsers."""
    d = sub.add_parser("dump", help="print what is in a Go binary: header, functions, line tables",
                       description="Print the pclntab header and the function table of a Go binary.")
    d.add_argument("binary", metavar="BINARY")
    d.add_argument("--lines", action="store_true", help="add each function's pc -> file:line table")
    d.add_argument("--json", action="store_true", help="one JSON document (schema in README)")
    d.add_argument("--base-address", type=address_option, default=None, metavar="ADDR",
                   help="read BINARY as a raw memory image (no headers) loaded at ADDR")
    d.add_argument("--dwarf-lines", action="store_true",
                   help="print the DWARF .debug_line rows instead (any ELF/Mach-O/PE file)")
    add_debug_file_args(d)
    d.set_defaults(func=cmd_dump)
