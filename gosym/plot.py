"""Charts of `gosym matrix`: the bytes of each build, stacked by category.

Each build gets a group of two bars, the bytes the loader maps and the bytes
it does not, each stacked by category: text, rodata, the pclntab's tables
(names, function tables, pc-value tables, funcdata, other), DWARF, symbol
tables and other (data, headers, padding).  matplotlib is an optional extra
(`pip install 'gosym[plot]'`), imported only when a chart is drawn.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

PCLNTAB_GROUPS = (
    ("pclntab: names", ("funcnames",)),
    ("pclntab: func tables", ("header", "functab", "func_records", "cutab", "filetab", "findfunctab")),
    ("pclntab: pc-value", ("pcsp", "pcfile", "pcln")),   # and every pcdata_* table
    ("pclntab: funcdata", ("funcdata",)),
)
CATEGORIES = ("text", "rodata") + tuple(n for n, _ in PCLNTAB_GROUPS) + \
    ("pclntab: other", "DWARF", "symtab", "other")
COLORS = {
    "text": "#4878a8", "rodata": "#7fb0d8",
    "pclntab: names": "#d9822b", "pclntab: func tables": "#f0a050", "pclntab: pc-value": "#f6c27a",
    "pclntab: funcdata": "#fbe0b0", "pclntab: other": "#c8a070",
    "DWARF": "#5a9e5a", "symtab": "#a05aa0", "other": "#a0a0a0",
}

_TEXT = (".text", "__text", ".plt", ".init", ".fini", ".plt.got", ".plt.sec")
_RODATA = (".rodata", "__rodata", ".rdata", ".go.type", "__typelink", ".typelink", ".itablink",
           "__itablink", ".go.func", "__go_func", ".data.rel.ro", "__data_rel_ro")
_PCLNTAB = (".gopclntab", "__gopclntab")
_SYMTAB = (".symtab", ".strtab", ".dynsym", ".dynstr")


def _section_category(name: str) -> str:
    if name in _TEXT:
        return "text"
    if name in _RODATA:
        return "rodata"
    if name in _PCLNTAB:
        return "pclntab"
    if name.startswith((".debug_", ".zdebug_", "__debug_", "__zdebug_")):
        return "DWARF"
    if name in _SYMTAB:
        return "symtab"
    return "other"


def _pclntab_split(tables: Dict[str, int]) -> Dict[str, int]:
    out = {n: 0 for n, _ in PCLNTAB_GROUPS}
    out["pclntab: other"] = 0
    for t, n in tables.items():
        for group, names in PCLNTAB_GROUPS:
            if t in names or (group == "pclntab: pc-value" and t.startswith("pcdata")):
                out[group] += n
                break
        else:
            out["pclntab: other"] += n
    return out


def categorize(cost: Dict[str, Any]) -> Dict[str, Tuple[int, int]]:
    """categorize splits one cost report's file bytes into {category: (mapped, unmapped)}.

    The mapped column sums to `mapped_bytes` and the unmapped one to `unmapped_bytes`:
    bytes in no section (headers, padding) and, where the pclntab has no section of
    its own (PE), its surroundings go to the categories they lie in, else to other.
    """
    mapped = {c: 0 for c in CATEGORIES}
    unmapped = {c: 0 for c in CATEGORIES}
    pcln_mapped = None
    for s in cost["sections"]:
        if not s["size"]:
            continue
        cat = _section_category(s["name"])
        if cat == "pclntab":
            pcln_mapped = s["mapped"]
            continue
        (mapped if s["mapped"] else unmapped)[cat] += s["size"]
    split = _pclntab_split(cost["pclntab"]["tables"])
    if pcln_mapped is None:
        # The table lies inside another section (PE .rdata, or found by scanning):
        # take its bytes out of that section's category, rodata by default.
        pcln_mapped = True
        host = "rodata" if mapped["rodata"] >= cost["pclntab"]["size"] else "other"
        mapped[host] -= cost["pclntab"]["size"]
    for k, n in split.items():
        (mapped if pcln_mapped else unmapped)[k] += n
    mapped["other"] += cost["mapped_bytes"] - sum(mapped.values())
    unmapped["other"] += cost["unmapped_bytes"] - sum(unmapped.values())
    return {c: (max(0, mapped[c]), max(0, unmapped[c])) for c in CATEGORIES}


def _load_pyplot():
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError("--plot needs matplotlib: pip install 'gosym[plot]'") from e
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_matrix(rep: Dict[str, Any], path: str):
    """plot_matrix draws `gosym matrix`'s report to path (.svg or .png) and returns the figure.

    One bar group per built binary (mapped, unmapped); each bar patch has the gid
    `build<i>-<mapped|unmapped>-<category>`; refused builds are named in the x labels.
    """
    if not str(path).lower().endswith((".svg", ".png")):
        raise ValueError(f"{path}: --plot writes .svg or .png")
    plt = _load_pyplot()
    rows = rep["builds"]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(rows) + 2), 6.5))
    width = 0.38
    labels: List[str] = []
    seen = set()
    for i, r in enumerate(rows):
        labels.append(f"{r['toolchain']}\n{r['label']}" + ("\n(rejected)" if r.get("rejected") else ""))
        if r.get("cost") is None:
            continue
        cats = categorize(r["cost"])
        for j, side in enumerate(("mapped", "unmapped")):
            bottom = 0
            x = i + (j - 0.5) * width
            for c in CATEGORIES:
                n = cats[c][j]
                if not n:
                    continue
                bar = ax.bar(x, n / 1e6, width * 0.95, bottom=bottom / 1e6, color=COLORS[c],
                             hatch=None if side == "mapped" else "//", edgecolor="white", linewidth=0.4,
                             label=c if c not in seen else None)
                seen.add(c)
                for patch in bar.patches:
                    patch.set_gid(f"build{i}-{side}-{c.replace(': ', '_').replace(' ', '_')}")
                bottom += n
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("MB in the file (left bar: mapped at run time; right, hatched: not mapped)")
    ax.set_title(f"gosym matrix: {rep.get('package', '')}", fontsize=9)
    # The legend goes outside the axes, to their right: it never covers a bar.
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return fig
