"""`gosym diff A B`: what changed between two builds (the comparison itself
is gosym.diff.diff)."""
from __future__ import annotations

import json
from typing import Any, Dict, TextIO

import gosym.diff
import gosym.packages
from gosym.diff import diff


def _pct(r: Dict[str, Any]) -> str:
    return f"{100.0 * r['delta'] / r['a']:+.1f}%" if r["a"] else ("new" if r["b"] else "")


def render_text(d: Dict[str, Any]) -> str:
    """render_text formats a diff for people; unchanged sections and tables are left out."""
    out = [f"A: {d['a']}", f"B: {d['b']}", ""]
    for title, rows, all_rows in (("TOTAL", d["totals"], True), ("SECTION", d["sections"], False),
                                  ("PCLNTAB TABLE", d["pclntab_tables"], False)):
        out.append(f"{title:<28} {'A BYTES':>12} {'B BYTES':>12} {'DELTA':>12} {'':>8}")
        shown = [r for r in rows if all_rows or r["delta"]]
        for r in shown:
            out.append(f"{r['name'][:28]:<28} {r['a']:>12} {r['b']:>12} {r['delta']:>+12} {_pct(r):>8}")
        if not shown:
            out.append("  (no change)")
        out.append("")
    out.append("survival: " + (" ".join([f"-{k}" for k in d["lost"]] + [f"+{k}" for k in d["gained"]])
                               or "no change"))
    return "\n".join(out) + "\n"


def render_groups_text(d: Dict[str, Any], top: int = 0) -> str:
    """render_groups_text formats a `gosym diff --by` document: the totals, then
    the groups that changed, biggest change first (top: at most that many)."""
    out = [f"A: {d['a']}", f"B: {d['b']}", "",
           f"{'TOTAL':<44} {'A BYTES':>10} {'B BYTES':>10} {'DELTA':>10} {'':>8}"]
    for r in d["totals"]:
        out.append(f"{r['name']:<44} {r['a']:>10} {r['b']:>10} {r['delta']:>+10} {_pct(r):>8}")
    out += ["", f"{d['by'].upper() + ' (code + pclntab + DWARF line)':<44} {'A BYTES':>10} {'B BYTES':>10} "
                f"{'DELTA':>10} {'':>8}"]
    changed = [r for r in d["groups"] if r["delta"]]
    for r in (changed[:top] if top else changed):
        name = r["name"] if len(r["name"]) <= 44 else r["name"][:41] + "..."
        out.append(f"{name:<44} {r['a']:>10} {r['b']:>10} {r['delta']:>+10} {_pct(r) or r['status']:>8}")
    if top and len(changed) > top:
        out.append(f"({len(changed) - top} more changed; --top 0 shows all)")
    if not changed:
        out.append("  (no change)")
    return "\n".join(line.rstrip() for line in out) + "\n"


def cmd_diff(args, out: TextIO) -> int:
    """cmd_diff is `gosym diff`."""
    if args.by:
        dg = gosym.diff.diff_groups(gosym.packages.cost_by(args.a, args.by),
                                    gosym.packages.cost_by(args.b, args.by))
        out.write(json.dumps(dg, indent=1) + "\n" if args.json else render_groups_text(dg, args.top))
        return 0
    d = diff(args.a, args.b)
    out.write(json.dumps(d, indent=1) + "\n" if args.json else render_text(d))
    return 0


def add_parser(sub) -> None:
    """add_parser registers `diff` on the CLI's subparsers."""
    p = sub.add_parser("diff", help="compare two binaries section by section and table by table",
                       description=gosym.diff.__doc__)
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    p.add_argument("--json", action="store_true", help="one JSON document")
    p.add_argument("--by", choices=gosym.packages.GROUPINGS,
                   help="compare code, pclntab and DWARF line bytes per package, module, file or function")
    p.add_argument("--top", type=int, default=40, metavar="N",
                   help="with --by in text: show the N biggest changes (0: all)")
    p.set_defaults(func=cmd_diff)
