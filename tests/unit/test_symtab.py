"""Symbol tables as a source: every entry against pyelftools (ELF), and the
symbolizer's fallback to them for C code in cgo binaries."""
import subprocess
import sys

import pytest
from elftools.elf.elffile import ELFFile

import gosym


def elf_symbols(path, section=".symtab"):
    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        tab = elf.get_section_by_name(section)
        if tab is None:
            return None
        return [(s.name, s["st_value"], s["st_size"], s["st_info"]["type"] == "STT_FUNC")
                for s in tab.iter_symbols()]


def test_elf_symbols_match_pyelftools(fixture_rows, corpus_rows):
    paths = [r["path"] for r in fixture_rows if r.get("path") and r["goos"] == "linux"
             and r["flagset"] in ("default", "pie")]
    paths += [r["path"] for r in corpus_rows if r.get("path") and r["format"] == "ELF" and r["symtab"] == "1"]
    checked = 0
    for path in paths:
        want = elf_symbols(path)
        if want is None:
            continue
        with gosym.open(path) as b:
            got = [(s.name, s.address, s.size, s.is_func) for s in b.symtab if s.table == ".symtab"]
        assert got == want, path
        checked += 1
    assert checked >= 5


def test_macho_and_pe_symbols_name_the_pclntab_functions(corpus_rows):
    """Where no independent reader is at hand, the Go functions' symbols
    must sit at exactly the pclntab's entries (two independent tables)."""
    names = {"rclone-1.65.2-darwin-amd64", "go1.27.3-compile-windows-amd64.exe"}
    for r in corpus_rows:
        if r["name"] not in names or not r.get("path"):
            continue
        with gosym.open(r["path"]) as b:
            cols = b.functions.columns()
            entries = dict(zip(cols.name.tolist(), cols.entry))
            syms = {s.name.lstrip("_") if r["format"] == "Mach-O" else s.name: s.address
                    for s in b.symtab if s.is_func}
            common = [n for n in entries if n in syms]
            assert len(common) > len(entries) // 2, r["name"]
            bad = [n for n in common if syms[n] != entries[n]]
            assert len(bad) < len(common) // 100, bad[:5]


def test_cgo_c_functions_answer_from_the_symtab(fixture_rows):
    rows = [r for r in fixture_rows if r.get("path") and r["program"] == "cgo" and r["goarch"] == "amd64"]
    if not rows:
        pytest.skip("no cgo fixture")
    for r in rows:
        syms = elf_symbols(r["path"])
        with gosym.open(r["path"]) as b:
            c_funcs = [(n, v) for n, v, size, f in syms if f and size > 4 and not b.lookup(v + 1)]
        assert c_funcs, r["path"]
        name, value = c_funcs[0]
        out = subprocess.run([sys.executable, "-m", "gosym", "lookup", "--style", "gnu", r["path"],
                              hex(value + 1)], capture_output=True, text=True, check=True).stdout
        assert out.splitlines()[0] == name
        out = subprocess.run([sys.executable, "-m", "gosym", "lookup", "--source", "pclntab",
                              "--style", "gnu", r["path"], hex(value + 1)],
                             capture_output=True, text=True, check=True).stdout
        assert out.splitlines()[0] == "??"
