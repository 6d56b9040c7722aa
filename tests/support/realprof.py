"""Real programs of the public corpus writing their own runtime/pprof
profiles, shared by tests/differential/test_real_profiles.py and
benches/bench_real_profiles.py.

- compiler_profiles: the Go 1.27.3 compiler of the corpus
  (go1.27.3-compile-linux-amd64) compiles a package of its own toolchain's
  GOROOT/src with -cpuprofile and -memprofile (its dependencies' export
  data from `go list -export`, the toolchain's go command, offline).
- esbuild_profiles: an esbuild release of the corpus (0.14.49, Go 1.18, by
  default; ESBUILD_OLD names older ones) minifies a generated JavaScript
  file with --cpuprofile= and --heap= (0.1.26 has no --heap=).

The runtime symbolized each profile itself, so its Lines are the truth.
runtime_frames reads them per location; compare_profiles holds gosym's
refill of the stripped profile against them location by location
(function and line of every frame, innermost first).
"""
from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from gosym import pprof
from tests.support.runtimeframes import print_name

COMPILER = "go1.27.3-compile-linux-amd64"
COMPILER_GO = "1.27.3"
ESBUILD = "esbuild-0.14.49-go1.18-linux-amd64"
# older esbuild releases for the bench; 0.1.26 predates --heap= and --log-level=
ESBUILD_OLD = ("esbuild-0.11.23-go1.16-linux-amd64", "esbuild-0.1.26-go1.14-linux-amd64")
_EARLY = {"esbuild-0.1.26-go1.14-linux-amd64"}

Frame = Tuple[str, int]


def corpus_binary(name: str) -> str:
    """The cached path of a corpus row, or skip naming why it is absent."""
    import platform

    from tests.corpus.fetch import ensure_corpus

    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip(f"{name} runs on linux/amd64 only")
    row = ensure_corpus([name], progress=False)[0]
    if "path" not in row:
        pytest.skip(f"corpus {name}: {row.get('skip')}")
    return row["path"]


