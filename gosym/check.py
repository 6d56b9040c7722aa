"""`gosym check`: do the pclntab and DWARF agree on pc -> file:line?

Go's linker writes the same positions twice: into the pclntab (pcfile and
pcln tables) and into .debug_line.  check compares them at two sets of pcs:

  pclntab rows  every pc at which a pclntab row of a Go function starts;
                DWARF's answer is the row covering that pc
  DWARF rows    every address at which a DWARF row starts to cover code;
                the pclntab's answer comes from a lookup (pcs outside every
                Go function, such as C code in cgo binaries, are counted
                as `outside` and left out of the agreement)

Both sides come as columns from one C pass each; the lookups, file-name
interning and the classification are typed loops (gosym._columns), so the
cost is linear in the rows plus a sort of the DWARF sequences.
"""
from __future__ import annotations

import array
import time
from typing import Any, Callable, Dict, List, Optional

import gosym
from gosym import _columns, _dwarf
from gosym.errors import UnsupportedError

# Kind code -> (name, what it means), in report order.
KINDS = (
    (_columns.CMP_AGREE, "agree", "same file and line"),
    (_columns.CMP_LINE, "line", "same file, different line"),
    (_columns.CMP_FILE, "file", "same line, different file"),
    (_columns.CMP_FILE_LINE, "file_and_line", "different file and line"),
    (_columns.CMP_NO_DWARF, "no_dwarf_row", "the pclntab has a line, no DWARF row covers the pc"),
    (_columns.CMP_DWARF_LINE0, "dwarf_line_0", "the pclntab has a line, DWARF says line 0"),
    (_columns.CMP_NO_PCLNTAB, "no_pclntab_line", "DWARF has a line, the pclntab none"),
    (_columns.CMP_NEITHER, "neither", "neither source has a line"),
    (_columns.CMP_OUTSIDE, "outside", "DWARF row outside every Go function (not compared)"),
)
NAMES = {code: name for code, name, _ in KINDS}
# Kinds that count as compared pcs (all but `outside`) and as differences.
DIFFERENT = {_columns.CMP_LINE, _columns.CMP_FILE, _columns.CMP_FILE_LINE, _columns.CMP_NO_DWARF,
             _columns.CMP_DWARF_LINE0, _columns.CMP_NO_PCLNTAB}


def _positions(kinds: array.array, code: int, limit: int) -> List[int]:
    raw = kinds.tobytes()
    tag = bytes([code])
    out: List[int] = []
    i = raw.find(tag)
    while i >= 0 and len(out) < limit:
        out.append(i)
        i = raw.find(tag, i + 1)
    return out


class _Sides:
    """The two sources as columns: DWARF rows with an interned file id per
    row, and the pclntab's rows; file names interned into one id space."""

    def __init__(self, b: "gosym.Binary", say: Callable[[str], None]):
        d = b.dwarf
        if d is None:
            raise UnsupportedError("no DWARF line table (.debug_line) to compare with the pclntab "
                                   "(built with -ldflags=-w? try --debug-file)")
        self.b, self.d = b, d
        say("decoding DWARF line programs")
        self.rows = rows = d.line_rows()
        self.ids: Dict[str, int] = {}
        self.dfid = array.array("i")
        ur = rows.unit_row
        for k, t in enumerate(rows.tables):
            self.dfid.extend(_columns.intern_keys(rows.file[ur[k]:ur[k + 1]], t.file_at, self.ids))

    def pclntab_ids(self, file_offs: array.array) -> array.array:
        b = self.b
        return _columns.intern_keys(file_offs, lambda off: b.file_name(off) or None, self.ids)

    def dwarf_side(self, pcs: array.array) -> tuple:
        rows = self.rows
        r = _dwarf.lookup_rows(rows.address, rows.flags, pcs)
        return r, _columns.gather(self.dfid, r), _columns.gather(rows.line, r)

    def compare(self, pcs: array.array) -> tuple:
        """Kinds at pcs, the pclntab answering by lookup: (kinds, pclntab
        file ids, pclntab lines, DWARF row indexes)."""
        func, line, foff = self.b.lookup_many(pcs)
        pfid = self.pclntab_ids(foff)
        drow, dfile, dline = self.dwarf_side(pcs)
        return _columns.classify(pfid, line, dfile, dline, drow, func), pfid, line, drow


