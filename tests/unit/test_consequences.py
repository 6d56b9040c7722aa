"""gosym.consequences on files whose tables are partly gone: the cells follow
what the file contains (the real tools confirm the rules in
tests/differential/test_tools_truth.py)."""
from __future__ import annotations

import subprocess

import pytest

from gosym import matrix as m
from gosym.consequences import CELLS, consequences, expected, rules
from tests.support import uncovered


@pytest.fixture(scope="module")
def default_build():
    builds = m.run_builds(m.stage_example(), [m.resolve_toolchain("1.27.3")], [m.FlagSet("default", ())], None)
    return builds[0].path


def _cells(res, tool):
    return {c: expected(res["tools"], tool, c) for c in CELLS}


def test_only_keep_debug_is_a_debug_file(default_build, tmp_path):
    uncovered.need("objcopy", "binutils", "consequences of an objcopy --only-keep-debug file")
    out = tmp_path / "app.debug"
    subprocess.run(["objcopy", "--only-keep-debug", default_build, str(out)], check=True)
    res = consequences(str(out))
    assert not res["readable"] and res["note"]
    assert _cells(res, "go-addr2line")["names"] == "cannot tell"
    assert expected(res["tools"], "runtime", "works") == "n/a"        # no code bytes: it cannot run
    assert _cells(res, "nm")["names"] == "yes" and _cells(res, "gdb")["types"] == "yes"
    assert _cells(res, "addr2line")["file_line"] == "no"              # DWARF 5 from go1.27.3


def test_packed_file_cannot_tell(default_build, tmp_path):
    """A UPX-like file: no section table and no pclntab to be found."""
    data = bytearray(open(default_build, "rb").read())
    i = data.find(b"\xf1\xff\xff\xff\x00\x00")   # the go1.20+ pclntab magic
    assert i > 0
    data[i:i + 4] = b"UPX!"
    out = tmp_path / "packed"
    out.write_bytes(bytes(data[:0x40]) + bytes(len(data) - 0x40))   # keep only the ELF header
    res = consequences(str(out))
    assert not res["readable"]
    for tool in ("go-addr2line", "runtime", "go-pprof"):
        assert all(v in ("cannot tell", "n/a") for v in _cells(res, tool).values()), tool
    assert expected(res["tools"], "go-version", "works") == "cannot tell"


def test_rules_follow_contents_not_flags():
    """The same facts give the same table whatever produced them; each table removes
    only what its data carried."""
    full = {"symbols": True, "dwarf_types": True, "dwarf_lines": True, "dwarf_version": 4, "inlined_frames": True,
            "function_names": True, "file_line": True, "go_version": True, "gnu_build_id": True,
            "format": "ELF", "runnable": True, "go_tables": True}
    t = {r["tool"]: r for r in rules(full)}
    assert t["gdb"]["names"] == t["gdb"]["file_line"] == t["gdb"]["types"] == "yes"
    assert t["addr2line"]["file_line"] == "yes" and t["addr2line"]["inlined"] == "no"
    nosym = {r["tool"]: r for r in rules(dict(full, symbols=False))}
    assert nosym["nm"]["names"] == "no" and nosym["gdb"]["names"] == "yes"   # gdb still has DWARF names
    pe = {r["tool"]: r for r in rules(dict(full, format="PE", symbols=False, pe_pclntab_symbols=False))}
    assert pe["go-addr2line"]["names"] == "no" and pe["runtime"]["names"] == "yes"


def test_cost_cli_on_a_debug_only_file_still_says_what_tools_get(default_build, tmp_path):
    import json
    import sys

    uncovered.need("objcopy", "binutils", "consequences of an objcopy --only-keep-debug file")
    out = tmp_path / "app.debug"
    subprocess.run(["objcopy", "--only-keep-debug", default_build, str(out)], check=True)
    p = subprocess.run([sys.executable, "-m", "gosym", "cost", str(out)], capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and p.stderr.startswith(f"gosym: {out}: ")
    assert "the Go tables could not be read" in p.stdout and "cannot tell" in p.stdout
    js = subprocess.run([sys.executable, "-m", "gosym", "cost", "--json", str(out)], capture_output=True, text=True)
    doc = json.loads(js.stdout)
    assert js.returncode == 1 and doc["consequences"]["readable"] is False
    assert expected(doc["consequences"]["tools"], "nm", "names") == "yes"
