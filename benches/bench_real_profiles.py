#!/usr/bin/env python3
"""bench_real_profiles: gosym and `go tool pprof -symbolize=local` against
the runtime, on profiles real public programs wrote (issue 13).

Programs of the public corpus write runtime/pprof profiles while they work
(tests/support/realprof.py): the Go 1.27.3 compiler compiling a package of
its own toolchain (-cpuprofile, -memprofile; go/types by default) and the
esbuild 0.14.49 release (Go 1.18) minifying a generated JavaScript file
(--cpuprofile=, which repeats the build for about 30 s, and --heap=);
with --old-esbuild also the 0.11.23 (Go 1.16) and 0.1.26 (Go 1.14) releases
of the corpus (CPU profiles, and 0.11.23's heap profile).  The
runtime symbolized each profile itself: its Lines are the truth.  Every
Function and Line is stripped (gosym.pprof.strip_profile); then

  gosym.pprof.symbolize_profile(stripped, binary)          (default options)
  go tool pprof -symbolize=local -proto -output OUT BINARY STRIPPED

refill it, and each is compared with the runtime location by location:
function and line of every frame, innermost first (names in the runtime's
printed form).  Prints the share of equal locations for each, every
difference of gosym's, gosym's time and go tool pprof's.

  python benches/bench_real_profiles.py
  python benches/bench_real_profiles.py --package fmt --no-esbuild-cpu
  python benches/bench_real_profiles.py --package fmt --no-esbuild-cpu --old-esbuild
  python benches/bench_real_profiles.py --json benches/results/real_profiles.json
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import log, provenance, write_json  # noqa: E402

from gosym import pprof  # noqa: E402
from tests.support import realprof  # noqa: E402
from tests.support.pprofcmp import GO, go_tool_env, go_tool_pprof  # noqa: E402


def bench_profile(program: str, binary: str, prof: Path, tmp: Path) -> dict:
    original = prof.read_bytes()
    stripped = pprof.strip_profile(original)
    sp = tmp / f"{prof.stem}.stripped.pb.gz"
    sp.write_bytes(stripped)
    t = time.perf_counter()
    ours, _ = pprof.symbolize_profile(stripped, binary)
    ours_s = time.perf_counter() - t
    mine = realprof.compare_profiles(original, ours)
    out = tmp / f"{prof.stem}.go.pb.gz"
    cmd = go_tool_pprof(sp, out)
    cmd.insert(-1, binary)
    t = time.perf_counter()
    r = subprocess.run(cmd, env=go_tool_env(tmp), capture_output=True, text=True)
    go_s = time.perf_counter() - t
    if r.returncode:
        raise SystemExit(f"bench_real_profiles: go tool pprof failed: {r.stderr}")
    theirs = realprof.compare_profiles(original, out.read_bytes(), by_address=True)
    # without DWARF (these releases have none) go tool pprof writes the
    # physical function with the innermost line: the inlined frames are lost
    flat = sum(1 for _, w, g in theirs["differ"]
               if realprof.key(g) == [(realprof.print_name(w[-1][0]), w[0][2])])
    log(f"{program} {prof.name}: {mine['locations']} locations | gosym {mine['same']} equal "
        f"({100 * mine['share']:.2f} %) in {ours_s:.2f} s | go tool pprof {theirs['same']} equal "
        f"({100 * theirs['share']:.2f} %; {flat} lack the inlined frames) in {go_s:.2f} s")
    if mine["differ"]:
        log(realprof.explain(mine["differ"]))
    return {"program": program, "profile": prof.name, "locations": mine["locations"],
            "gosym_equal": mine["same"], "gosym_share": mine["share"], "gosym_s": ours_s,
            "gosym_file_differs": mine["file_differs"], "go_equal": theirs["same"],
            "go_share": theirs["share"], "go_s": go_s, "go_inlined_missing": flat,
            "gosym_differences": [(hex(a), w, g) for a, w, g in mine["differ"]]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package", default="go/types", help="GOROOT/src package the compiler compiles")
    ap.add_argument("--functions", type=int, default=20000, help="functions in esbuild's generated input")
    ap.add_argument("--no-esbuild-cpu", action="store_true", help="skip esbuild's ~30 s CPU profile")
    ap.add_argument("--old-esbuild", action="store_true",
                    help="also esbuild 0.11.23 (Go 1.16: CPU and heap) and 0.1.26 (Go 1.14: CPU), ~30 s each")
    ap.add_argument("--json", metavar="OUT", help="write the results as JSON (- for stdout)")
    args = ap.parse_args(argv)
    rows = []
    run = provenance()
    with tempfile.TemporaryDirectory(prefix="bench_real_profiles") as d:
        tmp = Path(d)
        (tmp / "c").mkdir()
        (tmp / "e").mkdir()
        progs = [("compile", *realprof.compiler_profiles(tmp / "c", args.package)),
                 ("esbuild", *realprof.esbuild_profiles(tmp / "e", args.functions,
                                                         cpu_profile=not args.no_esbuild_cpu))]
        if args.old_esbuild:
            for release in realprof.ESBUILD_OLD:
                d = tmp / release
                d.mkdir()
                progs.append((release, *realprof.esbuild_profiles(d, args.functions, cpu_profile=True,
                                                                  release=release)))
        for program, binary, profiles in progs:
            for prof in profiles:
                rows.append(bench_profile(program, binary, prof, tmp))
    total = sum(r["locations"] for r in rows)
    log(f"all: {total} locations | gosym {sum(r['gosym_equal'] for r in rows) / total * 100:.2f} % | "
        f"go tool pprof {sum(r['go_equal'] for r in rows) / total * 100:.2f} %")
    if args.json:
        write_json({"bench": "real_profiles", "go": GO, "run": run, "rows": rows}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
