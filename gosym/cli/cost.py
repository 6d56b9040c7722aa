"""`gosym cost`: what each table of a binary costs in the file and in
memory, and what survives (the report itself is gosym.cost.cost)."""
from __future__ import annotations

import json
from typing import Any, Dict, List, TextIO

import gosym
import gosym.cost
from gosym.consequences import consequences
from gosym.consequences import render_text as render_consequences
import gosym.packages
import gosym.plot
import gosym.report_html
from gosym.cost import cost
from gosym.errors import GosymError
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


# ---- cost per package, module, file or function (--by, --html, --treemap)

def render_groups_text(d: Dict[str, Any], limit: int = 0) -> str:
    """render_groups_text formats gosym.packages.by_group's document for people."""
    t = d["totals"]
    dw = t["dwarf_line"] is not None
    head = f"{d['by'].upper():<48} {'CODE':>10} {'PCLNTAB':>10}" + (f" {'DWARF LINE':>10}" if dw else "") + \
        f" {'FUNCS':>6}"
    out = [f"file: {d['path']}", f"text ({t['text_section'] or 'function span'}): {t['text']} bytes; "
           f"pclntab: {t['pclntab']} bytes" + (f"; .debug_line: {t['dwarf_line']} bytes" if dw else ""),
           "", head]
    groups = d["groups"]
    plain = [g for g in groups if g["name"] not in gosym.packages.SPECIAL]
    special = [g for g in groups if g["name"] in gosym.packages.SPECIAL]
    shown = plain[:limit] if limit else plain
    rest = plain[len(shown):]
    if rest:
        other = {"name": f"({len(rest)} more)", "functions": sum(g["functions"] for g in rest)}
        for k in ("code", "pclntab", "dwarf_line"):
            other[k] = sum(g[k] or 0 for g in rest)
        shown = shown + [other]
    for g in shown + special:
        name = g["name"] if len(g["name"]) <= 48 else g["name"][:45] + "..."
        out.append(f"{name:<48} {g['code']:>10} {g['pclntab']:>10}" +
                   (f" {g['dwarf_line']:>10}" if dw else "") + f" {g['functions']:>6}")
    out.append(f"{'total':<48} {sum(g['code'] for g in groups):>10} {sum(g['pclntab'] for g in groups):>10}"
               + (f" {sum(g['dwarf_line'] for g in groups):>10}" if dw else "") + f" {t['functions']:>6}")
    return "\n".join(out) + "\n"


def render_groups_csv(docs: List[Dict[str, Any]]) -> str:
    """render_groups_csv gives one row per binary and group."""
    rows = ["path,by,group,code,pclntab,dwarf_line,functions"]
    for d in docs:
        for g in d["groups"]:
            name = '"' + g["name"].replace('"', '""') + '"' if any(c in g["name"] for c in ',"\n') \
                else g["name"]
            dl = "" if g["dwarf_line"] is None else g["dwarf_line"]
            rows.append(f"{d['path']},{d['by']},{name},{g['code']},{g['pclntab']},{dl},{g['functions']}")
    return "\n".join(rows) + "\n"


def _read_matrix(path: str) -> Dict[str, Any]:
    """The `gosym matrix --json` report at path, or a one-line error naming the file."""
    with open(path, encoding="utf-8") as f:
        try:
            doc = json.load(f)
        except (ValueError, UnicodeDecodeError) as e:
            raise GosymError(f"not JSON ({e})").with_path(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("builds"), list) \
            or not all(isinstance(b, dict) for b in doc["builds"]):
        raise GosymError("not a `gosym matrix --json` report (no list of builds)").with_path(path)
    return doc


def cmd_cost_by(args, out: TextIO) -> int:
    """cmd_cost_by is `gosym cost --by` (and --html/--treemap, which imply --by package)."""
    by = args.by or "package"
    if args.treemap and not args.treemap.lower().endswith((".svg", ".png")):
        raise GosymError("--treemap writes .svg or .png").with_path(args.treemap)
    matrix = _read_matrix(args.matrix) if args.html and args.matrix else None
    docs = [gosym.packages.cost_by(p, by) for p in args.binary]
    if args.treemap:
        gosym.plot.plot_treemap(docs[0], args.treemap)
    if args.html:
        try:
            html = gosym.report_html.render(cost(args.binary[0]), docs[0], matrix=matrix)
        except (KeyError, TypeError, AttributeError, IndexError) as e:
            if matrix is None:
                raise
            raise GosymError(f"not a `gosym matrix --json` report ({type(e).__name__}: {e})").with_path(args.matrix)
        with open(args.html, "w", encoding="utf-8") as f:
            f.write(html)
    if not args.by:
        return 0
    if args.json:
        out.write(json.dumps(docs[0] if len(docs) == 1 else docs, indent=1) + "\n")
    elif args.csv:
        out.write(render_groups_csv(docs))
    else:
        out.write("\n".join(render_groups_text(d, args.top) for d in docs))
    return 0


def cmd_cost(args, out: TextIO) -> int:
    """cmd_cost is `gosym cost`."""
    if args.by or args.html or args.treemap:
        return cmd_cost_by(args, out)
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
    add_by_arguments(p)
    p.set_defaults(func=cmd_cost)


def add_by_arguments(p) -> None:
    """add_by_arguments adds cost's per-group options (--by, --top, --html, --treemap, --matrix)."""
    p.add_argument("--by", choices=gosym.packages.GROUPINGS,
                   help="code, pclntab and DWARF line bytes per package, module, file or function")
    p.add_argument("--top", type=int, default=40, metavar="N",
                   help="with --by in text: show the N biggest groups and sum the rest (0: all)")
    p.add_argument("--html", metavar="FILE",
                   help="write a self-contained HTML report (tables, treemap of packages; no network)")
    p.add_argument("--treemap", metavar="FILE", help="draw a treemap of packages (.png or .svg; matplotlib)")
    p.add_argument("--matrix", metavar="JSON", help="with --html: add the chart of a `gosym matrix --json` report")
