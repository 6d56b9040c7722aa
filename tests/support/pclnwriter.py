"""A test-only pclntab writer: builds synthetic tables from a simple model.

Written from the format descriptions (runtime/symtab.go, runtime/runtime2.go
_func, cmd/link/internal/ld/pcln.go, debug/gosym/pclntab.go), independently
of gosym's decoder, so that decoding what it writes checks the decoder.

Model: functions laid out back to back from `text_start`; each has a name,
a start line, and runs (length in quanta, file index, line).  The expected
answer for any pc follows directly from the model (see `expected`).

Inline trees (Go 1.13+): a run may carry a fourth element, the index of the
inlined call it is in (-1: the function's own code); a function's `inl`
list holds the calls: (callee name, parent run, callee start line).  The
writer emits PCDATA_InlTreeIndex (pcdata 2) from the runs and
FUNCDATA_InlTree (funcdata 4 in the 1.2 format, meaning Go 1.13-1.15; 3
from 1.16) pointing at a tree of inlinedCall records (runtime/symtab.go:
20 bytes before Go 1.20, 16 after) whose parentPc is the parent run's first
pc.  The trees live outside the table, as in a binary: `image` is the trees
blob followed by the table, loaded at `base_va`; Go 1.18+ funcdata are
offsets from gofunc (= base_va), older ones pointers.  `expected_frames`
walks the model the way runtime/symtabinl.go walks the tree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from tests.support.leb128 import uleb as _uvarint

MAGIC = {12: 0xFFFFFFFB, 116: 0xFFFFFFFA, 118: 0xFFFFFFF0, 120: 0xFFFFFFF1}


@dataclass
class SynFunc:
    name: str
    runs: List[Tuple[int, ...]]        # (length in quanta, file index, line[, inline index])
    start_line: int = 0
    args: int = 0
    pad_quanta: int = 0                 # bytes after the tables' end, no line info
    inl: List[Tuple[str, int, int]] = field(default_factory=list)  # (callee, parent run, start line)
    sp: Optional[List[int]] = None      # per run: stack-pointer delta (default 8 * (k % 3))

    def sp_delta(self, k: int) -> int:
        """sp_delta is run k's stack-pointer delta (the pcsp table's value)."""
        return self.sp[k] if self.sp is not None else 8 * (k % 3)

    def frame_size(self) -> int:
        """frame_size is the largest stack-pointer delta, at least 0
        (runtime/symtab.go: funcMaxSPDelta)."""
        return max([0] + [self.sp_delta(k) for k in range(len(self.runs))])

    def inl_index(self, k: int) -> int:
        """inl_index is run k's inlined-call index (-1: the function's own code)."""
        r = self.runs[k]
        return r[3] if len(r) > 3 else -1

    def run_pc(self, k: int, quantum: int) -> int:
        """run_pc is run k's first pc, as an offset from the entry."""
        return sum(r[0] for r in self.runs[:k]) * quantum

    def size(self, quantum: int) -> int:
        return (sum(r[0] for r in self.runs) + self.pad_quanta) * quantum


@dataclass
class SynTable:
    version: int
    big_endian: bool
    ptr_size: int
    quantum: int
    text_start: int
    files: List[str]
    funcs: List[SynFunc]
    data: bytes = b""
    entries: List[int] = field(default_factory=list)
    end: int = 0
    base_va: int = 0x7000000           # address of image[0] (16-aligned)
    image: bytes = b""                 # trees blob, padding, then the table
    table_off: int = 0                 # offset of the table in image
    gofunc: int = 0                    # Go 1.18+: what funcdata offsets are relative to
    layout: int = 0                    # inline record size: 16 (1.20+), 20 (1.13-1.19), 0: no trees

    @property
    def has_inline(self) -> bool:
        return any(f.inl for f in self.funcs)

    @property
    def funcdata_inltree(self) -> int:
        """FUNCDATA_InlTree: 4 in Go 1.13-1.15 (the 1.2 format here), 3 from 1.16."""
        return 4 if self.version == 12 else 3




