#!/usr/bin/env python3
"""Benchmark gosym against Go's own debug/gosym on the same binaries.

    python benches/bench_pclntab.py [BINARY ...] [--json [FILE]] [--pcs N] [--repeat R]

BINARY is a path or the name of a row of tests/corpus/public.tsv; without
one, the three largest corpus binaries are used (fetched into the cache on
first use).  For each binary the harness

* opens it with gosym, reads the text base gosym found (pclntab.text_start,
  right for cgo binaries too), draws N random pcs (fixed seed, uniform in
  [first entry, last end)) and collects the first pc of every line-table row;
* builds benches/gobench (Go, standard library only) with the pinned
  toolchain into <cache>/bench/<hash>/ and runs it on the same binary, text
  base and pcs; it times debug/gosym phase by phase and dumps its answers;
* times the same phases with gosym in this process, and measures gosym's
  memory in a fresh subprocess;
* checks that both tools answer the same for every random pc and every row;
* prints one table per binary: phase, gosym, debug/gosym, go/gosym ratio
  (>1 means gosym is faster), then the issue's targets, met or missed.

Each time is the minimum over R runs.  The exit status is 1 when a tool
failed to run or when the answers disagree other than in the explained way
(functions with no line or file table); the timings themselves assert
nothing.
"""
from __future__ import annotations

import argparse
import array
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import gosym  # noqa: E402
from benchlib import (_clean, _zero_table,  # noqa: E402,F401
                      best_ns, build_gobench, fmt_kb, fmt_ns, load_dump, load_strings, log,
                      proc_status_kb, provenance, random_pcs, resolve_binaries)

SMALL = 100_000          # pcs in the "100k" phases
AGREE_SHOWN = 10         # mismatches printed in detail
GO_BUDGET_S = 30         # gobench stops repeating a phase after this much time

# Targets from the issue.
OPEN_TARGET_NS = 5_000_000
BUILD_TARGET_RATIO = 3.0
BATCH_TARGET_RATIO = 25.0
SINGLE_TARGET_NS = 1_000
MEM_PER_FUNC = 16



def collect_rows(tab, nfunc):
    """collect_rows returns every line-table row of every function as
    (start pcs array('Q'), files list, lines array('i'))."""
    pcs = array.array("Q")
    files: list = []
    lines = array.array("i")
    for i in range(nfunc):
        p, f, ln, _end = tab.lines(i)
        pcs.extend(p)
        files.extend(f)
        lines.extend(ln)
    return pcs, files, lines


# ---------------------------------------------------------------- gosym phases

def time_gosym(path: str, pcs: array.array, small: int, repeat: int) -> dict:
    ph = {}

    def open_close():
        gosym.open(path).close()
    ph["open_locate"] = best_ns(repeat, open_close)

    def open_columns():
        b = gosym.open(path)
        b.functions.columns()
        b.close()
    ph["open_columns"] = best_ns(repeat, open_columns)

    b = gosym.open(path)
    try:
        def iterate():
            s = 0
            for f in b.functions:
                s += len(f.name) + f.entry
        ph["iterate"] = best_ns(repeat, iterate)

        pcs_small = pcs[:small]
        if small:
            ph["lookup_small"] = best_ns(repeat, lambda: b.lookup_many(pcs_small))
        if len(pcs):
            ph["lookup_large"] = best_ns(repeat, lambda: b.lookup_many(pcs))
            names = b.functions.columns().name

            def batch_resolved():
                idx, lines, offs = b.lookup_many(pcs)
                fname = b.file_name
                fns = [names[i] if i >= 0 else None for i in idx]
                files = [fname(o) for o in offs]
                return fns, files, lines
            ph["lookup_large_resolved"] = best_ns(repeat, batch_resolved)

        def singles(lk):
            for pc in pcs_small:
                lk(pc)
        if small:
            # warm: the same binary again and again, so the per-function
            # index (csrc/lookup.c) is filled after the first run.
            singles(b.lookup)
            ph["single_small_warm"] = best_ns(repeat, lambda: singles(b.lookup))

        tab = b._tab
        n = b.pclntab.nfunc

        def walk():
            lines = tab.lines
            for i in range(n):
                lines(i)
        ph["lines"] = best_ns(repeat, walk)
    finally:
        b.close()

    if small:
        # cold: a freshly opened binary per run (opening is not timed).
        cold = None
        for _ in range(repeat):
            b = gosym.open(path)
            try:
                lk = b.lookup
                gc.collect()
                t0 = time.perf_counter_ns()
                for pc in pcs_small:
                    lk(pc)
                d = time.perf_counter_ns() - t0
            finally:
                b.close()
            cold = d if cold is None else min(cold, d)
        ph["single_small_cold"] = cold
    return ph


