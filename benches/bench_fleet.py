#!/usr/bin/env python3
"""Many profiles end to end: gosym.fleet.symbolize_one over synthetic
profiles whose mappings are found by build ID in a store directory, on one
process, on every local core (gosym.parallel's process pool) and on a
2-worker local Dask cluster (gosym.parallel on dask.distributed).

    python benches/bench_fleet.py [--profiles N] [--locations N] [--modes one,local,dask] [--json [FILE]]

Each profile has 3 mappings chosen from 5 fixture binaries (profload non-PIE
and PIE, multipkg PIE and non-PIE, tiny; Go 1.27.3, all with GNU build IDs),
`--locations` locations spread over them at pcs inside functions, one sample
per location, no lines (as an eBPF agent sends them).  The binaries are
found through a --store directory (indexed once; the index build is timed
apart).  Reports, per mode, profiles per second and the per-profile split
that symbolize_one measures: read (gunzip + parse), fetch (finding the
binary), open (first use of a binary in the worker process), symbolize
(filling the mappings, encoding included) and write.

Checked: every mapping of every profile comes out "symbolized" (the answers
themselves: tests/differential/test_store.py), and every mode writes
byte-identical outputs; exit status 1 otherwise.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import random
import shutil
import sys
import tempfile
import time

from benchlib import ROOT, SEED, log, provenance, write_json  # noqa: E402 (benchlib puts the checkout on sys.path)

HERE = os.path.dirname(os.path.abspath(__file__))

FIXTURES = [("profload", "default"), ("profload", "pie"), ("multipkg", "pie"), ("multipkg", "default"),
            ("tiny", "default")]


def fixture_paths():
    from tests.fixtures.build import Spec, ensure_spec
    out = []
    for prog, fs in FIXTURES:
        row = ensure_spec(Spec(prog, "1.27.3", "linux", "amd64", fs))
        if row.get("error"):
            raise SystemExit(f"{prog} {fs}: {row['error'][:300]}")
        out.append(row["path"])
    return out


def make_profiles(paths, n, nloc, outdir):
    """n profiles of nloc locations over 3 of the binaries each, in outdir."""
    import gosym
    from gosym.pprof import profile_class
    from gosym.store import file_ids

    rng = random.Random(SEED)
    info = []
    for p in paths:
        with gosym.open(p) as b:
            text = next(s for s in b.container.segments if s.flags & 1)
            funcs = [(f.entry, f.end) for f in b.functions]
        info.append((p, file_ids(p).gnu, text, funcs))
    cls = profile_class()
    for i in range(n):
        prof = cls()
        st = prof.string_table
        st.extend([b"", b"samples", b"count", b"cpu", b"nanoseconds"])
        prof.sample_type.add(type=1, unit=2)
        prof.sample_type.add(type=3, unit=4)
        chosen = [info[(i + k) % len(info)] for k in range(3)]
        loc_id = 1
        for k, (path, gnu, text, funcs) in enumerate(chosen):
            base = 0x7F0000000000 + k * 0x100000000
            st.extend([os.path.basename(path).encode(), gnu.encode()])
            prof.mapping.add(id=k + 1, memory_start=base, memory_limit=base + text.mem_size,
                             file_offset=text.offset, filename=len(st) - 2, build_id=len(st) - 1)
            for _ in range(nloc // 3 + (k < nloc % 3)):
                entry, end = funcs[rng.randrange(len(funcs))]
                pc = entry + rng.randrange(max(1, end - entry))
                prof.location.add(id=loc_id, mapping_id=k + 1, address=base + pc - text.addr)
                prof.sample.add(location_id=[loc_id], value=[1, 10_000_000])
                loc_id += 1
        with open(os.path.join(outdir, f"p{i:05d}.pb.gz"), "wb") as f:
            f.write(gzip.compress(prof.SerializeToString(), 6, mtime=0))


def symbolize_task(item):
    """One profile on a worker: (profile, output, StoreConfig) -> symbolize_one's
    report.  Module-level, so workers import it by name (gosym.parallel.run
    gives each task one item)."""
    from gosym import fleet
    return fleet.symbolize_one(*item)


def run_mode(mode, names, inp, out_root, cfg):
    """Symbolizes every profile in one mode; returns the mode's results."""
    import bench_fleet
    from gosym import fleet
    from gosym.parallel import run

    out = os.path.join(out_root, mode)
    os.makedirs(out)
    fleet.close_all()                         # each mode starts cold (forked workers would inherit them)
    items = [(os.path.join(inp, n), os.path.join(out, n), cfg) for n in names]
    kw = {"progress": False}
    cluster = client = None
    if mode == "one":
        kw["jobs"] = 1
    elif mode == "local":
        kw["jobs"] = os.cpu_count()
    else:
        from distributed import Client, LocalCluster
        os.environ["PYTHONPATH"] = os.pathsep.join([HERE, str(ROOT), os.environ.get("PYTHONPATH", "")])
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
        kw["scheduler"] = client
    t = time.perf_counter()
    try:
        results = list(run(bench_fleet.symbolize_task, items, **kw))
    finally:
        if client is not None:
            client.close()
            cluster.close()
    wall = time.perf_counter() - t
    reps = [r.value for r in results if r.value is not None]
    bad = [r.error for r in results if r.error] + [r for r in reps if not r["ok"] or any(
        m["status"] != "symbolized" for m in r["mappings"])]
    split = {k: sum(r["seconds"][k] for r in reps) / max(1, len(reps)) * 1e3 for k in reps[0]["seconds"]} \
        if reps else {}
    digest = hashlib.sha256()
    for n in names:
        with open(os.path.join(out, n), "rb") as f:
            digest.update(f.read())
    workers = 1 if mode == "one" else os.cpu_count() if mode == "local" else 2
    return {"mode": mode, "workers": workers, "wall_seconds": round(wall, 3),
            "profiles_per_second": round(len(names) / wall, 2),
            "ms_per_profile": {k: round(v, 3) for k, v in split.items()},
            "problems": [str(b)[:300] for b in bad[:3]], "outputs_sha256": digest.hexdigest()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profiles", type=int, default=200)
    ap.add_argument("--locations", type=int, default=10_000)
    ap.add_argument("--modes", default="one,local,dask", help="comma-separated: one, local, dask")
    ap.add_argument("--json", nargs="?", const="-", metavar="FILE")
    args = ap.parse_args(argv)
    from gosym import fleet
    from gosym.store import Store, StoreConfig

    paths = fixture_paths()
    work = tempfile.mkdtemp(prefix="bench-fleet-")
    try:
        store_dir, inp, out = (os.path.join(work, d) for d in ("store", "in", "out"))
        for d in (store_dir, inp, out):
            os.makedirs(d)
        for i, p in enumerate(paths):
            shutil.copy(p, os.path.join(store_dir, f"bin{i}"))
        log(f"making {args.profiles} profiles of {args.locations} locations")
        make_profiles(paths, args.profiles, args.locations, inp)
        cfg = StoreConfig(dirs=(store_dir,), cache_dir=os.path.join(work, "cache"), debuginfod=())
        t = time.perf_counter()
        Store(cfg)
        index_s = time.perf_counter() - t
        names = sorted(os.listdir(inp))
        modes = [run_mode(m, names, inp, out, cfg) for m in args.modes.split(",")]
        doc = {"bench": "fleet", "provenance": provenance(), "profiles": len(names),
               "locations_per_profile": args.locations, "mappings_per_profile": 3, "binaries": len(paths),
               "index_seconds": round(index_s, 3), "modes": modes,
               "identical_outputs": len({m["outputs_sha256"] for m in modes}) == 1}
        for m in modes:
            log(f"{m['mode']:>5} ({m['workers']} workers): {m['wall_seconds']:.2f} s, "
                f"{m['profiles_per_second']:.2f} profiles/s; per profile "
                + ", ".join(f"{k} {v:.2f} ms" for k, v in m["ms_per_profile"].items())
                + (f"; PROBLEMS {m['problems']}" if m["problems"] else ""))
        log(f"index {index_s * 1e3:.0f} ms; outputs identical in every mode: {doc['identical_outputs']}")
        if args.json:
            write_json(doc, args.json)
        if not doc["identical_outputs"] or any(m["problems"] for m in modes):
            log("bench_fleet: a profile was not fully symbolized, or the modes' outputs differ")
            return 1
    finally:
        fleet.close_all()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
