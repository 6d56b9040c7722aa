"""`gosym pprof`: fill in the functions and lines of pprof profiles from Go
binaries: one profile and one binary (gosym.pprof.symbolize_profile), or many
profiles whose mappings are found by build ID through a symbol store
(gosym.fleet.symbolize_one, gosym.store)."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Iterable, List, TextIO, Tuple

from gosym.container import is_executable_file
from gosym.errors import GosymError


def cmd_pprof(args: argparse.Namespace, out: TextIO) -> int:
    """cmd_pprof is `gosym pprof`: the one-profile form (PROFILE BINARY -o
    FILE) or the many-profile form (anything else)."""
    inputs: List[Tuple[str, str]] = []
    binaries: List[str] = []
    for arg in args.inputs:
        if not os.path.exists(arg):
            raise GosymError(f"{arg}: no such file or directory")
        profs, bins = expand([arg])
        inputs += [(p, arg) for p in profs]
        binaries += bins
    out_is_dir = args.output is not None and (os.path.isdir(args.output) or args.output.endswith(os.sep))
    if (len(args.inputs) == 2 and not binaries and all(os.path.isfile(a) for a in args.inputs)
            and not (args.in_place or out_is_dir or args.store or args.debuginfod)):
        # PROFILE BINARY where BINARY has no ELF/Mach-O/PE magic (a raw memory image): as before.
        inputs, binaries = inputs[:1], [args.inputs[1]]
    many = (args.in_place or len(inputs) != 1 or len(binaries) != 1 or os.path.isdir(args.inputs[0])
            or out_is_dir or bool(args.store or args.debuginfod))
    if not many:
        if args.output is None:
            raise GosymError("give the output file with -o OUT")
        args.profile, args.binary = inputs[0][0], binaries[0]
        return _one(args, out)
    return _many(args, inputs, binaries, out)


def expand(paths: Iterable[str]) -> Tuple[List[str], List[str]]:
    """expand splits command-line inputs into (profiles, binaries): files
    that start like an ELF, Mach-O or PE file are binaries, other files
    profiles; a directory contributes the files below it (hidden ones
    skipped), in sorted order."""
    profiles: List[str] = []
    binaries: List[str] = []
    for p in paths:
        if os.path.isdir(p):
            for top, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for n in sorted(names):
                    if not n.startswith("."):
                        f = os.path.join(top, n)
                        (binaries if is_executable_file(f) else profiles).append(f)
        else:
            (binaries if is_executable_file(p) else profiles).append(p)
    return profiles, binaries


def _many(args: argparse.Namespace, inputs: List[Tuple[str, str]], binaries: List[str], out: TextIO) -> int:
    # The many-profile machinery (store, fleet, json) is imported here only:
    # the one-profile path does not pay for it.
    import itertools
    import json

    from gosym.fleet import output_paths, symbolize_many, totals
    from gosym.store import StoreConfig

    for flag, given in (("--mapping", args.mapping is not None), ("--return-addresses", args.return_addresses),
                        ("--wrappers", args.wrappers)):
        if given:
            raise GosymError(f"{flag} works with one profile and one binary only")
    if args.in_place == (args.output is not None):
        raise GosymError("give an output directory with -o DIR, or --in-place")
    if args.output == "-":
        raise GosymError("-o - works with one profile and one binary only; give a directory")
    if not inputs:
        raise GosymError("no profiles among the inputs")
    if args.output is not None and os.path.exists(args.output) and not os.path.isdir(args.output):
        raise GosymError(f"{args.output}: not a directory (many profiles, or no ELF, Mach-O or PE "
                         "binary among the inputs: -o names a directory)")
    config = StoreConfig(dirs=tuple(args.store), binaries=tuple(binaries),
                         debuginfod=tuple(args.debuginfod) if args.debuginfod else None,
                         cache_dir=args.cache_dir, timeout=args.timeout, retries=args.retries)
    pairs = output_paths(inputs, None if args.in_place else args.output)
    reports = []
    tty = sys.stderr.isatty() and not args.quiet
    reps = symbolize_many(pairs, config, jobs=args.jobs, scheduler=args.scheduler, progress=False)
    try:
        first = next(reps)        # connects to the scheduler before anything is written
    except StopIteration:
        first = None
    except OSError as e:
        raise GosymError(f"cannot reach the Dask scheduler {args.scheduler}: {e}")
    for i, rep in enumerate(itertools.chain([first] if first is not None else [], reps)):
        reports.append(rep)
        if args.json:
            out.write(json.dumps(rep) + "\n")
        elif not args.quiet:
            if rep["error"]:
                sys.stderr.write(f"gosym: {rep['error']}\n")
            for m in rep["mappings"]:
                for prob in m["problems"]:
                    sys.stderr.write(f"gosym: {rep['profile']}: {prob}\n")
        if tty:
            sys.stderr.write(f"\r{i + 1}/{len(pairs)} profiles")
    if tty:
        sys.stderr.write("\n")
    t = totals(reports)
    if args.json:
        out.write(json.dumps({"summary": t}) + "\n")
    elif not args.quiet:
        sys.stderr.write(f"gosym: {t['profiles']} profiles ({t['failed']} failed), {t['filled']} of "
                         f"{t['locations']} locations filled; mappings: {t['symbolized']} symbolized, "
                         f"{t['not found']} not found, {t['error']} with errors\n")
    return 1 if t["failed"] else 0


def _one(args: argparse.Namespace, out: TextIO) -> int:
    import gosym
    from gosym.pprof import symbolize_profile

    try:
        with open(args.profile, "rb") as f:
            data = f.read()
    except GosymError as e:
        raise e.with_path(args.profile)
    with gosym.open(args.binary) as b:
        try:
            result, summary = symbolize_profile(data, b, mapping=args.mapping,
                                                return_addresses=args.return_addresses,
                                                wrappers=args.wrappers)
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
        import json
        (sys.stderr if args.output == "-" else out).write(json.dumps(summary.as_dict()) + "\n")
    elif not args.quiet:
        for r in summary.mappings:
            sys.stderr.write(f"gosym: mapping {r.id} {r.filename or '?'} (by {r.matched_by}, bias "
                             f"{r.bias:#x}): {r.filled} filled, {r.already} already symbolized, "
                             f"{r.unmatched} not in the binary, of {r.locations} locations\n")
    return 0


CLI_DESCRIPTION = """\
Fill in the functions and lines of pprof profiles from Go binaries.

