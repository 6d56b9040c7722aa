"""gosym against the runtime on profiles that real public programs wrote
(issue 13, "Real programs, not only fixtures").

Two release binaries of the public corpus write runtime/pprof profiles while
they work: the Go 1.27.3 compiler (go1.27.3-compile-linux-amd64) compiling
the fmt package of its own toolchain (-cpuprofile, -memprofile), and the
esbuild 0.14.49 bundler (built with Go 1.18) minifying a generated
JavaScript file (--heap=; its --cpuprofile= repeats the build for ~30 s,
so its CPU profile, where the Go 1.18 runtime split 17 of 1951 inlined
chains across locations, is checked by the bench), and the same with the
esbuild 0.11.23 release (Go 1.16) for a runtime older still.  runtime/pprof symbolized each
profile itself with runtime.CallersFrames, so its Lines are the truth.  The
test strips every Function and Line (gosym.pprof.strip_profile), refills
them with gosym.pprof.symbolize_profile's defaults (instruction addresses,
wrappers hidden) and compares location by location: the function and line
of every frame, innermost first.  At least 99.9 % must be equal; every
difference is printed.  benches/bench_real_profiles.py does the same on
larger runs and puts `go tool pprof -symbolize=local`'s figure beside it.
"""
from __future__ import annotations

import sys

import pytest

from gosym import pprof
from tests.support import realprof

PROGRAMS = {
    "compile": lambda d: realprof.compiler_profiles(d),
    "esbuild": lambda d: realprof.esbuild_profiles(d),
    "esbuild-go1.16": lambda d: realprof.esbuild_profiles(d, release=realprof.ESBUILD_OLD[0]),
}


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_refilled_frames_equal_the_runtimes(program, tmp_path):
    binary, profiles = PROGRAMS[program](tmp_path)
    total = same = 0
    for prof in profiles:
        original = prof.read_bytes()
        stripped = pprof.strip_profile(original)
        assert not any(loc.line for loc in pprof.parse_profile(stripped).location)
        refilled, summary = pprof.symbolize_profile(stripped, binary)
        assert [m.unmatched for m in summary.mappings] == [0]
        r = realprof.compare_profiles(original, refilled)
        print(f"{program} {prof.name}: {r['same']}/{r['locations']} locations equal "
              f"({r['unsymbolized']} the runtime left bare; {r['file_differs']} equal but for a Function's file)",
              file=sys.stderr)
        if r["differ"]:
            print(realprof.explain(r["differ"]), file=sys.stderr)
        assert r["locations"] >= 20, f"{prof.name}: too few locations to judge"
        total += r["locations"]
        same += r["same"]
    assert same >= 0.999 * total, f"{program}: {same}/{total} locations equal (see the differences above)"
