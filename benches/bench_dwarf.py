"""Full DWARF line-table decode: gosym vs pyelftools vs llvm-dwarfdump.

    python benches/bench_dwarf.py                 # the largest binary with DWARF we have
    python benches/bench_dwarf.py path/to/binary  # any ELF/Mach-O/PE file
    python benches/bench_dwarf.py --json

Phases, on the same file in the same run:
  open      gosym: find and decompress .debug_line/.debug_info/..., read the units
  decode    gosym: every row of every line program, one C pass (GIL released)
  pyelftools  every row through `LineProgram.get_entries()`; on a sample of
            programs (the first ones until --py-budget seconds), extrapolated
            to all rows by rows/s, and reported as such
  llvm-dwarfdump  `llvm-dwarfdump --debug-line FILE > /dev/null` (includes
            decompression and printing text; its row count is gosym's)
Ratio = other time / gosym time (> 1: gosym faster).  Benchmarks assert nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gosym.dwarf import open_dwarf  # noqa: E402


def _candidates():
    paths = []
    try:
        from tests.corpus.fetch import ensure_corpus
        for r in ensure_corpus(progress=False):
            if r.get("path") and r.get("dwarf", "none") != "none":
                paths.append(r["path"])
    except Exception as e:  # pragma: no cover - offline
        print(f"bench: corpus unavailable: {e}", file=sys.stderr)
    try:
        from tests.fixtures.build import ensure_fixtures
        for r in ensure_fixtures("ci", progress=False):
            if r.get("path"):
                paths.append(r["path"])
    except Exception as e:  # pragma: no cover
        print(f"bench: fixtures unavailable: {e}", file=sys.stderr)
    return paths


def largest_with_dwarf():
    best, best_size = None, -1
    for p in _candidates():
        try:
            with open_dwarf(p) as d:
                line = d.section("line")
                if line is not None and line.size > best_size:
                    best, best_size = p, line.size
        except Exception:
            continue
    return best


def _best(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def bench_gosym(path, repeat):
    def opened():
        d = open_dwarf(path)
        d.line_offsets()
        return d

    t_open, d = _best(lambda: opened(), repeat)
    t_dec, rows = _best(lambda: d.line_rows(), repeat)
    n = len(rows)
    line = d.section("line")
    info = {"line_stored": line.stored_size, "line_size": line.size, "compression": line.compression,
            "programs": len(d.line_offsets())}
    del rows
    tracemalloc.start()
    rows = d.line_rows()
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    d.close()
    return {"open_s": t_open, "decode_s": t_dec, "rows": n, "rows_per_s": n / t_dec,
            "peak_bytes_decode": peak, "bytes_per_row": peak / max(1, n), **info}


def bench_pyelftools(path, budget):
    try:
        from elftools.elf.elffile import ELFFile
    except ImportError:
        return None
    with open(path, "rb") as fh:
        if fh.read(4) != b"\x7fELF":
            return {"skipped": "pyelftools opens ELF only"}
        fh.seek(0)
        t0 = time.perf_counter()
        info = ELFFile(fh).get_dwarf_info()
        t_open = time.perf_counter() - t0
        rows = programs = 0
        t = time.perf_counter()
        for cu in info.iter_CUs():
            lp = info.line_program_for_CU(cu)
            if lp is None:
                continue
            rows += sum(1 for e in lp.get_entries() if e.state is not None)
            programs += 1
            if time.perf_counter() - t > budget:
                break
        el = time.perf_counter() - t
    return {"open_s": t_open, "sample_rows": rows, "sample_programs": programs, "sample_s": el,
            "rows_per_s": rows / el if el else 0.0}


def bench_llvm(path, repeat):
    exe = shutil.which("llvm-dwarfdump") or next(
        (shutil.which(f"llvm-dwarfdump-{v}") for v in range(20, 10, -1) if shutil.which(f"llvm-dwarfdump-{v}")),
        None)
    if exe is None:
        return None
    ver = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    ver = next((ln.strip() for ln in ver.splitlines() if "version" in ln), "")

    def run():
        with open(os.devnull, "wb") as null:
            subprocess.run([exe, "--debug-line", path], stdout=null, stderr=subprocess.DEVNULL, check=False)

    t, _ = _best(run, repeat)
    return {"seconds": t, "version": ver}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", nargs="?")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--py-budget", type=float, default=20.0, help="seconds of pyelftools sampling")
    args = ap.parse_args(argv)
    path = args.binary or largest_with_dwarf()
    if path is None:
        print("bench: no binary with DWARF found", file=sys.stderr)
        return 1
    g = bench_gosym(path, args.repeat)
    py = bench_pyelftools(path, args.py_budget)
    ll = bench_llvm(path, args.repeat)
    res = {"binary": path, "gosym": g, "pyelftools": py, "llvm_dwarfdump": ll}
    g_total = g["open_s"] + g["decode_s"]
    if py and py.get("rows_per_s"):
        py["extrapolated_s"] = g["rows"] / py["rows_per_s"]
        res["ratio_pyelftools"] = py["extrapolated_s"] / g["decode_s"]
    if ll:
        res["ratio_llvm_dwarfdump"] = ll["seconds"] / g_total
    if args.json:
        print(json.dumps(res, indent=1))
        return 0
    print(f"binary: {path}")
    print(f".debug_line: {g['line_stored']:,} bytes stored ({g['compression']}), {g['line_size']:,} "
          f"decompressed, {g['programs']} programs, {g['rows']:,} rows")
    print(f"{'tool':<34} {'seconds':>9} {'rows/s':>14} {'ratio':>8}")
    print(f"{'gosym open (inflate + units)':<34} {g['open_s']:>9.4f}")
    print(f"{'gosym decode (all rows)':<34} {g['decode_s']:>9.4f} {g['rows_per_s']:>14,.0f} {1.0:>8.1f}")
    print(f"{'gosym open + decode':<34} {g_total:>9.4f} {g['rows'] / g_total:>14,.0f}")
    if py and py.get("rows_per_s"):
        print(f"{'pyelftools (extrapolated)':<34} {py['extrapolated_s']:>9.2f} {py['rows_per_s']:>14,.0f} "
              f"{res['ratio_pyelftools']:>8.1f}   (sampled {py['sample_rows']:,} rows of "
              f"{py['sample_programs']} programs in {py['sample_s']:.1f} s; vs decode)")
    elif py:
        print(f"pyelftools: {py.get('skipped')}")
    if ll:
        print(f"{'llvm-dwarfdump --debug-line':<34} {ll['seconds']:>9.4f} {g['rows'] / ll['seconds']:>14,.0f} "
              f"{res['ratio_llvm_dwarfdump']:>8.1f}   ({ll['version']}; text to /dev/null; vs open + decode)")
    else:
        print("llvm-dwarfdump: not installed (Debian package llvm)")
    budget = g["line_size"] + 16 * g["rows"]
    print(f"gosym peak memory of line_rows(): {g['peak_bytes_decode']:,} bytes "
          f"({g['bytes_per_row']:.1f} per row); target <= decompressed .debug_line + 16 per row "
          f"= {budget:,}: {'met' if g['peak_bytes_decode'] <= budget else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
