"""What changed between two builds: `gosym diff A B`.

Compares two `gosym cost` reports: the totals, every section (by name, bytes
in A, bytes in B, delta), every pclntab table, and each kind of answer that
one binary can give and the other cannot.  Every delta is B minus A.
"""
from __future__ import annotations

from typing import Any, Dict, List

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
