"""`gosym pprof`: fill in the functions and lines of a pprof profile from a
Go binary (the work itself is gosym.pprof.symbolize_profile)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TextIO

import gosym
from gosym.errors import GosymError
from gosym.pprof import symbolize_profile


def cmd_pprof(args: argparse.Namespace, out: TextIO) -> int:
    """cmd_pprof is `gosym pprof`."""
    try:
        with open(args.profile, "rb") as f:
            data = f.read()
    except GosymError as e:
        raise e.with_path(args.profile)
    with gosym.open(args.binary) as b:
        try:
            result, summary = symbolize_profile(data, b, mapping=args.mapping,
                                                return_addresses=args.return_addresses)
        except GosymError as e:
            raise e.with_path(args.profile)
    if args.output == "-":
        sys.stdout.buffer.write(result)
        sys.stdout.buffer.flush()
    else:
        tmp = args.output + ".tmp"
        with open(tmp, "wb") as f:
            f.write(result)
        os.replace(tmp, args.output)
    if args.json:
        (sys.stderr if args.output == "-" else out).write(json.dumps(summary.as_dict()) + "\n")
    elif not args.quiet:
        for r in summary.mappings:
            sys.stderr.write(f"gosym: mapping {r.id} {r.filename or '?'} (by {r.matched_by}, bias "
                             f"{r.bias:#x}): {r.filled} filled, {r.already} already symbolized, "
                             f"{r.unmatched} not in the binary, of {r.locations} locations\n")
    return 0


CLI_DESCRIPTION = """\
Fill in the functions and lines of a pprof profile from a Go binary.

For every location in a mapping of BINARY that has no lines, gosym writes the
frames at its address, inlined calls included (several lines per location,
innermost first), and sets the mapping's has_functions / has_filenames /
has_line_numbers / has_inline_frames flags.  A mapping belongs to BINARY when
its build ID is the binary's GNU or Go build ID, else when its file name is
the binary's (full path or base name), else only if chosen with --mapping.
The load bias of a PIE comes from the mapping's start, its file offset and
the binary's segments.  The output is a gzipped profile.proto; read it with
`go tool pprof -symbolize=none OUT` (or any pprof tool).  Needs the protobuf
package (pip install 'gosym[pprof]')."""


def add_parser(sub) -> None:
    """add_parser registers `pprof` on the CLI's subparsers."""
    p = sub.add_parser(
        "pprof", help="fill in functions and lines of a pprof profile from a Go binary",
        description=CLI_DESCRIPTION,
        epilog="examples:\n"
               "  gosym pprof cpu.pb.gz ./app -o cpu.sym.pb.gz\n"
               "  gosym pprof --json cpu.pb.gz ./app -o out.pb.gz   # counts of what was filled\n"
               "  gosym pprof --mapping 1 cpu.pb.gz ./app -o out.pb.gz\n"
               "  go tool pprof -symbolize=none -top out.pb.gz",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("profile", metavar="PROFILE", help="pprof profile (gzipped or plain profile.proto)")
    p.add_argument("binary", metavar="BINARY")
    p.add_argument("-o", "--output", metavar="OUT", required=True,
                   help="where to write the symbolized profile (gzipped); - for stdout")
    p.add_argument("--mapping", metavar="SEL", default=None,
                   help="use only this mapping: its id, a 0xADDRESS inside it, or its file name "
                        "(default: the mappings whose build ID, else file name, is the binary's)")
    p.add_argument("--return-addresses", action="store_true",
                   help="the locations' addresses are raw return addresses: answer for address - 1 in the "
                        "function containing the address (default: instruction addresses, which is what "
                        "runtime/pprof writes and go tool pprof reads)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON summary: locations matched, filled, unmatched, per mapping")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-mapping line on stderr")
    p.set_defaults(func=cmd_pprof)
