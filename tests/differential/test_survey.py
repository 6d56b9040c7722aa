"""The survey (gosym.survey, `gosym survey`) against independent references.

Over every fixture binary of the run (ELF, Mach-O and PE; Go 1.19 to 1.27;
default, -ldflags=-s -w, -trimpath, -gcflags, PIE, cgo builds) plus files
that are not Go binaries, the survey is written as Parquet, read back with
pyarrow (the declared types), and its values are compared with:

- `go version -m` (the real tool): Go version, main package, main module,
  dependency count and every build setting as it prints them (the JSON
  column); `go version -m -json` for the typed setting columns (values
  unquoted by Go itself: -ldflags="-s -w" is `-s -w`);
- `go tool buildid` for the Go build ID, readelf -n for the GNU build ID,
  llvm-dwarfdump --uuid for Mach-O UUIDs;
- pyelftools for ELF sizes: file, mapped bytes (the union of PT_LOAD file
  ranges), .gopclntab, symbol tables with their strings, DWARF sections;
- CSV and JSON written from the same rows read back equal to the Parquet.

A file that is not a Go binary, a truncated Go binary and a missing path are
rows with an error and nulls, and the other rows are still done.  A real Dask
cluster (a `dask scheduler` process and two `dask worker` processes started
here) gives the same rows as the local pool, also when one worker is killed
with SIGKILL in the middle of the job.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Dict, List

import pytest

import gosym
from gosym.cost import cost
from gosym.survey import COLUMNS, NAMES, SETTINGS, SURVIVES, arrow_schema, survey, write_table
from tests.differential.test_buildinfo import go_version_m
from tests.support import uncovered
from tests.support.dask_cluster import dask_cluster, missing

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install 'gosym[fleet]')")
pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed (pip install 'gosym[fleet]')")


@pytest.fixture(scope="module")
def inputs(fixture_rows, tmp_path_factory) -> List[str]:
    tmp = tmp_path_factory.mktemp("survey-in")
    paths = [r["path"] for r in fixture_rows if r.get("path")]
    text = tmp / "notes.txt"
    text.write_text("not a binary\n")
    cut = tmp / "truncated"
    cut.write_bytes(Path(paths[0]).read_bytes()[:3000])
    fifo = tmp / "fifo"
    os.mkfifo(fifo)                           # opening it would block: refused, not read
    return paths + [str(text), str(cut), str(tmp / "missing"), str(fifo)]


@pytest.fixture(scope="module")
def local_rows(inputs) -> List[dict]:
    return list(survey(inputs, jobs=2, progress=False))


@pytest.fixture(scope="module")
def table_rows(local_rows, tmp_path_factory) -> List[dict]:
    """The rows as Parquet gives them back (what the reference checks read)."""
    out = tmp_path_factory.mktemp("survey-out") / "s.parquet"
    assert write_table(iter(local_rows), str(out), "parquet", batch=7) == len(local_rows)
    t = pq.read_table(out)
    assert t.schema == arrow_schema()
    return t.to_pylist()


def go_version_json(path: str) -> dict:
    """`go version -m -json`: the build settings with their values unquoted
    by Go's own runtime/debug.ParseBuildInfo."""
    from gosym.toolchain import goroot

    go = str(goroot("1.27.3") / "bin" / "go")
    r = subprocess.run([go, "version", "-m", "-json", path], capture_output=True, text=True,
                       env=dict(os.environ, GOTOOLCHAIN="local", GOFLAGS=""), timeout=120)
    assert r.returncode == 0, r.stderr
    return {s["Key"]: s.get("Value", "") for s in json.loads(r.stdout).get("Settings") or []}


def good(rows):
    return [r for r in rows if r["error"] is None]


def test_schema_types():
    s = arrow_schema()
    assert s.names == NAMES
    assert s.field("file_size").type == pa.int64() and s.field("pclntab_bytes").type == pa.int64()
    assert s.field("trimpath").type == pa.bool_() and s.field("survives_file_line").type == pa.bool_()
    assert s.field("go_version").type == pa.string()


