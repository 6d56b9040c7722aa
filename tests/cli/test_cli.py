"""The command line: `python -m gosym dump` on real binaries and on bad input.

Facts about the corpus binaries come from the TSV columns, which were read
with independent tools."""
import json
import os
import subprocess
import sys

import pytest

import gosym

PY = [sys.executable, "-m", "gosym"]


def run(*args, **kw):
    return subprocess.run(PY + list(args), capture_output=True, text=True, timeout=300, **kw)


def fetched(rows):
    return [r for r in rows if r.get("path")]


def test_help_lists_commands():
    r = run("--help")
    assert r.returncode == 0
    assert "dump" in r.stdout
    # The console script: run it when installed, else check that the target
    # pyproject.toml declares for it is the CLI's process entry (main, then exit).
    import shutil
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")

    if shutil.which("gosym"):
        r = subprocess.run(["gosym", "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "dump" in r.stdout
    else:
        from tests.support import uncovered
        uncovered.reduced("gosym console script not on PATH (package not installed, or venv not active)",
                          "`gosym --help` not run")
    meta = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    module, func = meta["project"]["scripts"]["gosym"].split(":")
    assert module == "gosym.cli" and func == "entry"
    assert "gosym.cli" in meta["tool"]["setuptools"]["packages"]   # installed with the rest
    from gosym.cli import entry, main
    assert callable(main) and callable(entry)


def test_dump_json_matches_corpus_facts(corpus_rows):
    rows = fetched(corpus_rows)
    assert rows
    for row in rows:
        r = run("dump", "--json", row["path"])
        assert r.returncode == 0, (row["name"], r.stderr)
        d = json.loads(r.stdout)
        assert d["format"] == row["format"], row["name"]
        assert d["arch"] == row["arch"], row["name"]
        assert d["byte_order"] == {"le": "little", "be": "big"}[row["endian"]], row["name"]
        assert d["go_version"] == row["go_version"], row["name"]
        p = d["pclntab"]
        assert p["magic"] == row["magic"], row["name"]
        how = row["pclntab_how"]
        if how.startswith("section:"):
            assert (p["found_by"], p["section"]) == ("section", how.split(":", 1)[1]), row["name"]
        else:
            assert p["found_by"] == how, row["name"]
        assert p["version"] == {"0xfffffffb": "1.2", "0xfffffffa": "1.16", "0xfffffff0": "1.18",
                                "0xfffffff1": "1.20"}[row["magic"]]
        assert p["nfunc"] == len(d["functions"]) > 0
        f = d["functions"][0]
        assert set(f) >= {"name", "entry", "end", "file", "start_line"}
        assert all(a["entry"] <= a["end"] for a in d["functions"])


def test_dump_text_and_lines(corpus_rows):
    row = next(r for r in fetched(corpus_rows) if r["name"].startswith("esbuild-0.11.23"))
    r = run("dump", "--lines", row["path"])
    assert r.returncode == 0, r.stderr
    assert "Go 1.16 format (magic 0xfffffffa)" in r.stdout
    assert "found by section .gopclntab" in r.stdout
    # Line rows are indented "pc-end file:line" entries under their function.
    assert any(line.startswith("    0x") and ".go:" in line for line in r.stdout.splitlines())


BAD_INPUTS = {
    "missing": None,
    "empty": b"",
    "text": b"hello, world\n" * 10,
    "elf-truncated": b"\x7fELF\x02\x01\x01" + b"\0" * 20,
    "macho-truncated": b"\xcf\xfa\xed\xfe" + b"\0" * 10,
    "pe-no-signature": b"MZ" + b"\0" * 0x3A + b"\x80\0\0\0" + b"\0" * 100,
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_exit_1(tmp_path, kind):
    path = tmp_path / kind
    if BAD_INPUTS[kind] is not None:
        path.write_bytes(BAD_INPUTS[kind])
    # lookup: its process ends with os._exit (gosym.cli.entry), which must
    # keep the status and the flushed message
    for cmd in (["dump", str(path)], ["lookup", str(path), "0x1"]):
        r = run(*cmd)
        assert r.returncode == 1
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert lines[0].startswith(f"gosym: {path}: ")
        assert "Traceback" not in r.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_quick_exit_reports_lost_output():
    """entry's os._exit skips the interpreter's exit, which reports output
    that could not be written (a full disk) with status 120; entry must say
    so itself.  Here main writes into stdout's buffer and returns 0, and
    stdout is /dev/full, so only the final flush can fail."""
    code = ("import sys, gosym.cli as c\n"
            "c.main = lambda: (sys.stdout.write('x' * 100), 0)[1]\n"
            "sys.argv = ['gosym', 'lookup', 'BIN', '0x1']\n"
            "c.entry()\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}   # the write must stay buffered
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-c", code], stdout=full, stderr=subprocess.PIPE, text=True, env=env)
    assert r.returncode == 1
    assert r.stderr.strip() == "gosym: output: No space left on device"


def test_directory_is_an_error(tmp_path):
    r = run("dump", str(tmp_path))
    assert r.returncode == 1 and r.stderr.startswith(f"gosym: {tmp_path}: ")


def test_corrupt_pclntab_is_one_line(tmp_path, corpus_rows):
    """Overwrite the function count of a real table: a one-line FormatError
    naming the section and offset, not a crash."""
    row = next(r for r in fetched(corpus_rows) if r["name"].startswith("esbuild-0.11.23"))
    data = bytearray(open(row["path"], "rb").read())
    with gosym.open(row["path"]) as b:
        off = b.pclntab.offset
    data[off + 8:off + 16] = (2**40).to_bytes(8, "little")
    bad = tmp_path / "bad"
    bad.write_bytes(bytes(data))
    r = run("dump", str(bad))
    assert r.returncode == 1
    assert r.stderr.strip() == f"gosym: {bad}: .gopclntab: function count larger than the table at offset {off + 8:#x}"


def test_not_a_go_binary(tmp_path):
    # A real ELF that is not a Go program: the Python interpreter itself.
    exe = os.path.realpath(sys.executable)
    r = run("dump", exe)
    assert r.returncode == 1
    assert "no Go pclntab found" in r.stderr and r.stderr.count("\n") == 1


def _lookup_parser():
    from gosym.cli import build_parser

    p = build_parser("lookup")
    sub = next(a for a in p._actions if a.dest == "command")
    return p, sub.choices["lookup"]


def test_quick_lookup_options_are_the_parsers():
    """gosym.cli.lookup's table of the options it parses without argparse
    names each as the argparse parser does, and every destination of the
    parser has its default there: a new option of `gosym lookup` fails here
    until the table knows it."""
    from gosym.cli import lookup

    _, lp = _lookup_parser()
    dests = {}
    for a in lp._actions:       # the first action of a destination sets its default, as argparse does
        if a.dest not in ("help", "binary", "addr"):
            dests.setdefault(a.dest, a)
    assert {d: a.default for d, a in dests.items()} == lookup.QUICK_DEFAULTS
    by_option = {o: a for a in lp._actions for o in a.option_strings}
    for opt, (dest, value) in lookup.QUICK_OPTIONS.items():
        a = by_option[opt]
        assert a.dest == dest, opt
        if value is None or isinstance(value, tuple):
            assert a.nargs is None and a.const is None and a.type is None, opt
            assert (tuple(a.choices) if a.choices else None) == value, opt
        else:
            assert a.nargs == 0 and a.const == value, opt


def test_quick_lookup_args_equal_argparse():
    """Every command line quick_args takes, argparse parses to the same
    arguments (it may decline any line: then argparse parses it)."""
    import contextlib
    import io

    from hypothesis import given, settings, strategies as st

    from gosym.cli.lookup import quick_args

    p, _ = _lookup_parser()
    words = st.sampled_from(["BIN", "0x10", "12", "--style", "go", "llvm", "json", "bad", "--style=gnu",
                             "--style=", "--inline", "--no-inline", "--inline=1", "--source", "dwarf",
                             "--source=symtab", "--return-addresses", "--wrappers", "--bias", "0x20",
                             "--bias=-1", "--maps", "maps.txt", "--pid", "7", "--debug-file", "dbg",
                             "--no-build-id-check", "--", "-", "-h", "--sty", "", "lookup"])
    taken = []

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(st.lists(words, max_size=8))
    def check(rest):
        line = ["lookup"] + rest
        q = quick_args(line)
        if q is None:
            return
        taken.append(line)
        with contextlib.redirect_stderr(io.StringIO()):
            try:
                want = p.parse_args(line)
            except SystemExit:
                raise AssertionError(f"quick_args took {line}, argparse refuses it") from None
        assert vars(q) == vars(want), line

    check()
    assert len(taken) > 20      # the generator reaches the quick path
    assert quick_args(["lookup", "--style", "llvm", "BIN"]) is not None
