"""`gosym check` on real binaries: time, agreement, kinds of difference.

    python benches/bench_check.py                       # hovel (the largest corpus binary with DWARF)
    python benches/bench_check.py BINARY|CORPUS-NAME ... [--repeat R] [--json [FILE]]

Per binary: the whole `gosym check --json BINARY` process (wall and CPU
seconds, best of R runs; Python start-up included) and `gosym.check.check()`
in this process (best of R, the binary opened anew each run, opening
included), then from the report: the agreement, the pcs compared at
pclntab row starts and at DWARF row starts, the count of every kind of
difference, and its examples.  There is no competitor (no other tool
compares the two tables); tests/differential/test_check.py checks the counts against an
independent computation (pyelftools and Go's debug/gosym) on fixtures.
Exit status 1 if the command fails.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benches"))

import gosym  # noqa: E402
from benchlib import provenance, resolve_binaries  # noqa: E402
from gosym.check import KINDS, check  # noqa: E402

DEFAULT = ["hovel-0.4.4-linux-amd64"]


def child_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def bench(path, repeat):
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)       # as an installed package: .pyc files allowed
    cmd = [sys.executable, "-m", "gosym", "check", "--json", path]
    subprocess.run(cmd, capture_output=True, env=env)     # warm-up: page cache, .pyc files
    walls, cpus, rep = [], [], None
    for _ in range(repeat):
        c0, t0 = child_cpu(), time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        walls.append(time.perf_counter() - t0)
        cpus.append(child_cpu() - c0)
        if p.returncode != 0:
            raise RuntimeError(f"gosym check exited with status {p.returncode}: {p.stderr.strip()[:300]}")
        rep = json.loads(p.stdout)
    inproc = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        with gosym.open(path) as b:
            check(b)
        inproc.append(time.perf_counter() - t0)
    sides = {}
    for key in ("at_pclntab_rows", "at_dwarf_rows"):
        s = rep[key]
        sides[key] = {"pcs": s["pcs"], "compared": s["compared"], "agree": s["agree"],
                      "agreement": s["agreement"], "kinds": s["kinds"], "examples": s["examples"]}
    return {"binary": Path(path).name, "path": path, "size": os.path.getsize(path), "repeat": repeat,
            "go_version": rep["go_version"], "functions": rep["functions"], "dwarf_rows": rep["dwarf_rows"],
            "process_s": min(walls), "process_cpu_s": min(cpus), "check_s": min(inproc),
            "report_seconds": rep["seconds"], "compared": rep["compared"], "agree": rep["agree"],
            "agreement": rep["agreement"], **sides, "load_average": os.getloadavg()[0]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="*")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", nargs="?", const="-", metavar="FILE",
                    help="write the results as JSON to FILE (no FILE: stdout, instead of the text)")
    args = ap.parse_args(argv)
    results = []
    run = provenance()
    try:
        for label, path in resolve_binaries(args.binaries or DEFAULT):
            results.append(bench(path, args.repeat))
    except RuntimeError as e:
        print(f"bench_check: {e}", file=sys.stderr)
        return 1
    doc = {"bench": "check", "run": run, "python": sys.version.split()[0], "results": results}
    if args.json:
        text = json.dumps(doc, indent=1) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
            return 0
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text)
    for r in results:
        print(f"\n{r['binary']}  ({r['size'] / 1e6:.0f} MB, {r['go_version']}, {r['functions']} functions, "
              f"{r['dwarf_rows']:,} DWARF rows; load average {r['load_average']:.1f}; best of {r['repeat']})")
        print(f"  gosym check process: {r['process_s']:.2f} s wall, {r['process_cpu_s']:.2f} s CPU; "
              f"check() in-process, open included: {r['check_s']:.2f} s")
        print(f"  agreement: {r['agreement']}% of {r['compared']:,} pcs ({r['agree']:,} agree)")
        for key, title in (("at_pclntab_rows", "at pclntab row starts"), ("at_dwarf_rows", "at DWARF row starts")):
            s = r[key]
            print(f"  {title}: {s['compared']:,} compared, {s['agreement']}% agree")
            for _code, name, what in KINDS:
                if s["kinds"][name] and name != "agree":
                    print(f"    {name:<16} {s['kinds'][name]:>9,}  {what}")
            for name, exs in s["examples"].items():
                for ex in exs:
                    dw = ex["dwarf"]
                    dws = f"{dw['file']}:{dw['line']}" if dw else "no row"
                    print(f"      e.g. {name}: {ex['pc']:#x} {ex['function']}: pclntab "
                          f"{ex['pclntab']['file']}:{ex['pclntab']['line']}  dwarf {dws}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
