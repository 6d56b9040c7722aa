"""Profiles made to measure and `go tool pprof`'s view of them, shared by
benches/bench_pprof.py and tests/differential/test_pprof.py: make_profile
(random pcs of a binary in its own mapping, plus two foreign mappings),
go_tool_pprof (runs `go tool pprof -symbolize=local -proto`), and compare
(gosym's frames against go tool pprof's, location by location, with Go's
debug/gosym deciding where go tool pprof is wrong)."""
from __future__ import annotations

import gzip
import random
from pathlib import Path
from typing import Dict, List, Tuple

import gosym
from gosym import pprof
from gosym.toolchain import go_env, goroot

GO = "1.27.3"
SEED = 20261201
Frames = List[Tuple[str, str, int, int]]


def go_tool_pprof(profile: Path, out: Path) -> List[str]:
    """The command line of `go tool pprof -symbolize=local -proto` writing out."""
    go = str(goroot(GO) / "bin" / "go")
    return [go, "tool", "pprof", "-symbolize=local", "-proto", "-output", str(out), str(profile)]


def go_tool_env(tmp: Path) -> dict:
    """The environment for go_tool_pprof: offline, its temp files in tmp."""
    return go_env(goroot(GO), extra={"PPROF_TMPDIR": str(tmp), "HOME": str(tmp)})


def log(msg: str) -> None:
    import sys
    print(msg, file=sys.stderr, flush=True)