def pcvalue_table(runs: List[Tuple[int, int]], quantum: int) -> bytes:
    """Encode (length in quanta, value) runs; equal neighbours are merged first."""
    merged: List[List[int]] = []
    for length, value in runs:
        if merged and merged[-1][1] == value:
            merged[-1][0] += length
        else:
            merged.append([length, value])
    out = bytearray()
    prev = -1
    for length, value in merged:
        delta = value - prev
        out += _uvarint(((delta << 1) ^ (delta >> 31)) & 0xFFFFFFFF)
        out += _uvarint(length)
        prev = value
    out.append(0)
    return bytes(out)


def build(t: SynTable) -> SynTable:
    """build encodes t into t.data (and fills t.entries and t.end)."""
    E = "big" if t.big_endian else "little"
    P = t.ptr_size
    v = t.version
    q = t.quantum

    def u32(x: int) -> bytes:
        return (x & 0xFFFFFFFF).to_bytes(4, E)

    def ptr(x: int) -> bytes:
        return x.to_bytes(P, E)

    # Entry addresses.
    entries = []
    pc = t.text_start
    for f in t.funcs:
        entries.append(pc)
        pc += f.size(q)
    t.entries, t.end = entries, pc
    n = len(t.funcs)

    # Per-function pc-value tables, in one blob; offset 0 stays unused.
    pctab = bytearray(b"\0")
    tabs = []
    for f in t.funcs:
        if v == 12:
            fileruns = [(r[0], r[1] + 1) for r in f.runs]   # 1-based file numbers
        else:
            fileruns = [(r[0], r[1]) for r in f.runs]       # index within the CU
        lineruns = [(r[0], r[2]) for r in f.runs]
        spruns = [(r[0], f.sp_delta(k)) for k, r in enumerate(f.runs)]
        offs = []
        for runs in (spruns, fileruns, lineruns):
            offs.append(len(pctab))
            pctab += pcvalue_table(runs, q)
        if f.inl:
            offs.append(len(pctab))
            pctab += pcvalue_table([(r[0], f.inl_index(k)) for k, r in enumerate(f.runs)], q)
        tabs.append(offs)

    names = bytearray()
    name_offs = []
    callee_offs = {}
    for f in t.funcs:
        name_offs.append(len(names))
        names += f.name.encode() + b"\0"
    for f in t.funcs:
        for callee, _parent, _sl in f.inl:
            if callee not in callee_offs:
                callee_offs[callee] = len(names)
                names += callee.encode() + b"\0"

    # Inline trees, before the table in the image (so their addresses are
    # known when the records are written).  1.2-format name offsets count
    # from the table start, where the names follow the function table.
    name_base = (8 + P) + (2 * n + 1) * P + 4 if v == 12 else 0
    t.layout = (16 if v >= 120 else 20) if t.has_inline else 0
    blob = bytearray(16)   # file offset 0 is never a tree (gosym reads 0 as "none")
    tree_offs: List[int] = []
    for f in t.funcs:
        while len(blob) % 4:
            blob.append(0)
        tree_offs.append(len(blob))
        for k, (callee, parent_run, sl) in enumerate(f.inl):
            nameoff = name_base + callee_offs[callee]
            ppc = f.run_pc(parent_run, q)
            if t.layout == 16:   # funcID, pad[3], nameOff, parentPc, startLine
                blob += bytes(4) + u32(nameoff) + u32(ppc) + u32(sl)
            else:                # parent int16, funcID, pad, file, line, func_, parentPc
                parent = f.inl_index(parent_run)
                blob += (parent & 0xFFFF).to_bytes(2, E) + bytes(2) + u32(0) + u32(0) \
                    + u32(nameoff) + u32(ppc)
    t.table_off = (len(blob) + 15) & ~15 if t.has_inline else 0
    t.gofunc = t.base_va if v >= 118 and t.has_inline else 0
    table_va = t.base_va + t.table_off

    def extras(k: int, pos: int) -> bytes:
        """The pcdata and funcdata arrays of function k, which start at
        table offset pos (runtime2.go: _func, then pcdata, then funcdata)."""
        f = t.funcs[k]
        if not f.inl:
            return b""
        inl_tab = tabs[k][3] + (pctab_base if v == 12 else 0)
        out = bytearray(u32(0) + u32(0) + u32(inl_tab))       # PCDATA_InlTreeIndex = 2
        nfd = t.funcdata_inltree + 1
        if v >= 118:
            fd = [0xFFFFFFFF] * nfd
            fd[t.funcdata_inltree] = tree_offs[k]
            out += b"".join(u32(x) for x in fd)
        else:
            if P == 8 and (table_va + pos + len(out)) % 8:
                out += bytes(4)                               # pointers are aligned
            fd = [0] * nfd
            fd[t.funcdata_inltree] = t.base_va + tree_offs[k]
            out += b"".join(ptr(x) for x in fd)
        return bytes(out)

    def counts(k: int) -> Tuple[int, int]:
        f = t.funcs[k]
        return (3, t.funcdata_inltree + 1) if f.inl else (0, 0)

    def finish(table: bytes) -> SynTable:
        t.data = table
        t.image = bytes(blob) + bytes(t.table_off - len(blob)) + table if t.has_inline else table
        return t

    pctab_base = 0
    if v == 12:
        pctab_base = name_base + len(names)
        return finish(_build12(t, E, entries, names, name_offs, pctab, tabs, extras, counts).data)

    filetab = bytearray()
    cutab = bytearray()
    for name in t.files:
        cutab += u32(len(filetab))
        filetab += name.encode() + b"\0"

    nwords = 8 if v >= 118 else 7
    hdr_size = 8 + nwords * P
    # The linker aligns the function table (and so the records, whose
    # funcdata pointers are pointer-aligned in memory): pad pctab.
    while (hdr_size + len(names) + len(cutab) + len(filetab) + len(pctab)) % 8:
        pctab.append(0)
    pcln_off = hdr_size + len(names) + len(cutab) + len(filetab) + len(pctab)

    # _func records (runtime/runtime2.go: _func).
    def record(k: int, pos: int) -> bytes:
        f = t.funcs[k]
        sp, fl, ln = tabs[k][:3]
        npc, nfd = counts(k)
        r = bytearray()
        r += u32(entries[k] - t.text_start) if v >= 118 else ptr(entries[k])
        r += u32(name_offs[k]) + u32(f.args) + u32(0)        # nameOff args deferreturn
        r += u32(sp) + u32(fl) + u32(ln) + u32(npc)          # pcsp pcfile pcln npcdata
        r += u32(0)                                          # cuOffset
        if v >= 120:
            r += u32(f.start_line)
        r += bytes([0, 0, 0, nfd])                           # funcID flag pad nfuncdata
        return bytes(r) + extras(k, pos + len(r))

    field_size = 4 if v >= 118 else P
    ftab_size = (2 * n + 1) * field_size
    recs = bytearray()
    rec_offs = []
    for k in range(n):
        while (ftab_size + len(recs)) % P:
            recs.append(0)
        rec_offs.append(ftab_size + len(recs))
        recs += record(k, pcln_off + ftab_size + len(recs))
    functab = bytearray()
    for k in range(n):
        if v >= 118:
            functab += u32(entries[k] - t.text_start) + u32(rec_offs[k])
        else:
            functab += ptr(entries[k]) + ptr(rec_offs[k])
    functab += u32(t.end - t.text_start) if v >= 118 else ptr(t.end)
    pcln = functab + recs

    parts = [names, cutab, filetab, pctab, pcln]
    offs = []
    pos = hdr_size
    for p in parts:
        offs.append(pos)
        pos += len(p)
    words = [n, len(t.files)]
    if v >= 118:
        words.append(t.text_start)
    words += offs
    header = u32(MAGIC[v]) + bytes([0, 0, q, P]) + b"".join(ptr(w) for w in words)
    assert offs[4] == pcln_off
    return finish(header + b"".join(bytes(p) for p in parts))


