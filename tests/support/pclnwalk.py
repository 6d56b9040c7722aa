"""An independent Python walk of a pclntab, for checking `gosym cost`'s split.

Written from the Go runtime's layout (runtime/symtab.go: pcHeader, _func,
functab; runtime/symtab.go: step for the pc-value encoding), not from gosym's
C code: it reads the header words, the function table, every _func record
and the length of every pc-value table it points to, and says how many
bytes of the table each kind of data holds.  Formats: Go 1.16 (magic
0xfffffffa), 1.18 (0xfffffff0) and 1.20+ (0xfffffff1).  Slow (pure Python):
meant for fixtures and a few corpus binaries.

Categories follow `gosym cost`'s names; a pc-value table shared by several
functions or kinds counts once, for the first function (in table order) and
kind (pcsp, pcfile, pcln, then pcdata 0, 1, ...) that uses it.
"""
from __future__ import annotations

import struct
from typing import Dict, Optional

MAGICS = {0xFFFFFFFA: 116, 0xFFFFFFF0: 118, 0xFFFFFFF1: 120}
PCDATA_NAMES = ("pcdata_unsafepoint", "pcdata_stackmap", "pcdata_inltree_index", "pcdata_arglive")


class WalkError(ValueError):
    """The table is not one this walker reads."""


def _pcvalue_len(tab: bytes, off: int) -> int:
    """Bytes of the pc-value table at off, its terminating 0 included
    (runtime/symtab.go step: pairs of uvarints, value delta then pc delta;
    a value delta of 0 after the first pair ends the table)."""
    pos, first = off, True
    while True:
        for k in range(2):
            v, shift = 0, 0
            while True:
                if pos >= len(tab):
                    raise WalkError(f"pc-value table at {off:#x} runs off the table")
                b = tab[pos]
                pos += 1
                v |= (b & 0x7F) << shift
                shift += 7
                if b < 0x80:
                    break
            if k == 0 and v == 0 and not first:
                return pos - off
        first = False


def _record_size(tab: bytes, version: int, ptr: int, rec: int, fixed: int, npcdata: int) -> int:
    """Bytes of the _func record at rec: its fixed part, the pcdata u32 array
    and the funcdata array (u32 offsets from 1.18; before, pointers aligned
    to the pointer size after pcdata)."""
    nfuncdata = tab[rec + fixed - 1]
    arrays = 4 * npcdata
    if version == 116:
        if nfuncdata:
            arrays += (-(rec + fixed + arrays)) % ptr + ptr * nfuncdata
    else:
        arrays += 4 * nfuncdata
    return fixed + arrays


def walk(tab: bytes, big_endian: bool = False, gofunc_off: Optional[int] = None) -> Dict[str, int]:
    """walk returns {category: bytes} for the pclntab *tab* (the table's own
    bytes, from its magic on).  *gofunc_off* is where go:func.* starts inside
    the table (Go 1.26+), when known: the rest of the table is funcdata."""
    E = ">" if big_endian else "<"
    magic = struct.unpack_from(E + "I", tab, 0)[0]
    version = MAGICS.get(magic)
    if version is None:
        raise WalkError(f"magic {magic:#x}: not a Go 1.16+ table")
    ptr = tab[7]
    word = {4: "I", 8: "Q"}[ptr]
    nwords = 7 if version == 116 else 8
    words = struct.unpack_from(E + word * nwords, tab, 8)
    if version == 116:
        nfunc, _nfiles, funcname, cu, filetab, pctab, pcln = words
    else:
        nfunc, _nfiles, _text, funcname, cu, filetab, pctab, pcln = words
    out = {k: 0 for k in ("header", "functab", "func_records", "funcnames", "cutab", "filetab",
                          "pcsp", "pcfile", "pcln", *PCDATA_NAMES, "pcdata_other", "funcdata")}
    out["header"] = 8 + nwords * ptr
    out["funcnames"], out["cutab"], out["filetab"] = cu - funcname, filetab - cu, pctab - filetab
    # functab: nfunc (entry, funcoff) pairs and the end entry; uintptr words
    # before 1.18, uint32 offsets from 1.18 on.  funcoff is from pcln.
    field = ptr if version == 116 else 4
    out["functab"] = (2 * nfunc + 1) * field
    fw = {4: "I", 8: "Q"}[field]
    funcoffs = [struct.unpack_from(E + fw, tab, pcln + (2 * i + 1) * field)[0] for i in range(nfunc)]
    # _func: entry (uintptr before 1.18, uint32 entryoff from 1.18), then
    # int32 nameoff, args, uint32 deferreturn, pcsp, pcfile, pcln, npcdata,
    # cuOffset, [int32 startLine: 1.20+], uint8 funcID, flag, pad, nfuncdata.
    entry = ptr if version == 116 else 4
    nfix = 8 if version < 120 else 9
    fixed = entry + 4 * nfix + 4
    seen_rec = set()
    claimed = set()
    for off in funcoffs:
        rec = pcln + off
        if rec in seen_rec:
            continue
        seen_rec.add(rec)
        _name, _args, _defer, pcsp, pcfile, pcl, npcdata = struct.unpack_from(E + "iiIIIII", tab, rec + entry)
        out["func_records"] += _record_size(tab, version, ptr, rec, fixed, npcdata)
        pcdata = struct.unpack_from(E + "I" * npcdata, tab, rec + fixed)
        kinds = [("pcsp", pcsp), ("pcfile", pcfile), ("pcln", pcl)]
        kinds += [(PCDATA_NAMES[j] if j < 4 else "pcdata_other", t) for j, t in enumerate(pcdata)]
        for cat, t in kinds:
            if t and t not in claimed:
                claimed.add(t)
                out[cat] += _pcvalue_len(tab, pctab + t)
    if gofunc_off is not None:
        out["funcdata"] = len(tab) - gofunc_off
    out["other"] = len(tab) - sum(out.values())
    return out


