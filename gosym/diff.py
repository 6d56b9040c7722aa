"""What changed between two builds: `gosym diff A B`.

Compares two `gosym cost` reports: the totals, every section (by name, bytes
in A, bytes in B, delta), every pclntab table, and each kind of answer that
one binary can give and the other cannot.  Every delta is B minus A.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, TextIO

TOTALS = ("file_size", "mapped_bytes", "unmapped_bytes", "symtab_size", "dwarf_size",
          "dwarf_uncompressed_size")


def _rows(a: Dict[str, int], b: Dict[str, int]) -> List[Dict[str, Any]]:
    names = list(a) + [n for n in b if n not in a]
    return [{"name": n, "a": a.get(n, 0), "b": b.get(n, 0), "delta": b.get(n, 0) - a.get(n, 0)}
            for n in names]


def _section_sizes(rep: Dict[str, Any]) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for s in rep["sections"]:
        out[s["name"]] = out.get(s["name"], 0) + s["size"]
    return out


def diff_reports(a: Dict[str, Any], b: Dict[str, Any]) -> Dict[str, Any]:
    """diff_reports compares two cost reports (the `gosym diff --json` document)."""
    totals = _rows({k: a[k] for k in TOTALS}, {k: b[k] for k in TOTALS})
    totals.append({"name": "pclntab", "a": a["pclntab"]["size"], "b": b["pclntab"]["size"],
                   "delta": b["pclntab"]["size"] - a["pclntab"]["size"]})
    sa, sb = a["survives"], b["survives"]
    kinds = list(sa) + [k for k in sb if k not in sa]
    return {
        "a": a["path"], "b": b["path"],
        "totals": totals,
        "sections": _rows(_section_sizes(a), _section_sizes(b)),
        "pclntab_tables": _rows(a["pclntab"]["tables"], b["pclntab"]["tables"]),
        "lost": [k for k in kinds if sa.get(k) and not sb.get(k)],
        "gained": [k for k in kinds if sb.get(k) and not sa.get(k)],
        "survives": {k: [bool(sa.get(k)), bool(sb.get(k))] for k in kinds},
    }


def diff(path_a: str, path_b: str) -> Dict[str, Any]:
    """diff runs `cost` on both binaries and compares them."""
    from gosym.cost import cost

    return diff_reports(cost(path_a), cost(path_b))


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


def cmd_diff(args, out: TextIO) -> int:
    """cmd_diff is `gosym diff`."""
    d = diff(args.a, args.b)
    out.write(json.dumps(d, indent=1) + "\n" if args.json else render_text(d))
    return 0


def add_parser(sub) -> None:
    """add_parser registers `diff` on the CLI's subparsers."""
    p = sub.add_parser("diff", help="compare two binaries section by section and table by table",
                       description=__doc__)
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    p.add_argument("--json", action="store_true", help="one JSON document")
    p.set_defaults(func=cmd_diff)
