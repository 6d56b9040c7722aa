"""The `gosym lookup` process imports only what answering needs.

A profiler may start `gosym lookup` once per binary, so its start-up is
part of every answer.  This runs the command in a fresh interpreter (`-S`:
no site-packages, whose .pth hooks import things of their own) on a fixture
binary, at a pc inside a function (so the pclntab answers), with `--style go`
and `--style llvm`, and checks the modules it loaded: none of the heavy
standard-library machinery (dataclasses pulls in inspect, dis, ast and
tokenize), no optional third-party package, and none of gosym's own
modules that a pclntab answer does not use.  A check of what is imported,
not a timing.
"""
from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import gosym

ROOT = Path(__file__).resolve().parents[2]

# Imported by no `gosym lookup` that the pclntab answers.
NOT_LOADED = {
    "dataclasses", "inspect", "dis", "ast", "tokenize", "typing_extensions", "json", "subprocess", "threading",
    "argparse", "gettext",      # common lookup lines are parsed by gosym.cli.lookup.quick_args
    "concurrent", "google", "matplotlib", "elftools", "zstandard", "isal", "numpy",
    "gosym.dwarf", "gosym._dwarf", "gosym.pprof", "gosym.cost", "gosym.matrix", "gosym.diff", "gosym.maps",
    "gosym.debugfile", "gosym.container.notes", "gosym.toolchain",
}

PROBE = """
import sys
sys.path.insert(0, {root!r})
from gosym.cli import main
rc = main(["lookup", "--style", {style!r}, {path!r}, {pc!r}])
sys.stdout.flush()
print("\\n" + repr((rc, sorted(sys.modules))))
"""


def _binary(rows):
    for r in rows:
        if r.get("path") and r["goos"] == "linux" and r["goarch"] == "amd64" and r["flagset"] == "default" \
                and r["program"] == "multipkg" and r["toolchain"] == "1.27.3":
            return r["path"]
    pytest.skip("no linux/amd64 multipkg fixture")


@pytest.mark.parametrize("style", ["go", "llvm"])
def test_lookup_imports_stay_lean(fixture_rows, style):
    path = _binary(fixture_rows)
    with gosym.open(path) as b:
        f = next(f for f in b.functions if f.name == "main.main")
        pc, want = f.entry + 1, b.lookup(f.entry + 1)
    assert want and want[-1].function == "main.main"
    p = subprocess.run([sys.executable, "-S", "-c", PROBE.format(root=str(ROOT), style=style, path=path,
                                                                  pc=hex(pc))],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    out, _, last = p.stdout.rstrip("\n").rpartition("\n")
    rc, modules = eval(last)  # noqa: S307 - our own repr of (int, list of str)
    assert rc == 0 and "main.main" in out
    loaded = set(modules)
    heavy = sorted(m for m in loaded if m in NOT_LOADED or m.split(".")[0] in NOT_LOADED)
    assert heavy == [], f"`gosym lookup --style {style}` imported {heavy}"
    # The ones it must use (a check that the probe ran the real command).
    assert {"gosym.cli.lookup", "gosym.binary", "gosym._native"} <= loaded


def test_records_behave_like_the_dataclasses_they_replace():
    from gosym.container import Section
    from gosym.symtab import Symbol

    a = Section("x", 1, 2, 3, 4, True)
    assert a == Section(name="x", addr=1, offset=2, size=3, mem_size=4, mapped=True, flags=0) and a.kind == 0
    assert a != Section("x", 1, 2, 3, 4, False) and repr(a).startswith("Section(name='x', addr=1")
    with pytest.raises(TypeError):
        hash(a)                               # mutable: unhashable, as a dataclass with eq
    s = Symbol("f", 1, 2, True, ".symtab")
    assert {s: 1}[Symbol("f", 1, 2, True, ".symtab")] == 1
    with pytest.raises(AttributeError):
        s.size = 3                            # type: ignore[misc]
    with pytest.raises(TypeError):
        Section("x")                          # type: ignore[call-arg]
    # The docs show the real parameters, not (*args, **kwargs).
    assert str(inspect.signature(Section)).startswith("(name, addr, offset, size, mem_size, mapped, flags=0")
