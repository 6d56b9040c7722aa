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


def diff_groups(a: Dict[str, Any], b: Dict[str, Any]) -> Dict[str, Any]:
    """diff_groups compares two `gosym cost --by` documents (the `gosym diff
    --by --json` document): one row per group of either binary with its code,
    pclntab and DWARF line bytes in A and B and the change of their sum,
    sorted by the size of the change (largest growth or shrinkage first);
    groups in only one binary have zeros on the other side."""
    if a["by"] != b["by"]:
        raise ValueError(f"cannot compare --by {a['by']} with --by {b['by']}")
    ga = {g["name"]: g for g in a["groups"]}
    gb = {g["name"]: g for g in b["groups"]}
    rows = []
    for name in list(ga) + [n for n in gb if n not in ga]:
        x, y = ga.get(name), gb.get(name)
        row: Dict[str, Any] = {"name": name, "status": "removed" if y is None else "added" if x is None else ""}
        tot_a = tot_b = 0
        for k in ("code", "pclntab", "dwarf_line"):
            va = (x or {}).get(k) or 0
            vb = (y or {}).get(k) or 0
            row[f"{k}_a"], row[f"{k}_b"] = va, vb
            tot_a, tot_b = tot_a + va, tot_b + vb
        row["a"], row["b"], row["delta"] = tot_a, tot_b, tot_b - tot_a
        rows.append(row)
    rows.sort(key=lambda r: (-abs(r["delta"]), r["name"]))
    keys = [k for k in ("text", "pclntab", "dwarf_line")
            if a["totals"][k] is not None or b["totals"][k] is not None]
    totals = _rows({k: a["totals"][k] or 0 for k in keys}, {k: b["totals"][k] or 0 for k in keys})
    return {"a": a["path"], "b": b["path"], "by": a["by"], "totals": totals, "groups": rows}


def diff(path_a: str, path_b: str) -> Dict[str, Any]:
    """diff runs `cost` on both binaries and compares them."""
    from gosym.cost import cost

    return diff_reports(cost(path_a), cost(path_b))