def test_parquet_csv_json_read_back_equal(local_rows, table_rows, tmp_path):
    assert table_rows == local_rows
    kinds = dict(COLUMNS)
    with open(tmp_path / "s.csv", "w", newline="") as f:
        write_table(local_rows, f, "csv")
    with open(tmp_path / "s.csv", newline="") as f:
        back = list(csv.DictReader(f))

    def cell(v, kind):
        if v == "":
            return None
        return int(v) if kind == "int" else bool(int(v)) if kind == "bool" else v
    assert [{k: cell(v, kinds[k]) for k, v in r.items()} for r in back] == table_rows
    for fmt in ("json", "jsonl"):
        with open(tmp_path / f"s.{fmt}", "w") as f:
            write_table(local_rows, f, fmt)
        text = (tmp_path / f"s.{fmt}").read_text()
        got = json.loads(text) if fmt == "json" else [json.loads(x) for x in text.splitlines()]
        assert got == table_rows


def test_versions_modules_and_settings_match_go_version_m(table_rows):
    problems = []
    seen: Dict[str, set] = {"ldflags": set(), "gcflags": set(), "trimpath": set(), "cgo_enabled": set(),
                            "build_mode": set()}
    for r in good(table_rows):
        want = go_version_m(r["path"])
        if want is None:
            if r["go_version"] is not None:
                problems.append(f"{r['path']}: go version -m finds no build info, the survey does")
            continue
        main = want["main"] or {}
        got = (r["go_version"], r["main_package"] or "", r["module_path"], r["module_version"],
               r["module_deps"], json.loads(r["build_settings"]))
        exp = (want["go_version"], want["path"], main.get("path"), main.get("version"), len(want["deps"]),
               want["settings"])
        if got != exp:
            problems.append(f"{r['path']}: {got} != go version -m {exp}")
        unquoted = go_version_json(r["path"])
        for key, col, kind in SETTINGS:
            v = unquoted.get(key)
            if v is not None and kind == "bool":
                v = v == "true" or v == "1"
            if r[col] != v:
                problems.append(f"{r['path']}: {col} {r[col]!r} != go version -m {key}={v!r}")
            if col in seen:
                seen[col].add(r[col])
    assert not problems, "\n".join(problems[:10])
    # The fixture flag sets were all recorded and compared.
    assert "-s -w" in seen["ldflags"] and "all=-l" in seen["gcflags"]
    assert True in seen["trimpath"] and {True, False} <= seen["cgo_enabled"]
    assert {"exe", "pie"} <= seen["build_mode"]


def test_build_ids_match_go_tool_buildid_readelf_and_llvm(table_rows):
    from gosym.toolchain import goroot

    go = Path(goroot("1.27.3")) / "bin" / "go"
    env = dict(os.environ, GOTOOLCHAIN="local", GOPROXY="off")
    checked = {"go": 0, "gnu": 0, "uuid": 0}
    for r in good(table_rows):
        want = subprocess.run([str(go), "tool", "buildid", r["path"]], capture_output=True, text=True,
                              env=env).stdout.strip() or None
        assert r["go_build_id"] == want, r["path"]
        if want:
            assert r["go_content_id"] == want.split("/")[-1]
            checked["go"] += 1
        if r["format"] == "ELF" and shutil.which("readelf"):
            out = subprocess.run(["readelf", "-n", r["path"]], capture_output=True, text=True).stdout
            gnu = re.search(r"GNU\s+0x[0-9a-f]+\s+NT_GNU_BUILD_ID[^\n]*\n\s+Build ID: ([0-9a-f]+)", out)
            assert r["gnu_build_id"] == (gnu.group(1) if gnu else None), (r["path"], out)
            checked["gnu"] += r["gnu_build_id"] is not None
        elif r["format"] == "ELF":
            uncovered.reduced(uncovered.missing("readelf", "binutils"), "GNU build IDs not compared")
        if r["format"] == "Mach-O" and shutil.which("llvm-dwarfdump"):
            out = subprocess.run(["llvm-dwarfdump", "--uuid", r["path"]], capture_output=True,
                                 text=True).stdout
            if r["macho_uuid"] is None:                    # Go before 1.20 wrote no LC_UUID
                assert "UUID:" not in out, (out, r["path"])
                continue
            u = r["macho_uuid"].upper()
            assert f"UUID: {u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}" in out, (out, r["path"])
            checked["uuid"] += 1
        elif r["format"] != "Mach-O":
            assert r["macho_uuid"] is None
    assert checked["go"] >= 10 and (checked["gnu"] >= 5 or not shutil.which("readelf"))
    assert checked["uuid"] >= 1 or not shutil.which("llvm-dwarfdump")


