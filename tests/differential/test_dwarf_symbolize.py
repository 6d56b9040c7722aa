"""DWARF as a symbolizer source: `gosym lookup --source dwarf|auto` and
`Binary.symbolize(source=...)` on the C functions of cgo fixtures, compared
with llvm-symbolizer --no-inlines (Debian `llvm`: the function covering the
pc, and the line table's file:line:column) and GNU addr2line (file:line;
binutils 2.40 cannot read the Go 1.27 mix of DWARF 5 and gcc's units, so it
is asked only where it answers).
"""
import array
import shutil
import subprocess
import sys

import pytest

import gosym
from gosym.symbolize import DWARF, NONE, PCLNTAB, SYMTAB

PY = [sys.executable, "-m", "gosym", "lookup"]


def cgo_fixtures(rows):
    return [r for r in rows if r.get("path") and r["program"] == "cgo" and r["goos"] == "linux"]


def c_pcs(path, per_func=6):
    """pcs inside C functions: ELF function symbols the pclntab does not cover."""
    out = []
    with gosym.open(path) as b:
        for s in b.symtab:
            if not s.is_func or s.size < 4 or b.func_at(s.address) is not None:
                continue
            step = max(1, s.size // per_func)
            out += [s.address + k for k in range(0, s.size, step)][:per_func]
    return sorted(set(out))


def llvm_blocks(text):
    return [blk.split("\n") for blk in text.strip("\n").split("\n\n")]


@pytest.mark.skipif(shutil.which("llvm-symbolizer") is None, reason="llvm-symbolizer not installed")
def test_c_code_matches_llvm_symbolizer(fixture_rows):
    rows = cgo_fixtures(fixture_rows)
    if not rows:
        pytest.skip("no cgo fixture")
    total = 0
    classes = {src: {"identical": 0, "no DWARF subprogram (llvm-symbolizer ??)": 0,
                     "no DWARF row, symbol named by llvm-symbolizer": 0} for src in ("dwarf", "auto")}
    for r in rows:
        pcs = c_pcs(r["path"])
        assert len(pcs) > 50, r["path"]
        addrs = [hex(p) for p in pcs]
        want = subprocess.run(["llvm-symbolizer", "--no-inlines", f"--obj={r['path']}"],
                              input="\n".join(addrs) + "\n", capture_output=True, text=True,
                              timeout=300, check=True).stdout
        for src in ("dwarf", "auto"):
            got = subprocess.run(PY + ["--style", "llvm", "--no-inline", "--source", src, r["path"]],
                                 input="\n".join(addrs) + "\n", capture_output=True, text=True,
                                 timeout=300)
            assert got.returncode == 0, got.stderr
            w, g = llvm_blocks(want), llvm_blocks(got.stdout)
            assert len(w) == len(g) == len(pcs)
            diff = [(a, x, y) for a, x, y in zip(addrs, w, g) if x != y]
            # The two accepted classes of difference (docs/performance.md):
            # llvm-symbolizer names a pc by the DWARF subprogram, gosym by the
            # symbol table: they differ only where a symbol has no DWARF.
            no_subprogram = [t for t in diff if t[1][1:] == t[2][1:] and t[1][0] == "??"]
            bad = [t for t in diff if t not in no_subprogram]
            no_row = []
            if src == "dwarf":
                # DWARF alone has no answer where no row covers the pc;
                # llvm-symbolizer (like auto) still names its symbol.
                no_row = [t for t in bad if t[1][1:] == ["??:0:0"] and t[2] == ["??", "??:0:0"]]
                bad = [t for t in bad if t not in no_row]
            classes[src]["identical"] += len(pcs) - len(diff)
            classes[src]["no DWARF subprogram (llvm-symbolizer ??)"] += len(no_subprogram)
            classes[src]["no DWARF row, symbol named by llvm-symbolizer"] += len(no_row)
            assert not bad, (r["path"], src, bad[:5])
            total += len(pcs)
        # The pclntab alone does not answer C code.
        out = subprocess.run(PY + ["--style", "llvm", "--source", "pclntab", r["path"]] + addrs[:5],
                             capture_output=True, text=True, check=True).stdout
        assert out == "??\n??:0:0\n\n" * 5
    print(f"\nC code of {len(rows)} cgo fixtures, llvm-symbolizer --no-inlines vs gosym --no-inline: {classes}")
    assert total > 200


def test_c_code_matches_addr2line(fixture_rows):
    """Lines agree with GNU addr2line everywhere it answers; files too, but
    for pcs under a `#line` directive of cgo's prolog, where binutils 2.40
    names the unit's primary file and llvm-symbolizer (checked above) and
    gosym the file the directive names."""
    if shutil.which("addr2line") is None:
        pytest.skip("binutils not installed")
    checked = files_differ = 0
    for r in cgo_fixtures(fixture_rows):
        pcs = c_pcs(r["path"], per_func=3)
        want = subprocess.run(["addr2line", "-e", r["path"]] + [hex(p) for p in pcs],
                              capture_output=True, text=True, timeout=300).stdout.splitlines()
        with gosym.open(r["path"]) as b:
            res = b.symbolize(array.array("Q", pcs), source="dwarf")
            for k, w in enumerate(want):
                w = w.split(" ")[0]
                if w.startswith("??") or w.endswith(":?"):
                    continue            # addr2line could not read this unit or line
                fr = res.frames(k)
                assert fr, (hex(pcs[k]), w)
                wfile, wline = w.rsplit(":", 1)
                assert fr[0].line == int(wline), (hex(pcs[k]), w, fr)
                if fr[0].file != wfile:
                    assert fr[0].file.endswith("cgo-gcc-prolog"), (hex(pcs[k]), w, fr)
                    files_differ += 1
                checked += 1
    if not checked:
        pytest.skip("addr2line answered no pc")
    assert files_differ <= checked // 10, (files_differ, checked)


def test_source_column_and_preference(fixture_rows):
    rows = cgo_fixtures(fixture_rows)
    if not rows:
        pytest.skip("no cgo fixture")
    with gosym.open(rows[0]["path"]) as b:
        go_pc = b.functions[len(b.functions) // 2].entry
        c_pc = c_pcs(rows[0]["path"])[0]
        # A pc with a symbol but no DWARF row (in the PLT or a stub), if any.
        pcs = array.array("Q", [go_pc, c_pc, 0x10])
        auto = b.symbolize(pcs, source="auto")
        assert list(auto.source) == [PCLNTAB, DWARF, NONE]
        assert auto.frames(0) == b.lookup(go_pc)
        assert auto.frames(1)[0].function == b.symtab.symbol_at(c_pc)[0]
        assert auto.frames(1)[0].function == b.symtab.lookup(c_pc)[0].function
        assert auto.frames(1)[0].line > 0 and auto.frames(1)[0].file.endswith(".c")
        assert auto.frames(2) == []
        native = b.symbolize(pcs)
        assert list(native.source) == [PCLNTAB, NONE, NONE]
        assert list(native.column) == [0] * native.nframes
        sym = b.symbolize(pcs, source="symtab")
        assert list(sym.source)[:2] == [SYMTAB, SYMTAB]
        assert sym.frames(1)[0].file == "" and sym.frames(1)[0].line == 0
        dw = b.symbolize(pcs, source="dwarf")
        assert list(dw.source) == [DWARF, DWARF, NONE]
        # Many pcs go through Dwarf.lookup_many: same answers as one by one (line_at).
        many = array.array("Q", c_pcs(rows[0]["path"]) * 2)
        big = b.symbolize(many, source="dwarf")
        d = b.dwarf
        assert d is not None
        for k in range(0, len(many), 7):
            li = d.line_at(many[k])
            fr = big.frames(k)
            assert (fr[0].file, fr[0].line) == (li.file, li.line) if li else fr == []
        with pytest.raises(ValueError):
            b.symbolize(pcs, source="nope")
