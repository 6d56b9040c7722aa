"""What each common tool can still do with a binary: the consequences table.

The rules read what the file contains — symbol tables, DWARF units and line
tables, the pclntab and its inline trees, build info, build-ID notes, whether
the code has bytes at all — never the flags it was built with, so they hold for
binaries stripped by other means too (external `strip`, `objcopy
--strip-debug`, `objcopy --only-keep-debug`).  A file whose Go tables cannot be
found (a UPX-like packer, an unknown layout) gets "cannot tell" for every answer
that would come from them.

Each tool row has four cells — function names, file:line, inlined frames,
types/variables — whose values are `yes`, `no`, `n/a` (the tool does not give
that kind of answer) or `cannot tell`, and a `why` naming the data it rests
on.  `tests/differential/test_tools_truth.py` runs the real tools the machine
has (nm, llvm-nm, binutils addr2line, llvm-symbolizer, gdb, perf, go tool
addr2line, the program's own traceback, go version -m) against every cell it
can check.

Tool behaviour the rules encode (checked by those tests where the tool is
installed):

- nm reads only the static symbol table (.symtab, LC_SYMTAB, COFF symbols);
  it counts as naming functions when it names the pclntab's functions at
  their entries (a Mach-O built with -s keeps a few loader symbols, no Go ones).
- gdb finds functions by name in the symbol table or DWARF, lines and types
  only in DWARF; delve refuses a binary without DWARF (not run in the tests:
  delve is not packaged for Debian).
- binutils addr2line and llvm-symbolizer take names from DWARF, else from the
  symbol table, lines and inlined frames only from DWARF.  binutils 2.40
  misreads the file table of the DWARF 5 line programs Go 1.25+ writes (it
  prints `go.go:?`), so its file:line is "no" for DWARF 5; with `-i` on Go's
  DWARF 4 it prints the inlined call's file:line but names every frame after
  the caller, so its inlined frames are "no" for every Go binary.
  llvm-symbolizer (LLVM 14) does not read the zlib-compressed `__zdebug_*`
  sections Go writes into Mach-O files: names only, from the symbol table.
- perf takes names from .symtab/.dynsym, or from a file with the same GNU
  build ID in its build-ID cache (~/.debug) — so a stripped binary whose
  unstripped twin was profiled on the same machine still gets names; file:line
  from DWARF.
- Go's own tools read the pclntab, which every Go binary keeps: go tool
  addr2line (physical function only: no inlined frames; on PE it finds the
  table through the COFF symbols runtime.pclntab/runtime.epclntab, so a PE
  built with -s loses it), runtime panics, runtime.Callers and runtime/pprof
  profiles read by go tool pprof (inlined frames included).
- `go version -m` needs the build info; build-ID-keyed symbol servers
  (debuginfod, perf's buildid cache) need the GNU build ID note (ELF) or the
  Mach-O UUID; Go's build ID keys Go's own caches.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import gosym
from gosym.container import Container, detect
from gosym.container.notes import read_build_ids
from gosym.cost import survival
from gosym.dwarf import Dwarf

YES, NO, NA, UNKNOWN = "yes", "no", "n/a", "cannot tell"
CELLS = ("names", "file_line", "inlined", "types")

# (id, what people call it)
TOOLS = (
    ("nm", "nm / objdump -t (symbol listing)"),
    ("gdb", "gdb (break by name / by line, print)"),
    ("delve", "delve (dlv)"),
    ("addr2line", "binutils addr2line -f -i"),
    ("llvm-symbolizer", "llvm-symbolizer"),
    ("perf", "perf report (symbol lookup)"),
    ("go-addr2line", "go tool addr2line"),
    ("go-pprof", "go tool pprof (runtime/pprof profiles)"),
    ("runtime", "runtime panics, runtime.Callers"),
    ("go-version", "go version -m"),
    ("symbol-server", "build-ID symbol servers (debuginfod)"),
)

_DWARF_INFO = (".debug_info", ".zdebug_info", "__debug_info", "__zdebug_info")
_CODE = (".text", "__text")


def _yn(v: Any) -> str:
    return YES if v else NO


def facts_of(b: "gosym.Binary", survives: Dict[str, Any]) -> Dict[str, Any]:
    """facts_of gathers what the rules read from an opened binary.

    survives is `gosym.cost.survival(b)` (the caller has it already); to it are
    added the container format, the DWARF version of the units, whether the
    code has file bytes and, for PE, whether the COFF symbols that bracket the
    pclntab are present.
    """
    c = b.container
    f = dict(survives)
    # A table that keeps only a few loader symbols (Mach-O after -s) names no function.
    f["symbols"] = bool(survives.get("symbols")) and _names_functions(b)
    f["go_tables"] = True
    f["format"] = c.format
    f["runnable"] = _has_code(c)
    version = 0
    try:
        dw = b.dwarf
        if dw is not None:
            version = max((u.version for u in dw.units()), default=0)
    except gosym.GosymError:
        version = 0
    f["dwarf_version"] = version
    f["pe_pclntab_symbols"] = (c.format != "PE" or
                               (c.find_symbol("runtime.pclntab") is not None
                                and c.find_symbol("runtime.epclntab") is not None))
    f["uuid"] = read_build_ids(c).uuid is not None
    f["macho_zdebug"] = _macho_zdebug(c)
    return f


def _macho_zdebug(c: Container) -> bool:
    return c.format == "Mach-O" and any(s.name.startswith("__zdebug_") and s.size for s in c.sections)


def _names_functions(b: "gosym.Binary") -> bool:
    """Whether the symbol tables name the pclntab's functions at their entries
    (checked on up to 64 functions spread over the table; half must match)."""
    cols = b.functions.columns()
    n = len(cols.entry)
    if not n:
        return False
    st = b.symtab
    hits = tried = 0
    for i in range(0, n, max(1, n // 64)):
        tried += 1
        got = st.symbol_at(cols.entry[i])
        if got is not None and got[1] == 0 and got[0].lstrip("_") == cols.name[i].lstrip("_"):
            hits += 1
    return 2 * hits >= tried


def _has_code(c: Container) -> bool:
    s = c.section(*_CODE)
    return s is not None and s.size > 0


def _container_facts(c: Container) -> Dict[str, Any]:
    """Facts from the container alone: the Go tables could not be read."""
    dwarf = any(c.section(n) is not None and c.section(n).size > 0 for n in _DWARF_INFO)  # type: ignore[union-attr]
    ids = read_build_ids(c)
    version = 0
    try:
        dw = Dwarf.from_container(c)
        if dw is not None:
            version = max((u.version for u in dw.units()), default=0)
    except gosym.GosymError:
        version = 0
    return {
        "go_tables": False, "format": c.format, "runnable": _has_code(c),
        "symbols": any(t.count > 1 for t in c.symtabs if t.name in (".symtab", "LC_SYMTAB", "COFF")),
        "dynamic_symbols": any(t.count > 1 for t in c.symtabs if t.name == ".dynsym"),
        "dwarf_types": dwarf, "dwarf_lines": dwarf, "dwarf_version": version,
        "gnu_build_id": ids.gnu is not None, "go_build_id": ids.go is not None, "uuid": ids.uuid is not None,
        "macho_zdebug": _macho_zdebug(c),
    }


def rules(f: Dict[str, Any]) -> List[Dict[str, Any]]:
    """rules turns facts (from `facts_of`, or predicted ones) into one row per tool.

    Each row: {tool, what, names, file_line, inlined, types, why}.
    """
    go = f.get("go_tables", True)
    sym = bool(f.get("symbols"))
    dyn = bool(f.get("dynamic_symbols"))
    info = bool(f.get("dwarf_types"))
    line = bool(f.get("dwarf_lines"))
    inl_tree = bool(f.get("inlined_frames")) if go else False
    # No inline tree in the pclntab means nothing was inlined (no flag strips them): no
    # tool has inlined frames to lose, so the cell is n/a rather than no.
    nothing_inlined = go and not inl_tree
    dw_inl = info and (inl_tree if go else True)
    dw5 = int(f.get("dwarf_version") or 0) >= 5
    runnable = bool(f.get("runnable", True))

    def inl(v: Any) -> str:
        return NA if nothing_inlined else _yn(v)

    def gocell(v: Any) -> str:
        return _yn(v) if go else UNKNOWN

    sym_why = "static symbol table" if sym else "no static symbol table"
    dw_why = ("DWARF " + (f"v{f['dwarf_version']} " if f.get("dwarf_version") else "")
              + ("with line tables" if line else "without line tables")) if info else "no DWARF"
    rows: List[Dict[str, Any]] = []

    def row(tool: str, names: str, file_line: str, inlined: str, types: str, why: str) -> None:
        what = dict(TOOLS)[tool]
        rows.append({"tool": tool, "what": what, "names": names, "file_line": file_line,
                     "inlined": inlined, "types": types, "why": why})

    row("nm", _yn(sym), NA, NA, NA, sym_why)
    row("gdb", _yn(sym or info), _yn(line), inl(dw_inl), _yn(info), f"{sym_why}; {dw_why}")
    row("delve", _yn(info), _yn(info and line), inl(dw_inl), _yn(info),
        dw_why + ("" if info else ": delve will not load it"))
    a2l_line = line and not dw5
    row("addr2line", _yn(info or sym), _yn(a2l_line), inl(False), NA,
        f"{dw_why}; {sym_why}" + ("; binutils 2.40 misreads Go's DWARF 5 file table" if line and dw5 else "")
        + ("; with -i it prints the inlined call's file:line under the caller's name" if dw_inl and not dw5 else ""))
    if f.get("macho_zdebug"):   # LLVM 14 does not inflate Mach-O's __zdebug_* sections
        row("llvm-symbolizer", _yn(sym), NO, inl(False), NA,
            f"{sym_why}; DWARF compressed in __zdebug_* sections, which llvm-symbolizer (LLVM 14) does not read")
    else:
        row("llvm-symbolizer", _yn(info or sym), _yn(line), inl(dw_inl), NA, f"{dw_why}; {sym_why}")
    row("perf", _yn(sym or dyn), _yn(line), NA, NA,
        ("symbol table" if sym else ".dynsym" if dyn else "no symbol table") + f"; {dw_why}")
    fmt = f.get("format")
    pe_ok = bool(f.get("pe_pclntab_symbols", True))
    ga = go and pe_ok
    ga_why = "pclntab" if pe_ok else "PE without the runtime.pclntab/epclntab COFF symbols: go tool addr2line cannot find the pclntab"
    if not go:
        ga_why = "the Go tables could not be read"
    row("go-addr2line", gocell(ga), gocell(ga and f.get("file_line")), NA if go else UNKNOWN, NA, ga_why)
    if runnable:
        row("go-pprof", gocell(f.get("function_names")), gocell(f.get("file_line")), inl(inl_tree) if go else UNKNOWN, NA,
            "the runtime writes names, lines and inlined frames from the pclntab" if go
            else "the Go tables could not be read")
        row("runtime", gocell(f.get("function_names")), gocell(f.get("file_line")), inl(inl_tree) if go else UNKNOWN, NA,
            "pclntab (the runtime needs it; no flag removes it)" if go else "the Go tables could not be read")
    else:
        for t in ("go-pprof", "runtime"):
            row(t, NA, NA, NA, NA, "no code bytes (a debug-only file): it cannot run")
            rows[-1]["works"] = NA
    bi = bool(f.get("go_version")) if go else None
    row("go-version", NA, NA, NA, NA, "build info" if bi else "no build info" if go else
        "the Go tables could not be read")
    rows[-1]["works"] = _yn(bi) if go else UNKNOWN
    key = [n for n, k in (("GNU build ID", "gnu_build_id"), ("Mach-O UUID", "uuid"), ("Go build ID", "go_build_id"))
           if f.get(k)]
    row("symbol-server", NA, NA, NA, NA, ", ".join(key) if key else "no build ID")
    rows[-1]["works"] = _yn(f.get("gnu_build_id") or f.get("uuid"))
    if nothing_inlined:
        for r in rows:
            if r["inlined"] == NA and r["tool"] in ("gdb", "delve", "addr2line", "llvm-symbolizer", "go-pprof",
                                                    "runtime"):
                r["why"] += "; nothing was inlined (no inline tree in the pclntab)"
    for r in rows:
        r.setdefault("works", YES if any(r[c] == YES for c in CELLS) else
                     UNKNOWN if any(r[c] == UNKNOWN for c in CELLS) else NO)
    if fmt == "PE":
        rows[-1]["works"], rows[-1]["why"] = NO, "PE: debuginfod and perf key on ELF/Mach-O IDs"
    return rows


def consequences(path: str, survives: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """consequences returns `{path, readable, note, facts, tools: [...]}` for one file.

    survives, when given, is the file's `gosym cost` `survives` dict (saves
    computing it again).  readable is False when the Go tables could not be
    read (a packed or unknown layout, a debug-only file); the pclntab-based
    cells are then "cannot tell" and the rest is read from the container alone.
    """
    try:
        with gosym.open(path) as b:
            f = facts_of(b, survives if survives is not None else survival(b))
        return {"path": path, "readable": True, "note": None, "facts": f, "tools": rules(f)}
    except (gosym.NotGoBinaryError, gosym.FormatError) as e:
        note = str(e)
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        c = detect(data)
    except gosym.GosymError as e:
        f = {"go_tables": False}
        return {"path": path, "readable": False, "note": f"{note}; {e}", "facts": f, "tools": rules(f)}
    f = _container_facts(c)
    return {"path": path, "readable": False, "note": note, "facts": f, "tools": rules(f)}


def render_text(rows: List[Dict[str, Any]], indent: str = "  ") -> List[str]:
    """render_text formats the rows as text lines (one per tool)."""
    out = [f"{indent}{'TOOL':<40} {'NAMES':<11} {'FILE:LINE':<11} {'INLINED':<11} {'TYPES':<11} WHY"]
    for r in rows:
        cells = [r[c] for c in CELLS]
        if all(c == NA for c in cells):
            cells = [f"works: {r['works']}", "", "", ""]
            out.append(f"{indent}{r['what'][:40]:<40} {cells[0]:<47} {r['why']}")
            continue
        out.append(f"{indent}{r['what'][:40]:<40} " + " ".join(f"{c:<11}" for c in cells) + f" {r['why']}")
    return out


def broken(before: List[Dict[str, Any]], after: List[Dict[str, Any]]) -> List[str]:
    """broken lists "tool (cells)" for every cell (or `works`) yes before and no or
    cannot tell after (n/a after, e.g. nothing inlined any more, is not a loss)."""
    a = {r["tool"]: r for r in after}
    out = []
    for r in before:
        s = a.get(r["tool"])
        if s is None:
            continue
        lost = [c.replace("_", ":") for c in CELLS if r[c] == YES and s[c] in (NO, UNKNOWN)]
        if all(r[c] == NA for c in CELLS) and r["works"] == YES and s["works"] != YES:
            lost = ["works"]
        if lost:
            out.append(f"{r['tool']} ({', '.join(lost)})")
    return out


def expected(rows: List[Dict[str, Any]], tool: str, cell: str) -> Optional[str]:
    """expected returns one cell of a table (None when the tool has no row)."""
    for r in rows:
        if r["tool"] == tool:
            return r[cell]
    return None
