"""The gosym command line: `gosym COMMAND ...` or `python -m gosym COMMAND ...`.

One module per command (gosym/cli/dump.py, lookup.py, cost.py, matrix.py,
diff.py, pprof.py, check.py, survey.py), each with add_parser(subparsers); this module
holds only the dispatcher and the one-line error handling.  Commands use
only the public API of the gosym package (tests/unit/test_api.py checks that no
module here touches a private name of another).  Bad input prints one line,
`gosym: FILE: problem`, on stderr and exits with status 1.
"""
from __future__ import annotations

import os
import sys
import warnings
from typing import TYPE_CHECKING, List, Optional

import gosym

if TYPE_CHECKING:
    import argparse

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
  gosym survey /opt/bin -o fleet.parquet   one row per binary: build IDs, Go version, flags, sizes
"""


# Every command is a module of this package with add_parser(subparsers); a
# run imports only the one it needs (a profiler starting `gosym lookup`
# should not pay for matrix's imports).
SUBCOMMANDS = {
    "dump": "gosym.cli.dump",
    "lookup": "gosym.cli.lookup",
    "cost": "gosym.cli.cost",
    "matrix": "gosym.cli.matrix",
    "diff": "gosym.cli.diff",
    "pprof": "gosym.cli.pprof",
    "check": "gosym.cli.check",
    "survey": "gosym.cli.survey",
}


def build_parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    """build_parser returns the argument parser of the gosym command (with
    only: just that subcommand of SUBCOMMANDS)."""
    import argparse
    import importlib

    p = argparse.ArgumentParser(
        prog="gosym", description="Read the symbol data of Go binaries.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"gosym {gosym.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in SUBCOMMANDS.items():
        if only is None or only == name:
            importlib.import_module(module).add_parser(sub)
    return p


# Commands whose process ends with os._exit once its output is flushed (see
# entry): short-lived and started often by profilers; they leave no thread,
# pool, temporary file or atexit handler behind.
QUICK_EXIT = {"lookup"}


def _command(words: List[str]) -> Optional[str]:
    """The subcommand named by the command-line words (the first word that
    is not an option), or None."""
    return next((w for w in words if not w.startswith("-")), None)


def main(argv: Optional[List[str]] = None) -> int:
    """main runs the command line and returns the exit status."""
    words = sys.argv[1:] if argv is None else argv
    first = _command(words)
    args = None
    if words and words[0] == "lookup":
        # The common `gosym lookup` command lines without argparse (whose
        # import, parser and pattern compiling are ~17M instructions of a
        # ~190M one-address process); anything else goes to argparse.
        from gosym.cli.lookup import quick_args

        args = quick_args(words)
    if args is None:
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
        if isinstance(path, list):     # commands that take several binaries
            path = path[0] if len(path) == 1 else None
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


def entry() -> None:
    """entry is the gosym process (the `gosym` script and `python -m
    gosym`): main() on sys.argv, then exit with its status.  A command of
    QUICK_EXIT ends with os._exit after flushing stdout and stderr: the
    interpreter's own tear-down (freeing every module and object one by
    one, garbage collection) is about a tenth of a one-address `gosym
    lookup` process and gives it nothing."""
    status = main()
    if _command(sys.argv[1:]) in QUICK_EXIT:
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except BrokenPipeError:
                pass        # a closed pipe: nothing more can be written (main returned 0 for it)
            except OSError as e:
                # output lost (a full disk): say so, as the interpreter's own exit would
                status = status or 1
                try:
                    os.write(2, f"gosym: output: {e.strerror or e}\n".encode())
                except OSError:
                    pass
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    entry()
