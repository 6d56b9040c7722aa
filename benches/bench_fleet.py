#!/usr/bin/env python3
"""Fleet bench: many pprof profiles, several mappings each, symbolized end
to end on one process, on every local core (gosym.parallel's process pool)
and on a 2-worker local Dask cluster (gosym.parallel on dask.distributed).

    python benches/bench_fleet.py [--profiles 1000] [--locations 10000] [--modes one,local,dask]
                                  [--templates 20] [--workdir DIR] [--json [FILE]]

The profiles are made here from fixture binaries (tests/fixtures/build.py):
five Linux/amd64 Go 1.27.3 builds (default, no inlining, PIE, -trimpath,
cgo), each with its GNU build ID; every profile maps three of the five (by
build ID, the PIE at a made-up load address), has --locations locations at
pcs inside their functions split 5:3:2 over its mappings, and samples
over them.  --templates distinct profiles are generated and copied to
--profiles files (the work per file is the same; generating millions of
protobuf locations in Python would dominate the run).

Per profile the task reads and parses it (read), opens each binary it needs
once per worker process (open; later profiles find it open), fills each
mapping with gosym.pprof.symbolize_profile (symbolize; that function also
encodes the whole profile after each mapping, which the timing includes),
then serializes, gzips and writes the result (encode).  The report gives
profiles per second per mode and the mean per-profile split.

Checked: every mode writes byte-identical output profiles, and every
location of every output has at least one line; exit status 1 otherwise.
"""
from __future__ import annotations

import argparse
import array
import gzip
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchlib import ROOT, log, provenance, write_json  # noqa: E402

import gosym  # noqa: E402
from gosym.parallel import run  # noqa: E402
from gosym.pprof import parse_profile, profile_class, symbolize_profile  # noqa: E402

PIE_BASE = 0x5555_5540_0000
FLAGSETS = (("multipkg", "default"), ("multipkg", "nolinline"), ("multipkg", "pie"),
            ("multipkg", "trimpath"), ("cgo", "default"))


# ------------------------------------------------------------ the task (runs on workers)

_OPEN: dict = {}          # path -> Binary, per worker process


def symbolize_task(arg):
    """One profile end to end: (in_path, out_path, {build_id: binary path})
    -> timings.  Module-level so workers import it by name."""
    src, dst, binaries = arg
    t0 = time.perf_counter()
    data = Path(src).read_bytes()
    prof = parse_profile(data)
    t1 = time.perf_counter()
    opened = 0.0
    symbolize = 0.0
    strings = prof.string_table
    for m in prof.mapping:
        path = binaries.get(strings[m.build_id].decode())
        if path is None:
            continue
        a = time.perf_counter()
        b = _OPEN.get(path)
        if b is None:
            b = _OPEN[path] = gosym.open(path)
        c = time.perf_counter()
        symbolize_profile(prof, b)
        opened += c - a
        symbolize += time.perf_counter() - c
    t2 = time.perf_counter()
    out = gzip.compress(prof.SerializeToString(), compresslevel=6, mtime=0)
    Path(dst).write_bytes(out)
    t3 = time.perf_counter()
    return {"read": t1 - t0, "open": opened, "symbolize": symbolize, "encode": t3 - t2,
            "locations": len(prof.location), "total": t3 - t0}


# ------------------------------------------------------------ making the profiles

def pick_binaries():
    from tests.fixtures.build import ensure_fixtures
    from gosym.buildid import read_build_ids

    rows = ensure_fixtures("ci", progress=False)
    out = []
    for program, flagset in FLAGSETS:
        r = next(r for r in rows if r["path"] and r["program"] == program and r["flagset"] == flagset
                 and r["toolchain"] == "1.27.3" and r["goos"] == "linux" and r["goarch"] == "amd64")
        with gosym.open(r["path"]) as b:
            ids = read_build_ids(b.container)
            text = [s for s in b.container.segments if s.flags & 1 and s.file_size]   # PF_X
            seg = text[0]
            cols = b.functions.columns()
            funcs = [(cols.entry[i], cols.end[i]) for i in range(len(cols.entry)) if cols.end[i] > cols.entry[i]]
            pie = flagset == "pie"
            out.append({"path": r["path"], "build_id": ids.gnu, "pie": pie, "seg": (seg.addr, seg.mem_size,
                        seg.offset), "funcs": funcs})
    return out


