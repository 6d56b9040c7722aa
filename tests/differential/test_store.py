"""gosym.store and gosym.fleet against real components: elfutils' debuginfod
serving fixture binaries, Go's own tools for the IDs, runtime/pprof's frames
and the oracle (debug/gosym) for the answers.

The "done when" of issue 15: twenty multi-mapping profiles whose binaries are
reachable only by build ID through a debuginfod server come out fully
symbolized, inlined frames included.  Each profile merges two runtime/pprof
CPU profiles (profload built by Go 1.27, which writes a GNU build ID derived
from the Go one by default, non-PIE and PIE, so a bias is taken off), a
mapping of multipkg (PIE) placed at a made-up load address with locations at pcs the oracle answers, and a mapping
with a build ID no server has.  The runtime's own frames (stripped before
symbolizing) and the oracle's outermost function / innermost file:line are the
reference.  Faults (server down, slow, 404, wrong or truncated file) go
through a small misbehaving HTTP server of ours where debuginfod will not
misbehave.
"""
import hashlib
import os
import pickle
import random
import shutil
import subprocess
import sys
import time

import pytest

from gosym import fleet, pprof
from gosym.store import Store, StoreConfig, file_ids, id_keys, normalize_id, profiling_id
from gosym.toolchain import goroot
from tests.fixtures.build import FixtureError, Spec, ensure_spec
from tests.oracle.oracle import run_oracle
from tests.support import profload
from tests.support.symstore import Misbehaving, debuginfod, down_url, files_by_id, need_debuginfod

N_PROFILES = 20
MULTIPKG_BASE = 0x7F1200000000      # where the test "loads" multipkg
FAKE_ID = "00112233445566778899aabbccddeeff00112233"


def _spec(program, flagset, toolchain=profload.TOOLCHAIN, goos="linux", goarch="amd64"):
    from gosym.toolchain import ToolchainError

    if not profload.runnable():
        pytest.skip("the fixtures run on linux/amd64 only")
    try:
        row = ensure_spec(Spec(program, toolchain, goos, goarch, flagset))
    except (ToolchainError, FixtureError) as e:
        pytest.skip(f"no Go {toolchain} toolchain: {e}")
    assert not row.get("error"), row["error"][:500]
    return row["path"]


@pytest.fixture(scope="module")
def bins():
    # Go 1.24+ links a GNU build ID by default (-B=gobuildid); 1.21 does not.
    return {"exe": _spec("profload", "default"), "pie": _spec("profload", "pie"),
            "multipkg": _spec("multipkg", "pie"), "plain": _spec("multipkg", "default", "1.21.13")}


def gnu(path):
    return file_ids(path).gnu


