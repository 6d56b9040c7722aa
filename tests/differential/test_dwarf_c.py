"""DWARF line tables of C programs built here by gcc and clang.

Each build of tests/c/ (DWARF 2, 3, 4, 5; uncompressed, -gz=zlib,
-gz=zlib-gnu for legacy .zdebug, and objcopy --compress-debug-sections=zstd)
must decode to exactly pyelftools' rows; the zstd builds, which pyelftools
cannot inflate, must give the rows of the same binary before recompression.
File paths are checked against the sources' real paths.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from gosym.dwarf import open_dwarf
from tests.support import uncovered
from gosym.errors import UnsupportedError
from tests.differential.test_dwarf_pyelftools import assert_same, compare_file, gosym_rows

SRC = Path(__file__).resolve().parents[1] / "c"
COMPILERS = [c for c in ("gcc", "clang") if shutil.which(c)]
VERSIONS = (2, 3, 4, 5)


def _compile(cc: str, out: Path, *flags: str) -> Tuple[bool, str]:
    cmd = [cc, "-O2", *flags, "-I", str(SRC), str(SRC / "main.c"), str(SRC / "lib.c"), "-o", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode == 0, p.stderr


@pytest.fixture(scope="session")
def c_builds(tmp_path_factory) -> Dict[Tuple[str, int, str], Path]:
    """(compiler, DWARF version, compression) -> binary; compression is
    none, zlib (SHF_COMPRESSED), zdebug (-gz=zlib-gnu) or zstd (objcopy)."""
    for cc in ("gcc", "clang"):
        if cc not in COMPILERS:
            uncovered.lost(uncovered.missing(cc, cc), "of 2 C compilers for the C-program DWARF tests")
    if not COMPILERS:
        pytest.skip("no C compiler (gcc or clang) installed")
    d = tmp_path_factory.mktemp("cbuilds")
    out: Dict[Tuple[str, int, str], Path] = {}
    for cc in COMPILERS:
        for v in VERSIONS:
            for comp, flags in (("none", ["-gz=none"]), ("zlib", ["-gz=zlib"]),
                                ("zdebug", ["-gz=zlib-gnu"])):
                p = d / f"{cc}-v{v}-{comp}"
                ok, _err = _compile(cc, p, f"-gdwarf-{v}", *flags)
                if ok:
                    out[(cc, v, comp)] = p
            plain = out.get((cc, v, "none"))
            if plain is not None and shutil.which("objcopy"):
                z = d / f"{cc}-v{v}-zstd"
                r = subprocess.run(["objcopy", "--compress-debug-sections=zstd", str(plain), str(z)],
                                   capture_output=True)
                if r.returncode == 0:
                    out[(cc, v, "zstd")] = z
    return out


def _cases(builds, comp: str) -> List[Tuple[str, int]]:
    return sorted((cc, v) for cc, v, c in builds if c == comp)


def test_builds_cover_matrix(c_builds):
    assert {(cc, v) for cc, v, c in c_builds if c == "none"} == {(cc, v) for cc in COMPILERS for v in VERSIONS}
    assert _cases(c_builds, "zlib"), "no -gz=zlib build"


@pytest.mark.parametrize("comp", ["none", "zlib", "zdebug"])
def test_c_equal_pyelftools(c_builds, comp):
    cases = _cases(c_builds, comp)
    if not cases:
        pytest.skip(f"toolchain cannot build {comp}")
    for cc, v in cases:
        p = c_builds[(cc, v, comp)]
        n = compare_file(str(p), f"{cc} -gdwarf-{v} {comp}")
        assert n > 20
        with open_dwarf(p) as d:
            line = d.section("line")
            assert line is not None
            # The compression asked for is the one read (small sections may
            # stay plain when compression would not shrink them).
            assert line.compression in (comp, "none")
            versions = {d.table(k).version for k in range(len(d.line_offsets()))}
            # gcc writes a version 3 line table for -gdwarf-2; otherwise the
            # line table has the DWARF version asked for.
            assert versions == ({3} if (cc, v) == ("gcc", 2) else {v}), versions


def test_c_zstd_equal_plain(c_builds):
    cases = _cases(c_builds, "zstd")
    if not cases:
        uncovered.need("objcopy", "binutils", "makes the zstd-compressed twins")
        pytest.skip("objcopy cannot write zstd (binutils 2.40 or later can)")
    pytest.importorskip("zstandard")
    for cc, v in cases:
        with open_dwarf(c_builds[(cc, v, "zstd")]) as d:
            line = d.section("line")
            assert line is not None and line.compression == "zstd"
            mine = gosym_rows(d)
        with open_dwarf(c_builds[(cc, v, "none")]) as d:
            plain = gosym_rows(d)
        assert_same(mine, plain, f"{cc} -gdwarf-{v} zstd")
        # and the plain twin agrees with pyelftools.
        compare_file(str(c_builds[(cc, v, "none")]), f"{cc} -gdwarf-{v}")


def test_c_paths_and_lookup(c_builds):
    """Rows of main() name the real main.c; the inline helper's rows name
    inc/util.h; line_at() and lookup() at main's rows give main.c."""
    for (cc, v, comp), p in sorted(c_builds.items()):
        if comp != "none":
            continue
        with open_dwarf(p) as d:
            units = d.units()
            names = {Path(u.name).name for u in units if u.name}
            assert {"main.c", "lib.c"} <= names, (cc, v, names)
            rows = d.line_rows()
            files = {rows.row_file(i) for i in range(len(rows))}
            files.discard(None)
            resolved = {str(Path(f).resolve()) for f in files if Path(f).is_absolute()}
            assert str(SRC / "main.c") in resolved, (cc, v, sorted(files)[:10])
            assert str(SRC / "lib.c") in resolved, (cc, v)
            assert str(SRC / "inc" / "util.h") in resolved, (cc, v, sorted(files))
            # lookup at each main.c row start (a sample) gives main.c
            hits = 0
            for i in range(len(rows) - 1):
                f = rows.row_file(i)
                if f and f.endswith("main.c") and rows.address[i + 1] > rows.address[i] \
                        and not rows.flags[i] & 2:
                    got = d.line_at(rows.address[i])
                    assert got is not None and got.file == f and got.line == rows.line[i]
                    assert [(fr.file, fr.line) for fr in d.lookup(rows.address[i])] == [(f, rows.line[i])]
                    hits += 1
            assert hits > 3


def test_split_dwarf_rejected(tmp_path):
    if not COMPILERS:
        pytest.skip("no C compiler (gcc or clang) installed")
    uncovered.need("objcopy", "binutils", "gcc -gsplit-dwarf runs it")
    cc = COMPILERS[0]
    out = tmp_path / "split"
    p = subprocess.run([cc, "-g", "-gsplit-dwarf", "-c", str(SRC / "lib.c"), "-I", str(SRC), "-o",
                        str(tmp_path / "lib.o")], capture_output=True, cwd=tmp_path)
    if p.returncode != 0:
        pytest.skip("compiler rejects -gsplit-dwarf")
    ok, err = _compile(cc, out, "-g", "-gsplit-dwarf")
    assert ok, err
    with open_dwarf(out) as d:
        with pytest.raises(UnsupportedError, match="split DWARF"):
            d.line_rows()
