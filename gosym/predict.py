"""What `-ldflags=-s`, `-w`, `-s -w` and `-buildid=` would save, from one binary: `gosym cost --predict`.

No rebuild: the prediction takes the sections each flag removes out of the
file and lays the rest out again the way Go's linker does (cmd/link/internal/ld).

ELF (exact up to a few bytes on internally linked Go binaries).  The loadable
segments come first; the unmapped tail starts at the data segment's end rounded
up to the segment quantum (`Segdwarf.Fileoff`): the DWARF sections, then
`.symtab` (aligned to the word size), `.strtab`, `.shstrtab`.  Section headers
of an internally linked binary sit in the first page, before `.text`, so
dropping some moves nothing.  So: -w removes the `.debug_*`/`.zdebug_*`
sections, -s removes `.symtab`/`.strtab` and, from Go 1.22 (and on every ELF
before it), implies -w; `.shstrtab` loses the removed names.  Mapped bytes do
not change: the removed sections are not loaded.  What is not modelled: the
build settings in `.go.buildinfo` record the new `-ldflags` (a few tens of
bytes in `.rodata`/`.go.buildinfo`, mapped) and a different build ID changes
the compressed DWARF by a few bytes.  A binary whose section headers lie at
the end (external linking) gets them re-placed after the last section.

PE: sections are padded to FileAlignment in the file and every section is part
of the image, so -w's DWARF sections count in both the file and the mapped
bytes; -s drops the COFF symbol table and its string table at the end of the
file.  Mach-O: -w drops the `__DWARF` segment (page-rounded); -s drops the
symbol and string tables from `__LINKEDIT` (a mapped segment); before Go 1.22
-s did not imply -w on Mach-O.  PE and Mach-O predictions ignore the header
shrink (one load command or section-table entry fewer, inside the header).

-buildid= drops the Go build-ID note and, because the go command derives the
GNU build ID from it, the GNU one too (ELF; in the header page, so no byte
moves).  -trimpath is not predicted: it rewrites every file name in the
pclntab and DWARF, changing their sizes in ways the binary does not record.
"""
from __future__ import annotations

import re
import struct
from typing import Any, Dict, List, Optional, Tuple

from gosym import consequences as _cq
from gosym.cost import cost

FLAGSETS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("-ldflags=-s", ("s",)),
    ("-ldflags=-w", ("w",)),
    ("-ldflags='-s -w'", ("s", "w")),
    ("-ldflags=-buildid=", ("buildid",)),
)
NOT_PREDICTED = {"-trimpath": "rewrites every file name in the pclntab and DWARF: the new sizes are not "
                              "recorded in the binary, so gosym does not predict it (rebuild with gosym matrix)"}

_DWARF = (".debug_", ".zdebug_", "__debug_", "__zdebug_")
_SYMTAB_SECTIONS = (".symtab", ".strtab")
_NOTES = (".note.go.buildid", ".note.gnu.build-id")


def _go_minor(version: Optional[str]) -> Optional[int]:
    m = re.match(r"go1\.(\d+)", version or "")
    return int(m.group(1)) if m else None


def _removed(rep: Dict[str, Any], what: Tuple[str, ...]) -> Tuple[List[str], bool, bool]:
    """(section names removed, DWARF removed, symbol table removed) for one flag set."""
    minor = _go_minor(rep.get("go_version"))
    s_implies_w = rep["format"] != "Mach-O" or (minor is not None and minor >= 22)
    drop_dwarf = "w" in what or ("s" in what and s_implies_w)
    drop_sym = "s" in what
    names = []
    for s in rep["sections"]:
        n = s["name"]
        if (drop_dwarf and n.startswith(_DWARF)) or (drop_sym and n in _SYMTAB_SECTIONS) or \
                ("buildid" in what and n in _NOTES):
            names.append(n)
    return names, drop_dwarf, drop_sym