def test_keys_are_the_ids_the_tools_print(bins):
    """GNU ID as readelf prints it and as runtime/pprof records it (test_pprof
    checks the latter), the Go ID as `go tool buildid` prints it; a binary
    built without -B has no GNU ID and is found by its Go ID only."""
    go = str(goroot(profload.TOOLCHAIN) / "bin" / "go")
    for name in ("exe", "plain"):
        p = bins[name]
        want_go = subprocess.run([go, "tool", "buildid", p], capture_output=True, text=True, timeout=60,
                                 check=True).stdout.strip()
        notes = subprocess.run(["readelf", "-n", p], capture_output=True, text=True, timeout=60).stdout
        want_gnu = [ln.split()[-1] for ln in notes.splitlines() if "Build ID:" in ln]
        ids = file_ids(p)
        assert ids.go == want_go
        assert [ids.gnu] == want_gnu if want_gnu else ids.gnu is None
        assert (name == "exe") == bool(want_gnu)
        keys = id_keys(ids, profiling_id(p))
        assert want_go in keys and want_go.encode().hex() in keys and len(keys) == 3 + bool(want_gnu)
    s = Store(binaries=[bins["exe"], bins["plain"]], cache_dir="/nonexistent/never-written")
    assert s.find(gnu(bins["exe"]).upper()) == bins["exe"]
    assert s.find(file_ids(bins["plain"]).go) == bins["plain"]
    assert s.find(file_ids(bins["plain"]).go.encode().hex().upper()) == bins["plain"]
    assert s.find(profiling_id(bins["plain"])) == bins["plain"]
    assert s.find(FAKE_ID) is None and s.find("") is None
    assert normalize_id("0123ABCD-0000-1111-2222-333344445555") == "0123abcd000011112222333344445555"
    # Mach-O: the LC_UUID as llvm-objdump prints it (dashes, upper case) finds the file.
    macho = _spec("multipkg", "default", goos="darwin", goarch="arm64")
    out = subprocess.run(["llvm-objdump", "--macho", "--private-headers", macho], capture_output=True,
                         text=True, timeout=60) if shutil.which("llvm-objdump") else None
    uuids = [ln.split()[1] for ln in out.stdout.splitlines() if ln.strip().startswith("uuid ")] if out else []
    if out is not None:        # llvm is in .ci/run's wanted list
        assert len(uuids) == 1, out.stdout[:500]
        assert Store(binaries=[macho], cache_dir="/nonexistent/never-written").find(uuids[0]) == macho
    # By file name: a path written on any system; not when the recorded ID is another build's.
    s = Store(binaries=[bins["exe"]], cache_dir="/nonexistent/never-written")
    assert s.find_by_name("C:\\svc\\profload") == bins["exe"]
    assert s.find_by_name("/opt/profload", gnu(bins["exe"])) == bins["exe"]
    assert s.find_by_name("/opt/profload", FAKE_ID) is None
    assert s.find_by_name("/opt/profload", file_ids(bins["plain"]).go) is None
    assert s.find_by_name("/opt/other") is None


def test_directory_index_is_cached_and_refreshed(bins, tmp_path):
    """The .build-id layout (symlinks, as distributions ship it) and a flat
    tree; a second Store reads no file; a replaced file is read again."""
    flat = tmp_path / "flat" / "sub"
    flat.mkdir(parents=True)
    shutil.copy(bins["plain"], flat / "app")
    (flat / "notes.txt").write_text("not a binary " * 10)
    bid = tmp_path / "sym" / ".build-id"
    g = gnu(bins["pie"])
    (bid / g[:2]).mkdir(parents=True)
    os.symlink(bins["pie"], bid / g[:2] / g[2:])
    os.symlink(bins["pie"], bid / g[:2] / (g[2:] + ".debug"))
    cfg = dict(dirs=[str(tmp_path / "flat"), str(tmp_path / "sym")], cache_dir=str(tmp_path / "cache"))
    s = Store(**cfg)
    assert s.find(g) == str(bid / g[:2] / g[2:])
    plain_go = file_ids(bins["plain"]).go
    assert s.find(plain_go) == str(flat / "app")
    assert [ix.read for ix in s.indexes] == [2, 0]          # app and notes.txt; the layout needs no reads
    assert [ix.read for ix in Store(**cfg).indexes] == [0, 0]
    # A damaged index is rebuilt (every file read again), never trusted or fatal.
    for ix in s.indexes:
        with open(ix.index_file, "w") as f:
            f.write('{"version": 2, "root": "%s", "files": {"sub/app": [1, 2, 3]}}' % ix.root)
    assert [ix.read for ix in Store(**cfg).indexes] == [2, 0]
    time.sleep(0.01)
    shutil.copy(bins["multipkg"], flat / "app")            # another build under the same name
    s = Store(**cfg)
    assert [ix.read for ix in s.indexes] == [1, 0]
    assert s.find(plain_go) is None and s.find(gnu(bins["multipkg"])) == str(flat / "app")


@pytest.fixture(scope="module")
def server(bins, tmp_path_factory):
    """debuginfod serving the three binaries with GNU build IDs (copies: the server is their only source)."""
    need_debuginfod()
    d = tmp_path_factory.mktemp("debuginfod")
    served = d / "served"
    served.mkdir()
    for name in ("exe", "pie", "multipkg"):
        shutil.copy(bins[name], served / f"{name}.bin")
    with debuginfod(str(served), [gnu(bins[n]) for n in ("exe", "pie", "multipkg")], str(d)) as url:
        yield url


