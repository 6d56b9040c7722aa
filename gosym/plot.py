"""Charts: `gosym matrix`'s bytes of each build, stacked by category, and the
treemap of `gosym cost --by package` (squarify, treemap_cells, plot_treemap).

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


# ---- treemap of packages (gosym cost --treemap / --html)

def squarify(values: List[float], x: float, y: float, w: float, h: float) -> List[Tuple[float, float, float, float]]:
    """squarify lays values (sorted largest first, all > 0) out as rectangles
    (x, y, w, h) filling the box, with the squarified treemap rule (Bruls,
    Huizing, van Wijk 2000): a row along the shorter side grows while that
    does not make its worst aspect ratio worse.  Areas are proportional to
    the values; the result is in the order of values."""
    total = float(sum(values))
    if not values or total <= 0 or w <= 0 or h <= 0:
        return [(x, y, 0.0, 0.0) for _ in values]
    scale = w * h / total
    areas = [v * scale for v in values]
    out: List[Tuple[float, float, float, float]] = []
    i = 0
    while i < len(areas):
        side = min(w, h)
        row = [areas[i]]
        j = i + 1

        def worst(r: List[float]) -> float:
            s = sum(r)
            return max(max(side * side * a / (s * s), s * s / (side * side * a)) for a in r if a > 0) \
                if s > 0 else float("inf")
        while j < len(areas) and worst(row + [areas[j]]) <= worst(row):
            row.append(areas[j])
            j += 1
        s = sum(row)
        thick = s / side if side > 0 else 0.0
        pos = 0.0
        for a in row:
            length = a / thick if thick > 0 else 0.0
            if w >= h:     # the row is a column on the left
                out.append((x, y + pos, thick, length))
            else:          # the row is a strip on top
                out.append((x + pos, y, length, thick))
            pos += length
        if w >= h:
            x, w = x + thick, w - thick
        else:
            y, h = y + thick, h - thick
        i = j
    return out


def treemap_cells(doc: Dict[str, Any], width: float = 1.0, height: float = 1.0,
                  limit: int = 60) -> List[Dict[str, Any]]:
    """treemap_cells turns a `gosym cost --by` document into treemap cells
    {name, bytes, code, pclntab, x, y, w, h}: one per group by code + pclntab
    bytes, the `limit` biggest (the rest summed as one cell), padding and
    non-Go code included, the unattributed pclntab bytes too."""
    groups = [g for g in doc["groups"] if g["code"] + g["pclntab"] > 0]
    groups.sort(key=lambda g: -(g["code"] + g["pclntab"]))
    if len(groups) > limit:
        rest = groups[limit - 1:]
        groups = groups[:limit - 1] + [{"name": f"({len(rest)} more)", "code": sum(g["code"] for g in rest),
                                        "pclntab": sum(g["pclntab"] for g in rest)}]
        groups.sort(key=lambda g: -(g["code"] + g["pclntab"]))
    vals = [float(g["code"] + g["pclntab"]) for g in groups]
    rects = squarify(vals, 0.0, 0.0, width, height)
    return [{"name": g["name"], "bytes": g["code"] + g["pclntab"], "code": g["code"], "pclntab": g["pclntab"],
             "x": r[0], "y": r[1], "w": r[2], "h": r[3]} for g, r in zip(groups, rects)]


def cell_color(i: int, name: str) -> str:
    """cell_color is a treemap cell's fill: grey for the special lines, else a
    repeating palette by rank."""
    if name.startswith("("):
        return "#b0b0b0"
    palette = ("#4878a8", "#d9822b", "#5a9e5a", "#a05aa0", "#c85050", "#7fb0d8", "#f0a050", "#8cc08c",
               "#c090c0", "#e08080", "#508c8c", "#b8a040")
    return palette[i % len(palette)]


def plot_treemap(doc: Dict[str, Any], path: str):
    """plot_treemap draws a `gosym cost --by package` document as a treemap of
    packages by code + pclntab bytes to path (.png or .svg) and returns the
    figure; each cell's patch has the gid `cell<i>`."""
    if not str(path).lower().endswith((".svg", ".png")):
        raise ValueError(f"{path}: --treemap writes .svg or .png")
    plt = _load_pyplot()
    from matplotlib.patches import Rectangle
    W, H = 12.0, 7.5
    fig, ax = plt.subplots(figsize=(W, H))
    total = sum(g["code"] + g["pclntab"] for g in doc["groups"])
    for i, c in enumerate(treemap_cells(doc, W, H)):
        rect = Rectangle((c["x"], H - c["y"] - c["h"]), c["w"], c["h"], facecolor=cell_color(i, c["name"]),
                         edgecolor="white", linewidth=1.0)
        rect.set_gid(f"cell{i}")
        ax.add_patch(rect)
        if c["w"] > 0.9 and c["h"] > 0.3:
            size = max(5.0, min(11.0, 9.0 * min(c["w"] / 2.5, c["h"] / 0.6)))
            ax.text(c["x"] + 0.06, H - c["y"] - 0.08, f"{c['name']}\n{c['bytes'] / 1024:.1f} KiB",
                    va="top", ha="left", fontsize=size, color="white", clip_on=True)
    ax.set_xlim(0, W)
    ax.set_ylim(0, H)
    ax.axis("off")
    ax.set_title(f"{doc['path'].rsplit('/', 1)[-1]}: code + pclntab bytes by {doc['by']} "
                 f"({total / 1024:.0f} KiB)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return fig