def make_profile(bins, locations: int, rng: random.Random) -> bytes:
    P = profile_class()
    p = P()
    strings = [b""]

    def s(text: str) -> int:
        strings.append(text.encode())
        return len(strings) - 1
    p.sample_type.add(type=s("samples"), unit=s("count"))
    shares = (5, 3, 2)
    loc_id = 0
    ids = []
    for k, b in enumerate(bins):
        vaddr, size, off = b["seg"]
        slide = PIE_BASE + k * 0x1000_0000 if b["pie"] else 0
        p.mapping.add(id=k + 1, memory_start=vaddr + slide, memory_limit=vaddr + size + slide,
                      file_offset=off, filename=s(b["path"]), build_id=s(b["build_id"]))
        n = locations * shares[k] // sum(shares)
        for _ in range(n):
            lo, hi = rng.choice(b["funcs"])
            loc_id += 1
            p.location.add(id=loc_id, mapping_id=k + 1, address=rng.randrange(lo, hi) + slide)
            ids.append(loc_id)
    for _ in range(locations // 5):
        p.sample.add(location_id=rng.sample(ids, 5), value=[rng.randrange(1, 100)])
    p.string_table.extend(strings)
    return gzip.compress(p.SerializeToString(), compresslevel=6, mtime=0)


def make_inputs(work: Path, nprof: int, locations: int, templates: int):
    bins = pick_binaries()
    rng = random.Random(20261201)
    combos = [(0, 1, 2), (0, 3, 4), (1, 2, 4), (2, 3, 0), (4, 1, 3)]
    blobs = [make_profile([bins[i] for i in combos[t % len(combos)]], locations, rng) for t in range(templates)]
    (work / "in").mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(nprof):
        p = work / "in" / f"p{i:05}.pb.gz"
        p.write_bytes(blobs[i % templates])
        paths.append(str(p))
    return paths, {b["build_id"]: b["path"] for b in bins}


# ------------------------------------------------------------ modes

def run_mode(mode: str, paths, binaries, work: Path):
    out = work / f"out-{mode}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    items = [(p, str(out / Path(p).name), binaries) for p in paths]
    cluster = client = None
    kw: dict = {"progress": False}
    if mode == "one":
        kw["jobs"] = 1
    elif mode == "local":
        kw["jobs"] = os.cpu_count()
    else:
        from distributed import Client, LocalCluster
        os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), os.environ.get("PYTHONPATH", "")])
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
        kw["scheduler"] = client
    import bench_fleet
    for b in bench_fleet._OPEN.values():      # each mode starts cold (forked workers would inherit them)
        b.close()
    bench_fleet._OPEN.clear()
    t0 = time.perf_counter()
    try:
        results = list(run(bench_fleet.symbolize_task, items, **kw))
    finally:
        if client is not None:
            client.close()
            cluster.close()
    wall = time.perf_counter() - t0
    errors = [r.error for r in results if r.error]
    split = {k: sum(r.value[k] for r in results if r.value) / max(1, len(results))
             for k in ("read", "open", "symbolize", "encode", "total")}
    digest = hashlib.sha256()
    empty = 0
    for p in sorted(out.iterdir()):
        data = p.read_bytes()
        digest.update(data)
    # Every location got lines (checked on one output per template).
    for p in sorted(out.iterdir())[:5]:
        empty += sum(1 for loc in parse_profile(p.read_bytes()).location if not len(loc.line))
    return {"mode": mode, "workers": 1 if mode == "one" else (os.cpu_count() if mode == "local" else 2),
            "profiles": len(paths), "seconds": wall, "profiles_per_s": len(paths) / wall,
            "mean_s": split, "errors": errors[:5], "outputs_sha256": digest.hexdigest(),
            "locations_without_lines": empty}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profiles", type=int, default=1000)
    ap.add_argument("--locations", type=int, default=10000)
    ap.add_argument("--templates", type=int, default=20)
    ap.add_argument("--modes", default="one,local,dask")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--json", nargs="?", const="-", default=None)
    args = ap.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="gosym-fleet-"))
    t = time.perf_counter()
    paths, binaries = make_inputs(work, args.profiles, args.locations, args.templates)
    log(f"bench_fleet: {len(paths)} profiles x {args.locations} locations in {work} "
        f"({time.perf_counter() - t:.1f}s to make)")
    res = {"provenance": provenance(), "profiles": args.profiles, "locations": args.locations,
           "templates": args.templates, "modes": []}
    for mode in args.modes.split(","):
        r = run_mode(mode, paths, binaries, work)
        res["modes"].append(r)
        m = r["mean_s"]
        log(f"{mode:>5} ({r['workers']} workers): {r['seconds']:7.1f}s  {r['profiles_per_s']:7.2f} profiles/s"
            f"  per profile: read {m['read'] * 1e3:.1f} ms, open {m['open'] * 1e3:.1f} ms, "
            f"symbolize {m['symbolize'] * 1e3:.1f} ms, encode {m['encode'] * 1e3:.1f} ms"
            f"{'  ERRORS ' + str(r['errors']) if r['errors'] else ''}")
    bad = len({r["outputs_sha256"] for r in res["modes"]}) != 1 or any(
        r["errors"] or r["locations_without_lines"] for r in res["modes"])
    res["identical_outputs"] = len({r["outputs_sha256"] for r in res["modes"]}) == 1
    if args.json:
        write_json(res, args.json)
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    if bad:
        log("bench_fleet: outputs differ between modes, or a task failed, or a location has no line")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
