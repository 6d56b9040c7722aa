#!/bin/sh
# build.sh - builds the libFuzzer harness over csrc/ (no Python) with
# AddressSanitizer and UndefinedBehaviorSanitizer; output: fuzz/out/fuzz_pclntab.
# Every C file of csrc/ goes in, so a new one cannot be left out.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
CC=${CC:-clang}
mkdir -p "$here/out"
$CC -std=c11 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root/csrc" \
    "$here/fuzz_pclntab.c" \
    "$root"/csrc/*.c \
    -o "$here/out/fuzz_pclntab"
echo "$here/out/fuzz_pclntab"