def walk_funcs(tab: bytes, big_endian: bool = False, gofunc_off: Optional[int] = None):
    """walk_funcs returns, per function in table order, (name, owned bytes,
    whether it has a pcsp or pcln table); owned bytes are:
    its (entry, funcoff) pair, its _func record with the pcdata/funcdata
    arrays, its name with the NUL and the pc-value tables it is the first to
    use (pcsp, pcfile, pcln, then pcdata in order; a table, record or name
    already used by an earlier function counts for that one only) and, when
    go:func.* starts at gofunc_off inside the table (Go 1.26+), the objects
    its funcdata offsets name: each from its offset to the next named one
    (or the table's end), for the first function naming it."""
    E = ">" if big_endian else "<"
    version = MAGICS.get(struct.unpack_from(E + "I", tab, 0)[0])
    if version is None:
        raise WalkError("not a Go 1.16+ table")
    ptr = tab[7]
    nwords = 7 if version == 116 else 8
    words = struct.unpack_from(E + {4: "I", 8: "Q"}[ptr] * nwords, tab, 8)
    nfunc, funcname, pctab, pcln = words[0], words[-5], words[-2], words[-1]
    field = ptr if version == 116 else 4
    fw = {4: "I", 8: "Q"}[field]
    entry = ptr if version == 116 else 4
    fixed = entry + 4 * (8 if version < 120 else 9) + 4
    seen_rec, seen_name, claimed = set(), set(), set()
    first_user: Dict[int, int] = {}
    out: list = []
    for i in range(nfunc):
        rec = pcln + struct.unpack_from(E + fw, tab, pcln + (2 * i + 1) * field)[0]
        nameoff, _args, _defer, pcsp, pcfile, pcl, npcdata = struct.unpack_from(E + "iiIIIII", tab, rec + entry)
        name_at = funcname + nameoff
        raw = tab[name_at:tab.index(b"\0", name_at)]
        name = raw.decode("utf-8", "replace")
        owned = 2 * field
        if rec not in seen_rec:
            seen_rec.add(rec)
            owned += _record_size(tab, version, ptr, rec, fixed, npcdata)
        if name_at not in seen_name:
            seen_name.add(name_at)
            owned += len(raw) + 1
        pcdata = struct.unpack_from(E + "I" * npcdata, tab, rec + fixed)
        for t in (pcsp, pcfile, pcl) + tuple(pcdata):
            if t and t not in claimed:
                claimed.add(t)
                owned += _pcvalue_len(tab, pctab + t)
        if gofunc_off is not None and version >= 118:
            nfd = tab[rec + fixed - 1]
            for off in struct.unpack_from(E + "I" * nfd, tab, rec + fixed + 4 * npcdata):
                if off != 0xFFFFFFFF and gofunc_off + off < len(tab) and off not in first_user:
                    first_user[off] = i
        out.append([name, owned, bool(pcsp or pcl)])
    starts = sorted(first_user)
    for k, off in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(tab) - gofunc_off  # type: ignore[operator]
        out[first_user[off]][1] += end - off
    return [tuple(r) for r in out]
