"""`gosym check`: do the pclntab and DWARF agree on pc -> file:line?

The command line of gosym.check (whose docstring says what is compared
and how).  Exit status 3 when --min-agreement is given and not reached.  The
comparison itself is gosym.check.check.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Dict, TextIO

import gosym
import gosym.check
from gosym.check import KINDS, check
from gosym.cli.common import add_debug_file_args


def render(rep: Dict[str, Any], out: TextIO) -> None:
    """render writes the text form of a check report."""
    out.write(f"file:       {rep['path']}\n")
    if rep["dwarf_path"] != rep["path"]:
        out.write(f"debug file: {rep['dwarf_path']}\n")
    out.write(f"go:         {rep['go_version'] or 'unknown'}\n")
    out.write(f"functions:  {rep['functions']}"
              + (f" ({rep['functions_without_tables']} without readable line tables)"
                 if rep["functions_without_tables"] else "") + "\n")
    out.write(f"DWARF:      {rep['dwarf_rows']} rows, line table version "
              f"{'/'.join(map(str, rep['dwarf_line_version']))}, {rep['dwarf_compression']}\n")
    pct = rep["agreement"]
    out.write(f"agreement:  {pct if pct is not None else '-'}% of {rep['compared']} pcs "
              f"({rep['agree']} agree)\n")
    for key, title in (("at_pclntab_rows", "at pclntab row starts"),
                       ("at_dwarf_rows", "at DWARF row starts")):
        s = rep[key]
        out.write(f"\n{title}: {s['compared']} compared, "
                  f"{s['agreement'] if s['agreement'] is not None else '-'}% agree\n")
        for code, name, what in KINDS:
            n = s["kinds"][name]
            if n:
                out.write(f"  {name:<16} {n:>10}  {what}\n")
        for name, exs in s["examples"].items():
            out.write(f"  e.g. {name}:\n")
            for ex in exs:
                p, dw = ex["pclntab"], ex["dwarf"]
                dws = f"{dw['file']}:{dw['line']}:{dw['column']}" if dw else "no row"
                out.write(f"    {ex['pc']:#x} {ex['function'] or '?'}: pclntab {p['file'] or '?'}:"
                          f"{p['line']}  dwarf {dws}\n")


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    """cmd_check is `gosym check`."""
    tty = sys.stderr.isatty()
    t0 = time.perf_counter()

    def progress(msg: str) -> None:
        if tty or args.progress:
            sys.stderr.write(f"gosym: check: {time.perf_counter() - t0:6.2f}s {msg}\n")
            sys.stderr.flush()

    with gosym.open(args.binary, debug_file=args.debug_file,
                    check_build_id=not args.no_build_id_check) as b:
        rep = check(b, examples=args.examples, progress=progress)
    if args.json:
        out.write(json.dumps(rep, indent=1) + "\n")
    else:
        render(rep, out)
    if args.min_agreement is not None and (rep["agreement"] or 0.0) < args.min_agreement:
        return 3
    return 0


def add_parser(sub) -> None:
    """add_parser registers `check` on the CLI's subparsers."""
    p = sub.add_parser("check", help="compare the pclntab's and DWARF's pc -> file:line",
                       description=gosym.check.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binary", metavar="BINARY")
    p.add_argument("--json", action="store_true", help="one JSON document")
    p.add_argument("--examples", type=int, default=3, metavar="N",
                   help="examples per kind of difference (default 3)")
    p.add_argument("--min-agreement", type=float, default=None, metavar="PCT",
                   help="exit with status 3 when the agreement is below PCT percent")
    p.add_argument("--progress", action="store_true",
                   help="print progress on stderr even when it is not a terminal")
    add_debug_file_args(p)
    p.set_defaults(func=cmd_check)
