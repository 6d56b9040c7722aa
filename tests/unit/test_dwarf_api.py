"""Binary.dwarf, the dump --dwarf-lines CLI, and section decompression guards."""
from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path

import pytest

import gosym
from gosym import cli
from gosym.container import detect
from gosym.dwarf import decompress, open_dwarf
from gosym.errors import FormatError, UnsupportedError

ROOT = Path(__file__).resolve().parents[2]


def _fixture(rows, **want):
    for r in rows:
        if r.get("path") and all(r[k] == v for k, v in want.items()):
            return r["path"]
    pytest.skip(f"no fixture {want}")


def test_binary_dwarf_present_and_absent(fixture_rows):
    with gosym.open(_fixture(fixture_rows, toolchain="1.27.3", goos="linux", goarch="amd64",
                             flagset="default", program="multipkg")) as b:
        d = b.dwarf
        assert d is not None and b.dwarf is d
        units = d.units()
        assert any(u.name == "main" for u in units)
        assert all(u.stmt_list is None or u.version == 5 for u in units)
    for fs in ("sw", "w"):
        for r in fixture_rows:
            if r.get("path") and r["flagset"] == fs and r["goos"] == "linux":
                with gosym.open(r["path"]) as b:
                    assert b.dwarf is None


def test_iter_tables_equals_line_rows(fixture_rows):
    path = _fixture(fixture_rows, toolchain="1.24.11", goos="linux", goarch="amd64", flagset="default",
                    program="multipkg")
    with open_dwarf(path) as d:
        rows = d.line_rows()
        addrs = []
        for t, part in d.iter_tables():
            addrs.extend(part.address)
            assert part.tables == [t]
        assert addrs == list(rows.address)
        assert list(rows.unit) == [rows.unit_of(i) for i in range(len(rows))]


def test_cli_dump_dwarf_lines(fixture_rows, capsys):
    path = _fixture(fixture_rows, toolchain="1.27.3", goos="linux", goarch="amd64", flagset="default",
                    program="tiny")
    with open_dwarf(path) as d:
        rows = d.line_rows()
        sample = (rows.address[10], rows.row_file(10), rows.line[10], rows.column[10])
    assert cli.main(["dump", "--dwarf-lines", path]) == 0
    text = capsys.readouterr().out
    lines = [ln for ln in text.splitlines() if ln.startswith("0x")]
    assert len(lines) == len(rows)
    assert f"{sample[0]:#018x} {sample[1]}:{sample[2]}:{sample[3]}" in text
    assert cli.main(["dump", "--dwarf-lines", "--json", path]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert sum(len(u["rows"]) for u in doc["dwarf_lines"]) == len(rows)
    assert doc["dwarf_sections"][".debug_line"]["compression"] == "zlib"


def test_cli_bad_dwarf_one_line(fixture_rows, tmp_path, capsys):
    path = _fixture(fixture_rows, toolchain="1.27.3", goos="linux", goarch="amd64",
                    flagset="nocompressdwarf", program="multipkg")
    bad = tmp_path / "bad"
    shutil.copy(path, bad)
    data = bytearray(bad.read_bytes())
    s = next(s for s in detect(bytes(data)).sections if s.name == ".debug_line")
    data[s.offset + 4:s.offset + 6] = (9).to_bytes(2, "little")    # line table version 9
    bad.write_bytes(bytes(data))
    assert cli.main(["dump", "--dwarf-lines", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0] == f"gosym: {bad}: .debug_line: unsupported line table version at offset 0x4"


def test_decompress_guards():
    good = zlib.compress(b"x" * 1000)
    assert decompress("zlib", good, 1000, ".debug_line", 0) == b"x" * 1000
    with pytest.raises(FormatError, match="declared"):
        decompress("zlib", good, 999, ".debug_line", 0)
    with pytest.raises(FormatError, match="too large"):
        decompress("zlib", good, 2 ** 40, ".debug_line", 0)       # a bomb's header
    with pytest.raises(FormatError, match="declared"):
        decompress("zlib", good, 1001, ".debug_line", 0)
    with pytest.raises(FormatError, match="zlib"):
        decompress("zlib", b"not zlib data", 10, ".debug_line", 0)
    with pytest.raises(FormatError):
        decompress("zlib", good[:-6], 1000, ".debug_line", 0)    # truncated stream
    # A real bomb: 10 MB of zeros in ~10 kB, declared as 1 kB: inflating
    # stops after 1001 bytes.
    bomb = zlib.compress(bytes(10 * 2 ** 20), 9)
    with pytest.raises(FormatError, match="decompressed 1001 bytes, header declared 1000"):
        decompress("zlib", bomb, 1000, ".debug_line", 0)


def test_decompress_zstd():
    zstandard = pytest.importorskip("zstandard")
    data = bytes(range(256)) * 40
    z = zstandard.ZstdCompressor().compress(data)
    assert decompress("zstd", z, len(data), ".debug_line", 0) == data
    # two frames in a row are one section
    assert decompress("zstd", z + z, 2 * len(data), ".debug_line", 0) == data + data
    with pytest.raises(FormatError):
        decompress("zstd", z, len(data) - 1, ".debug_line", 0)
    with pytest.raises(FormatError):
        decompress("zstd", z[:-5], len(data), ".debug_line", 0)
    with pytest.raises(UnsupportedError):
        decompress("lz4", z, len(data), ".debug_line", 0)


def test_open_dwarf_rejects_non_dwarf(tmp_path):
    with pytest.raises(gosym.GosymError):
        open_dwarf(b"\x7fELF" + bytes(60))
    with pytest.raises(gosym.GosymError):
        open_dwarf(b"MZ" + bytes(100))


@pytest.mark.parametrize("module", ["_dwarf", "_columns"])
def test_stubs_cover_dwarf_extension(module):
    """Every public name of the DWARF extensions has a stub in its .pyi."""
    import importlib

    mod = importlib.import_module(f"gosym.{module}")
    stub = (ROOT / "gosym" / f"{module}.pyi").read_text()
    public = [n for n in dir(mod) if not n.startswith("_") and n != "FormatError"]
    missing = [n for n in public if f"class {n}" not in stub and f"{n}:" not in stub
               and f"def {n}(" not in stub]
    assert not missing, missing