def test_debuginfod_download_cache_and_negative_cache(bins, server, tmp_path):
    s = Store(debuginfod=[server], cache_dir=str(tmp_path))
    g = gnu(bins["multipkg"])
    f = s.resolve(g)
    assert f.source == "debuginfod" and not f.problems
    assert open(f.path, "rb").read() == open(bins["multipkg"], "rb").read()
    assert s.resolve(g.upper()).source == "cache"
    with s.open(g) as b:
        assert b.path == f.path and b.lookup(b.functions[0].entry)
    # 404 everywhere: remembered, and not asked again until it expires.
    miss = s.resolve(FAKE_ID)
    assert miss.path is None and miss.problems == []
    assert os.path.exists(tmp_path / "negative" / FAKE_ID)
    again = s.resolve(FAKE_ID)
    assert again.path is None and "no server had it" in again.problems[0]
    expired = Store(debuginfod=[server], cache_dir=str(tmp_path), negative_ttl=0).resolve(FAKE_ID)
    assert expired.path is None and expired.problems == []     # asked again (404 again)
    # The environment variable names servers when the config does not.
    os.environ["DEBUGINFOD_URLS"] = f"{down_url()} {server}"
    try:
        f2 = Store(cache_dir=str(tmp_path / "env")).resolve(gnu(bins["exe"]))
    finally:
        del os.environ["DEBUGINFOD_URLS"]
    assert f2.source == "debuginfod" and f2.problems and "Connection refused" in f2.problems[0]