def _build12(t, E, entries, names, name_offs, pctab, tabs, extras, counts) -> SynTable:
    """Go 1.2-1.15: every offset is relative to the table start."""
    P = t.ptr_size
    n = len(t.funcs)

    def u32(x: int) -> bytes:
        return (x & 0xFFFFFFFF).to_bytes(4, E)

    def ptr(x: int) -> bytes:
        return x.to_bytes(P, E)

    hdr = u32(MAGIC[12]) + bytes([0, 0, t.quantum, P]) + ptr(n)
    ftab_off = len(hdr)
    ftab_size = (2 * n + 1) * P
    after_ftab = ftab_off + ftab_size + 4                  # + u32 filetab offset
    # Layout after the function table: names, pctab, records, file strings, filetab.
    names_off = after_ftab
    pctab_off = names_off + len(names)
    recs_off = pctab_off + len(pctab)
    recs = bytearray()
    rec_offs = []
    for k, f in enumerate(t.funcs):
        while (recs_off + len(recs)) % P:
            recs.append(0)
        rec_offs.append(recs_off + len(recs))
        sp, fl, ln = tabs[k][:3]
        npc, nfd = counts(k)
        recs += ptr(entries[k]) + u32(names_off + name_offs[k]) + u32(f.args) + u32(0)
        recs += u32(pctab_off + sp) + u32(pctab_off + fl) + u32(pctab_off + ln) + u32(npc)
        recs += bytes([0, 0, 0, nfd])                        # funcID pad pad nfuncdata
        recs += extras(k, recs_off + len(recs))
    strs_off = recs_off + len(recs)
    strs = bytearray()
    str_offs = []
    for name in t.files:
        str_offs.append(strs_off + len(strs))
        strs += name.encode() + b"\0"
    filetab_off = strs_off + len(strs)
    while filetab_off % 4:
        strs.append(0)
        filetab_off += 1
    filetab = u32(len(t.files) + 1) + b"".join(u32(o) for o in str_offs)
    functab = b"".join(ptr(entries[k]) + ptr(rec_offs[k]) for k in range(n)) + ptr(t.end)
    t.data = (hdr + functab + u32(filetab_off) + bytes(names) + bytes(pctab) + bytes(recs)
              + bytes(strs) + filetab)
    return t


