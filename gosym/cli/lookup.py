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
The pclntab has no columns; they print as 0 (DWARF answers have them).

Runtime addresses of a PIE or a shared object carry a load bias: give it with
--bias, or let gosym find it with --pid PID (a running process's
/proc/PID/maps) or --maps FILE (a saved copy): the binary's mapping there and
its segments give the bias (gosym.maps).
"""
from __future__ import annotations

import argparse
import array
import sys
from typing import Any, Iterable, List, Optional, TextIO

import gosym
from gosym.cli.common import add_debug_file_args

STYLES = ("go", "gnu", "llvm", "json")

# One address line (any form int(text, 16) takes); kept under its old name.
parse_addr = gosym.parse_address


def _json_answer(module: str, raw: str, pc: Optional[int], frames: List["gosym.Frame"],
                 column: int = 0) -> str:
    """The JSON answer for one address (frames innermost first), as
    llvm-symbolizer --output-style=JSON writes it.  The text styles are
    written in C (render_text)."""
    # json, as llvm-symbolizer --output-style=JSON (imported here: only this style needs it)
    import json

    doc = {"Address": f"0x{pc:x}" if pc is not None else raw.strip(), "ModuleName": module,
           "Symbol": [{"Column": column if j == 0 else 0, "Discriminator": 0, "FileName": f.file,
                       "FunctionName": f.function, "Line": max(f.line, 0),
                       "StartAddress": f"0x{f.entry:x}" if f.entry is not None else "",
                       "StartFileName": "", "StartLine": f.start_line}
                      for j, f in enumerate(frames)]}
    return json.dumps(doc) + "\n"


def answer_batch(b: "gosym.Binary", lines: List[str], style: str, inline: bool, bias: int,
                 module: str, source: str = "auto") -> str:
    """answer_batch symbolizes a batch of address lines (one C pass per
    source) and renders the answers in order (blank lines are skipped)."""
    raws = [ln for ln in lines if ln.strip()]
    pcs: List[Optional[int]] = []
    for raw in raws:
        pc = parse_addr(raw)
        if pc is not None:
            pc -= bias
            if pc < 0:
                pc = None
        pcs.append(pc)
    # auto: the pclntab, then DWARF and the symbol tables for pcs it does
    # not cover (C code in cgo binaries), except in the go style, which is
    # go tool addr2line's (pclntab only).
    if source == "auto" and style == "go":
        source = "pclntab"
    res = b.symbolize(array.array("Q", [p if p is not None else 0 for p in pcs]), source=source)
    if style == "json":
        out = []
        col = res.column
        for k, (raw, pc) in enumerate(zip(raws, pcs)):
            frames = res.frames(k) if pc is not None else []
            column = col[res.first[k]] if frames else 0
            if frames and not inline:
                last, first = frames[-1], frames[0]
                frames = [gosym.Frame(last.function, first.file, first.line, False,
                                      last.start_line, last.entry)]
            out.append(_json_answer(module, raw, pc, frames, column))
        return "".join(out)
    # The text styles straight from the columns: no Frame object per frame.
    return "".join(_text_answers(res, [pc is not None for pc in pcs], style, inline))


def _text_answers(res, valid: List[bool], style: str, inline: bool) -> List[str]:
    """The text-style answer of every pc of a symbolize result (valid[k]
    False: a miss), written by the C renderer every result has
    (render_text)."""
    got = res.render_text(style, inline, bytes(valid))
    if got is None:
        # A pclntab result with a name out of range: decoding the names
        # raises the FormatError that says where.
        res.names()
        raise gosym.FormatError("pclntab: a function name is out of range")
    text, ends = got
    out, at = [], 0
    for end in ends:
        out.append(text[at:end].decode("utf-8", "surrogateescape"))
        at = end
    return out


def answer_bytes(b: "gosym.Binary", data: bytes, style: str, inline: bool, bias: int, module: str,
                 source: str = "auto") -> Optional[bytes]:
    """answer_bytes is answer_batch's fast path for the text styles: the
    address lines are parsed, symbolized and rendered in C, with no Python
    object per address.  None when it does not apply (json, the symbol-table
    source, a line that is not a plain hex address, a damaged name); the
    caller then takes answer_batch."""
    if style == "json" or source not in ("auto", "pclntab"):
        return None
    pcs = gosym.parse_addresses(data)
    if pcs is None:
        return None
    valid = None
    if bias:
        valid = bytes(p >= bias for p in pcs) if any(p < bias for p in pcs) else None
    # A pclntab result renders itself in C (Symbolized.render_text of the
    # pclntab source; see gosym/_native.pyi).
    res: Any = b.symbolize(pcs, bias)
    got = res.render_text(style, inline, valid)
    if got is None:
        return None
    text, ends = got
    if source == "pclntab" or style == "go":
        return text
    # auto: DWARF, then the symbol tables, for the pcs the pclntab misses
    # (C code in cgo binaries), in one more batch.
    miss = res.misses(valid)
    if not miss:
        return text
    alt = b.symbolize(array.array("Q", [pcs[k] for k in miss]), bias, source="auto")
    answers = _text_answers(alt, [True] * len(miss), style, inline)
    parts, at = [], 0
    for k, ans in zip(miss, answers):
        start = ends[k - 1] if k else 0
        parts.append(text[at:start])
        parts.append(ans.encode())
        at = ends[k]
    parts.append(text[at:])
    return b"".join(parts)


def _emit(out: TextIO, data: bytes) -> None:
    """Write bytes to a text stream (its binary buffer when it has one)."""
    buf = getattr(out, "buffer", None)
    if buf is not None:
        out.flush()
        buf.write(data)
    else:
        out.write(data.decode("utf-8", "replace"))


def format_answer(b: "gosym.Binary", raw: str, pc: Optional[int], style: str, inline: bool,
                  module: str) -> str:
    """format_answer renders the frames of one address in a style."""
    return answer_batch(b, [raw if pc is None else hex(pc)], style, inline, 0, module)


def run(b: "gosym.Binary", addrs: Iterable[str], style: str, inline: bool, bias: int,
        module: str, out: TextIO, source: str = "auto") -> None:
    """run answers a list of addresses (command-line arguments) in one batch."""
    out.write(answer_batch(b, list(addrs), style, inline, bias, module, source))


def _read_available(stream, limit: int = 1 << 23) -> bytes:
    """Block for the next input, then take whatever else has already
    arrived (up to limit bytes): a file or a full pipe is answered in a few
    large batches, and a lone address is answered at once."""
    read = stream.read1 if hasattr(stream, "read1") else stream.read
    data = read(1 << 16)
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return data
    import select

    parts = [data]
    size = len(data)
    while data and size < limit:
        try:
            ready, _, _ = select.select([fd], [], [], 0)
        except (OSError, ValueError):
            break
        if not ready:
            break
        data = read(1 << 16)
        parts.append(data)
        size += len(data)
    return b"".join(parts)


def run_stream(b: "gosym.Binary", stream, style: str, inline: bool, bias: int, module: str,
               out: TextIO, source: str = "auto") -> None:
    """run_stream answers addresses from a byte stream: whatever lines have
    arrived are symbolized together and flushed at once, so a profiler that
    sends one address and waits gets its answer, and a file of a million
    addresses goes through in large batches."""
    pending = b""
    while True:
        chunk = _read_available(stream)
        if not chunk:
            break
        pending += chunk
        cut = pending.rfind(b"\n")
        if cut < 0:
            continue
        _answer_chunk(b, pending[:cut], style, inline, bias, module, out, source)
        pending = pending[cut + 1:]
    if pending.strip():
        _answer_chunk(b, pending, style, inline, bias, module, out, source)


def _answer_chunk(b: "gosym.Binary", data: bytes, style: str, inline: bool, bias: int, module: str,
                  out: TextIO, source: str) -> None:
    """Answer whole lines of input and flush."""
    fast = answer_bytes(b, data, style, inline, bias, module, source)
    if fast is not None:
        _emit(out, fast)
    else:
        lines = data.decode("utf-8", "replace").split("\n")
        out.write(answer_batch(b, lines, style, inline, bias, module, source))
    out.flush()


def cmd_lookup(args: argparse.Namespace, out: TextIO) -> int:
    """cmd_lookup is `gosym lookup`."""
    bias = parse_addr(args.bias) if args.bias else 0
    if bias is None:
        raise SystemExit(f"gosym: bad --bias {args.bias!r}: want a hex address")
    inline = args.inline if args.inline is not None else args.style != "go"
    with gosym.open(args.binary, debug_file=args.debug_file,
                    check_build_id=not args.no_build_id_check) as b:
        if args.pid is not None or args.maps is not None:
            from gosym.maps import bias_from_maps

            name = f"/proc/{args.pid}/maps" if args.pid is not None else args.maps
            with open(name, "rb") as f:
                text = f.read()
            try:
                _entry, bias = bias_from_maps(b, text)
            except gosym.GosymError as e:
                raise e.with_path(name)
        if args.addr:
            run(b, args.addr, args.style, inline, bias, args.binary, out, args.source)
        else:
            run_stream(b, sys.stdin.buffer, args.style, inline, bias, args.binary, out, args.source)
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
    p.add_argument("--source", choices=("auto", "pclntab", "dwarf", "symtab"), default="auto",
                   help="where answers come from: the pclntab; DWARF's line table (file:line:column, "
                        "function names from the symbol tables); the symbol tables (names only); or "
                        "auto: the pclntab, then DWARF, then the symbol tables for code the pclntab "
                        "does not cover, such as C in cgo binaries (not in --style go, which answers "
                        "as go tool addr2line)")
    m = p.add_mutually_exclusive_group()
    m.add_argument("--bias", metavar="HEX", default=None,
                   help="subtract this load bias from each address (PIE, shared objects)")
    m.add_argument("--pid", metavar="PID", type=int, default=None,
                   help="addresses are from this running process: take the bias from the "
                        "binary's mapping in /proc/PID/maps")
    m.add_argument("--maps", metavar="FILE", default=None,
                   help="as --pid, from a saved copy of /proc/PID/maps")
    add_debug_file_args(p)
    p.set_defaults(func=cmd_lookup)
