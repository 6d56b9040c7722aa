"""The public API 1.0: one deliberate surface, the same verb with the same
shape on every source, and a CLI built on nothing else.

- gosym/cli/ touches no private name of another module (an ast walk, with a
  self-test that shows the walk catches each kind of use).
- What `gosym.__all__` lists exists, and nothing reachable from it hands out
  the internal Cython table (gosym._native.Pclntab).
- `Binary.lookup(pc, source=...)` returns frames, innermost first, for every
  source, as do `Dwarf.lookup` and `SymbolTable.lookup`; answers are
  compared with independent readers: Go's debug/gosym (tests/oracle) for
  the pclntab, pyelftools for the ELF symbol table and the DWARF line
  program.
- `Binary.symbolize` returns a `gosym.Symbolized` whatever the source, and
  `threads=` works or is refused with a ValueError.
- The API added for the CLI (Functions.columns(files=True),
  Binary.line_table(), Func.has_inline_tree, parse_address(es),
  pclntab_sizes) against debug/gosym and against the runtime-checked lookup.
"""
from __future__ import annotations

import array
import ast
import bisect
import os
import random
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

import gosym
from gosym import _native

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "gosym" / "cli"
SOURCES = ("pclntab", "dwarf", "symtab", "auto")


# ------------------------------------------------------------ CLI: public names only

def private_uses(source: str, own: str) -> List[str]:
    """Every place `source` (the module named `own`) uses a private name of
    another module: `from X import _y`, `import gosym._x` / `from gosym
    import _x`, or an attribute `obj._y` on anything but self/cls.  Dunder
    names (__doc__, __version__) are public."""
    def private(name: str) -> bool:
        return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))

    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if any(private(p) for p in mod.split(".")):
                out.append(f"line {node.lineno}: from {mod} import ...")
            elif mod != own:
                out += [f"line {node.lineno}: from {mod} import {a.name}"
                        for a in node.names if private(a.name)]
        elif isinstance(node, ast.Import):
            out += [f"line {node.lineno}: import {a.name}" for a in node.names
                    if any(private(p) for p in a.name.split("."))]
        elif isinstance(node, ast.Attribute) and private(node.attr):
            # os._exit is the standard library's documented immediate exit
            # (gosym.cli.entry), not a private name
            if isinstance(node.value, ast.Name) and (node.value.id, node.attr) == ("os", "_exit"):
                continue
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                out.append(f"line {node.lineno}: .{node.attr}")
    return out


def test_private_use_checker_catches_each_kind():
    """The checker below is not vacuous: each kind of private use is found,
    and public or module-own uses are not."""
    bad = """
from gosym import _native
from gosym.binary import _UNSET
import gosym._native
from gosym._native import Pclntab
def f(b):
    return b._tab.lookup(0)
"""
    found = private_uses(bad, "gosym.cli.x")
    assert len(found) == 5, found
    good = """
import gosym
from gosym.cli.x import _helper
from gosym.cli.common import add_debug_file_args
class A:
    def m(self):
        return self._x, gosym.__version__, gosym.check.__doc__
def _own():
    return _own
"""
    assert private_uses(good, "gosym.cli.x") == []


def test_cli_modules_use_only_public_names():
    files = sorted(CLI.glob("*.py"))
    assert len(files) >= 8, files      # the dispatcher, common and one per command
    problems = []
    for f in files:
        own = "gosym.cli" if f.stem == "__init__" else f"gosym.cli.{f.stem}"
        problems += [f"{f.relative_to(ROOT)} {p}" for p in private_uses(f.read_text(), own)]
    assert not problems, "\n".join(problems)


def test_every_command_has_its_module():
    from gosym.cli import SUBCOMMANDS

    assert set(SUBCOMMANDS) == {"dump", "lookup", "cost", "matrix", "diff", "pprof", "check", "survey"}
    for name, module in SUBCOMMANDS.items():
        assert module == f"gosym.cli.{name}"
        assert (CLI / f"{name}.py").is_file()


