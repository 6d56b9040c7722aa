"""Layers go one way: no gosym module imports a module of a layer above its
own, at module level or inside a function, and there is no import cycle.

The imports are read from the source with `ast` (every Import/ImportFrom
node anywhere in the module, function bodies included; the Cython
modules' `import`/`cimport` lines by a regular expression), not by
importing anything, so a lazy import cannot hide.  Imports under
`if TYPE_CHECKING:` are left out: they never run (annotations only).

The layer order (docs/architecture.md describes the same):

  0 base        errors, the native core (_native, _pclntab, _symtab, _render,
                _dwarf, _columns and their .pxd),
                and stand-alone helpers that know no Go format
                (toolchain, runstats, plot), the result types (results) and
                address text (addresses)
  1 container   the model (container.base), ELF / Mach-O / PE / raw, notes,
                compression headers
  2 tables      pclntab, symtab, DWARF (gosym.dwarf.*), build info, build IDs,
                debug files
  3 sources     symbolize: one batch over several tables, each given to it
  4 binary      Binary, and the package itself (gosym/__init__.py, the API)
  5 uses        maps, pprof, cost, diff, matrix, check, consequences, predict: built on Binary
  6 cli         the command-line front ends
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "gosym"

LAYERS: List[Tuple[str, List[str]]] = [
    ("base", ["gosym.errors", "gosym.records", "gosym._native", "gosym._pclntab", "gosym._symtab", "gosym._render",
              "gosym._csrc", "gosym._dwarf", "gosym._columns", "gosym._profile", "gosym._arrays", "gosym._reader",
              "gosym.toolchain", "gosym.runstats", "gosym.plot", "gosym.results", "gosym.addresses",
              "gosym.parallel"]),
    ("container", ["gosym.container", "gosym.container.*"]),
    ("tables", ["gosym.pclntab", "gosym.symtab", "gosym.dwarf", "gosym.dwarf.*", "gosym.buildinfo",
                "gosym.buildid", "gosym.debugfile"]),
    ("sources", ["gosym.symbolize"]),
    ("binary", ["gosym.binary", "gosym"]),
    ("uses", ["gosym.maps", "gosym.pprof", "gosym.cost", "gosym.diff", "gosym.matrix", "gosym.check",
              "gosym.consequences", "gosym.predict", "gosym.store", "gosym.fleet",
              "gosym.packages", "gosym.report_html", "gosym.survey"]),
    ("cli", ["gosym.cli", "gosym.cli.*", "gosym.lookup_cli", "gosym.__main__"]),
]


def layer_of(module: str) -> int:
    """The layer index of a gosym module (the longest matching pattern)."""
    best, best_len = None, -1
    for i, (_name, pats) in enumerate(LAYERS):
        for p in pats:
            if p.endswith(".*"):
                stem = p[:-2]
                if module.startswith(stem + ".") and len(stem) > best_len:
                    best, best_len = i, len(stem)
            elif module == p and len(p) > best_len:
                best, best_len = i, len(p)
    if best is None:
        raise KeyError(module)
    return best


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> List[Path]:
    return sorted(p for p in PKG.rglob("*") if p.suffix in (".py", ".pyx", ".pxd")
                  and "build" not in p.relative_to(ROOT).parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(module: str, is_pkg: bool, level: int, name: str) -> str:
    if not level:
        return name
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _known(name: str, modules: Set[str]) -> str:
    """The gosym module an imported dotted name refers to (a name imported
    from a package may be its submodule)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def imports_of(path: Path, modules: Set[str]) -> List[Tuple[str, int]]:
    """(imported gosym module, line) for every import in the file."""
    me = module_name(path)
    is_pkg = path.stem == "__init__"
    found: List[Tuple[str, int]] = []
    text = path.read_text()
    if path.suffix in (".pyx", ".pxd"):
        for k, line in enumerate(text.splitlines(), 1):
            m = re.match(r"\s*from\s+(gosym[\w.]*)\s+c?import\s+(.*)", line)
            if m:
                found.append((m.group(1), k))
                continue
            m = re.match(r"\s*c?import\s+(gosym[\w.]*)", line)
            if m:
                found.append((m.group(1), k))
        return [(_known(n, modules), k) for n, k in found if _known(n, modules)]
    tree = ast.parse(text, str(path))
    skip: Set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for sub in node.body:
                for inner in ast.walk(sub):
                    skip.add(id(inner))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for a in node.names:
                found.append((a.name, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(me, is_pkg, node.level, node.module or "")
            for a in node.names:
                sub = f"{base}.{a.name}"
                found.append((sub if sub in modules else base, node.lineno))
    out = []
    for name, line in found:
        k = _known(name, modules)
        if k and k != me:
            out.append((k, line))
    return out


def import_graph() -> Dict[str, List[Tuple[str, int]]]:
    files = source_files()
    modules = {module_name(p) for p in files}
    graph: Dict[str, List[Tuple[str, int]]] = {}
    for p in files:
        graph.setdefault(module_name(p), []).extend(imports_of(p, modules))
    return graph


def test_every_module_has_a_layer():
    missing = [m for m in import_graph() if _safe_layer(m) is None]
    assert not missing, f"modules with no layer in tests/unit/test_layers.py LAYERS: {missing}"


def _safe_layer(m: str):
    try:
        return layer_of(m)
    except KeyError:
        return None


def test_no_upward_import():
    bad = []
    for m, deps in import_graph().items():
        lm = _safe_layer(m)
        if lm is None:
            continue
        for d, line in deps:
            ld = _safe_layer(d)
            if ld is not None and ld > lm:
                bad.append(f"{m}:{line} imports {d} ({LAYERS[lm][0]} -> {LAYERS[ld][0]})")
    assert not bad, "upward imports:\n" + "\n".join(sorted(bad))


def test_no_import_cycle():
    graph = {m: sorted({d for d, _ in deps}) for m, deps in import_graph().items()}
    # Tarjan's strongly connected components, iteratively.
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    on: Set[str] = set()
    stack: List[str] = []
    cycles: List[List[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(graph.get(w, ()))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    cycles.append(sorted(comp))
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("src, want", [
    ("import gosym.binary\n", "gosym.binary"),
    ("def f():\n    from gosym import binary\n", "gosym.binary"),
    ("def f():\n    from ..binary import Binary\n", "gosym.binary"),
])
def test_the_reader_sees_every_kind_of_import(tmp_path, src, want):
    """The checker itself: a function-level or relative import is found
    (a checker that saw none would pass everything)."""
    d = tmp_path / "gosym" / "container"
    d.mkdir(parents=True)
    f = d / "probe.py"
    f.write_text(src)
    global ROOT
    old = ROOT
    ROOT = tmp_path
    try:
        got = imports_of(f, {"gosym", "gosym.binary", "gosym.container", "gosym.container.probe"})
    finally:
        ROOT = old
    assert [m for m, _ in got] == [want]
    assert layer_of(want) > layer_of("gosym.container.probe")


def test_type_checking_imports_are_left_out(tmp_path):
    d = tmp_path / "gosym"
    d.mkdir()
    f = d / "probe.py"
    f.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gosym.binary import Binary\n")
    global ROOT
    old = ROOT
    ROOT = tmp_path
    try:
        assert imports_of(f, {"gosym", "gosym.binary", "gosym.probe"}) == []
    finally:
        ROOT = old


def test_symbol_entry_sizes_agree_with_the_c_table():
    """The one Python table of symbol-entry sizes equals csrc/symtab.c's."""
    from gosym.container import SYMBOL_ENTRY_SIZE

    c = (ROOT / "csrc" / "symtab.c").read_text()
    body = c[c.index("entry_size(int kind)"):]
    body = body[:body.index("default:")]
    got = {m.group(1).lower(): int(m.group(2))
           for m in re.finditer(r"case GS_SYM_(\w+): return (\d+);", body)}
    assert got == SYMBOL_ENTRY_SIZE