def _elf_layout(path: str, rep: Dict[str, Any], removed: List[str]) -> Tuple[int, int, List[str]]:
    """(file size, mapped bytes, notes) of the ELF after removing sections."""
    secs = [s for s in rep["sections"] if s["name"]]
    with open(path, "rb") as f:
        head = f.read(64)
    is64 = head[4] == 2
    order = "<" if head[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(order + "Q", head, 0x28)
        shentsize, shnum = struct.unpack_from(order + "HH", head, 0x3A)
    else:
        shoff, = struct.unpack_from(order + "I", head, 0x20)
        shentsize, shnum = struct.unpack_from(order + "HH", head, 0x2E)
    notes: List[str] = []
    tail = sorted((s for s in secs if not s["mapped"] and s["size"]), key=lambda s: s["offset"])
    if not tail:
        return rep["file_size"], rep["mapped_bytes"], notes
    pos = base = tail[0]["offset"]
    loaded_end = max((s["offset"] + s["size"] for s in secs if s["mapped"] and s["size"]), default=0)
    if base < loaded_end:   # an unmapped section among the loaded ones: not Go's layout
        notes.append("unmapped sections lie between loaded ones: predicted by subtraction")
        return rep["file_size"] - sum(s["size"] for s in secs if s["name"] in removed), rep["mapped_bytes"], notes
    name_bytes = sum(len(n) + 1 for n in removed)
    for s in tail:
        if s["name"] in removed:
            continue
        size = s["size"] - (name_bytes if s["name"] == ".shstrtab" else 0)
        align = (8 if is64 else 4) if s["name"] == ".symtab" else 1
        pos = -(-pos // align) * align + size
    if shoff >= base:   # section headers at the end (external linker)
        pos = -(-pos // 8) * 8 + (shnum - len(removed)) * shentsize
        notes.append("section headers at the end of the file: re-placed after the last section")
    return pos, rep["mapped_bytes"], notes


def _sizes(path: str, rep: Dict[str, Any], removed: List[str], drop_sym: bool) -> Tuple[int, int, List[str]]:
    fmt = rep["format"]
    if fmt == "ELF":
        return _elf_layout(path, rep, removed)
    if fmt not in ("PE", "Mach-O"):
        return rep["file_size"], rep["mapped_bytes"], [f"{fmt} image: no sections, nothing predicted to go"]
    secs = {s["name"]: s for s in rep["sections"]}
    file_size, mapped = rep["file_size"], rep["mapped_bytes"]
    notes = []
    if fmt == "PE":
        align = 512
        for n in removed:
            s = secs[n]
            padded = -(-s["size"] // align) * align
            file_size -= padded
            if s["mapped"]:
                mapped -= padded
        if drop_sym and ".symtab" not in removed:   # the container did not list the COFF table as a section
            file_size -= rep["symtab_size"] + _coff_strtab(path)
        notes.append("PE: section-table entries and header padding not modelled")
    else:   # Mach-O
        dwarf = sum(secs[n]["size"] for n in removed if n.startswith(_DWARF))
        if dwarf:
            file_size -= -(-dwarf // 16384) * 16384 if rep["arch"] == "arm64" else -(-dwarf // 4096) * 4096
        if drop_sym:
            file_size -= rep["symtab_size"]
            mapped -= rep["symtab_size"]
        notes.append("Mach-O: load-command shrink and __LINKEDIT padding not modelled")
    return max(0, file_size), max(0, mapped), notes


def _coff_strtab(path: str) -> int:
    """The size of the COFF string table that follows the symbols (its first word; 0 when unreadable)."""
    with open(path, "rb") as f:
        head = f.read(0x40)
        if len(head) < 0x40:
            return 0
        lfanew, = struct.unpack_from("<I", head, 0x3C)
        f.seek(lfanew + 12)
        words = f.read(8)
        if len(words) < 8:
            return 0
        ptr, nsym = struct.unpack("<II", words)
        if not ptr:
            return 0
        f.seek(ptr + 18 * nsym)
        word = f.read(4)
    return struct.unpack("<I", word)[0] if len(word) == 4 else 0


def predict(path: str, report: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """predict returns `{path, format, file_size, mapped_bytes, predictions: [...], not_predicted}`.

    Each prediction: {label, removed (sections), file_size, mapped_bytes, file_saved,
    mapped_saved, notes, survives, consequences, breaks}.  report is the file's
    `gosym.cost` report when the caller has it.
    """
    rep = report if report is not None else cost(path)
    now = _cq.consequences(path, rep["survives"])
    out = []
    for label, what in FLAGSETS:
        removed, drop_dwarf, drop_sym = _removed(rep, what)
        size, mapped, notes = _sizes(path, rep, removed, drop_sym)
        facts = dict(now["facts"])
        if drop_dwarf:
            facts.update(dwarf_lines=False, dwarf_types=False, frame_info=facts.get("frame_info") and
                         any(s["name"] in (".eh_frame", "__eh_frame") for s in rep["sections"]),
                         dwarf_version=0, macho_zdebug=False)
        if drop_sym:
            facts.update(symbols=False)
            if rep["format"] == "PE":
                facts.update(pe_pclntab_symbols=False)
        if "buildid" in what:
            facts.update(go_build_id=False, gnu_build_id=False)
        tools = _cq.rules(facts)
        survives = {k: facts[k] for k in rep["survives"] if k in facts}
        out.append({"label": label, "removed": removed, "file_size": size, "mapped_bytes": mapped,
                    "file_saved": rep["file_size"] - size, "mapped_saved": rep["mapped_bytes"] - mapped,
                    "notes": notes, "survives": survives,
                    "lost": [k for k, v in rep["survives"].items() if v and not survives.get(k, v)],
                    "consequences": tools, "breaks": _cq.broken(now["tools"], tools)})
    return {"path": path, "format": rep["format"], "go_version": rep["go_version"],
            "file_size": rep["file_size"], "mapped_bytes": rep["mapped_bytes"], "predictions": out,
            "not_predicted": dict(NOT_PREDICTED)}


def render_text(p: Dict[str, Any]) -> str:
    """render_text formats a prediction for people."""
    out = [f"predicted from {p['path']} ({p['format']}, {p['go_version'] or 'Go version unknown'}): "
           f"now {p['file_size']} bytes in the file, {p['mapped_bytes']} mapped", "",
           f"{'FLAGS':<22} {'FILE BYTES':>11} {'SAVED':>8} {'MAPPED':>11} {'SAVED':>8}  BREAKS"]
    for r in p["predictions"]:
        pct = 100.0 * r["file_saved"] / p["file_size"] if p["file_size"] else 0.0
        out.append(f"{r['label']:<22} {r['file_size']:>11} {pct:>7.1f}% {r['mapped_bytes']:>11} "
                   f"{r['mapped_saved']:>8}  {', '.join(r['breaks']) or 'nothing'}")
    for flag, why in p["not_predicted"].items():
        out.append(f"{flag:<22} not predicted: {why}")
    notes = sorted({n for r in p["predictions"] for n in r["notes"]})
    if notes:
        out += [""] + [f"note: {n}" for n in notes]
    return "\n".join(out) + "\n"