def memprobe_main(path: str, pcs_file: str, small: int) -> None:
    """memprobe_main runs in a fresh interpreter and prints VmHWM (peak RSS)
    after each stage of use, and the RSS before opening; growth over that
    baseline is what gosym costs (the mapped pages it touched, its caches,
    and whatever the stage returns)."""
    pcs = array.array("Q")
    with open(pcs_file, "rb") as fh:
        pcs.frombytes(fh.read())
    pcs_small = pcs[:small]
    gc.collect()
    out = {"base_rss_kb": proc_status_kb("VmRSS")}
    b = gosym.open(path)
    out["hwm_open_kb"] = proc_status_kb("VmHWM")
    for pc in pcs_small:
        b.lookup(pc)
    out["hwm_single_kb"] = proc_status_kb("VmHWM")
    r = b.lookup_many(pcs_small)
    del r
    out["hwm_batch_kb"] = proc_status_kb("VmHWM")
    cols = b.functions.columns()
    out["hwm_columns_kb"] = proc_status_kb("VmHWM")
    for f in b.functions:
        f.name, f.entry
    r = b.lookup_many(pcs)
    del r
    for i in range(b.pclntab.nfunc):
        b._tab.lines(i)
    out["hwm_end_kb"] = proc_status_kb("VmHWM")
    del cols
    b.close()
    print(json.dumps(out))


def memprobe(path: str, pcs_file: str, small: int) -> dict:
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--_memprobe",
                           path, pcs_file, str(small)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"memory probe failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


# ---------------------------------------------------------------- agreement


class _Tally:
    """_Tally counts agreeing answers, explained differences and mismatches."""

    def __init__(self, total):
        self.total = total
        self.agree = 0
        self.explained = 0
        self.explained_shown = []
        self.bad = 0
        self.bad_shown = []

    def differ(self, b, i, detail):
        """differ records one disagreement at function index i."""
        why = _zero_table(b, i)
        if why:
            self.explained += 1
            if len(self.explained_shown) < 3:
                self.explained_shown.append(dict(detail, why=f"{why} offset 0"))
        else:
            self.bad += 1
            if len(self.bad_shown) < AGREE_SHOWN:
                self.bad_shown.append(detail)

    def as_dict(self):
        return {"agree": self.agree, "total": self.total, "explained": self.explained,
                "explained_examples": self.explained_shown,
                "mismatch": self.bad, "mismatches": self.bad_shown}


def agree_lookups(b, names, pcs, prefix, strings) -> dict:
    """Compare gosym's batch path (function, file, line) with PCToLine."""
    idx, lines, offs = b.lookup_many(pcs)
    gn, gf, gl = load_dump(prefix, "lookup")
    miss = 0xFFFFFFFF
    t = _Tally(len(pcs))
    fcache: dict = {}
    for k in range(len(pcs)):
        i = idx[k]
        name = _clean(names[i]) if i >= 0 else None
        o = offs[k]
        f = fcache.get(o)
        if f is None:
            f = fcache[o] = _clean(b.file_name(o))
        line = lines[k] if i >= 0 else -1
        g_name = strings[gn[k]] if gn[k] != miss else None
        g_file = strings[gf[k]] if gf[k] != miss else None
        if name == g_name and line == gl[k] and (i < 0 or f == g_file):
            t.agree += 1
            continue
        t.differ(b, i, {"pc": hex(pcs[k]), "gosym": [name, f, line],
                        "debug/gosym": [g_name, g_file, gl[k]]})
    return t.as_dict()


def agree_rows(b, row_pcs, row_files, row_lines, prefix, strings) -> dict:
    """Compare every row of gosym's lines() with PCToLine at its first pc."""
    gn, gf, gl = load_dump(prefix, "rows")
    miss = 0xFFFFFFFF
    t = _Tally(len(row_pcs))
    for k in range(len(row_pcs)):
        g_file = strings[gf[k]] if gf[k] != miss else None
        f = _clean(row_files[k])
        if f == g_file and row_lines[k] == gl[k]:
            t.agree += 1
            continue
        t.differ(b, b._tab.find(row_pcs[k]),
              {"pc": hex(row_pcs[k]), "gosym": [f, row_lines[k]],
               "debug/gosym": [strings[gn[k]] if gn[k] != miss else None, g_file, gl[k]]})
    return t.as_dict()


