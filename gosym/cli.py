"""The gosym command line: `gosym COMMAND ...` or `python -m gosym COMMAND ...`.

Uses only the public API of the gosym package.  Bad input prints one line,
`gosym: FILE: problem`, on stderr and exits with status 1.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import List, Optional, TextIO

import gosym

EPILOG = """examples:
  gosym dump ./app                  header summary and function table
  gosym dump --lines ./app          ... with each function's pc -> file:line table
  gosym dump --json ./app | jq .pclntab
  gosym dump --dwarf-lines ./app    DWARF line rows: address file:line:column flags
  gosym lookup ./app 0x4c2a10       function, file:line of an address (inlined frames too)
  gosym lookup --pid 1234 ./app 0x55d0c04c2a10   runtime address of a running PIE
  gosym pprof cpu.pb.gz ./app -o cpu.sym.pb.gz   fill in a profile's functions and lines
  gosym dump --dwarf-lines --debug-file app.debug ./app   ... from a separate debug file
  gosym check ./app                 do the pclntab and DWARF agree on pc -> file:line?
"""


def add_debug_file_args(p: argparse.ArgumentParser) -> None:
    """add_debug_file_args adds --debug-file and --no-build-id-check to a
    command that reads DWARF."""
    p.add_argument("--debug-file", metavar="FILE", default=None,
                   help="read DWARF from this separate debug file (objcopy --only-keep-debug, "
                        "-dbgsym packages); its build ID must match the binary's")
    p.add_argument("--no-build-id-check", action="store_true",
                   help="use --debug-file even when its build ID differs from the binary's")


def _progress(enabled: bool):
    """A stderr progress printer for long passes (only on a terminal)."""
    state = {"last": -1}

    def tick(done: int, total: int) -> None:
        if not enabled or total <= 0:
            return
        pct = done * 100 // total
        if pct != state["last"] and pct % 5 == 0:
            state["last"] = pct
            sys.stderr.write(f"\rgosym: {done}/{total} functions ({pct}%)")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()
    return tick


def _header(b: "gosym.Binary") -> dict:
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
                path = t.file_name(rows.file[i]) or f"<file {rows.file[i]}>"
                out.write(f"{rows.address[i]:#0{w + 2}x} {path}:{rows.line[i]}:{rows.column[i]}  {fl}\n")
    return 0


def cmd_dump(args: argparse.Namespace, out: TextIO) -> int:
    if getattr(args, "dwarf_lines", False):
        return _dump_dwarf_lines(args, out)
    with gosym.open(args.binary, base_address=args.base_address) as b:
        cols = b.functions.columns()
        files = b._tab.columns(files=True)[4]  # entry files, one C pass
        n = len(cols.name)
        tick = _progress(args.lines and n > 5000 and sys.stderr.isatty())
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


# Subcommands in their own modules, each with add_parser(subparsers); a run
# imports only the one it needs (a profiler starting `gosym lookup` should
# not pay for matrix's imports).
SUBCOMMANDS = {
    "lookup": "gosym.lookup_cli",
    "cost": "gosym.cost",
    "matrix": "gosym.matrix",
    "diff": "gosym.diff",
    "pprof": "gosym.pprof",
    "check": "gosym.check",
}


def _address(text: str) -> int:
    """An address option: hex with 0x, or decimal."""
    try:
        v = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an address: {text!r} (want e.g. 0x400000)") from None
    if not 0 <= v < 1 << 64:
        raise argparse.ArgumentTypeError(f"address out of range: {text!r}")
    return v


def build_parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    """build_parser returns the argument parser of the gosym command (with
    only: just that subcommand of SUBCOMMANDS, plus dump)."""
    import importlib

    p = argparse.ArgumentParser(
        prog="gosym", description="Read the symbol data of Go binaries.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"gosym {gosym.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    d = sub.add_parser("dump", help="print what is in a Go binary: header, functions, line tables",
                       description="Print the pclntab header and the function table of a Go binary.")
    d.add_argument("binary", metavar="BINARY")
    d.add_argument("--lines", action="store_true", help="add each function's pc -> file:line table")
    d.add_argument("--json", action="store_true", help="one JSON document (schema in README)")
    d.add_argument("--base-address", type=_address, default=None, metavar="ADDR",
                   help="read BINARY as a raw memory image (no headers) loaded at ADDR")
    d.add_argument("--dwarf-lines", action="store_true",
                   help="print the DWARF .debug_line rows instead (any ELF/Mach-O/PE file)")
    add_debug_file_args(d)
    d.set_defaults(func=cmd_dump)
    for name, module in SUBCOMMANDS.items():
        if only is None or only == name:
            importlib.import_module(module).add_parser(sub)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """main runs the command line and returns the exit status."""
    words = sys.argv[1:] if argv is None else argv
    first = next((w for w in words if not w.startswith("-")), None)
    parser = build_parser(first if first in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    def note(message, category, *_a, **_k):
        if issubclass(category, gosym.GosymWarning):
            sys.stderr.write(f"gosym: warning: {message}\n")
        else:
            show(message, category, *_a, **_k)

    show = warnings.showwarning
    warnings.showwarning = note
    try:
        return args.func(args, sys.stdout)
    except gosym.GosymError as e:
        path = e.path or getattr(args, "binary", None)
        msg = str(e)
        sys.stderr.write(f"gosym: {path}: {msg}\n" if path else f"gosym: {msg}\n")
        return 1
    except IsADirectoryError as e:
        sys.stderr.write(f"gosym: {e.filename or args.binary}: is a directory\n")
        return 1
    except OSError as e:
        if isinstance(e, BrokenPipeError):
            try:
                sys.stdout = None  # type: ignore[assignment]
            finally:
                return 0
        name = e.filename if e.filename is not None else getattr(args, "binary", "")
        sys.stderr.write(f"gosym: {name}: {e.strerror or e}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("gosym: interrupted\n")
        return 130
    finally:
        warnings.showwarning = show


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
