#!/bin/sh
# run.sh SECONDS [JOBS] - seeds a corpus from the fixture binaries (pclntab and
# .debug_line bytes; fuzz/seed.py) and synthetic tables, builds the harness
# (fuzz/build.sh) and runs it for SECONDS with JOBS workers (default 1).
# fuzz/regress/ (inputs of past findings) is read as corpus too.
# Prints executions and findings; crash inputs land in fuzz/findings/.
# FUZZ_MAX_LEN (default 1048576) caps input sizes: a smaller cap (65536)
# cuts seeds to their headers, function tables and first records and runs
# several times more executions per second.
# Exit status: 0 with no finding, 1 otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
secs=${1:-60}
jobs=${2:-1}
maxlen=${FUZZ_MAX_LEN:-1048576}
corpus="$here/corpus"
seeds="$here/seeds"
findings="$here/findings"
mkdir -p "$corpus" "$findings"
if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
    (cd "$root" && python "$here/seed.py" "$seeds")
fi
bin=$("$here/build.sh")
log="$here/out/run.log"
rm -f "$here"/out/fuzz-*.log "$log.jobs"
# -max_len: seeds are cut to 1 MiB by seed.py; mutated inputs stay below.
# -rss_limit_mb / -timeout: an input that needs more memory or time than
# this is a finding (issue 6: bounded time and memory on any input).
set +e
if [ "$jobs" -gt 1 ]; then
    (cd "$here/out" && "$bin" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1 \
        -jobs="$jobs" -workers="$jobs" "$corpus" "$seeds" "$here/regress") >"$log" 2>&1
    rc=$?
    # The master echoes each finished job's log into its own output, so the
    # executions are counted from the job logs alone (counting both doubled
    # the total; see README.md, Record).
    cat "$here"/out/fuzz-*.log >"$log.jobs" 2>/dev/null
else
    "$bin" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$findings/" -print_final_stats=1 "$corpus" "$seeds" "$here/regress" >"$log" 2>&1
    rc=$?
fi
set -e
stats="$log"
[ "$jobs" -gt 1 ] && stats="$log.jobs"
execs=$(grep -h '^stat::number_of_executed_units' "$stats" | awk '{s += $2} END {print s + 0}')
nfind=$(ls "$findings" | wc -l)
echo "fuzz_pclntab: ${secs}s x ${jobs} job(s), max_len $maxlen, executions: $execs, findings: $nfind (exit $rc)"
ls "$findings"
grep -h -m3 'ERROR: \|runtime error' "$log" || true
[ "$rc" -eq 0 ] && [ "$nfind" -eq 0 ]