def make_profile(path: str, n: int, seed: int = SEED) -> bytes:
    """A gzipped profile with n locations in the binary's mapping (random
    pcs inside its functions) and n // 20 in each of two foreign mappings."""
    rng = random.Random(seed)
    cls = pprof.profile_class()
    prof = cls()
    strings: Dict[str, int] = {}

    def s(text: str) -> int:
        if text not in strings:
            strings[text] = len(prof.string_table)
            prof.string_table.append(text.encode())
        return strings[text]

    s("")
    prof.sample_type.add(type=s("samples"), unit=s("count"))
    with gosym.open(path) as b:
        seg = next(sg for sg in b.container.segments if sg.flags & 1)  # executable
        cols = b.functions.columns()
        entries, ends = cols.entry, cols.end
        nf = len(entries)
        pcs = []
        while len(pcs) < n:
            i = rng.randrange(nf)
            if ends[i] > entries[i]:
                pcs.append(rng.randrange(entries[i], ends[i]))
    prof.mapping.add(id=1, memory_start=seg.addr, memory_limit=seg.addr + seg.mem_size,
                     file_offset=seg.offset, filename=s(path))
    prof.mapping.add(id=2, memory_start=0x7F0000000000, memory_limit=0x7F0000200000,
                     file_offset=0, filename=s("/lib/x86_64-linux-gnu/libc.so.6"))
    prof.mapping.add(id=3, memory_start=0x7FFF00000000, memory_limit=0x7FFF00002000,
                     file_offset=0, filename=s("[vdso]"))
    lid = 0
    for pc in sorted(set(pcs)):
        lid += 1
        prof.location.add(id=lid, mapping_id=1, address=pc)
    for mid, base in ((2, 0x7F0000000000), (3, 0x7FFF00000000)):
        for k in range(n // 20):
            lid += 1
            prof.location.add(id=lid, mapping_id=mid, address=base + 16 * k)
    for loc in prof.location:
        prof.sample.add(location_id=[loc.id], value=[1])
    return gzip.compress(prof.SerializeToString(), mtime=0)


def frames_by_address(data: bytes, mapping_id: int = 1) -> Dict[int, Frames]:
    """Per address of the mapping, its frames (function, file, line, start line), innermost first."""
    prof = pprof.parse_profile(data)
    st = [x.decode() for x in prof.string_table]
    fn = {f.id: f for f in prof.function}
    out = {}
    for loc in prof.location:
        if loc.mapping_id != mapping_id:
            continue
        out[loc.address] = [(st[fn[ln.function_id].name], st[fn[ln.function_id].filename], ln.line,
                             fn[ln.function_id].start_line) for ln in loc.line]
    return out


def _pprof_name(name: str) -> str:
    """A name as go tool pprof writes it: parenthesized groups inside [...]
    (argument lists in generic shapes) removed, as its C++ demangling does."""
    out, square, paren = [], 0, 0
    for c in name:
        if c == "[":
            square += 1
        elif c == "]":
            square -= 1
        if square > 0 and c == "(":
            paren += 1
        if not paren:
            out.append(c)
        if paren and c == ")":
            paren -= 1
    return "".join(out)


def _norm(want: Frames, got: Frames) -> Frames:
    """got as go tool pprof would write it: no start lines (it writes 0),
    no file where the line is unknown (-1), generic names shortened."""
    return [(_pprof_name(f), "" if ln < 0 and i < len(want) and not want[i][1] else fi, ln, 0)
            for i, (f, fi, ln, _) in enumerate(got)]


def compare(go: Dict[int, Frames], ours: Dict[int, Frames], path: str) -> Dict[str, int]:
    """Location by location; raises on a real difference.  Where go tool
    pprof disagrees with gosym, Go's debug/gosym (tests/oracle, with the
    right text base) decides: if go tool pprof disagrees with it too (cgo
    binaries of Go 1.26+: it takes .text as the text base), gosym must
    agree with it (the physical function, the innermost file:line)."""
    same = missing_inline = no_line = 0
    bad = []
    disputed = []
    for addr, want in go.items():
        raw = ours.get(addr, [])
        got = _norm(want[-len(raw):] if len(want) > len(raw) else [("", "", 0, 0)] * (len(raw) - len(want)) + want, raw)
        if got == want:
            same += 1
        elif want and len(want) < len(got) and got[-len(want):] == want:
            missing_inline += 1
        elif len(want) == 1 and len(got) > 1 and want[0] == (got[-1][0], got[0][1], got[0][2], 0):
            # No inline expansion (no DWARF): debug/gosym's PCToLine answer,
            # the physical function with the innermost frame's file:line.
            missing_inline += 1
        elif len(want) == len(got) == 1 and got[0][2] == -1 and got[0][0] == want[0][0]:
            # a linker marker (go:textfipsstart) at the address of the next
            # function: go tool pprof gives that function's line, gosym none
            no_line += 1
            log(f"  {addr:#x} {want[0][0]}: gosym no line, go tool pprof {want[0][1]}:{want[0][2]}")
        else:
            disputed.append((addr, want, raw))
    go_wrong = 0
    if disputed:
        from tests.oracle.oracle import run_oracle

        ref = {r["pc"]: r for r in run_oracle(path, [a for a, _, _ in disputed], funcs=False)["lookups"]}
        for addr, want, raw in disputed:
            r = ref[addr]
            oracle = [(r["func"], r["file"] or "", r["line"] or 0)] if r["func"] else []
            mine = [(raw[-1][0], raw[0][1], raw[0][2])] if raw else []
            go_says = [(want[-1][0], want[0][1], want[0][2])] if want else []
            if go_says != oracle and mine == oracle:
                go_wrong += 1
            elif mine and oracle and mine[0][0] == oracle[0][0] and mine[0][2] == -1:
                # the linker's marker again (debug/gosym reads a line from its
                # empty table: -5 here, escape.go:7 in another binary)
                no_line += 1
                log(f"  {addr:#x} {mine[0][0]}: gosym no line, debug/gosym {oracle[0][1]}:{oracle[0][2]}")
            else:
                bad.append((addr, want, raw))
    if len(ours) != len(go):
        bad.append((0, f"{len(go)} locations", f"{len(ours)} locations"))
    if bad:
        for addr, want, got in bad[:10]:
            log(f"  {addr:#x}: go tool pprof {want}\n  {' ' * len(hex(addr))}  gosym        {got}")
        raise AssertionError(f"{len(bad)} locations differ from go tool pprof")
    return {"same": same, "go_inlined_missing": missing_inline, "gosym_no_line": no_line,
            "go_wrong_debug_gosym_agrees": go_wrong}