def test_elf_sizes_match_pyelftools(table_rows):
    from elftools.elf.elffile import ELFFile

    n = 0
    for r in good(table_rows):
        if r["format"] != "ELF":
            continue
        with open(r["path"], "rb") as f:
            e = ELFFile(f)
            loads = sorted((s["p_offset"], s["p_offset"] + s["p_filesz"]) for s in e.iter_segments()
                           if s["p_type"] == "PT_LOAD" and s["p_filesz"])
            covered, end = 0, 0
            for a, b in loads:
                a = max(a, end)
                if b > a:
                    covered += b - a
                end = max(end, b)
            secs = list(e.iter_sections())
            pcln = e.get_section_by_name(".gopclntab")
            syms = sum(s["sh_size"] + secs[s["sh_link"]]["sh_size"] for s in secs
                       if s["sh_type"] in ("SHT_SYMTAB", "SHT_DYNSYM"))
            dwarf = sum(s["sh_size"] for s in secs if s.name.startswith((".debug_", ".zdebug_")))
            got = (r["file_size"], r["mapped_bytes"], r["symtab_bytes"], r["dwarf_bytes"])
            assert got == (os.path.getsize(r["path"]), covered, syms, dwarf), r["path"]
            if pcln is not None:
                assert r["pclntab_bytes"] == pcln["sh_size"], r["path"]
            assert r["survives_dwarf_types"] == (e.get_section_by_name(".debug_info") is not None
                                                 or e.get_section_by_name(".zdebug_info") is not None)
            n += 1
    assert n >= 10


def test_every_survives_column_of_cost(table_rows):
    r = good(table_rows)[0]
    survives = cost(r["path"])["survives"]
    assert list(survives) == SURVIVES
    assert {k: r[f"survives_{k}"] for k in SURVIVES} == survives


def test_non_go_and_broken_files_are_error_rows(inputs, table_rows):
    assert [r["path"] for r in table_rows] == inputs
    bad = {Path(r["path"]).name: r for r in table_rows if r["error"] is not None}
    assert set(bad) == {"notes.txt", "truncated", "missing", "fifo"}
    assert bad["fifo"]["error"] == "UnsupportedError: not a regular file"
    assert bad["notes.txt"]["error"].startswith("NotGoBinaryError: ")
    assert bad["missing"]["error"].startswith("FileNotFoundError: ")
    assert bad["truncated"]["file_size"] == 3000
    for r in bad.values():
        assert "\n" not in r["error"]
        assert all(r[c] is None for c in NAMES if c not in ("path", "error", "file_size"))
    assert len(good(table_rows)) == len(inputs) - 4


