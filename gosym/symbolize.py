"""Batch symbolization over several sources: pclntab, DWARF, symbol tables.

Sources in preference order: the pclntab (function, file:line, inlined
frames) answers every pc in Go code; DWARF's line table gives file:line
(and a column) where the pclntab has nothing, such as C code in cgo
binaries, with the function name from the symbol tables; the symbol tables
alone give a function name.  `Binary.symbolize(pcs, source=...)` picks the
sources; the result says per pc which one answered (`source`).

This module sits between the tables and Binary: it gets each source as an
argument (the pclntab's native table, and callables giving the Dwarf and
the SymbolTable when first needed) and imports nothing above the tables.
What does not live here: the single-source batches (gosym._native for the
pclntab, gosym.dwarf.reader for DWARF).
"""
from __future__ import annotations

import array
from typing import Any, Callable, List, Optional, Sequence, Tuple

from gosym import _native

NONE, PCLNTAB, DWARF, SYMTAB = 0, 1, 2, 3
SOURCE_NAMES = ("none", "pclntab", "dwarf", "symtab")
# What each --source choice consults, in order.
CHAINS = {"pclntab": (PCLNTAB,), "dwarf": (DWARF,), "symtab": (SYMTAB,),
          "auto": (PCLNTAB, DWARF, SYMTAB)}
# Up to this many pcs go to Dwarf.line_at one by one (each decodes at most
# one line program); more decode every program once (Dwarf.lookup_many).
SINGLE_LOOKUPS = 64


class MergedSymbolized:
    """MergedSymbolized is the columnar result of a batch over several
    sources, with the interface of gosym._native.Symbolized: per pc
    `count[k]` frames from `first[k]` and `source[k]` (NONE, PCLNTAB, DWARF,
    SYMTAB); per frame `line`, `column`, `inlined`, `start_line`, and
    names()/files().  Frames from DWARF or the symbol tables are one per pc;
    their function name is the symbol covering the pc ("" when none)."""

    def __init__(self, base: Optional["_native.Symbolized"], n: int):
        self.base = base  #: the pclntab pass's result (gosym._native.Symbolized), or None
        self.first = array.array("I")
        self.count = array.array("H", bytes(2 * n))
        self.source = array.array("B", bytes(n))
        self.line = array.array("i")
        self.column = array.array("I")
        self.start_line = array.array("i")
        self.inlined = array.array("B")
        self._names: List[str] = []
        self._files: List[str] = []
        self._entry: List[Optional[int]] = []
        self._base_index: List[int] = []

    def __len__(self) -> int:
        return len(self.count)

    @property
    def nframes(self) -> int:
        """nframes is the total number of frames over all pcs."""
        return len(self.line)

    def names(self) -> List[str]:
        """names returns the function name of every frame."""
        return self._names

    def files(self) -> List[str]:
        """files returns the file name of every frame."""
        return self._files

    def frames(self, k: int) -> List["_native.Frame"]:
        """frames returns the Frame objects of pc k, innermost first."""
        if k < 0:
            k += len(self.count)
        if not 0 <= k < len(self.count):
            raise IndexError("pc index out of range")
        if self.source[k] == PCLNTAB and self.base is not None:
            return self.base.frames(self._base_index[k])
        a = self.first[k]
        return [_native.Frame(self._names[j], self._files[j], self.line[j], bool(self.inlined[j]),
                              self.start_line[j], self._entry[j])
                for j in range(a, a + self.count[k])]

    def __iter__(self):
        for k in range(len(self.count)):
            yield self.frames(k)

    def render_text(self, style: str, inline: bool = True,
                    valid: Optional[bytes] = None) -> Tuple[bytes, "array.array"]:
        """render_text renders every pc's answer in a text style ("go",
        "gnu", "llvm"; llvm with the frames' columns) through the same C code
        as gosym._native.Symbolized.render_text: returns (text, ends), ends[k]
        the end of pc k's answer in text.  valid (one byte per pc, may be
        None) marks the pcs to answer; the others print the style's miss."""
        return _native.render_strings(self._names, self._files, self.first, self.count, self.line,
                                      self.column, style, inline, valid)

    def _add(self, k: int, src: int, name: str, file: str, line: int, column: int,
             entry: Optional[int]) -> None:
        self.first[k] = len(self.line)
        self.count[k] = 1
        self.source[k] = src
        self._names.append(name)
        self._files.append(file)
        self.line.append(line)
        self.column.append(column)
        self.start_line.append(0)
        self.inlined.append(0)
        self._entry.append(entry)