def expected(t: SynTable, pc: int) -> Optional[Tuple[str, str, int]]:
    """expected returns (function, file, line) for pc from the model, or None
    for a miss; a pc in a function's padding gives ("name", "", -1)."""
    if not t.entries or pc < t.entries[0] or pc >= t.end:
        return None
    for k, f in enumerate(t.funcs):
        start = t.entries[k]
        if start <= pc < start + f.size(t.quantum):
            off = pc - start
            for length, fidx, line in f.runs:
                if off < length * t.quantum:
                    return f.name, t.files[fidx], line
                off -= length * t.quantum
            return f.name, "", -1
    return None


def expected_frames(t: SynTable, pc: int) -> List[Tuple[str, str, int, bool]]:
    """expected_frames returns the frames for pc from the model, innermost
    first: (function, file, line, inlined); [] for a miss.  Each frame's
    position is that of the pc the walk is at; an inlined call moves the
    walk to its parent run's first pc (runtime/symtabinl.go)."""
    if not t.entries or pc < t.entries[0] or pc >= t.end:
        return []
    for k, f in enumerate(t.funcs):
        start = t.entries[k]
        if not start <= pc < start + f.size(t.quantum):
            continue
        off = pc - start
        run = None
        for j, r in enumerate(f.runs):
            if off < r[0] * t.quantum:
                run = j
                break
            off -= r[0] * t.quantum
        if run is None:
            return [(f.name, "", -1, False)]
        frames = []
        while True:
            r = f.runs[run]
            ix = f.inl_index(run)
            if ix < 0:
                frames.append((f.name, t.files[r[1]], r[2], False))
                return frames
            callee, parent_run, _sl = f.inl[ix]
            frames.append((callee, t.files[r[1]], r[2], True))
            run = parent_run
    return []


def inline_example() -> List[SynFunc]:
    """inline_example is a fixed pair of functions with a two-level inline
    tree (main.outer inlines pkg.mid, which inlines pkg.leaf) and a plain
    function: the example the round-trip test and the fuzz seeds write in
    every format that has inline trees."""
    f = SynFunc("main.outer", [(4, 0, 10, -1), (2, 1, 20, 0), (3, 1, 30, 1), (1, 0, 11, -1)],
                inl=[("pkg.mid", 0, 19), ("pkg.leaf", 1, 29)], start_line=9)
    return [f, SynFunc("main.plain", [(5, 0, 40)])]
