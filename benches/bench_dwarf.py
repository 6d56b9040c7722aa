"""Full DWARF line-table decode: gosym vs pyelftools vs llvm-dwarfdump.

    python benches/bench_dwarf.py                 # the largest binary with DWARF we have
    python benches/bench_dwarf.py path/to/binary  # any ELF/Mach-O/PE file
    python benches/bench_dwarf.py hovel-0.4.4-linux-amd64 --json FILE   # a corpus name; JSON to FILE
    python benches/bench_dwarf.py --one-core      # everything (probes and tools too) on one CPU

Phases, on the same file in the same run:
  end to end  gosym: open_dwarf(path).line_rows() from a fresh open (the
            units are read on a second thread while .debug_line inflates and
            decodes, when a second CPU is free to run it; the file tables
            are made on first use); its CPU time (both threads) is reported
            beside the wall time: on a busy host the CPU time is what it costs
  open      gosym: find and decompress .debug_line/.debug_info/..., read the units
  decode    gosym: every row of every line program, one C pass (GIL released)
  pyelftools  every row through `LineProgram.get_entries()`; on a sample of
            programs (the first ones until --py-budget seconds), extrapolated
            to all rows by rows/s, and reported as such; the sampled
            programs' rows are checked equal to gosym's
  llvm-dwarfdump  `llvm-dwarfdump --debug-line FILE > /dev/null` (includes
            decompression and printing text); then once more to a pipe, and
            every row it prints is checked equal to gosym's (address, line,
            column, file, end_sequence)
  memory    open_dwarf(path) -> line_rows() in a fresh interpreter, from
            before any section is read or decompressed: peak RSS growth
            (VmHWM, reset first) in one run, the tracemalloc peak in
            another; compared with the target "decompressed .debug_line +
            16 bytes per row", with what is held at the end (the rows, the
            decompressed sections)
Ratio = other time / gosym time (> 1: gosym faster).  Timings assert
nothing; rows that differ from pyelftools' or llvm-dwarfdump's exit 1.
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
sys.path.insert(0, str(ROOT / "benches"))

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


def _best_cpu(fn, repeat):
    """The least (wall, CPU) seconds of `repeat` runs, by wall time and by
    process CPU time (all threads) each on its own."""
    walls, cpus = [], []
    for _ in range(repeat):
        c, t = time.process_time(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        del out
    return min(walls), min(cpus)


def bench_gosym(path, repeat):
    def opened():
        d = open_dwarf(path)
        d.line_offsets()
        return d

    def end_to_end():
        with open_dwarf(path) as d:
            return d.line_rows()

    t_e2e, c_e2e = _best_cpu(end_to_end, repeat)
    t_open, d = _best(lambda: opened(), repeat)
    t_dec, rows = _best(lambda: d.line_rows(), repeat)
    n = len(rows)
    line = d.section("line")
    info = {"line_stored": line.stored_size, "line_size": line.size, "compression": line.compression,
            "programs": len(d.line_offsets())}
    d.close()
    return {"open_s": t_open, "decode_s": t_dec, "rows": n, "rows_per_s": n / t_dec, "end_to_end_s": t_e2e,
            "end_to_end_rows_per_s": n / t_e2e, "end_to_end_cpu_s": c_e2e,
            "end_to_end_rows_per_cpu_s": n / c_e2e if c_e2e else 0.0, **info}, rows


def _status_kb(field):
    with open("/proc/self/status") as fh:
        for ln in fh:
            if ln.startswith(field + ":"):
                return int(ln.split()[1])
    return 0


def memprobe_main(path, how):
    """memprobe_main runs in a fresh interpreter: the whole path a user
    takes, open_dwarf(path) -> line_rows(), from before anything is read or
    decompressed, so the decompressed section, the unit list and the rows
    are all in the peak.  how = "rss": VmHWM (peak resident set) minus
    VmRSS before opening, which counts C allocations and touched mapped
    pages too; how = "tracemalloc": the peak of Python's allocator
    (tracemalloc started before open_dwarf; it does not see C malloc or
    mmap).  The two are measured in separate runs because tracemalloc's own
    bookkeeping would inflate RSS."""
    import gc
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")           # reset VmHWM to the current RSS (Linux 4.0+)
    except OSError:
        pass
    out = {"base_rss_kb": _status_kb("VmRSS"), "base_hwm_kb": _status_kb("VmHWM")}
    if how == "tracemalloc":
        tracemalloc.start()
    d = open_dwarf(path)
    rows = d.line_rows()
    if how == "tracemalloc":
        _cur, out["tracemalloc_peak"] = tracemalloc.get_traced_memory()
        out["tracemalloc_current"] = _cur
        tracemalloc.stop()
    else:
        out["hwm_kb"] = _status_kb("VmHWM")
        out["rss_kb"] = _status_kb("VmRSS")
    out["rows"] = len(rows)
    # What is held at the end: the decompressed sections kept by the Dwarf
    # (.debug_info is read for the unit list) and the row columns.
    out["sections_held"] = {k: v.size for k, v in d._secs.items() if v is not None}
    # array columns only: a ZeroColumn (column, discriminator all 0) stores nothing
    import array as _array
    out["row_bytes"] = sum(col.itemsize * len(col) for col in
                           (rows.address, rows.file, rows.line, rows.flags, rows.column, rows.discriminator)
                           if isinstance(col, _array.array))
    del rows
    d.close()
    print(json.dumps(out))


def memprobe(path):
    """memprobe measures open_dwarf -> line_rows() memory in two fresh
    interpreters (peak RSS growth; tracemalloc peak)."""
    res = {}
    for how in ("rss", "tracemalloc"):
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--_memprobe", how, path],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"memory probe failed: {p.stderr.strip()[-500:]}")
        res[how] = json.loads(p.stdout)
    r, t = res["rss"], res["tracemalloc"]
    # The interpreter's start-up may already have set a higher mark than
    # the RSS before opening; growth is from the larger of the two.
    start = max(r["base_rss_kb"], r["base_hwm_kb"])
    return {"peak_rss_growth_bytes": max(0, r["hwm_kb"] - start) * 1024,
            "hwm_growth_over_base_rss_bytes": (r["hwm_kb"] - r["base_rss_kb"]) * 1024,
            "tracemalloc_peak_bytes": t["tracemalloc_peak"],
            "tracemalloc_after_bytes": t["tracemalloc_current"],
            "sections_held_bytes": t["sections_held"], "row_bytes": t["row_bytes"], "probe": res}


def bench_pyelftools(path, budget, rows=None):
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
        n = programs = 0
        sample = []
        t = time.perf_counter()
        for cu in info.iter_CUs():
            lp = info.line_program_for_CU(cu)
            if lp is None:
                continue
            got = [e.state for e in lp.get_entries() if e.state is not None]
            n += len(got)
            sample.append((lp.program_start_offset, got))
            programs += 1
            if time.perf_counter() - t > budget:
                break
        el = time.perf_counter() - t
    out = {"open_s": t_open, "sample_rows": n, "sample_programs": programs, "sample_s": el,
           "rows_per_s": n / el if el else 0.0}
    if rows is not None:
        out["differences"] = _check_pyelftools(sample, rows)
    return out


def _check_pyelftools(sample, rows):
    """The rows pyelftools gave for its sampled programs against gosym's rows
    of the same programs (address, file, line, column, end_sequence):
    returns the number of programs that differ."""
    import bisect
    offs = [t.offset for t in rows.tables]
    bad = 0
    for prog_start, states in sample:
        # pyelftools names a program by its first opcode, gosym by its unit
        # header: the unit is the last one that starts before that opcode.
        k = bisect.bisect_left(offs, prog_start) - 1
        if k < 0:
            bad += 1
            continue
        lo, hi = rows.unit_row[k], rows.unit_row[k + 1]
        mine = [(rows.address[i], rows.file[i], rows.line[i], rows.column[i], bool(rows.flags[i] & 2))
                for i in range(lo, hi)]
        theirs = [(st.address, st.file, st.line, st.column, bool(st.end_sequence)) for st in states]
        bad += mine != theirs
    return bad


def bench_llvm(path, repeat, rows=None):
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
    out = {"seconds": t, "version": ver}
    if rows is not None:
        out["differences"], out["rows"] = _check_llvm(exe, path, rows)
    return out


def _check_llvm(exe, path, rows):
    """Every row llvm-dwarfdump prints (address, line, column, file,
    end_sequence; its text, outside the timed runs) against gosym's rows in
    the same order: returns (rows that differ, llvm's row count)."""
    p = subprocess.run([exe, "--debug-line", path], capture_output=True, check=False)
    theirs = []
    for ln in p.stdout.splitlines():
        if ln.startswith(b"0x"):
            f = ln.split()
            theirs.append((int(f[0], 16), int(f[1]), int(f[2]), int(f[3]), b"end_sequence" in ln))
    end = 2
    mine = zip(rows.address, rows.line, rows.column, rows.file, rows.flags)
    bad = sum(1 for (a, ln, c, fi, fl), t in zip(mine, theirs) if (a, ln, c, fi, bool(fl & end)) != t)
    return bad + abs(len(theirs) - len(rows)), len(theirs)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_memprobe"]:
        memprobe_main(argv[2], argv[1])
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", nargs="?", help="path or corpus name (default: the largest with DWARF)")
    ap.add_argument("--json", nargs="?", const="-", metavar="FILE",
                    help="write the results as JSON to FILE (no FILE: stdout, instead of the text)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--py-budget", type=float, default=20.0, help="seconds of pyelftools sampling")
    ap.add_argument("--one-core", action="store_true",
                    help="run on one CPU (this process, the memory probes and the other tools)")
    args = ap.parse_args(argv)
    if args.one_core:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    path = args.binary
    if path and not os.path.exists(path):
        from benchlib import resolve_binaries
        got = resolve_binaries([path])
        path = got[0][1] if got else None
    elif path is None:
        path = largest_with_dwarf()
    if path is None:
        print("bench: no binary with DWARF found", file=sys.stderr)
        return 1
    from benchlib import provenance, write_json
    run = provenance()
    g, rows = bench_gosym(path, args.repeat)
    mem = memprobe(path)
    py = bench_pyelftools(path, args.py_budget, rows)
    ll = bench_llvm(path, args.repeat, rows)
    del rows
    res = {"bench": "dwarf", "run": run, "binary": Path(path).name, "path": path, "repeat": args.repeat,
           "load_average": os.getloadavg()[0], "cpus": len(os.sched_getaffinity(0)), "gosym": g, "memory": mem,
           "pyelftools": py, "llvm_dwarfdump": ll}
    g_total = g["open_s"] + g["decode_s"]
    if py and py.get("rows_per_s"):
        py["extrapolated_s"] = g["rows"] / py["rows_per_s"]
        res["ratio_pyelftools"] = py["extrapolated_s"] / g["decode_s"]
    if ll:
        res["ratio_llvm_dwarfdump"] = ll["seconds"] / g_total
        res["ratio_llvm_dwarfdump_end_to_end"] = ll["seconds"] / g["end_to_end_s"]
    differ = [f"{name}: {tool['differences']} differences" for name, tool in (("pyelftools", py), ("llvm-dwarfdump", ll))
              if tool and tool.get("differences")]
    # The memory target: the decompressed section + 16 bytes per row.
    target = g["line_size"] + 16 * g["rows"]
    peak = max(mem["peak_rss_growth_bytes"], mem["tracemalloc_peak_bytes"])
    res["memory_target"] = {"target_bytes": target, "peak_bytes": peak,
                            "peak_bytes_per_row": peak / max(1, g["rows"]), "met": peak <= target}
    res["answers_differ"] = differ
    if args.json:
        write_json(res, args.json)
        if args.json == "-":
            return 1 if differ else 0
    print(f"binary: {path}  (load average {res['load_average']:.1f}; {res['cpus']} CPU(s); min of {args.repeat})")
    print(f".debug_line: {g['line_stored']:,} bytes stored ({g['compression']}), {g['line_size']:,} "
          f"decompressed, {g['programs']} programs, {g['rows']:,} rows")
    print(f"{'tool':<34} {'seconds':>9} {'rows/s':>14} {'ratio':>8}")
    print(f"{'gosym open (inflate + units)':<34} {g['open_s']:>9.4f}")
    print(f"{'gosym decode (all rows)':<34} {g['decode_s']:>9.4f} {g['rows_per_s']:>14,.0f} {1.0:>8.1f}")
    print(f"{'gosym open + decode':<34} {g_total:>9.4f} {g['rows'] / g_total:>14,.0f}")
    print(f"{'gosym open_dwarf -> line_rows()':<34} {g['end_to_end_s']:>9.4f} {g['end_to_end_rows_per_s']:>14,.0f}"
          f"   (end to end, fresh open; units read beside the decode with 2+ CPUs)")
    print(f"{'  its CPU time (all threads)':<34} {g['end_to_end_cpu_s']:>9.4f} {g['end_to_end_rows_per_cpu_s']:>14,.0f}")
    if py and py.get("rows_per_s"):
        print(f"{'pyelftools (extrapolated)':<34} {py['extrapolated_s']:>9.2f} {py['rows_per_s']:>14,.0f} "
              f"{res['ratio_pyelftools']:>8.1f}   (sampled {py['sample_rows']:,} rows of "
              f"{py['sample_programs']} programs in {py['sample_s']:.1f} s, {py.get('differences', '?')} programs "
              f"differ; vs decode)")
    elif py:
        print(f"pyelftools: {py.get('skipped')}")
    if ll:
        print(f"{'llvm-dwarfdump --debug-line':<34} {ll['seconds']:>9.4f} {g['rows'] / ll['seconds']:>14,.0f} "
              f"{res['ratio_llvm_dwarfdump_end_to_end']:>8.1f}   ({ll['version']}; text to /dev/null; vs end to end; "
              f"{ll.get('rows', 0):,} rows checked, {ll.get('differences', '?')} differ)")
    else:
        print("llvm-dwarfdump: not installed (Debian package llvm)")
    n = max(1, g["rows"])
    print(f"memory of open_dwarf() -> line_rows(), fresh interpreter, from before the section is read:")
    print(f"  peak RSS growth   {mem['peak_rss_growth_bytes']:>14,} bytes ({mem['peak_rss_growth_bytes'] / n:.1f} per row)")
    print(f"  tracemalloc peak  {mem['tracemalloc_peak_bytes']:>14,} bytes ({mem['tracemalloc_peak_bytes'] / n:.1f} per row)")
    held = ", ".join(f".debug_{k} {v:,}" for k, v in mem["sections_held_bytes"].items())
    print(f"  held at the end   rows {mem['row_bytes']:,} bytes ({mem['row_bytes'] / n:.1f} per row); "
          f"decompressed sections {held}")
    print(f"  target <= decompressed .debug_line + 16 per row = {target:,}: "
          f"{'met' if res['memory_target']['met'] else 'NOT met'} (larger of the two: {peak:,})")
    if differ:
        print("ANSWERS DIFFER: " + "; ".join(differ), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