# ------------------------------------------------------------ the public surface

def test_all_names_exist_and_are_documented():
    for name in gosym.__all__:
        obj = getattr(gosym, name)
        if name != "__version__":
            assert (getattr(obj, "__doc__", None) or "").strip(), name


def _fixture(rows, program: str, toolchain: str = "1.27.3", flagset: str = "default") -> str:
    for r in rows:
        if (r.get("path") and r["program"] == program and r["toolchain"] == toolchain
                and r["goos"] == "linux" and r["goarch"] == "amd64" and r["flagset"] == flagset):
            return r["path"]
    pytest.skip(f"fixture {program} {toolchain} linux/amd64 {flagset} not built")


def _reachable(obj, depth: int, seen: set, path: str, found: List[str]) -> None:
    """Walk the public attributes of gosym objects (properties evaluated,
    methods not called) and the items of containers, recording every path
    at which a _native.Pclntab is reachable."""
    if isinstance(obj, _native.Pclntab):
        found.append(path)
        return
    if depth == 0 or id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, type(None))):
        return
    seen.add(id(obj))
    if isinstance(obj, (list, tuple)):
        for k, v in enumerate(obj[:3]):
            _reachable(v, depth - 1, seen, f"{path}[{k}]", found)
        return
    if isinstance(obj, dict):
        for k, v in list(obj.items())[:50]:
            _reachable(v, depth - 1, seen, f"{path}[{k!r}]", found)
        return
    if not type(obj).__module__.startswith("gosym"):
        return
    for name in dir(obj):
        if name.startswith("_"):
            continue
        try:
            v = getattr(obj, name)
        except (gosym.GosymError, ValueError, AttributeError):
            continue
        if callable(v) and not isinstance(v, type):
            continue
        _reachable(v, depth - 1, seen, f"{path}.{name}", found)