def compare_pcs(b: "gosym.Binary", pcs: Any) -> array.array:
    """compare_pcs classifies the pclntab's and DWARF's answers at each pc
    (array B of gosym._columns.CMP_* codes, named in KINDS), as check does at
    DWARF row starts.  Decodes every DWARF row first."""
    pv = pcs if isinstance(pcs, array.array) and pcs.typecode == "Q" else array.array("Q", pcs)
    return _Sides(b, lambda msg: None).compare(pv)[0]


def check(b: "gosym.Binary", examples: int = 3,
          progress: Optional[Callable[[str], None]] = None) -> Dict[str, Any]:
    """check compares the pclntab's and DWARF's pc -> file:line over every
    Go function and returns the report (the `gosym check --json` document):
    per set of pcs, the count of each kind of comparison with up to
    `examples` examples of each difference.  Raises UnsupportedError when
    the binary has no DWARF line table."""
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    sides = _Sides(b, say)
    d, rows = sides.d, sides.rows
    say(f"{len(rows)} DWARF rows; decoding the pclntab's line tables")
    ppc, pfo, pln, _func, bad = b.line_table()
    say(f"{len(ppc)} pclntab rows; comparing")
    # At pclntab row starts, DWARF answering by lookup.
    pfid = sides.pclntab_ids(pfo)
    drow, dfile, dline = sides.dwarf_side(ppc)
    kinds_p = _columns.classify(pfid, pln, dfile, dline, drow)
    # At DWARF row starts, the pclntab answering by lookup.
    spc = _columns.row_starts(rows.address, rows.flags)
    kinds_d, sfid, sline, srow = sides.compare(spc)
    names = list(sides.ids)     # ids are numbered in insertion order

    def func_name(pc: int) -> Optional[str]:
        f = b.func_at(pc)
        return f.name if f is not None else None

    def example(pc: int, pfile: int, pl: int, r: int) -> dict:
        return {"pc": pc, "function": func_name(pc),
                "pclntab": {"file": names[pfile] if pfile >= 0 else None, "line": pl},
                "dwarf": None if r < 0 else {"file": rows.row_file(r), "line": rows.line[r],
                                             "column": rows.column[r]}}

    def summary(kinds: array.array, pcs: array.array, pfile: array.array, pline: array.array,
                drows: array.array) -> dict:
        raw = kinds.tobytes()
        counts = {name: raw.count(bytes([code])) for code, name, _ in KINDS}
        compared = len(raw) - counts["outside"]
        agree = counts["agree"] + counts["neither"]
        out: Dict[str, Any] = {"pcs": len(raw), "compared": compared, "agree": agree,
                               "agreement": round(100.0 * agree / compared, 4) if compared else None,
                               "kinds": counts, "examples": {}}
        for code, name, _ in KINDS:
            if code in DIFFERENT and counts[name]:
                out["examples"][name] = [example(pcs[i], pfile[i], pline[i], drows[i])
                                         for i in _positions(kinds, code, examples)]
        return out

    by_p = summary(kinds_p, ppc, pfid, pln, drow)
    by_d = summary(kinds_d, spc, sfid, sline, srow)
    compared = by_p["compared"] + by_d["compared"]
    agree = by_p["agree"] + by_d["agree"]
    line = d.section("line")
    return {
        "path": b.path,
        "dwarf_path": d.path,
        "go_version": b.go_version,
        "functions": len(b.functions),
        "functions_without_tables": bad,
        "dwarf_rows": len(rows),
        "dwarf_line_version": sorted({t.version for t in rows.tables}),
        "dwarf_compression": line.compression if line else None,
        "compared": compared,
        "agree": agree,
        "agreement": round(100.0 * agree / compared, 4) if compared else None,
        "at_pclntab_rows": by_p,
        "at_dwarf_rows": by_d,
        "seconds": round(time.perf_counter() - t0, 3),
    }
