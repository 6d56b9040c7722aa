"""`gosym survey`: one table row per binary (the rows are gosym.survey's)."""
from __future__ import annotations

import functools
import itertools
import os
import sys
import tempfile
from typing import TextIO

import gosym.survey
from gosym.store import StoreConfig
from gosym.survey import FORMATS, format_of, iter_paths, locate_in_store, survey, write_table


def cmd_survey(args, out: TextIO) -> int:
    """cmd_survey is `gosym survey`."""
    try:
        fmt = args.format or (format_of(args.output) if args.output not in (None, "-") else "csv")
    except ValueError as e:
        sys.stderr.write(f"gosym: {e}\n")
        return 2
    locate = None
    if args.build_id:
        if args.paths or args.list:
            sys.stderr.write("gosym: survey: give paths or --build-id, not both\n")
            return 2
        cfg = StoreConfig(dirs=tuple(args.store), debuginfod=tuple(args.debuginfod) or None,
                          cache_dir=args.cache_dir)
        paths = list(args.build_id)
        locate = functools.partial(locate_in_store, cfg)
    else:
        paths = list(iter_paths(args.paths, args.list))
    if not paths:
        sys.stderr.write("gosym: survey: no input files (give PATHS, --list FILE or --build-id ID)\n")
        return 2
    rows = survey(paths, jobs=args.jobs, scheduler=args.scheduler, locate=locate)
    try:
        first = next(rows)        # connects to the scheduler before any output is written
    except OSError as e:
        sys.stderr.write(f"gosym: survey: cannot reach the Dask scheduler {args.scheduler}: {e}\n")
        return 1
    counts = {"rows": 0, "errors": 0}

    def counted():
        for r in itertools.chain([first], rows):
            counts["rows"] += 1
            counts["errors"] += r["error"] is not None
            yield r

    if args.output in (None, "-"):
        if fmt == "parquet":
            sys.stderr.write("gosym: survey: Parquet is binary: give an output file (-o OUT.parquet)\n")
            return 2
        write_table(counted(), out, fmt)
    else:
        # Written beside the target and renamed: a reader never sees half a table.
        d = os.path.dirname(os.path.abspath(args.output))
        fd, tmp = tempfile.mkstemp(prefix=".gosym-survey-", dir=d)
        try:
            if fmt == "parquet":
                os.close(fd)
                write_table(counted(), tmp, fmt)
            else:
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                    write_table(counted(), f, fmt)
            os.replace(tmp, args.output)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    if sys.stderr.isatty():                # the errors themselves are in the table
        sys.stderr.write(f"gosym: survey: {counts['rows']} files, {counts['rows'] - counts['errors']} read, "
                         f"{counts['errors']} with an error\n")
    return 0


def add_parser(sub) -> None:
    """add_parser registers `survey` on the CLI's subparsers."""
    p = sub.add_parser("survey", help="one table row per binary: build IDs, versions, flags, sizes, survival",
                       description=gosym.survey.__doc__)
    p.add_argument("paths", metavar="PATH", nargs="*", help="binaries, or directories (walked recursively)")
    p.add_argument("--list", metavar="FILE", help="also read paths from FILE, one a line ('-': stdin)")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="output file; the format from its name (.csv, .json, .jsonl, .parquet); "
                        "default: CSV on stdout")
    p.add_argument("--format", choices=FORMATS, help="table format (default: from the output name)")
    p.add_argument("-j", "--jobs", type=int, default=None,
                   help="local worker processes (default: one per CPU; 1: no pool)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on this Dask scheduler (tcp://host:8786) instead of locally; "
                        "workers need gosym installed (docs/fleet.md)")
    p.add_argument("--build-id", metavar="ID", action="append", default=[],
                   help="survey the binary with this build ID (GNU, Go, Mach-O UUID) from the symbol "
                        "store instead of paths (repeatable); the row's path is the ID")
    p.add_argument("--store", metavar="DIR", action="append", default=[],
                   help="with --build-id: a directory of binaries (.build-id tree or flat; repeatable)")
    p.add_argument("--debuginfod", metavar="URL", action="append", default=[],
                   help="with --build-id: a debuginfod server (repeatable; default: $DEBUGINFOD_URLS)")
    p.add_argument("--cache-dir", metavar="DIR", default=None, help="with --build-id: the download cache")
    p.set_defaults(func=cmd_survey)
