"""`gosym cost --by package` against independent readings (issue 16).

- Code bytes per package equal the sum of `go tool nm -size` text symbols
  per package on every unstripped ELF fixture.  The padding rule: nm's size
  of a Go function is its code only (the linker's symbol size), the
  alignment padding before the next function is in no symbol, and gosym
  shows it as its own "(alignment padding)" line.  Functions the linker made
  with no pc-value tables (trampolines, markers such as go:textfipsstart;
  their pcsp and pcln offsets are 0 in the _func record) are in no package:
  nm's sizes of them fit in gosym's "(linker stubs)" line, which holds their
  whole ranges.  Symbols only nm lists (cgo's C functions) fit in the
  "(C / non-Go code)" line.
- pclntab bytes per package (go:func.* objects too, inside the table on Go 1.26+)
  equal a pure-Python walk of the table
  (tests/support/pclnwalk.walk_funcs, written from runtime/symtab.go).
- A stripped build (-s -w, -s) gives the same numbers per package as its
  unstripped twin, where nm cannot be used at all.
"""
from __future__ import annotations

import subprocess
from collections import defaultdict
from typing import Dict

import pytest

import gosym
from gosym.packages import NON_GO, STUBS, by_group, package_of
from gosym.toolchain import go_env, goroot

UNSTRIPPED = ("default", "w", "nolinline", "trimpath", "pie", "nocompressdwarf")


def _elf_rows(fixture_rows, flagsets=UNSTRIPPED, per_target=True):
    """Linux fixtures built with flagsets; per_target: one per (program,
    toolchain, arch) (the default build first), to keep the suite quick."""
    rows = [r for r in fixture_rows if r.get("path") and r["goos"] == "linux" and r["flagset"] in flagsets]
    rows.sort(key=lambda r: r["flagset"] != "default")
    if not per_target:
        return rows
    seen, out = set(), []
    for r in rows:
        k = (r["program"], r["toolchain"], r["goarch"])
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def _nm_text(path: str):
    """[(address, size, name)] of nm's text symbols; nm spells an assembly
    (ABI0) function's name with ".abi0", which the
    pclntab's name does not have."""
    root = goroot("1.27.3")
    out = subprocess.run([str(root / "bin" / "go"), "tool", "nm", "-size", path], capture_output=True,
                         text=True, check=True, env=go_env(root)).stdout
    syms = []
    for line in out.splitlines():
        f = line.split(None, 4)
        if len(f) >= 4 and f[2] in ("T", "t"):
            name = f[3][:-5] if f[3].endswith(".abi0") else f[3]
            syms.append((int(f[0], 16), int(f[1]), name))
    return syms


def _groups(path: str):
    """(by-package document, Go function entries, entries of linker stubs:
    the functions with no code extent, each checked to have no pcsp and no
    pcln table in its _func record)."""
    with gosym.open(path) as b:
        code = b.function_costs().code
        stubs = set()
        for i in range(len(code)):
            if code[i] == 0:
                rec = b.functions[i].record()
                assert rec.pcsp == 0 and rec.pcln == 0, (path, rec)
                stubs.add(rec.entry)
        return by_group(b, "package"), set(b.functions.columns().entry), stubs


def test_code_per_package_matches_go_tool_nm(fixture_rows):
    rows = _elf_rows(fixture_rows)
    assert rows
    checked = 0
    for r in rows:
        doc, entries, stubs = _groups(r["path"])
        ours = {g["name"]: g["code"] for g in doc["groups"]}
        theirs: Dict[str, int] = defaultdict(int)
        c_code = stub_code = 0
        for addr, size, name in _nm_text(r["path"]):
            if addr in stubs:
                stub_code += size
            elif addr in entries:     # a Go function (the pclntab has its entry)
                theirs[package_of(name) or "(no package)"] += size
            else:
                c_code += size
        bad = {p: (ours.get(p, 0), n) for p, n in theirs.items() if ours.get(p, 0) != n}
        assert not bad, (r["path"], bad)
        assert c_code <= ours.get(NON_GO, 0), (r["path"], c_code, ours.get(NON_GO))
        assert stub_code <= ours.get(STUBS, 0), (r["path"], stub_code, ours.get(STUBS))
        checked += 1
    assert checked >= 5


def test_pclntab_per_package_matches_python_walk(fixture_rows):
    pytest.importorskip("elftools")
    from elftools.elf.elffile import ELFFile

    from tests.support.pclnwalk import walk_funcs

    rows = _elf_rows(fixture_rows)     # unstripped: the go:func.* symbol places the funcdata
    rows = [r for r in rows if r["goarch"] in ("amd64", "riscv64", "386")]   # pure Python: slow
    inside = 0
    for r in rows:
        with open(r["path"], "rb") as f:
            elf = ELFFile(f)
            sec = elf.get_section_by_name(".gopclntab")
            if sec is None:
                continue
            data, big, addr = sec.data(), not elf.little_endian, sec["sh_addr"]
            gofunc = None
            for sym in elf.get_section_by_name(".symtab").get_symbol_by_name("go:func.*") or []:
                if addr <= sym["st_value"] < addr + len(data):
                    gofunc = sym["st_value"] - addr
        inside += gofunc is not None
        theirs: Dict[str, int] = defaultdict(int)
        for name, owned, tables in walk_funcs(data, big, gofunc):
            theirs[package_of(name) or "(no package)" if tables else STUBS] += owned
        doc, entries, stubs = _groups(r["path"])
        ours = {g["name"]: g["pclntab"] for g in doc["groups"] if g["functions"]}
        assert ours == dict(theirs), (r["path"], {p: (ours.get(p), theirs.get(p))
                                                  for p in set(ours) | set(theirs) if ours.get(p) != theirs.get(p)})
    assert inside, "no Go 1.26+ fixture with go:func.* inside the table"


@pytest.mark.parametrize("program,toolchain,plain,stripped", [
    ("multipkg", "1.27.3", "default", "sw"),
    ("tiny", "1.24.11", "w", "s"),
])
def test_stripped_twin_same_per_package(fixture_rows, program, toolchain, plain, stripped):
    def row(flagset):
        got = [r for r in fixture_rows if r.get("path") and r["program"] == program and
               r["toolchain"] == toolchain and r["goos"] == "linux" and r["goarch"] == "amd64" and
               r["flagset"] == flagset]
        if not got:
            pytest.skip(f"no {program} {toolchain} {flagset} fixture in this subset")
        return got[0]["path"]

    a = _groups(row(plain))[0]
    b = _groups(row(stripped))[0]
    ga = {g["name"]: (g["code"], g["pclntab"], g["functions"]) for g in a["groups"]}
    gb = {g["name"]: (g["code"], g["pclntab"], g["functions"]) for g in b["groups"]}
    assert ga == gb
    assert a["totals"]["text"] == b["totals"]["text"] and a["totals"]["pclntab"] == b["totals"]["pclntab"]