For every location in a mapping of a binary that has no lines, gosym writes the
frames at its address, inlined calls included (several lines per location,
innermost first), and sets the mapping's has_functions / has_filenames /
has_line_numbers / has_inline_frames flags.  The load bias of a PIE comes from
the mapping's start, its file offset and the binary's segments.  The output is a
gzipped profile.proto; read it with `go tool pprof -symbolize=none OUT`.

One profile, one binary (PROFILE BINARY -o OUT): a mapping belongs to BINARY
when its build ID is the binary's GNU or Go build ID, else when its file name
is the binary's (full path or base name), else only if chosen with --mapping;
no matching mapping is an error.

Many profiles (any other form: several profiles, directories, --store,
--debuginfod, -o DIR, --in-place): every mapping with locations to fill is
looked up by its build ID in the binaries named on the command line, the
--store directories (the .build-id/xx/rest layout and flat trees, indexed once
and cached) and the debuginfod servers (--debuginfod, else $DEBUGINFOD_URLS;
downloads cached, checked against the ID asked for), else by file name among
the named binaries.  Each profile is written to DIR (or over itself with
--in-place).  A mapping that cannot be found or fetched is one line on stderr
(or in --json) and stays as it was; only a profile that cannot be read or
written makes the exit status 1, after all the others are done.  --json prints
one JSON object per profile, then {"summary": ...}.  Needs the protobuf
package (pip install 'gosym[pprof]')."""


def add_parser(sub) -> None:
    """add_parser registers `pprof` on the CLI's subparsers."""
    p = sub.add_parser(
        "pprof", help="fill in functions and lines of pprof profiles from Go binaries",
        description=CLI_DESCRIPTION,
        epilog="examples:\n"
               "  gosym pprof cpu.pb.gz ./app -o cpu.sym.pb.gz\n"
               "  gosym pprof --json cpu.pb.gz ./app -o out.pb.gz   # counts of what was filled\n"
               "  gosym pprof --mapping 1 cpu.pb.gz ./app -o out.pb.gz\n"
               "  gosym pprof profiles/ --store /srv/binaries -o symbolized/\n"
               "  gosym pprof --debuginfod http://debuginfod:8002 --json a.pb.gz b.pb.gz -o out/\n"
               "  go tool pprof -symbolize=none -top out.pb.gz",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="profiles (gzipped or plain profile.proto), directories of them, and binaries "
                        "(ELF, Mach-O and PE files are taken as binaries)")
    p.add_argument("-o", "--output", metavar="OUT", default=None,
                   help="the symbolized profile (one profile and one binary; - for stdout), "
                        "or a directory for many")
    p.add_argument("--in-place", action="store_true", help="overwrite each profile (many-profile form)")
    p.add_argument("--store", metavar="DIR", action="append", default=[],
                   help="a directory of binaries to find mappings in by build ID (repeatable)")
    p.add_argument("--debuginfod", metavar="URL", action="append", default=[],
                   help="a debuginfod server (repeatable; default: $DEBUGINFOD_URLS)")
    p.add_argument("--cache-dir", metavar="DIR", default=None,
                   help="the store's index and download cache (default: ~/.cache/gosym/store)")
    p.add_argument("--timeout", metavar="SECONDS", type=float, default=30.0,
                   help="per connection or read on a debuginfod server (default 30)")
    p.add_argument("--retries", metavar="N", type=int, default=2,
                   help="further attempts after a timeout or server error (default 2)")
    p.add_argument("-j", "--jobs", metavar="N", type=int, default=None,
                   help="many profiles: local worker processes (default: one per CPU; 1: this process)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="many profiles: run on this Dask scheduler (tcp://host:8786) instead of locally; "
                        "the workers need gosym and read the binaries, store and cache paths given here "
                        "(docs/fleet.md)")
    p.add_argument("--mapping", metavar="SEL", default=None,
                   help="use only this mapping: its id, a 0xADDRESS inside it, or its file name "
                        "(one profile and one binary only)")
    p.add_argument("--return-addresses", action="store_true",
                   help="the locations' addresses are raw return addresses: answer for address - 1 in the "
                        "function containing the address (one profile and one binary; default: instruction "
                        "addresses, which is what runtime/pprof writes and go tool pprof reads)")
    p.add_argument("--wrappers", action="store_true",
                   help="keep the autogenerated wrapper frames the runtime hides from its own tracebacks "
                        "and profiles (one profile and one binary; go tool pprof shows them)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON summary: locations matched, filled, unmatched, per mapping")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-mapping line on stderr")
    p.set_defaults(func=cmd_pprof)