def test_server_faults_are_problems_not_errors(bins, tmp_path):
    g_exe, g_pie = gnu(bins["exe"]), gnu(bins["pie"])
    exe = open(bins["exe"], "rb").read()
    pie = open(bins["pie"], "rb").read()

    def behave(hexid, kind):
        if kind != "executable":
            return 404, b"", None, 0
        if hexid == g_exe:           # another file than the one asked for
            return 200, pie, None, 0
        if hexid == g_pie:           # cut short: fewer bytes than declared
            return 200, pie[: len(pie) // 2], len(pie), 0
        if hexid == "aa" * 20:       # slow
            return 200, exe, None, 3
        return 500, b"", None, 0

    with Misbehaving(behave) as srv:
        s = Store(debuginfod=[srv.url], cache_dir=str(tmp_path), timeout=0.5, retries=1, server_backoff=0)
        wrong = s.resolve(g_exe)
        assert wrong.path is None and "rejected" in wrong.problems[0] and gnu(bins["pie"]) in wrong.problems[0]
        cut = s.resolve(g_pie)
        assert cut.path is None and ("truncated" in cut.problems[0] or "ncomplete" in cut.problems[0]), cut
        t = time.monotonic()
        slow = s.resolve("aa" * 20)
        assert slow.path is None and "timed out (after 2 attempts)" in slow.problems[0], slow
        assert time.monotonic() - t < 3.5
        n = len(srv.requests)
        err = s.resolve("bb" * 20)
        assert err.path is None and "HTTP 500 (after 2 attempts)" in err.problems[0]
        assert len(srv.requests) - n == 2                 # bounded retries; no negative entry for a 500
        assert not os.path.exists(tmp_path / "negative" / ("bb" * 20))
        # IDs that are not hex (a Go build ID, hostile text) never reach a server or a path.
        n = len(srv.requests)
        for bad in ("../../etc/passwd", "a" * 4000, "abc/def", "zz" * 20, "ab", "\u00e9" * 20):
            assert s.resolve(bad).path is None
        assert len(srv.requests) == n
        # A server that failed is skipped for a while by this process: no more requests, one line.
        s2 = Store(debuginfod=[srv.url], cache_dir=str(tmp_path / "b"), retries=1, server_backoff=60)
        n = len(srv.requests)
        assert "HTTP 500" in s2.resolve("cc" * 20).problems[0] and len(srv.requests) == n + 2
        skipped = s2.resolve("dd" * 20)
        assert skipped.path is None and len(srv.requests) == n + 2
        assert skipped.problems == [f"{srv.url}: skipped (HTTP 500 (after 2 attempts), less than 60 s ago)"]
        assert not os.path.exists(tmp_path / "b" / "negative" / ("dd" * 20))
    leftovers = [f for _d, _s, fs in os.walk(tmp_path) for f in fs if f.startswith(".part")]
    assert not leftovers and not os.path.exists(tmp_path / "buildid" / g_exe / "executable")
    down = Store(debuginfod=[down_url()], cache_dir=str(tmp_path / "d"), retries=2).resolve(g_exe)
    assert down.path is None and "(after 3 attempts)" in down.problems[0]


def test_lru_eviction_and_many_processes(bins, tmp_path):
    paths = {gnu(bins[n]): bins[n] for n in ("exe", "pie", "multipkg")}
    sizes = {g: os.path.getsize(p) for g, p in paths.items()}
    g_exe, g_pie, g_mp = gnu(bins["exe"]), gnu(bins["pie"]), gnu(bins["multipkg"])
    with Misbehaving(files_by_id(paths)) as srv:
        cap = sizes[g_exe] + sizes[g_pie] + 1000
        s = Store(debuginfod=[srv.url], cache_dir=str(tmp_path / "lru"), max_cache_bytes=cap)
        assert s.resolve(g_exe).source == "debuginfod"
        time.sleep(0.02)
        assert s.resolve(g_pie).source == "debuginfod"
        time.sleep(0.02)
        assert s.resolve(g_exe).source == "cache"          # exe is now the most recently used
        time.sleep(0.02)
        assert s.resolve(g_mp).source == "debuginfod"      # pie goes
        held = lambda g: os.path.exists(tmp_path / "lru" / "buildid" / g / "executable")  # noqa: E731
        assert held(g_exe) and held(g_mp) and not held(g_pie)
        # Four processes fetch the same file into one empty cache at once.
        code = ("import sys; from gosym.store import Store; "
                f"print(Store(debuginfod=[{srv.url!r}], cache_dir=sys.argv[1]).find(sys.argv[2]))")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "many"), g_mp],
                                  stdout=subprocess.PIPE, text=True, env=env) for _ in range(4)]
        outs = {p.communicate(timeout=120)[0].strip() for p in procs}
    want = str(tmp_path / "many" / "buildid" / g_mp / "executable")
    assert outs == {want}
    assert hashlib.sha256(open(want, "rb").read()).digest() == \
        hashlib.sha256(open(bins["multipkg"], "rb").read()).digest()
    assert os.listdir(os.path.dirname(want)) == ["executable"]


# --- the done-when: twenty multi-mapping profiles through debuginfod --------------------------