def test_public_objects_hand_out_no_pclntab(fixture_rows):
    """Nothing a user reaches from gosym.open hands out the Cython table:
    the Binary, its functions (sequence, Func, columns), lookups, batch
    results of every source, line tables."""
    path = _fixture(fixture_rows, "cgo")
    with gosym.open(path) as b:
        f = b.functions[len(b.functions) // 2]
        pcs = array.array("Q", [f.entry, f.entry + 1, 0])
        roots = {
            "b": b, "b.functions": b.functions, "func": f, "func.lines()": f.lines(),
            "func.record()": f.record(), "columns": b.functions.columns(files=True),
            "lookup": b.lookup(f.entry), "lookup_many": b.lookup_many(pcs),
            "line_table": b.line_table(), "func_at": b.func_at(f.entry),
            "functions[:2]": b.functions[:2], "pclntab_sizes": b.pclntab_sizes(),
        }
        for s in SOURCES:
            roots[f"symbolize[{s}]"] = b.symbolize(pcs, source=s)
            roots[f"lookup[{s}]"] = b.lookup(f.entry, source=s)
        found: List[str] = []
        for name, obj in roots.items():
            _reachable(obj, 4, set(), name, found)
        assert not found, found


def test_symbolized_hides_its_table(fixture_rows):
    path = _fixture(fixture_rows, "multipkg")
    with gosym.open(path) as b:
        res = b.symbolize(array.array("Q", [b.functions[0].entry]))
        assert not isinstance(getattr(res, "tab", None), _native.Pclntab)


# ------------------------------------------------------------ independent readers

def _oracle_lookup(oracle, path: str, pcs: List[int]) -> Dict[int, Optional[Tuple[str, str, int]]]:
    """debug/gosym's PCToLine: pc -> (function, file, line) or None."""
    ref = oracle(path, pcs=pcs, funcs=False)
    out: Dict[int, Optional[Tuple[str, str, int]]] = {}
    for row in ref["lookups"]:
        if row.get("func") is None:
            out[row["pc"]] = None
        else:
            line = row.get("line")
            out[row["pc"]] = (row["func"], row.get("file") or "", -1 if line is None else line)
    return out


def _elf_functions(path: str) -> List[Tuple[int, int, str]]:
    """(start, end, name) of every sized STT_FUNC symbol of .symtab, by pyelftools."""
    elffile = pytest.importorskip("elftools.elf.elffile")
    out = []
    with open(path, "rb") as fh:
        elf = elffile.ELFFile(fh)
        tab = elf.get_section_by_name(".symtab")
        assert tab is not None, "fixture has no .symtab"
        for s in tab.iter_symbols():
            if s["st_info"]["type"] == "STT_FUNC" and s["st_size"] and s["st_value"]:
                out.append((s["st_value"], s["st_value"] + s["st_size"], s.name))
    return sorted(out)


def _elf_line_rows(path: str) -> List[Tuple[int, int, int, str]]:
    """(sequence start, next address, line, file base name) of every DWARF
    line row that covers code, by pyelftools' own line-program reader."""
    elffile = pytest.importorskip("elftools.elf.elffile")
    out = []
    with open(path, "rb") as fh:
        info = elffile.ELFFile(fh).get_dwarf_info()
        for cu in info.iter_CUs():
            lp = info.line_program_for_CU(cu)
            if lp is None:
                continue
            names = [e.name.decode() for e in lp["file_entry"]]
            base = 0 if lp["version"] >= 5 else 1
            states = [e.state for e in lp.get_entries() if e.state is not None]
            for a, z in zip(states, states[1:]):
                if a.end_sequence or z.address <= a.address:
                    continue
                k = a.file - base
                out.append((a.address, z.address, a.line,
                            os.path.basename(names[k]) if 0 <= k < len(names) else ""))
    return out


def _covering_rows(rows, pc: int):
    return [r for r in rows if r[0] <= pc < r[1]]


# ------------------------------------------------------------ lookup on every source

def test_lookup_pclntab_and_auto_match_debug_gosym(fixture_rows, oracle):
    """On Go code, lookup(pc) with source pclntab or auto gives frames whose
    physical function and innermost file:line are debug/gosym's PCToLine."""
    path = _fixture(fixture_rows, "multipkg")
    with gosym.open(path) as b:
        cols = b.functions.columns()
        rnd = random.Random(12)
        pcs = [rnd.randrange(cols.entry[0], cols.end[-1]) for _ in range(400)]
        pcs += [cols.entry[0] - 1, cols.end[-1] + 0x1000]
        want = _oracle_lookup(oracle, path, pcs)
        for pc in pcs:
            for source in ("pclntab", "auto"):
                # wrappers=True: debug/gosym names the physical function even
                # where it is a wrapper the runtime hides.
                frames = b.lookup(pc, source=source, wrappers=True)
                got = (frames[-1].function, frames[0].file, frames[0].line) if frames else None
                if want[pc] is None:
                    assert got is None or source == "auto", (hex(pc), source, got)
                else:
                    assert got == want[pc], (hex(pc), source, got, want[pc])
            if b.lookup(pc):
                assert b.lookup(pc, source="auto") == b.lookup(pc)


def test_lookup_symtab_and_dwarf_match_pyelftools(fixture_rows):
    """On the C functions of a cgo build (no pclntab entry): source symtab
    gives one frame named as pyelftools' covering .symtab symbol, with no
    file or line; source dwarf one frame with pyelftools' DWARF line; auto
    the DWARF answer.  Each is what symbolize gives for the same pc, and
    what the table's own lookup gives (SymbolTable.lookup, Dwarf.lookup:
    frames, [] on a miss; symbol_at and line_at keep the single answer)."""
    path = _fixture(fixture_rows, "cgo")
    syms = _elf_functions(path)
    rows = _elf_line_rows(path)
    with gosym.open(path) as b:
        c_funcs = [(a, z, n) for a, z, n in syms if b.func_at(a) is None]
        assert len(c_funcs) >= 5, "too few C functions in the cgo fixture"
        checked_dwarf = 0
        for a, z, name in c_funcs[:200]:
            for pc in {a, a + (z - a) // 2}:
                assert b.lookup(pc) == []
                st = b.lookup(pc, source="symtab")
                assert [(f.function, f.file, f.line, f.inlined) for f in st] == [(name, "", 0, False)], hex(pc)
                assert st[0].entry == a
                # The same verb on the table itself, and the single answer.
                assert b.symtab.lookup(pc) == st
                assert b.symtab.symbol_at(pc) == (name, pc - a)
                dw = b.lookup(pc, source="dwarf")
                cover = _covering_rows(rows, pc)
                if not cover:
                    assert dw == [], (hex(pc), dw)
                    continue
                assert len(dw) == 1 and not dw[0].inlined, (hex(pc), dw)
                assert (os.path.basename(dw[0].file), dw[0].line) in [(r[3], r[2]) for r in cover], \
                    (hex(pc), dw[0], cover)
                assert dw[0].function == name
                assert b.lookup(pc, source="auto") == dw
                # The same verb on the table itself: Dwarf.lookup is the same
                # frame without the symbol table's name; line_at the same
                # position with its column.
                own = b.dwarf.lookup(pc)
                assert [(f.function, f.file, f.line, f.inlined, f.entry) for f in own] == \
                    [("", dw[0].file, dw[0].line, False, None)], hex(pc)
                li = b.dwarf.line_at(pc)
                assert li is not None and (li.file, li.line) == (dw[0].file, dw[0].line)
                for s in SOURCES:
                    assert b.symbolize([pc], source=s).frames(0) == b.lookup(pc, source=s)
                checked_dwarf += 1
        assert checked_dwarf >= 5
        for s in SOURCES:
            assert b.lookup(0, source=s) == []
        assert b.dwarf.lookup(0) == [] and b.dwarf.line_at(0) is None
        assert b.symtab.lookup(0) == [] and b.symtab.symbol_at(0) is None
        with pytest.raises(ValueError, match="unknown source"):
            b.lookup(a, source="gdb")


# ------------------------------------------------------------ symbolize: one result type, threads

def test_symbolize_returns_symbolized_for_every_source(fixture_rows):
    path = _fixture(fixture_rows, "cgo")
    with gosym.open(path) as b:
        cols = b.functions.columns()
        rnd = random.Random(3)
        pcs = array.array("Q", [rnd.randrange(cols.entry[0], cols.end[-1]) for _ in range(300)] + [0])
        base = b.symbolize(pcs)
        for s in SOURCES:
            res = b.symbolize(pcs, source=s)
            assert isinstance(res, gosym.Symbolized), s
            assert len(res) == len(pcs)
            assert res.nframes == sum(res.count)
            names, files = res.names(), res.files()
            assert len(names) == len(files) == res.nframes
            for k in range(0, len(pcs), 7):
                fr = res.frames(k)
                a = res.first[k]
                assert [f.function for f in fr] == names[a:a + res.count[k]]
                assert len(fr) == res.count[k]
            if s in ("pclntab", "auto"):
                # Go pcs: the same frames as the pclntab pass.
                for k in range(len(pcs)):
                    if base.count[k]:
                        assert res.frames(k) == base.frames(k)


def test_threads_work_or_are_refused(fixture_rows):
    path = _fixture(fixture_rows, "cgo")
    with gosym.open(path) as b:
        cols = b.functions.columns()
        pcs = array.array("Q", [cols.entry[k] for k in range(0, len(cols.entry), 3)])
        for s in SOURCES:
            one = b.symbolize(pcs, source=s, threads=1)
            dflt = b.symbolize(pcs, source=s, threads=0)
            assert list(one.count) == list(dflt.count) and one.names() == dflt.names()
            with pytest.raises(ValueError, match="threads"):
                b.symbolize(pcs, source=s, threads=-1)
            if s != "pclntab":
                with pytest.raises(ValueError, match="only source='pclntab'"):
                    b.symbolize(pcs, source=s, threads=2)
        big = array.array("Q", list(pcs) * (70_000 // len(pcs) + 1))
        four = b.symbolize(big, threads=4)
        single = b.symbolize(big, threads=1)
        assert list(four.count) == list(single.count) and list(four.line) == list(single.line)


# ------------------------------------------------------------ what the CLI needed, now public

def test_columns_files_and_line_table_match_debug_gosym(fixture_rows, oracle):
    """Functions.columns(files=True).file is debug/gosym's file at each
    function's entry; Binary.line_table() rows give, at each row start, the
    file:line debug/gosym gives there, and each row's function is the one
    whose range holds its pc."""
    path = _fixture(fixture_rows, "multipkg")
    with gosym.open(path) as b:
        cols = b.functions.columns(files=True)
        assert cols.file is not None and len(cols.file) == len(cols.entry)
        assert b.functions.columns().file is None
        lt = b.line_table()
        assert lt.failed == 0
        n = len(lt.pc)
        assert n == len(lt.file_offset) == len(lt.line) == len(lt.func) > len(cols.entry)
        rnd = random.Random(5)
        rows = sorted(rnd.sample(range(n), 600))
        pcs = [cols.entry[i] for i in range(len(cols.entry))] + [lt.pc[r] for r in rows]
        want = _oracle_lookup(oracle, path, pcs)
        bad = [i for i in range(len(cols.entry))
               if want[cols.entry[i]] is not None and want[cols.entry[i]][1] != cols.file[i]]
        assert not bad, [(cols.name[i], cols.file[i], want[cols.entry[i]]) for i in bad[:5]]
        for r in rows:
            pc, fi = lt.pc[r], lt.func[r]
            assert cols.entry[fi] <= pc < cols.end[fi]
            w = want[pc]
            assert w is not None and (cols.name[fi], b.file_name(lt.file_offset[r]), lt.line[r]) == w, \
                (hex(pc), w)
        # lookup_many's named columns are its old tuple.
        res = b.lookup_many(array.array("Q", pcs[:50]))
        func, line, foff = res
        assert res.func is func and res.line is line and res.file_offset is foff


def test_has_inline_tree_agrees_with_inlined_frames(fixture_rows):
    """A function with inlined frames at some pc has an inline tree, and a
    function without one never yields an inlined frame (lookup's inlined
    frames are checked against the runtime in tests/differential/test_inline.py)."""
    path = _fixture(fixture_rows, "multipkg")
    with gosym.open(path) as b:
        assert b.inline_layout in (16, 20)
        with_tree = 0
        for f in list(b.functions)[:400]:
            pcs = array.array("Q", range(f.entry, min(f.end, f.entry + 400)))
            res = b.symbolize(pcs)
            inlined = any(res.inlined)
            assert not inlined or f.has_inline_tree, f.name
            with_tree += f.has_inline_tree
        assert with_tree > 10


def test_pclntab_sizes_sum_to_the_table(fixture_rows):
    for program in ("multipkg", "cgo"):
        path = _fixture(fixture_rows, program)
        with gosym.open(path) as b:
            sizes = b.pclntab_sizes()
            assert sum(sizes.values()) == b.pclntab.size
            assert sizes["functab"] > 0 and sizes["pcln"] > 0


def test_parse_addresses():
    assert list(gosym.parse_addresses(b"0x10\n\n  ff \r\n0XAb")) == [16, 255, 171]
    assert gosym.parse_addresses(b"0x10\nzz\n") is None
    assert gosym.parse_address(" 0x4c2a10 ") == 0x4c2a10
    assert gosym.parse_address("zz") is None
    assert gosym.parse_address("1" + "0" * 16) is None          # 2**64: out of range
    assert gosym.parse_address("ffffffffffffffff") == 2**64 - 1
