"""`gosym lookup`: pc -> frames for profilers, in the output styles of the
tools they already parse.

  go     as `go tool addr2line`: the function, then file:line (no inlining;
         the physical function with the innermost position, as debug/gosym)
  gnu    as `addr2line -f -i -e BINARY`: function and file:line per frame,
         innermost first
  llvm   as `llvm-symbolizer`: function, file:line:column per frame, a blank
         line after each address
  json   as `llvm-symbolizer --output-style=JSON`: one object per address

With no ADDR arguments, addresses are read from stdin, one per line, and
each answer is flushed at once, so a profiler can keep the pipe open.
The pclntab has no columns; they print as 0.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Iterable, List, Optional, TextIO

import gosym

STYLES = ("go", "gnu", "llvm", "json")


def parse_addr(text: str) -> Optional[int]:
    """parse_addr reads a hex address with or without 0x; None if it is not one."""
    t = text.strip()
    if t.lower().startswith("0x"):
        t = t[2:]
    if not t or len(t) > 16:
        return None
    try:
        return int(t, 16)
    except ValueError:
        return None


def _frames(b: "gosym.Binary", pc: int, inline: bool) -> List["gosym.Frame"]:
    frames = b.lookup(pc)
    if not inline and frames:
        # The physical function, at the innermost position (debug/gosym's
        # PCToLine answer).
        last, first = frames[-1], frames[0]
        return [gosym.Frame(last.function, first.file, first.line, False,
                            last.start_line, last.entry)]
    return frames


def format_answer(b: "gosym.Binary", raw: str, pc: Optional[int], style: str, inline: bool,
                  module: str) -> str:
    """format_answer renders the frames of one address in a style."""
    frames = _frames(b, pc, inline) if pc is not None else []
    if style == "go":
        if not frames:
            return "?\n?:0\n"
        f = frames[0]
        return f"{f.function}\n{f.file}:{f.line}\n"
    if style == "gnu":
        if not frames:
            return "??\n??:0\n"
        return "".join(f"{f.function}\n{f.file or '??'}:{max(f.line, 0)}\n" for f in frames)
    if style == "llvm":
        if not frames:
            return "??\n??:0:0\n\n"
        return "".join(f"{f.function}\n{f.file or '??'}:{max(f.line, 0)}:0\n" for f in frames) + "\n"
    # json, as llvm-symbolizer --output-style=JSON
    doc = {"Address": f"0x{pc:x}" if pc is not None else raw.strip(), "ModuleName": module,
           "Symbol": [{"Column": 0, "Discriminator": 0, "FileName": f.file,
                       "FunctionName": f.function, "Line": max(f.line, 0),
                       "StartAddress": f"0x{f.entry:x}" if f.entry is not None else "",
                       "StartFileName": "", "StartLine": f.start_line} for f in frames]}
    return json.dumps(doc) + "\n"


def run(b: "gosym.Binary", addrs: Iterable[str], style: str, inline: bool, bias: int,
        module: str, out: TextIO, flush: bool) -> None:
    """run answers each address in turn."""
    for raw in addrs:
        if not raw.strip():
            continue
        pc = parse_addr(raw)
        if pc is not None:
            pc -= bias
            if pc < 0:
                pc = None
        out.write(format_answer(b, raw, pc, style, inline, module))
        if flush:
            out.flush()


def cmd_lookup(args: argparse.Namespace, out: TextIO) -> int:
    """cmd_lookup is `gosym lookup`."""
    bias = parse_addr(args.bias) if args.bias else 0
    if bias is None:
        raise SystemExit(f"gosym: bad --bias {args.bias!r}: want a hex address")
    inline = args.inline if args.inline is not None else args.style != "go"
    with gosym.open(args.binary) as b:
        if args.addr:
            run(b, args.addr, args.style, inline, bias, args.binary, out, flush=False)
        else:
            run(b, sys.stdin, args.style, inline, bias, args.binary, out, flush=True)
    return 0


def add_parser(sub) -> None:
    """add_parser registers `lookup` on the CLI's subparsers."""
    p = sub.add_parser("lookup", help="map addresses to function, file:line (inlined frames too)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binary", metavar="BINARY")
    p.add_argument("addr", metavar="ADDR", nargs="*", help="hex addresses (default: read stdin)")
    p.add_argument("--style", choices=STYLES, default="gnu", help="output style (default gnu)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--inline", dest="inline", action="store_true", default=None,
                   help="print inlined frames (default, except --style go)")
    g.add_argument("--no-inline", dest="inline", action="store_false",
                   help="only the physical function")
    p.add_argument("--source", choices=("auto", "pclntab"), default="auto",
                   help="where answers come from (auto: the pclntab)")
    p.add_argument("--bias", metavar="HEX", default=None,
                   help="subtract this load bias from each address (PIE, shared objects)")
    p.set_defaults(func=cmd_lookup)
