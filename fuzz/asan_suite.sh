#!/bin/sh
# asan_suite.sh [PYTEST ARGS...] - builds the extensions with GOSYM_SANITIZE=1
# (AddressSanitizer + UBSan, setup.py) in a scratch copy of the tree and runs
# tests there with the ASan runtime preloaded into Python.  Default tests:
# the reader, round-trip, inline, hostile and raw-image ones.  The checkout itself is
# not touched.  Exit status: pytest's (a sanitizer report aborts the run).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
scratch=${GOSYM_ASAN_DIR:-${TMPDIR:-/tmp}/gosym-asan}
rm -rf "$scratch"
mkdir -p "$scratch"
# The sources only: no built objects, no fuzz corpus.
(cd "$root" && tar cf - --exclude=./build --exclude=./fuzz/corpus --exclude=./fuzz/seeds \
    --exclude=./fuzz/out --exclude=./fuzz/findings --exclude='*.so' --exclude=./.git \
    --exclude='__pycache__' .) | (cd "$scratch" && tar xf -)
cd "$scratch"
GOSYM_SANITIZE=1 python setup.py build_ext --inplace >build.log 2>&1 || { tail -30 build.log; exit 2; }
if [ $# -eq 0 ]; then
    set -- tests/unit/test_reader.py tests/property/test_pclntab_roundtrip.py tests/differential/test_inline.py \
        tests/hostile/test_hostile.py tests/differential/test_dwarf_c.py tests/differential/test_raw.py
fi
# Python itself leaks by design at exit: leak checking off.  UBSan findings
# abort (-fno-sanitize-recover=undefined in setup.py).
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)" \
    python -m pytest -q -p no:cacheprovider "$@"