def compiler_profiles(outdir: Path, package: str = "fmt", memrate: int = 4096) -> Tuple[str, List[Path]]:
    """(compiler path, [cpu, heap profile]) after the corpus compiler has
    compiled `package` of its toolchain's GOROOT/src."""
    from gosym.toolchain import ToolchainError, go_env, goroot

    compiler = corpus_binary(COMPILER)
    try:
        root = goroot(COMPILER_GO)
    except ToolchainError as e:
        pytest.skip(f"no Go {COMPILER_GO} toolchain for the compiler's sources: {e}")
    env = go_env(root)
    go = str(root / "bin" / "go")
    src = root / "src" / package

    def go_list(*args: str) -> str:
        r = subprocess.run([go, "list", *args, package], cwd=src, env=env, capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        return r.stdout

    cfg = outdir / "importcfg"
    cfg.write_text(go_list("-export", "-deps", "-f",
                           "{{if .Export}}packagefile {{.ImportPath}}={{.Export}}{{end}}"))
    files = go_list("-f", "{{join .GoFiles \"\\n\"}}").split()
    cpu, heapdir = outdir / "compile-cpu.pprof", outdir / "compile-heap"
    # -memprofile DIR/ writes DIR/<package>.memprof as a gzipped proto (a
    # file name would get the legacy text format)
    r = subprocess.run([compiler, "-p", package, "-std", "-importcfg", str(cfg), "-o", str(outdir / "pkg.a"),
                        "-cpuprofile", str(cpu), "-memprofile", f"{heapdir}/", "-memprofilerate", str(memrate),
                        *files], cwd=src, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return compiler, [cpu, heapdir / (package.replace("/", "%2F") + ".memprof")]


def javascript(n: int, seed: int = 1) -> str:
    """A generated ES module of n exported functions (classes, closures,
    template strings, object literals): work for a bundler's parser,
    printer and minifier."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        out.append(f"export function f{i}(a, b) {{ const x = {{k: a + {i}, s: 's{i}' + b, "
                   f"v: [a, b, {i}].map(v => v * 2)}}; if (x.k > {rng.randrange(1000)}) "
                   f"{{ return class C{i} {{ m() {{ return x.s.length + f{max(i - 1, 0)}(a, b) }} }} }} "
                   f"return `t${{a}}{i}`; }}\n")
    return "".join(out)


def esbuild_profiles(outdir: Path, functions: int = 4000, cpu_profile: bool = False,
                     release: str = ESBUILD) -> Tuple[str, List[Path]]:
    """(esbuild path, its profiles: [cpu] if cpu_profile, then [heap] unless
    the release predates --heap=) after the corpus esbuild `release` has minified a generated file of
    `functions` functions.  With --cpuprofile= esbuild repeats the build for
    about 30 s (whatever the input), so CPU profiles are for the bench only."""
    esbuild = corpus_binary(release)
    js = outdir / "in.js"
    js.write_text(javascript(functions))
    cpu, hp = outdir / "esbuild-cpu.pprof", outdir / "esbuild-heap.pprof"
    heap = release not in _EARLY
    quiet = ["--log-level=error"] if heap else []
    r = subprocess.run([esbuild, str(js), "--minify", f"--outfile={outdir / 'out.js'}", *quiet,
                        *([f"--cpuprofile={cpu}"] if cpu_profile else []), *([f"--heap={hp}"] if heap else [])],
                       cwd=outdir, capture_output=True, text=True, timeout=600, env=dict(os.environ, HOME=str(outdir)))
    assert r.returncode == 0, r.stderr
    return esbuild, ([cpu] if cpu_profile else []) + ([hp] if heap else [])


def runtime_frames(data: bytes) -> Dict[int, Tuple[int, List[Tuple[str, str, int]]]]:
    """Per location id: (address, frames (function, file, line) innermost first)."""
    prof = pprof.parse_profile(data)
    st = [x.decode() for x in prof.string_table]
    fn = {f.id: (st[f.name], st[f.filename]) for f in prof.function}
    return {loc.id: (loc.address, [(fn[ln.function_id][0], fn[ln.function_id][1], ln.line) for ln in loc.line])
            for loc in prof.location}


def key(frames: List[Tuple[str, str, int]]) -> List[Frame]:
    """The compared part of frames: the printed name (Go 1.21+ runtimes
    print a generic instantiation's type arguments as "[...]") and line."""
    return [(print_name(f), line) for f, _, line in frames]


def compare_profiles(original: bytes, refilled: bytes, by_address: bool = False) -> dict:
    """Location by location: the runtime's frames (original) against
    gosym's (refilled); locations the runtime left without lines are not
    counted.  Returns counts and every difference (address, runtime, gosym);
    `file_differs` counts equal frames whose Function file differs (issue 13
    item 2: runtime/pprof keeps the file of the first frame it met per name).
    by_address matches locations by address instead of id (for a tool that
    renumbers them, as `go tool pprof -proto` does)."""
    want, got = runtime_frames(original), runtime_frames(refilled)
    if by_address:
        by = {}
        for addr, frames in runtime_frames(refilled).values():
            by.setdefault(addr, frames)
        got = {lid: (addr, by.get(addr, [])) for lid, (addr, _) in want.items()}
    same = files = unsymbolized = 0
    diffs = []
    for lid, (addr, w) in sorted(want.items()):
        if not w:
            unsymbolized += 1
            continue
        g = got.get(lid, (addr, []))[1]
        if key(w) == key(g):
            same += 1
            files += [fi for _, fi, _ in w] != [fi for _, fi, _ in g]
        else:
            diffs.append((addr, w, g))
    compared = same + len(diffs)
    return {"locations": compared, "same": same, "differ": diffs, "file_differs": files,
            "unsymbolized": unsymbolized, "share": same / compared if compared else 1.0}


def explain(diffs: list, limit: int = 50) -> str:
    """The differences, one block each, for a failure message or a log."""
    lines = []
    for addr, w, g in diffs[:limit]:
        lines.append(f"{addr:#x}:")
        lines.append("  runtime " + " <- ".join(f"{f}:{ln}" for f, _, ln in w))
        lines.append("  gosym   " + " <- ".join(f"{f}:{ln}" for f, _, ln in g))
    if len(diffs) > limit:
        lines.append(f"... {len(diffs) - limit} more")
    return "\n".join(lines)