def test_cli_writes_parquet_for_a_directory(inputs, tmp_path, capsys):
    from gosym.cli import main

    d = tmp_path / "bins"
    d.mkdir()
    for i, p in enumerate(inputs[:3]):
        shutil.copy(p, d / f"b{i}")
    (d / "readme").write_text("hello\n")
    lst = tmp_path / "list"
    lst.write_text(f"# more\n{inputs[3]}\n\n")
    out = tmp_path / "fleet.parquet"
    assert main(["survey", str(d), "--list", str(lst), "-o", str(out), "-j", "2"]) == 0
    t = pq.read_table(out).to_pylist()
    assert [Path(r["path"]).name for r in t] == ["b0", "b1", "b2", "readme", Path(inputs[3]).name]
    assert [r["error"] is None for r in t] == [True, True, True, False, True]
    assert capsys.readouterr().err == ""           # no summary or progress: stderr is no terminal
    assert main(["survey", str(d), "-o", str(tmp_path / "x.txt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "x.txt" in err and not (tmp_path / "x.txt").exists()
    assert main(["survey", str(d), "--format", "parquet"]) == 2          # binary, not to stdout
    assert capsys.readouterr().err.count("\n") == 1


# ------------------------------------------------------------ a real Dask cluster

def slow_locate(path: str) -> str:
    """The survey's locate hook, slowed down so that a worker can be killed
    while tasks are running."""
    time.sleep(0.3)
    return path


def test_real_cluster_same_rows_and_a_killed_worker(inputs, local_rows, tmp_path):
    why = missing()
    if why:
        pytest.skip(why)
    with dask_cluster(tmp_path, n_workers=2) as cluster:
        assert list(survey(inputs, scheduler=cluster.address, progress=False)) == local_rows
        some = inputs[:10] + inputs[-4:]                         # good and error rows
        rows = []
        for row in survey(some, scheduler=cluster.address, progress=False, locate=slow_locate):
            rows.append(row)
            if len(rows) == 2:
                cluster.kill_worker(0)                           # tasks of both are in flight
        assert cluster.workers[0].poll() is not None            # it is dead
        assert rows == local_rows[:10] + local_rows[-4:]         # the other worker re-ran its tasks


def locate_or_fail(item: str) -> str:
    """A locate hook as a symbol store would give: an unknown ID raises LookupError."""
    if item.startswith("id:"):
        raise LookupError(f"no binary with build ID {item[3:]}")
    return item


def test_locate_hook_rows_keep_the_item(inputs, local_rows):
    rows = list(survey([inputs[0], "id:0011aa"], jobs=1, locate=locate_or_fail))
    assert rows[0] == local_rows[0]
    assert rows[1]["path"] == "id:0011aa" and rows[1]["error"] == "LookupError: no binary with build ID 0011aa"
    assert all(rows[1][c] is None for c in NAMES if c not in ("path", "error"))


def test_cli_unreachable_scheduler_is_one_line_and_no_output(inputs, tmp_path, capsys):
    dask = pytest.importorskip("dask", reason="dask is not installed (pip install 'gosym[fleet]')")
    pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install 'gosym[fleet]')")
    import socket

    from gosym.cli import main

    with socket.socket() as s:                 # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "t.csv"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        rc = main(["survey", inputs[0], "-o", str(out), "--scheduler", f"tcp://127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith(f"gosym: survey: cannot reach the Dask scheduler tcp://127.0.0.1:{port}: ")
    assert err.count("\n") == 1 and not out.exists()


def test_by_build_id_through_a_store_directory(inputs, local_rows, tmp_path):
    """Binaries found by GNU and Go build ID in a store directory (gosym.store)
    give the rows of the same files surveyed by path; an unknown ID is an
    error row naming it."""
    import functools

    from gosym.store import StoreConfig
    from gosym.survey import locate_in_store

    store = tmp_path / "store"
    store.mkdir()
    picked = [(p, r) for p, r in zip(inputs, local_rows) if r["gnu_build_id"]][:3]
    for i, (p, _r) in enumerate(picked):
        shutil.copy(p, store / f"bin{i}")
    ids = [picked[0][1]["gnu_build_id"], picked[1][1]["go_build_id"], picked[2][1]["gnu_build_id"], "00" * 20]
    cfg = StoreConfig(dirs=(str(store),), debuginfod=(), cache_dir=str(tmp_path / "cache"))
    rows = list(survey(ids, jobs=2, locate=functools.partial(locate_in_store, cfg)))
    for row, (_p, want) in zip(rows, picked):
        assert {**row, "path": want["path"]} == want
    assert rows[3]["path"] == "00" * 20 and rows[3]["error"].startswith("LookupError: build ID 0000")
    from gosym.cli import main

    out = tmp_path / "ids.csv"
    assert main(["survey", "--build-id", ids[0], "--store", str(store), "--cache-dir", str(tmp_path / "c2"),
                 "-o", str(out)]) == 0
    back = list(csv.DictReader(out.open()))
    assert back[0]["path"] == ids[0] and back[0]["go_version"] == picked[0][1]["go_version"]
