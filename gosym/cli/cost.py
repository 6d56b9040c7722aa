"""`gosym cost`: what each table of a binary costs in the file and in
memory, and what survives (the report itself is gosym.cost.cost)."""
from __future__ import annotations

import json
from typing import Any, Dict, List, TextIO

import gosym
import gosym.cost
from gosym.consequences import consequences
from gosym.consequences import render_text as render_consequences
from gosym.cost import cost
from gosym.predict import predict
from gosym.predict import render_text as render_predict


def _human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def render_text(r: Dict[str, Any]) -> str:
    """render_text formats one report for people."""
    out = [f"file:     {r['path']}",
           f"format:   {r['format']} {r['arch']}, {r['go_version'] or 'Go version unknown'}",
           f"size:     {r['file_size']} bytes ({_human(r['file_size'])}); mapped at run time "
           f"{r['mapped_bytes']} ({_human(r['mapped_bytes'])}), not mapped {r['unmapped_bytes']}",
           "", f"{'SECTION':<28} {'FILE BYTES':>12} {'MEMORY':>12}  MAPPED  COMPRESSED"]
    for s in r["sections"]:
        comp = f"yes ({s['uncompressed_size']} inflated)" if s["compressed"] else ""
        out.append(f"{s['name'][:28]:<28} {s['size']:>12} {s['mem_size']:>12}  "
                   f"{'yes' if s['mapped'] else 'no':<6}  {comp}")
    p = r["pclntab"]
    out += ["", f"pclntab (Go {p['version']} format): {p['size']} bytes"]
    for name, n in sorted(p["tables"].items(), key=lambda kv: -kv[1]):
        if n:
            out.append(f"  {name:<24} {n:>12}  {100.0 * n / p['size']:5.1f}%")
    out += ["", f"symbol tables: {r['symtab_size']} bytes; DWARF: {r['dwarf_size']} bytes "
            f"({r['dwarf_uncompressed_size']} uncompressed)", "", "survives:"]
    for k, v in r["survives"].items():
        out.append(f"  {k:<18} {'yes' if v else 'no'}")
    # ---- consequences / predictions (gosym.consequences, gosym.predict) ----
    if r.get("consequences"):
        out += ["", "what each tool still gets from this file:"] + render_consequences(r["consequences"]["tools"])
    if r.get("predict"):
        out += ["", render_predict(r["predict"]).rstrip("\n")]
    return "\n".join(out) + "\n"


def render_csv(reports: List[Dict[str, Any]]) -> str:
    """render_csv gives one row per binary: sizes, pclntab tables, survival."""
    keys_t = sorted({k for r in reports for k in r["pclntab"]["tables"]})
    keys_s = list(reports[0]["survives"]) if reports else []
    head = ["path", "file_size", "mapped_bytes", "unmapped_bytes", "pclntab_size", "symtab_size",
            "dwarf_size", "dwarf_uncompressed_size"] + [f"pclntab_{k}" for k in keys_t] + \
        [f"survives_{k}" for k in keys_s]
    rows = [",".join(head)]
    for r in reports:
        vals = [r["path"], r["file_size"], r["mapped_bytes"], r["unmapped_bytes"], r["pclntab"]["size"],
                r["symtab_size"], r["dwarf_size"], r["dwarf_uncompressed_size"]]
        vals += [r["pclntab"]["tables"].get(k, 0) for k in keys_t]
        vals += [int(bool(r["survives"][k])) for k in keys_s]
        rows.append(",".join(str(v) for v in vals))
    return "\n".join(rows) + "\n"


def render_md(reports: List[Dict[str, Any]]) -> str:
    """render_md gives a Markdown table, binaries side by side."""
    names = [r["path"].rsplit("/", 1)[-1] for r in reports]
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(reports)]

    def row(label, f):
        lines.append(f"| {label} | " + " | ".join(str(f(r)) for r in reports) + " |")
    row("file size", lambda r: r["file_size"])
    row("mapped bytes", lambda r: r["mapped_bytes"])
    row("pclntab", lambda r: r["pclntab"]["size"])
    row("symbol tables", lambda r: r["symtab_size"])
    row("DWARF (file)", lambda r: r["dwarf_size"])
    for k in (reports[0]["survives"] if reports else {}):
        row(f"survives: {k}", lambda r, k=k: "yes" if r["survives"][k] else "no")
    return "\n".join(lines) + "\n"


def _unreadable(args, out: TextIO) -> None:
    """For a file whose Go tables cannot be read (packed, a debug-only file), still say what
    each tool gets from it (stdout); the error itself follows on stderr, exit status 1."""
    c = consequences(args.binary[0])
    if c["readable"]:
        return
    if args.json:
        out.write(json.dumps({"path": args.binary[0], "error": c["note"], "consequences": c}, indent=1) + "\n")
    else:
        out.write("\n".join([f"file:     {args.binary[0]}", "the Go tables could not be read; what each tool "
                              "gets from what the container shows:"] + render_consequences(c["tools"])) + "\n")


def cmd_cost(args, out: TextIO) -> int:
    """cmd_cost is `gosym cost`."""
    if len(args.binary) == 1 and not (args.csv or args.md):
        try:
            reports = [cost(args.binary[0])]
        except (gosym.NotGoBinaryError, gosym.FormatError):
            _unreadable(args, out)
            raise
    else:
        reports = [cost(p) for p in args.binary]
    # ---- consequences / predictions ----
    for r in reports:
        r["consequences"] = consequences(r["path"], r["survives"])
        if args.predict:
            r["predict"] = predict(r["path"], r)
    if args.json:
        out.write(json.dumps(reports[0] if len(reports) == 1 else reports, indent=1) + "\n")
    elif args.csv:
        out.write(render_csv(reports))
    elif args.md:
        out.write(render_md(reports))
    else:
        out.write("\n".join(render_text(r) for r in reports))
    return 0


def add_parser(sub) -> None:
    """add_parser registers `cost` on the CLI's subparsers."""
    p = sub.add_parser("cost", help="what each table costs in the file and in memory, and what survives",
                       description=gosym.cost.__doc__)
    p.add_argument("binary", metavar="BINARY", nargs="+")
    p.add_argument("--predict", action="store_true",
                   help="also predict the file and mapped size after -s, -w, -s -w, -buildid= and what each breaks")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="JSON (one object, or a list for several)")
    g.add_argument("--csv", action="store_true", help="CSV, one row per binary")
    g.add_argument("--md", action="store_true", help="Markdown table, binaries side by side")
    p.set_defaults(func=cmd_cost)
