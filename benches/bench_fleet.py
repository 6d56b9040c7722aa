#!/usr/bin/env python3
"""Many profiles end to end in one process: gosym.fleet.symbolize_one over
synthetic profiles whose mappings are found by build ID in a store directory.

    python benches/bench_fleet.py [--profiles N] [--locations N] [--json [FILE]]

Each profile has 3 mappings chosen from 5 fixture binaries (profload non-PIE
and PIE, multipkg PIE and non-PIE, tiny; Go 1.27.3, all with GNU build IDs),
`--locations` locations spread over them at pcs inside functions, one sample
per location, no lines (as an eBPF agent sends them).  The binaries are
found through a --store directory (indexed once; the index build is timed
apart).  Reports profiles per second and the per-profile split that
symbolize_one measures: read (gunzip + parse), fetch (finding the binary),
open (first use of a binary in the process), symbolize (filling the mappings,
encoding included) and write.  The parallel runs (process pool, Dask) use
the same function; see docs/fleet.md.
"""
from __future__ import annotations

import argparse
import gzip
import os
import random
import shutil
import sys
import tempfile
import time

from benchlib import SEED, log, provenance, write_json  # noqa: E402 (benchlib puts the checkout on sys.path)

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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profiles", type=int, default=200)
    ap.add_argument("--locations", type=int, default=10_000)
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
        t = time.perf_counter()
        reps = list(fleet.symbolize_many([(os.path.join(inp, n), os.path.join(out, n)) for n in names], cfg))
        wall = time.perf_counter() - t
        bad = [r for r in reps if not r["ok"] or any(m["status"] != "symbolized" for m in r["mappings"])]
        if bad:
            raise SystemExit(f"not fully symbolized: {bad[0]}")
        split = {k: sum(r["seconds"][k] for r in reps) / len(reps) * 1e3 for k in reps[0]["seconds"]}
        doc = {"bench": "fleet", "provenance": provenance(), "profiles": len(reps),
               "locations_per_profile": args.locations, "mappings_per_profile": 3, "binaries": len(paths),
               "index_seconds": round(index_s, 3), "wall_seconds": round(wall, 3),
               "profiles_per_second": round(len(reps) / wall, 2),
               "ms_per_profile": {k: round(v, 3) for k, v in split.items()}}
        log(f"{len(reps)} profiles in {wall:.2f} s: {len(reps) / wall:.1f} profiles/s; per profile "
            + ", ".join(f"{k} {v:.2f} ms" for k, v in split.items()) + f"; index {index_s * 1e3:.0f} ms")
        if args.json:
            write_json(doc, args.json)
    finally:
        fleet.close_all()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
