"""One self-contained HTML page about a binary: `gosym cost --html FILE`.

The page holds the cost summary (file and mapped size, sections, the
pclntab's tables, what survives), a treemap of packages by code + pclntab
bytes drawn as inline SVG (laid out by gosym.plot.squarify; every cell has a
<title> tooltip), the table of packages, and with a `gosym matrix --json`
report the matrix chart (gosym.plot.plot_matrix's SVG, when matplotlib is
installed).  No script, no stylesheet or font from elsewhere: it opens the
same with no network.
"""
from __future__ import annotations

import html
import os
import tempfile
from typing import Any, Dict, List, Optional

from gosym import plot

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{padding:2px 10px;border-bottom:1px solid #ddd}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}tr.special td{color:#666;font-style:italic}
svg text{font:11px sans-serif;fill:#fff;pointer-events:none}.note{color:#666}
"""


def _e(s: Any) -> str:
    return html.escape(str(s), quote=True)


def _kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


def treemap_svg(doc: Dict[str, Any], width: int = 1100, height: int = 560) -> str:
    """treemap_svg draws a `gosym cost --by` document as an inline SVG treemap:
    one <rect> per group (id `cell<i>`, a <title> with its name and bytes), the
    name written in the cells big enough to hold it."""
    cells = plot.treemap_cells(doc, float(width), float(height))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="treemap of {_e(doc["by"])}s by bytes">']
    for i, c in enumerate(cells):
        x, y, w, h = (round(c[k], 2) for k in ("x", "y", "w", "h"))
        out.append(f'<g><rect id="cell{i}" x="{x}" y="{y}" width="{w}" height="{h}" '
                   f'fill="{plot.cell_color(i, c["name"])}" stroke="#fff" stroke-width="1">'
                   f'<title>{_e(c["name"])}: {c["bytes"]} bytes (code {c["code"]}, pclntab {c["pclntab"]})'
                   f'</title></rect>')
        if w >= 60 and h >= 30:
            chars = int((w - 8) / 6.5)
            name = c["name"] if len(c["name"]) <= chars else c["name"][:max(1, chars - 1)] + "\u2026"
            out.append(f'<text x="{x + 4}" y="{y + 14}">{_e(name)}</text>'
                       f'<text x="{x + 4}" y="{y + 27}">{_kib(c["bytes"])}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def _table(head: List[str], rows: List[List[Any]], numeric: int = 1,
           classes: Optional[List[str]] = None) -> str:
    out = ["<table><tr>" + "".join(f'<th{" class=n" if k >= numeric else ""}>{_e(h)}</th>'
                                    for k, h in enumerate(head)) + "</tr>"]
    for r, row in enumerate(rows):
        cls = f' class="{classes[r]}"' if classes and classes[r] else ""
        out.append(f"<tr{cls}>" + "".join(
            f'<td{" class=n" if k >= numeric else ""}>{_e("" if v is None else v)}</td>'
            for k, v in enumerate(row)) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _matrix_svg(matrix: Dict[str, Any]) -> str:
    fd, path = tempfile.mkstemp(suffix=".svg")
    os.close(fd)
    try:
        plot.plot_matrix(matrix, path)
        with open(path, encoding="utf-8") as f:
            svg = f.read()
    finally:
        os.unlink(path)
    i = svg.find("<svg")
    return svg[i:] if i >= 0 else svg


def render(cost: Dict[str, Any], groups: Dict[str, Any], matrix: Optional[Dict[str, Any]] = None,
           limit: int = 200) -> str:
    """render returns the HTML page for one binary from its `gosym cost` report,
    its `gosym cost --by package` document and optionally a `gosym matrix`
    report."""
    name = os.path.basename(cost["path"])
    t = groups["totals"]
    dw = t["dwarf_line"] is not None
    parts = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>gosym: {_e(name)}</title>"
             f"<style>{_CSS}</style></head><body>",
             f"<h1>Where the bytes of {_e(name)} go</h1>",
             f"<p>{_e(cost['path'])}<br>{_e(cost['format'])} {_e(cost['arch'])}, "
             f"{_e(cost['go_version'] or 'Go version unknown')}; {cost['file_size']} bytes in the file "
             f"({_kib(cost['file_size'])}), {cost['mapped_bytes']} mapped at run time.</p>",
             f"<h2>Packages by code + pclntab bytes</h2>",
             f"<p class=note>Text ({_e(t['text_section'] or 'function span')}): {t['text']} bytes; "
             f"pclntab: {t['pclntab']} bytes. Hover a cell for its numbers.</p>",
             f'<div id="treemap">{treemap_svg(groups)}</div>']
    rows, classes = [], []
    plain = [g for g in groups["groups"] if not g["name"].startswith("(")][:limit]
    special = [g for g in groups["groups"] if g["name"].startswith("(")]
    for g in plain + special:
        row = [g["name"], g["code"], g["pclntab"]] + ([g["dwarf_line"]] if dw else []) + [g["functions"]]
        rows.append(row)
        classes.append("special" if g in special else "")
    parts.append(f"<h2>By {_e(groups['by'])}</h2>")
    parts.append(_table([groups["by"], "code bytes", "pclntab bytes"] + (["DWARF line bytes"] if dw else []) +
                        ["functions"], rows, classes=classes))
    if len(plain) < len([g for g in groups["groups"] if not g["name"].startswith("(")]):
        parts.append(f"<p class=note>The {limit} biggest are shown; `gosym cost --by {_e(groups['by'])}"
                     f" --json` lists all.</p>")
    parts.append("<h2>Sections</h2>")
    parts.append(_table(["section", "file bytes", "memory bytes", "mapped"],
                        [[s["name"], s["size"], s["mem_size"], "yes" if s["mapped"] else "no"]
                         for s in cost["sections"]]))
    p = cost["pclntab"]
    parts.append(f"<h2>pclntab (Go {_e(p['version'])} format): {p['size']} bytes</h2>")
    parts.append(_table(["table", "bytes"], [[k, v] for k, v in sorted(p["tables"].items(), key=lambda kv: -kv[1])
                                             if v]))
    parts.append("<h2>What this binary can still answer</h2>")
    parts.append(_table(["answer", "survives"], [[k.replace("_", " "), "yes" if v else "no"]
                                                 for k, v in cost["survives"].items()]))
    if matrix is not None:
        parts.append(f"<h2>Build matrix: {_e(matrix.get('package', ''))}</h2>")
        try:
            parts.append(f'<div id="matrix">{_matrix_svg(matrix)}</div>')
        except ImportError as e:
            parts.append(f"<p class=note>(no chart: {_e(e)})</p>")
    parts.append("<p class=note>Made by gosym cost --html.</p></body></html>\n")
    return "".join(parts)
