"""A test-only pclntab writer: builds synthetic tables from a simple model.

Written from the format descriptions (runtime/symtab.go, runtime/runtime2.go
_func, cmd/link/internal/ld/pcln.go, debug/gosym/pclntab.go), independently
of gosym's decoder, so that decoding what it writes checks the decoder.

Model: functions laid out back to back from `text_start`; each has a name,
a start line, and runs (length in quanta, file index, line).  The expected
answer for any pc follows directly from the model (see `expected`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from tests.leb128 import uleb as _uvarint

MAGIC = {12: 0xFFFFFFFB, 116: 0xFFFFFFFA, 118: 0xFFFFFFF0, 120: 0xFFFFFFF1}


@dataclass
class SynFunc:
    name: str
    runs: List[Tuple[int, int, int]]   # (length in quanta, file index, line)
    start_line: int = 0
    args: int = 0
    pad_quanta: int = 0                 # bytes after the tables' end, no line info

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
        spruns = [(r[0], 8 * (k % 3)) for k, r in enumerate(f.runs)]
        offs = []
        for runs in (spruns, fileruns, lineruns):
            offs.append(len(pctab))
            pctab += pcvalue_table(runs, q)
        tabs.append(offs)

    names = bytearray()
    name_offs = []
    for f in t.funcs:
        name_offs.append(len(names))
        names += f.name.encode() + b"\0"

    if v == 12:
        return _build12(t, E, entries, names, name_offs, pctab, tabs)

    filetab = bytearray()
    cutab = bytearray()
    for name in t.files:
        cutab += u32(len(filetab))
        filetab += name.encode() + b"\0"

    # _func records (runtime/runtime2.go: _func).
    def record(k: int) -> bytes:
        f = t.funcs[k]
        sp, fl, ln = tabs[k]
        r = bytearray()
        r += u32(entries[k] - t.text_start) if v >= 118 else ptr(entries[k])
        r += u32(name_offs[k]) + u32(f.args) + u32(0)        # nameOff args deferreturn
        r += u32(sp) + u32(fl) + u32(ln) + u32(0)            # pcsp pcfile pcln npcdata
        r += u32(0)                                          # cuOffset
        if v >= 120:
            r += u32(f.start_line)
        r += bytes([0, 0, 0, 0])                             # funcID flag pad nfuncdata
        return bytes(r)

    field_size = 4 if v >= 118 else P
    ftab_size = (2 * n + 1) * field_size
    recs = bytearray()
    rec_offs = []
    for k in range(n):
        while (ftab_size + len(recs)) % P:
            recs.append(0)
        rec_offs.append(ftab_size + len(recs))
        recs += record(k)
    functab = bytearray()
    for k in range(n):
        if v >= 118:
            functab += u32(entries[k] - t.text_start) + u32(rec_offs[k])
        else:
            functab += ptr(entries[k]) + ptr(rec_offs[k])
    functab += u32(t.end - t.text_start) if v >= 118 else ptr(t.end)
    pcln = functab + recs

    nwords = 8 if v >= 118 else 7
    hdr_size = 8 + nwords * P
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
    t.data = header + b"".join(bytes(p) for p in parts)
    return t


def _build12(t, E, entries, names, name_offs, pctab, tabs) -> SynTable:
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
        sp, fl, ln = tabs[k]
        recs += ptr(entries[k]) + u32(names_off + name_offs[k]) + u32(f.args) + u32(0)
        recs += u32(pctab_off + sp) + u32(pctab_off + fl) + u32(pctab_off + ln) + u32(0)
        recs += bytes([0, 0, 0, 0])                          # funcID pad pad nfuncdata
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
