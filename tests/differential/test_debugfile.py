"""Separate debug files: `objcopy --only-keep-debug` a binary into X.debug,
`strip --strip-debug` the original, then open the stripped file with
debug_file= / --debug-file: the DWARF rows must equal pyelftools' rows of
the unstripped original.  Matching is by build ID: Go's note (every Go ELF
binary has one), the GNU note (gcc --build-id, go -ldflags=-B=gobuildid);
a mismatched debug file is a one-line error naming both files.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gosym
from gosym.debugfile import (DebugFileMismatchError, build_ids, candidates, debuglink,
                             find_debug_file)
from gosym.dwarf import open_dwarf
from tests.support import uncovered
from tests.differential.test_dwarf_pyelftools import assert_same, gosym_rows, reference_rows

pytestmark = pytest.mark.skipif(not (shutil.which("objcopy") and shutil.which("strip")),
                                reason="objcopy and strip not installed (Debian binutils)")

SRC = Path(__file__).resolve().parents[1] / "c"


def split(path, d: Path, name: str):
    """(stripped copy, its .debug file) of path, made with binutils."""
    dbg = d / f"{name}.debug"
    stripped = d / name
    subprocess.run(["objcopy", "--only-keep-debug", str(path), str(dbg)], check=True)
    shutil.copy(path, stripped)
    subprocess.run(["strip", "--strip-debug", str(stripped)], check=True)
    return stripped, dbg


def go_fixture(rows, toolchain="1.27.3", program="multipkg"):
    return next(r for r in rows if r.get("path") and r["toolchain"] == toolchain
                and r["program"] == program and r["goos"] == "linux" and r["goarch"] == "amd64"
                and r["flagset"] == "default")


def test_go_binary_with_debug_file(fixture_rows, tmp_path):
    r = go_fixture(fixture_rows)
    stripped, dbg = split(r["path"], tmp_path, "app")
    ref = reference_rows(r["path"])
    with gosym.open(stripped) as b:
        assert build_ids(b.container).go, "Go writes its build ID note"
        assert b.dwarf is None                      # stripped: no DWARF of its own
    with gosym.open(stripped, debug_file=dbg) as b:
        d = b.dwarf
        assert d is not None and d.path == str(dbg)
        n = assert_same(gosym_rows(d), ref, "debug file")
        assert n > 10000
        # The symbolizer's DWARF source reads the debug file too.
        pc = b.functions[len(b.functions) // 2].entry
        assert b.symbolize([pc], source="dwarf").frames(0)[0].line > 0
    with open_dwarf(stripped, debug_file=dbg) as d:
        assert_same(gosym_rows(d), ref, "open_dwarf debug file")


def test_mismatch_is_one_line_naming_both(fixture_rows, tmp_path):
    a = go_fixture(fixture_rows)
    other = go_fixture(fixture_rows, toolchain="1.24.11")
    stripped, _ = split(a["path"], tmp_path, "app")
    _, wrong = split(other["path"], tmp_path, "other")
    with pytest.raises(DebugFileMismatchError) as e:
        gosym.open(stripped, debug_file=wrong)
    assert str(wrong) in str(e.value) and str(stripped) in str(e.value)
    # The override uses it anyway.
    with gosym.open(stripped, debug_file=wrong, check_build_id=False) as b:
        assert b.dwarf is not None and len(b.dwarf.line_rows()) > 0
    for cmd in (["dump", "--dwarf-lines"], ["lookup"], ["check"]):
        p = subprocess.run([sys.executable, "-m", "gosym", *cmd, "--debug-file", str(wrong),
                            str(stripped), *(["0x401000"] if cmd == ["lookup"] else [])],
                           capture_output=True, text=True)
        assert p.returncode == 1, (cmd, p.stderr)
        lines = p.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"gosym: {stripped}: debug file {wrong}"), lines
        assert "Traceback" not in p.stderr
    p = subprocess.run([sys.executable, "-m", "gosym", "dump", "--dwarf-lines", "--debug-file",
                        str(wrong), "--no-build-id-check", str(stripped)],
                       capture_output=True, text=True)
    assert p.returncode == 0 and "debug:" in p.stdout


def test_cli_debug_file_rows_equal_original(fixture_rows, tmp_path):
    r = go_fixture(fixture_rows)
    stripped, dbg = split(r["path"], tmp_path, "app")
    run = [sys.executable, "-m", "gosym", "dump", "--dwarf-lines"]
    want = subprocess.run(run + [r["path"]], capture_output=True, text=True, check=True).stdout
    got = subprocess.run(run + ["--debug-file", str(dbg), str(stripped)], capture_output=True,
                         text=True, check=True).stdout
    body = lambda t: t[t.index("\nCU:"):]  # noqa: E731 - the headers name the files
    assert body(got) == body(want)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed (Debian gcc)")
def test_gnu_build_id_and_debuglink(tmp_path):
    exe = tmp_path / "cprog"
    subprocess.run(["gcc", "-g", "-O1", "-Wl,--build-id=sha1", "-I", str(SRC), str(SRC / "main.c"),
                    str(SRC / "lib.c"), "-o", str(exe)], check=True)
    want = subprocess.run(["readelf", "-n", str(exe)], capture_output=True, text=True).stdout
    ref = reference_rows(str(exe))
    stripped, dbg = split(exe, tmp_path, "cprog.stripped")
    with open_dwarf(exe) as d:
        gnu = build_ids(d.container).gnu
    assert gnu and f"Build ID: {gnu}" in want          # readelf's reading of the note
    with open_dwarf(stripped, debug_file=dbg) as d:
        assert_same(gosym_rows(d), ref, "gcc debug file")
    # .gnu_debuglink: found beside the binary (the CRC-32 is checked).
    subprocess.run(["objcopy", f"--add-gnu-debuglink={dbg}", str(stripped)], check=True, cwd=tmp_path)
    with open_dwarf(stripped) as d:
        assert d.path == str(dbg)
        assert_same(gosym_rows(d), ref, "found by .gnu_debuglink")
        link = debuglink(gosym.container.detect(open(stripped, "rb").read()))
        assert link is not None and link[0] == dbg.name
    # In the build-ID tree of a debug root, without a debuglink.
    bare = tmp_path / "bare"
    shutil.copy(exe, bare)
    subprocess.run(["strip", "--strip-debug", "--remove-section=.gnu_debuglink", str(bare)], check=True)
    root = tmp_path / "root"
    tree = root / ".build-id" / gnu[:2]
    tree.mkdir(parents=True)
    shutil.copy(dbg, tree / (gnu[2:] + ".debug"))
    with open(bare, "rb") as f:
        c = gosym.container.detect(f.read())
    assert candidates(str(bare), c, str(root))[0] == str(tree / (gnu[2:] + ".debug"))
    assert find_debug_file(str(bare), c, str(root)) == str(tree / (gnu[2:] + ".debug"))
    # A debug file for another build is not taken.
    other = tmp_path / "other"
    subprocess.run(["gcc", "-g", "-O0", "-Wl,--build-id=sha1", "-I", str(SRC), str(SRC / "main.c"),
                    str(SRC / "lib.c"), "-o", str(other)], check=True)
    shutil.copy(other, tree / (gnu[2:] + ".debug"))
    assert find_debug_file(str(bare), c, str(root)) is None
    os.unlink(tree / (gnu[2:] + ".debug"))


def test_build_ids_match_go_tool_buildid_and_llvm(fixture_rows):
    """Go's build ID from every container format equals `go tool buildid`;
    the Mach-O UUID equals llvm-dwarfdump --uuid's."""
    from gosym.container import detect
    from gosym.toolchain import goroot

    go = Path(goroot("1.27.3")) / "bin" / "go"
    env = dict(os.environ, GOTOOLCHAIN="local", GOPROXY="off")
    formats = set()
    for r in fixture_rows:
        if not r.get("path"):
            continue
        want = subprocess.run([str(go), "tool", "buildid", r["path"]], capture_output=True, text=True,
                              env=env, check=True).stdout.strip()
        with open(r["path"], "rb") as f:
            c = detect(f.read())
        ids = build_ids(c)
        assert ids.go == want, r["path"]
        formats.add(c.format)
        if ids.uuid and not shutil.which("llvm-dwarfdump"):
            uncovered.reduced(uncovered.missing("llvm-dwarfdump", "llvm"), "Mach-O UUIDs not compared")
        elif ids.uuid:
            out = subprocess.run(["llvm-dwarfdump", "--uuid", r["path"]], capture_output=True,
                                 text=True, check=True).stdout
            assert f"UUID: {ids.uuid.upper()[:8]}-" in out, (out, ids.uuid)
            u = ids.uuid.upper()
            assert f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}" in out
    assert formats == {"ELF", "Mach-O", "PE"}
