"""`gosym pprof` with many profiles: directories in, one output per input,
mappings found by build ID in --store directories or by file name among named
binaries, a corrupt profile among good ones, a server that is down, --in-place.

The reference for every filled location is the runtime's own frames
(runtime/pprof symbolizes its profile itself; the test strips them first)."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from gosym import pprof
from gosym.store import file_ids
from tests.support import profload
from tests.support.symstore import down_url

PY = [sys.executable, "-m", "gosym", "pprof"]


def run(*args, env=None):
    return subprocess.run(PY + [str(a) for a in args], capture_output=True, text=True, timeout=300, env=env)


def frames(prof):
    st = prof.string_table
    funcs = {f.id: f for f in prof.function}
    return {loc.id: [(st[funcs[ln.function_id].name], st[funcs[ln.function_id].filename], ln.line)
                     for ln in loc.line] for loc in prof.location}


@pytest.fixture(scope="module")
def runtime_profiles(tmp_path_factory):
    """{flagset: (binary, the runtime's profile bytes)} for non-PIE and PIE profload."""
    d = tmp_path_factory.mktemp("many")
    out = {}
    for fs in ("default", "pie"):
        b = profload.build(fs)
        p = d / f"{fs}.pb.gz"
        r = subprocess.run([b, "profile", str(p), "500"], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        out[fs] = (b, p.read_bytes())
    return out


def check_filled(out_bytes, original):
    want, got = frames(pprof.parse_profile(original)), frames(pprof.parse_profile(out_bytes))
    assert any(len(v) > 1 for v in want.values()), "no inlined frames in the runtime's profile"
    assert got == want


def test_directory_store_corrupt_profile_and_down_server(runtime_profiles, tmp_path):
    """Profiles in a directory (one of them corrupt), binaries in a --store
    directory under other names, a debuginfod URL that is down: the good
    profiles are filled (by build ID), the corrupt one is one line and exit
    status 1, the server is only a problem line for the mapping with none."""
    inp = tmp_path / "in" / "sub"
    inp.mkdir(parents=True)
    store = tmp_path / "store"
    store.mkdir()
    for fs, (b, data) in runtime_profiles.items():
        (inp / f"{fs}.pb.gz").write_bytes(pprof.strip_profile(data))
        shutil.copy(b, store / f"build-{fs}")
    (inp / "broken.pb.gz").write_bytes(b"\x1f\x8b not really gzip")
    # A mapping whose binary is found but is no Go program (a copy of /bin/true): one problem line.
    true = store / "true"
    shutil.copy("/bin/true", true)
    prof = pprof.parse_profile(pprof.strip_profile(runtime_profiles["default"][1]))
    prof.string_table.extend([b"/usr/bin/true", file_ids(str(true)).gnu.encode()])
    prof.mapping.add(id=99, memory_start=0x7F5500000000, memory_limit=0x7F5500010000, file_offset=0,
                     filename=len(prof.string_table) - 2, build_id=len(prof.string_table) - 1)
    prof.location.add(id=10 ** 6, mapping_id=99, address=0x7F5500000100)
    (inp / "withtrue.pb").write_bytes(prof.SerializeToString())
    out = tmp_path / "out"
    env = dict(os.environ, DEBUGINFOD_URLS=down_url())
    r = run(tmp_path / "in", "--store", store, "--cache-dir", tmp_path / "cache", "--retries", "0",
            "-o", out, env=env)
    assert r.returncode == 1
    err = r.stderr.splitlines()
    assert sum(ln.startswith(f"gosym: {inp / 'broken.pb.gz'}: ") for ln in err) == 1, r.stderr
    assert err[-1].startswith("gosym: 4 profiles (1 failed)"), r.stderr
    assert sum(ln.startswith(f"gosym: {inp / 'withtrue.pb'}: {true}: no Go pclntab") for ln in err) == 1, r.stderr
    got = frames(pprof.parse_profile((out / "sub" / "withtrue.pb").read_bytes()))
    assert got.pop(10 ** 6) == [] and got == frames(pprof.parse_profile(runtime_profiles["default"][1]))
    for fs, (_b, data) in runtime_profiles.items():
        check_filled((out / "sub" / f"{fs}.pb.gz").read_bytes(), data)
    assert not (out / "sub" / "broken.pb.gz").exists()
    # The PIE's ld.so mapping has a build ID and no locations: never looked up.
    assert "Connection refused" not in r.stderr
    # --json: one object per profile, then the summary.
    r = run(inp / "pie.pb.gz", inp / "default.pb.gz", "--store", store, "--cache-dir", tmp_path / "cache",
            "-o", tmp_path / "out2", "--json", env=env)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [os.path.basename(x["profile"]) for x in lines[:-1]] == ["pie.pb.gz", "default.pb.gz"]
    for rep in lines[:-1]:
        (m,) = [m for m in rep["mappings"] if m["status"] == "symbolized"]
        assert m["found_by"] == "build_id" and m["source"] == "dir" and m["filled"] == m["locations"] > 0
        assert m["binary"].startswith(str(store))
    assert lines[-1]["summary"]["symbolized"] == 2 and lines[-1]["summary"]["failed"] == 0


def test_by_file_name_in_place_and_unfound(runtime_profiles, tmp_path):
    """No build ID in the profile: the binary named on the command line is
    matched by file name; --in-place rewrites the inputs; a profile whose
    binary is nowhere is written unchanged, its mapping counted, exit 0."""
    b, data = runtime_profiles["default"]
    prof = pprof.parse_profile(pprof.strip_profile(data))
    for m in prof.mapping:
        m.build_id = 0
    p1 = tmp_path / "one.pb"
    p1.write_bytes(prof.SerializeToString())
    (tmp_path / "bins").mkdir()
    shutil.copy(b, tmp_path / "bins" / "profload")
    orphan = pprof.parse_profile(pprof.strip_profile(runtime_profiles["pie"][1]))
    p2 = tmp_path / "two.pb"
    p2.write_bytes(orphan.SerializeToString())
    before2 = p2.read_bytes()
    r = run(p1, p2, tmp_path / "bins" / "profload", "--in-place", "--json",
            "--cache-dir", tmp_path / "cache", env=dict(os.environ, DEBUGINFOD_URLS=""))
    assert r.returncode == 0, r.stderr
    reps = [json.loads(x) for x in r.stdout.splitlines()]
    (m,) = [m for m in reps[0]["mappings"] if m["status"] == "symbolized"]
    assert m["found_by"] == "filename" and m["filled"] == m["locations"] > 0
    check_filled(p1.read_bytes(), data)
    assert [m["status"] for m in reps[1]["mappings"] if m["locations"]] == ["not found"]
    assert p2.read_bytes() == before2
    assert reps[-1]["summary"] == dict(reps[-1]["summary"], **{"not found": 1, "symbolized": 1, "failed": 0})


def test_argument_errors(runtime_profiles, tmp_path):
    b, data = runtime_profiles["default"]
    p = tmp_path / "a.pb.gz"
    p.write_bytes(data)
    f = tmp_path / "file"
    f.write_text("x")
    (tmp_path / "d").mkdir()
    p2 = tmp_path / "d" / "a.pb.gz"
    p2.write_bytes(data)
    raw = tmp_path / "raw"
    raw.write_bytes(b"\0" * 4096)
    cases = [
        ([p, p2, b, "-o", tmp_path / "o"], "would both be written"),
        ([p, raw, "-o", tmp_path / "one.pb.gz"], f"gosym: {raw}: not an ELF, Mach-O or PE file"),   # PROFILE BINARY: as before
        ([p, "--store", tmp_path, "-o", f], "not a directory"),
        ([p, p, b, "--mapping", "1", "-o", tmp_path / "o"], "--mapping works with one profile"),
        ([p, tmp_path / "nope", "-o", tmp_path / "o"], "no such file"),
        ([p, tmp_path / "o2", "--in-place", "-o", tmp_path / "o3"], None),
    ]
    for args, msg in cases:
        r = run(*args)
        assert r.returncode == 1 and r.stderr.count("\n") == 1 and r.stderr.startswith("gosym: "), (args, r.stderr)
        if msg:
            assert msg in r.stderr, (args, r.stderr)
    assert file_ids(b).gnu          # (the profiles above were matched by this ID)


def test_jobs_and_dask_give_the_same_profiles(runtime_profiles, tmp_path):
    """The many-profile form in this process, on a local pool (`-j 2`, the
    CLI) and on a Dask cluster (gosym.fleet.symbolize_many with a
    LocalCluster's client): byte-identical outputs, each equal to the
    runtime's own frames."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed "
                                      "(pip install 'gosym[fleet]')")
    from gosym import fleet
    from gosym.store import StoreConfig

    inp, store = tmp_path / "in", tmp_path / "store"
    inp.mkdir()
    store.mkdir()
    names = []
    for fs, (b, data) in runtime_profiles.items():
        shutil.copy(b, store / f"build-{fs}")
        for k in range(2):
            names.append(f"{fs}-{k}.pb.gz")
            (inp / names[-1]).write_bytes(pprof.strip_profile(data))
    outs = {}
    r = run(inp, "--store", store, "--cache-dir", tmp_path / "cache", "-j", "2", "-o", tmp_path / "pool")
    assert r.returncode == 0, r.stderr
    outs["pool"] = tmp_path / "pool"
    cfg = StoreConfig(dirs=(str(store),), cache_dir=str(tmp_path / "cache"), debuginfod=())
    for mode in ("one", "dask"):
        d = tmp_path / mode
        d.mkdir()
        pairs = [(str(inp / n), str(d / n)) for n in names]
        if mode == "one":
            reps = list(fleet.symbolize_many(pairs, cfg))
        else:
            with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                          dashboard_address=":0") as cluster, \
                    distributed.Client(cluster) as client:
                reps = list(fleet.symbolize_many(pairs, cfg, scheduler=client))
        assert [os.path.basename(x["profile"]) for x in reps] == names
        assert all(x["ok"] and x["filled"] > 0 for x in reps), reps
        outs[mode] = d
    for n in names:
        got = {mode: (d / n).read_bytes() for mode, d in outs.items()}
        assert got["pool"] == got["one"] == got["dask"], n
        check_filled(got["one"], runtime_profiles[n.split("-")[0]][1])