def _symbol(symtab: Any, pc: int) -> Tuple[str, Optional[int]]:
    hit = symtab.symbol_at(pc)
    if hit is None:
        return "", None
    name, off = hit
    return name, pc - off


def _call_pc(symtab: Any, pc: int) -> int:
    """The pc a return address reports for DWARF and the symbol tables: pc - 1
    unless pc starts its symbol (the pclntab's rule, gosym._native)."""
    hit = symtab.symbol_at(pc)
    return pc if pc == 0 or (hit is not None and hit[1] == 0) else pc - 1


def dwarf_answers(d: Any, pcs: Sequence[int]) -> List[Optional[Tuple[str, int, int]]]:
    """dwarf_answers maps pcs to DWARF (file, line, column), None on a miss."""
    if len(pcs) <= SINGLE_LOOKUPS:
        out: List[Optional[Tuple[str, int, int]]] = []
        for pc in pcs:
            li = d.line_at(pc)
            out.append(None if li is None else (li.file or "", li.line, li.column))
        return out
    rows, idx = d.lookup_many(array.array("Q", pcs))
    return [None if r < 0 else (rows.row_file(r) or "", rows.line[r], rows.column[r]) for r in idx]


def symbolize(tab: "_native.Pclntab", pcs: Any, bias: int = 0, source: str = "auto", *,
              dwarf: Callable[[], Any], symtab: Callable[[], Any],
              return_addresses: bool = False) -> Any:
    """symbolize answers a batch of pcs from the sources `source` names
    ("pclntab", "dwarf", "symtab" or "auto": all three in that order):
    `tab` is the pclntab's native table, `dwarf()` returns the Dwarf (or
    None) and `symtab()` the SymbolTable, each called only when a pc needs it.
    "pclntab" returns gosym._native.Symbolized (one C pass); the others a
    MergedSymbolized, built with one C pass per source plus a Python step
    per pc the pclntab did not answer.  With `return_addresses` the pcs are
    return addresses: each source reports the position of pc - 1 unless pc
    starts its function (the pclntab's function, else the symbol's), and
    names the function containing pc."""
    chain = CHAINS.get(source)
    if chain is None:
        raise ValueError(f"unknown source {source!r}: want one of {', '.join(CHAINS)}")
    if chain == (PCLNTAB,):
        return tab.symbolize(pcs, bias, return_addresses=return_addresses)
    pv = pcs if isinstance(pcs, array.array) and pcs.typecode == "Q" else array.array("Q", pcs)
    if bias:
        pv = array.array("Q", [(p - bias) & (2 ** 64 - 1) for p in pv])
    n = len(pv)
    base = tab.symbolize(pv, return_addresses=return_addresses) if PCLNTAB in chain else None
    res = MergedSymbolized(base, n)
    res.first = array.array("I", bytes(4 * n))
    res._base_index = list(range(n)) if base is not None else []
    todo = list(range(n))
    if base is not None:
        names, files = base.names(), base.files()
        bfirst, bcount = base.first, base.count
        rest = []
        for k in todo:
            c = bcount[k]
            if not c:
                rest.append(k)
                continue
            a = bfirst[k]
            res.first[k] = len(res.line)
            res.count[k] = c
            res.source[k] = PCLNTAB
            res._names.extend(names[a:a + c])
            res._files.extend(files[a:a + c])
            res.line.extend(base.line[a:a + c])
            res.start_line.extend(base.start_line[a:a + c])
            res.inlined.extend(base.inlined[a:a + c])
            res.column.extend(array.array("I", bytes(4 * c)))
            res._entry.extend([None] * c)
        todo = rest
    if DWARF in chain and todo:
        d = dwarf()
        if d is not None:
            st = symtab()
            ans = dwarf_answers(d, [_call_pc(st, pv[k]) if return_addresses else pv[k] for k in todo])
            rest = []
            for k, a in zip(todo, ans):
                if a is None:
                    rest.append(k)
                    continue
                name, entry = _symbol(st, pv[k])
                res._add(k, DWARF, name, a[0], a[1], a[2], entry)
            todo = rest
    if SYMTAB in chain and todo:
        st = symtab()
        for k in todo:
            name, entry = _symbol(st, pv[k])
            if name:
                res._add(k, SYMTAB, name, "", 0, 0, entry)
    return res


__all__ = ["CHAINS", "DWARF", "MergedSymbolized", "NONE", "PCLNTAB", "SOURCE_NAMES", "SYMTAB",
           "dwarf_answers", "symbolize"]