def _runtime_profile(binary, out):
    r = subprocess.run([binary, "profile", str(out), "1000"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return pprof.parse_profile(open(out, "rb").read())


def _frames(prof, loc):
    st = prof.string_table
    funcs = {f.id: f for f in prof.function}
    return [(st[funcs[ln.function_id].name].decode(), st[funcs[ln.function_id].filename].decode(), ln.line)
            for ln in loc.line]


@pytest.fixture(scope="module")
def fleet_profiles(bins, tmp_path_factory):
    """(directory of 20 profiles, expected frames per (profile name, location id),
    oracle answers per multipkg location address)."""
    d = tmp_path_factory.mktemp("fleet")
    a = _runtime_profile(bins["exe"], d / "a.pb.gz")
    b = _runtime_profile(bins["pie"], d / "b.pb.gz")
    # multipkg: pcs inside its functions, answered by debug/gosym.
    orc = run_oracle(bins["multipkg"], funcs=True)
    fns = [f for f in orc["functions"] if f["name"].startswith("main.") or "multipkg" in f["name"]]
    rng = random.Random(15)
    pcs = sorted({f["entry"] + rng.randrange(0, max(1, min(f["end"] - f["entry"], 64))) for f in fns})
    lookups = {x["pc"]: x
               for x in run_oracle(bins["multipkg"], pcs=pcs, funcs=False)["lookups"]}
    import gosym
    with gosym.open(bins["multipkg"]) as mb:
        text = next(s for s in mb.container.segments if s.flags & 1)
    expected = {}
    profdir = d / "in"
    profdir.mkdir()
    for i in range(N_PROFILES):
        p = pprof.parse_profile(pprof.strip_profile(open(d / "a.pb.gz", "rb").read()))
        st = p.string_table

        def s(text_):
            st.append(text_.encode())
            return len(st) - 1
        nmap = max(m.id for m in p.mapping)
        nloc = max(loc.id for loc in p.location)
        for loc in a.location:
            expected[(i, loc.id)] = _frames(a, loc)
        # B's mappings and locations, renumbered.
        for m in b.mapping:
            p.mapping.add(id=m.id + nmap, memory_start=m.memory_start, memory_limit=m.memory_limit,
                          file_offset=m.file_offset, filename=s(b.string_table[m.filename].decode()),
                          build_id=s(b.string_table[m.build_id].decode()))
        for loc in b.location:
            p.location.add(id=loc.id + nloc, mapping_id=loc.mapping_id + nmap, address=loc.address)
            expected[(i, loc.id + nloc)] = _frames(b, loc)
        keep = rng.sample(list(b.sample), k=max(1, len(b.sample) * (i + 1) // N_PROFILES))
        for smp in keep:
            p.sample.add(location_id=[x + nloc for x in smp.location_id], value=list(smp.value))
        # multipkg at MULTIPKG_BASE, and a library no server has.
        mp_id, lib_id = nmap + 10, nmap + 11
        p.mapping.add(id=mp_id, memory_start=MULTIPKG_BASE, memory_limit=MULTIPKG_BASE + text.mem_size,
                      file_offset=text.offset, filename=s("/opt/app/multipkg"), build_id=s(gnu(bins["multipkg"])))
        p.mapping.add(id=lib_id, memory_start=0x7F3300000000, memory_limit=0x7F3300100000, file_offset=0,
                      filename=s("/usr/lib/libgone.so"), build_id=s(FAKE_ID))
        nid = max(loc.id for loc in p.location) + 1
        chosen = rng.sample(pcs, k=min(len(pcs), 40))
        for k, pc in enumerate(chosen):
            p.location.add(id=nid + k, mapping_id=mp_id, address=MULTIPKG_BASE + (pc - text.addr))
            expected[(i, nid + k)] = ("oracle", lookups[pc])
        p.location.add(id=nid + len(chosen), mapping_id=lib_id, address=0x7F3300000123)
        p.sample.add(location_id=[nid + k for k in range(len(chosen))] + [nid + len(chosen)], value=[1, 1000])
        (profdir / f"p{i:02d}.pb").write_bytes(p.SerializeToString())
    return profdir, expected, bins


def test_twenty_multi_mapping_profiles_through_debuginfod(fleet_profiles, server, tmp_path):
    profdir, expected, bins = fleet_profiles
    env = dict(os.environ, GOSYM_CACHE=str(tmp_path / "gcache"))
    env.pop("DEBUGINFOD_URLS", None)
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "gosym", "pprof", str(profdir), "--debuginfod", server,
                        "--cache-dir", str(tmp_path / "store"), "-o", str(out), "--json", "-j", "2"],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    import json
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    reps, summary = lines[:-1], lines[-1]["summary"]
    assert len(reps) == N_PROFILES and summary["failed"] == 0
    assert summary["symbolized"] == 3 * N_PROFILES and summary["not found"] == N_PROFILES
    checked = inlined = oracle = asked = 0
    for i, rep in enumerate(reps):
        by_status = {}
        for m in rep["mappings"]:
            by_status.setdefault(m["status"], []).append(m)
        found = {m["filename"]: m for m in by_status["symbolized"]}
        assert {os.path.basename(f) for f in found} == {"profload", "multipkg"}
        assert all(m["found_by"] == "build_id" and m["source"] in ("debuginfod", "cache")
                   and m["unmatched"] == 0 and m["filled"] == m["locations"] for m in found.values())
        (gone,) = by_status["not found"]
        assert gone["build_id"] == FAKE_ID and len(gone["problems"]) == 1, gone
        # The first lookup asks the server; later ones meet the negative cache.  With two
        # worker processes, each may be first once.
        first = "no binary with build ID" in gone["problems"][0]
        assert first or "no server had it" in gone["problems"][0], gone
        asked += first
        p = pprof.parse_profile((out / os.path.basename(rep["profile"])).read_bytes())
        for loc in p.location:
            want = expected.get((i, loc.id))
            got = _frames(p, loc)
            if want is None:
                continue
            if isinstance(want, tuple) and want[0] == "oracle":
                o = want[1]
                assert got and got[-1][0] == o["func"] and got[0][1:] == (o["file"], o["line"]), (got, o)
                oracle += 1
            elif want:                                      # the runtime's own frames
                assert got == want, (loc.id, got, want)
                inlined += len(want) > 1
            checked += 1
        lib = [loc for loc in p.location if loc.address == 0x7F3300000123]
        assert lib and not lib[0].line
    n_oracle = sum(isinstance(v, tuple) for v in expected.values())
    assert 1 <= asked <= 2, asked
    assert checked > N_PROFILES * 50 and inlined >= N_PROFILES and oracle == n_oracle >= N_PROFILES * 20, \
        (checked, inlined, oracle)
    # Go's own pprof reads the output: every function the oracle named is there, by name.
    first = sorted(os.listdir(profdir))[0]
    go = str(goroot(profload.TOOLCHAIN) / "bin" / "go")
    raw = subprocess.run([go, "tool", "pprof", "-raw", "-symbolize=none", str(out / first)], capture_output=True,
                         text=True, timeout=120, env=dict(env, GOTOOLCHAIN="local", PPROF_TMPDIR=str(tmp_path)))
    assert raw.returncode == 0, raw.stderr
    names = {v[1]["func"] for (i, _), v in expected.items() if i == 0 and isinstance(v, tuple)}
    assert names and all(n in raw.stdout for n in names)
    assert "libgone.so" in raw.stdout
    # In-process (as a worker would run it, the function and its config pickled) gives the same bytes.
    cfg = StoreConfig(debuginfod=(server,), cache_dir=str(tmp_path / "store"))
    func, cfg = pickle.loads(pickle.dumps((fleet.symbolize_one, cfg)))
    again = func(str(profdir / first), str(tmp_path / "again.pb.gz"), cfg)
    assert again["ok"] and (tmp_path / "again.pb.gz").read_bytes() == (out / first).read_bytes()


def test_twenty_profiles_on_dask_equal_the_local_run(fleet_profiles, server, tmp_path):
    """The same twenty profiles (binaries reachable only through debuginfod) on
    a Dask cluster (two workers, each with its own download cache, as separate
    machines would have) and on the local pool give byte-identical outputs."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed "
                                      "(pip install 'gosym[fleet]')")
    profdir, _expected, _bins = fleet_profiles
    names = sorted(os.listdir(profdir))
    outs = {}
    for mode in ("pool", "dask"):
        d = tmp_path / mode
        d.mkdir()
        cfg = StoreConfig(debuginfod=(server,), cache_dir=str(tmp_path / f"cache-{mode}"))
        pairs = [(str(profdir / n), str(d / n)) for n in names]
        if mode == "pool":
            reps = list(fleet.symbolize_many(pairs, cfg, jobs=2))
        else:
            with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                          dashboard_address=":0") as cluster, \
                    distributed.Client(cluster) as client:
                reps = list(fleet.symbolize_many(pairs, cfg, scheduler=client))
        assert len(reps) == N_PROFILES and all(r["ok"] for r in reps), [r["error"] for r in reps]
        assert sum(m["status"] == "symbolized" for r in reps for m in r["mappings"]) == 3 * N_PROFILES
        outs[mode] = d
    for n in names:
        assert (outs["pool"] / n).read_bytes() == (outs["dask"] / n).read_bytes(), n