# ---------------------------------------------------------------- one binary

def bench_one(label, path, exe, go_ver, npcs, repeat, go_budget=GO_BUDGET_S,
              ndump=SMALL) -> dict:
    size = os.path.getsize(path)
    log(f"== {label}: preparing pcs and rows")
    b = gosym.open(path)
    info = b.pclntab
    cols = b.functions.columns()
    lo, hi = cols.entry[0], cols.end[-1]
    pcs = random_pcs(lo, hi, npcs)
    small = min(SMALL, npcs)
    ndump = min(ndump, npcs)
    load_before = os.getloadavg()
    row_pcs, row_files, row_lines = collect_rows(b._tab, info.nfunc)

    with tempfile.TemporaryDirectory(prefix="gosym-bench-") as tmp:
        pcs_file = os.path.join(tmp, "pcs.bin")
        rows_file = os.path.join(tmp, "rows.bin")
        prefix = os.path.join(tmp, "dump")
        for fname, arr in ((pcs_file, pcs), (rows_file, row_pcs)):
            a = arr if sys.byteorder == "little" else array.array("Q", arr)
            if a is not arr:
                a.byteswap()
            with open(fname, "wb") as fh:
                a.tofile(fh)

        log(f"== {label}: debug/gosym ({go_ver})")
        proc = subprocess.run([str(exe), "-bin", path, "-text", str(info.text_start),
                               "-pcs", pcs_file, "-small", str(small), "-rows", rows_file,
                               "-repeat", str(repeat), "-budget", str(go_budget),
                               "-dump", prefix, "-dumpn", str(ndump)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"gobench failed on {label}: {proc.stderr.strip()}")
        go = json.loads(proc.stdout)

        log(f"== {label}: gosym")
        ph = time_gosym(path, pcs, small, repeat)
        mem = memprobe(path, pcs_file, small)

        log(f"== {label}: agreement")
        strings = load_strings(prefix)
        agree_lk = agree_lookups(b, cols.name, pcs[:ndump], prefix, strings)
        agree_rw = agree_rows(b, row_pcs, row_files, row_lines, prefix, strings)
    b.close()

    gp = go["phases_ns"]
    nrows = len(row_pcs)
    phases = []

    def add(key, title, g, o, count=1, unit="total"):
        if g is None and o is None:
            return
        gv = g / count if g is not None else None
        ov = o / count if o is not None else None
        phases.append({"phase": key, "title": title, "unit": unit, "count": count,
                       "gosym_ns": gv, "go_ns": ov,
                       "ratio": (ov / gv) if gv and ov else None})

    add("open_locate", "open+locate", ph["open_locate"], gp.get("open_locate"))
    add("build", "function table: open+columns vs NewLineTable+NewTable",
        ph["open_columns"], gp.get("build"))
    add("open_build", "function table: open+columns vs open+locate+New*Table",
        ph["open_columns"], gp.get("open_build"))
    add("iterate", "iterate functions (name, entry)", ph["iterate"], gp.get("iterate"))
    if small:
        add("lookup_small", f"batch lookup_many {small // 1000}k, per pc",
            ph.get("lookup_small"), gp.get("lookup_small"), small, "per pc")
    if npcs:
        add("lookup_large", f"batch lookup_many {npcs // 1000}k, per pc",
            ph.get("lookup_large"), gp.get("lookup_large"), npcs, "per pc")
        add("lookup_large_resolved", f"batch {npcs // 1000}k + names/files in Python, per pc",
            ph.get("lookup_large_resolved"), gp.get("lookup_large"), npcs, "per pc")
    if small:
        add("single_small_cold", f"single lookup() x{small // 1000}k, fresh open, per call",
            ph.get("single_small_cold"), gp.get("lookup_small"), small, "per call")
        add("single_small_warm", f"single lookup() x{small // 1000}k, warm, per call",
            ph.get("single_small_warm"), gp.get("lookup_small"), small, "per call")
    add("lines", f"full line-table walk ({nrows} rows)", ph["lines"], gp.get("lines"))

    growth_lookup = mem["hwm_single_kb"] - mem["base_rss_kb"]
    growth_end = mem["hwm_end_kb"] - mem["base_rss_kb"]
    mem_target_kb = (size + MEM_PER_FUNC * info.nfunc) / 1024
    memory = {
        "gosym": mem,
        "go": go["rss_kb"],
        "gosym_growth_open_single_kb": growth_lookup,
        "gosym_growth_open_batch_kb": mem["hwm_batch_kb"] - mem["base_rss_kb"],
        "gosym_growth_end_kb": growth_end,
        "go_growth_build_kb": go["rss_kb"]["after_build"] - go["rss_kb"]["start"],
        "go_growth_end_kb": go["rss_kb"]["end"] - go["rss_kb"]["start"],
        "target_kb": mem_target_kb,
    }

    by = {p["phase"]: p for p in phases}
    targets = []

    def target(name, value, goal, met):
        targets.append({"target": name, "value": value, "goal": goal, "met": bool(met)})

    target("open+locate <= 5 ms", fmt_ns(ph["open_locate"]), "5 ms",
           ph["open_locate"] <= OPEN_TARGET_NS)
    r = by["build"]["ratio"]
    if r is not None:
        target("function table >= 3x faster than NewLineTable+NewTable",
               f"{r:.2f}x", f"{BUILD_TARGET_RATIO:g}x", r >= BUILD_TARGET_RATIO)
    if "lookup_large" in by and by["lookup_large"]["ratio"] is not None:
        r = by["lookup_large"]["ratio"]
        target("batch lookup >= 25x faster per pc than PCToLine", f"{r:.1f}x",
               f"{BATCH_TARGET_RATIO:g}x", r >= BATCH_TARGET_RATIO)
    for key, how in (("single_small_cold", "fresh open"), ("single_small_warm", "warm")):
        if key in by:
            v = by[key]["gosym_ns"]
            target(f"single lookup() <= 1 µs ({how})", fmt_ns(v), "1 µs", v <= SINGLE_TARGET_NS)
    target(f"memory <= file + 16 B x nfunc (RSS growth, open + {small // 1000}k lookup())",
           fmt_kb(growth_lookup), fmt_kb(mem_target_kb), growth_lookup <= mem_target_kb)
    target("memory <= file + 16 B x nfunc (RSS growth, peak of all phases)",
           fmt_kb(growth_end), fmt_kb(mem_target_kb), growth_end <= mem_target_kb)

    return {
        "binary": label, "path": path, "file_size": size, "format": b_format(path),
        "nfunc": info.nfunc, "pclntab_size": info.size, "text_start": info.text_start,
        "go_pclntab_size": go.get("pclntab_size"), "go_found_by": go.get("found_by"),
        "go_nfunc": go.get("nfunc"), "debug_gosym_toolchain": go_ver,
        "go_runs": go.get("runs"), "loadavg": [load_before, os.getloadavg()],
        "npcs": npcs, "small": small, "rows": nrows, "repeat": repeat,
        "phases": phases, "memory": memory, "targets": targets,
        "agreement": {"lookups": agree_lk, "rows": agree_rw},
    }


def b_format(path: str) -> str:
    with gosym.open(path) as b:
        return f"{b.format} {b.arch}"


# ---------------------------------------------------------------- output

def print_report(res: dict) -> None:
    out = sys.stdout
    print(f"\n{res['binary']}  ({res['format']}, {res['file_size'] / 1e6:.1f} MB, "
          f"{res['nfunc']} funcs, pclntab {res['pclntab_size'] / 1e6:.1f} MB, "
          f"{res['rows']} line rows; min of {res['repeat']}; "
          f"debug/gosym from {res['debug_gosym_toolchain']})", file=out)
    la = res["loadavg"]
    print(f"  load average {la[0][0]:.2f} before, {la[1][0]:.2f} after (2 cores: above ~1 the "
          f"times are inflated; compare ratios)", file=out)
    slow = {k: v for k, v in (res["go_runs"] or {}).items() if v < res["repeat"]}
    if slow:
        print("  debug/gosym phases over the time budget, run fewer times: "
              + ", ".join(f"{k} x{v}" for k, v in sorted(slow.items())), file=out)
    if res["go_pclntab_size"] != res["pclntab_size"] or res["go_nfunc"] != res["nfunc"]:
        print(f"  WARNING: debug/gosym saw pclntab {res['go_pclntab_size']} bytes, "
              f"{res['go_nfunc']} funcs", file=out)
    w = max(len(p["title"]) for p in res["phases"]) + 2
    print(f"  {'phase':<{w}}{'gosym':>12}{'debug/gosym':>14}{'go/gosym':>11}", file=out)
    for p in res["phases"]:
        ratio = f"{p['ratio']:.2f}x" if p["ratio"] is not None else "-"
        print(f"  {p['title']:<{w}}{fmt_ns(p['gosym_ns']):>12}{fmt_ns(p['go_ns']):>14}"
              f"{ratio:>11}", file=out)
    m = res["memory"]
    print(f"  {'peak RSS, whole run (absolute)':<{w}}{fmt_kb(m['gosym']['hwm_end_kb']):>12}"
          f"{fmt_kb(m['go']['end']):>14}", file=out)
    print(f"  {'RSS growth: open + ' + str(res['small'] // 1000) + 'k lookup()':<{w}}"
          f"{fmt_kb(m['gosym_growth_open_single_kb']):>12}{'-':>14}", file=out)
    print(f"  {'RSS growth: ... + lookup_many ' + str(res['small'] // 1000) + 'k':<{w}}"
          f"{fmt_kb(m['gosym_growth_open_batch_kb']):>12}{'-':>14}", file=out)
    print(f"  {'RSS growth: table built':<{w}}"
          f"{fmt_kb(m['gosym']['hwm_columns_kb'] - m['gosym']['base_rss_kb']):>12}"
          f"{fmt_kb(m['go_growth_build_kb']):>14}", file=out)
    print(f"  {'RSS growth: whole run':<{w}}{fmt_kb(m['gosym_growth_end_kb']):>12}"
          f"{fmt_kb(m['go_growth_end_kb']):>14}", file=out)
    print(f"  {'memory target: file + 16 B x nfunc':<{w}}{fmt_kb(m['target_kb']):>12}", file=out)
    a = res["agreement"]
    what = {"lookups": "random pcs (function, file, line)",
            "rows": "line-table rows (file, line)"}
    for k in ("lookups", "rows"):
        v = a[k]
        extra = []
        if v["explained"]:
            extra.append(f"{v['explained']} explained")
        if v["mismatch"]:
            extra.append(f"{v['mismatch']} MISMATCHES")
        print(f"  agreement, {what[k]}: {v['agree']}/{v['total']} agree"
              + (f" ({', '.join(extra)})" if extra else ""), file=out)
        for ex in v["explained_examples"]:
            print(f"    explained: pc {ex['pc']}: gosym {ex['gosym']}  debug/gosym "
                  f"{ex['debug/gosym']}  ({ex['why']}: debug/gosym reads pctab[0:])", file=out)
        for bad in v["mismatches"]:
            print(f"    MISMATCH: pc {bad['pc']}: gosym {bad['gosym']}  "
                  f"debug/gosym {bad['debug/gosym']}", file=out)
    print("  targets:", file=out)
    for t in res["targets"]:
        print(f"    [{'met ' if t['met'] else 'MISS'}] {t['target']}: {t['value']} "
              f"(goal {t['goal']})", file=out)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_memprobe"]:
        memprobe_main(argv[1], argv[2], int(argv[3]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binaries", nargs="*", metavar="BINARY",
                    help="path or corpus name (default: the 3 largest corpus binaries)")
    ap.add_argument("--json", nargs="?", const="-", metavar="FILE",
                    help="write the results as JSON to FILE (no FILE: stdout, instead of the text)")
    ap.add_argument("--pcs", type=int, default=1_000_000,
                    help="random pcs for the large lookup phase (default 1000000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per phase, min taken (default 3)")
    ap.add_argument("--go-budget", type=float, default=GO_BUDGET_S, metavar="SECONDS",
                    help="debug/gosym stops repeating a phase once its runs took this long "
                         f"(default {GO_BUDGET_S})")
    args = ap.parse_args(argv)
    if args.pcs < 0 or args.repeat < 1:
        ap.error("--pcs must be >= 0 and --repeat >= 1")
    bins = resolve_binaries(args.binaries)
    run = provenance()
    exe, go_ver = build_gobench()
    results = []
    for label, path in bins:
        res = bench_one(label, path, exe, go_ver, args.pcs, args.repeat, args.go_budget)
        results.append(res)
        if args.json != "-":
            print_report(res)
            sys.stdout.flush()
    if args.json:
        doc = {"bench": "pclntab", "run": run, "gosym": getattr(gosym, "__version__", None),
               "python": sys.version.split()[0], "results": results}
        text = json.dumps(doc, indent=2) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
        else:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(text)
    bad = [r["binary"] for r in results
           if r["agreement"]["lookups"]["mismatch"] or r["agreement"]["rows"]["mismatch"]]
    if bad:
        log("bench_pclntab: gosym and debug/gosym gave different answers on " + ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
