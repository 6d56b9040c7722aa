"""Many profiles, many mappings: fill every mapping of each profile whose binary can be found.

`symbolize_one(profile_path, out_path, store_config)` is the unit of work: a top-level,
picklable function that reads one profile, finds the binary of each mapping that has
locations without lines — by build ID through a gosym.store.Store, else by file name among
the binaries the user named — fills those mappings (gosym.pprof) and writes the result.  It
returns a JSON-ready report and never raises for bad input or a server's failure: a
profile that cannot be read is `ok: false` with an `error`, a mapping whose binary cannot be
found or opened is one `problem` in its report.  Parallel runners (a process pool, Dask)
map it over the profiles; in each process, a store and each binary are opened once and
shared by every profile that needs them.
"""
from __future__ import annotations

import os
import time
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from gosym.errors import GosymError
from gosym.pprof import ProfileMapping, symbolize_profile
from gosym.store import Store, StoreConfig, write_atomic

# Per process: one Store per configuration and one Binary per path, shared by every profile.
_stores: Dict[StoreConfig, Store] = {}
_binaries: Dict[str, Any] = {}
_failed: Dict[str, GosymError] = {}     # files that did not open: not tried again


def store_for(config: StoreConfig) -> Store:
    """store_for returns this process's Store for a configuration (made on first use)."""
    s = _stores.get(config)
    if s is None:
        s = _stores[config] = Store(config)
    return s


def binary_for(path: str) -> Any:
    """binary_for returns this process's open gosym.Binary of a file (opened
    on first use; a file that did not open raises the same GosymError again
    without being read again)."""
    import gosym

    key = os.path.realpath(path)
    b = _binaries.get(key)
    if b is None:
        if key in _failed:
            raise _failed[key]
        try:
            b = _binaries[key] = gosym.open(path)
        except GosymError as e:
            _failed[key] = e
            raise
    return b


def close_all() -> None:
    """close_all closes the binaries and forgets the stores of this process."""
    for b in _binaries.values():
        b.close()
    _binaries.clear()
    _failed.clear()
    _stores.clear()


def symbolize_one(profile_path: str, out_path: Optional[str], store_config: StoreConfig) -> Dict[str, Any]:
    """symbolize_one symbolizes one profile and writes it to `out_path`
    (None: not written; the same path: in place, by atomic rename).

    Returns a report: `profile`, `output`, `ok`, `error` (one line, when
    the profile could not be read or written), `locations`, `filled`, per
    mapping (`mappings`) its `id`, `filename`, `build_id`, `locations`,
    `status` ("symbolized", "not found", "error", "nothing to do"), the
    `binary` used and how it was found (`found_by`: "build_id" or
    "filename"; `source`: "file", "dir", "cache", "debuginfod"), the
    counts of gosym.pprof's MappingReport, and `problems` (one line each);
    and `seconds` spent to read, fetch, open, symbolize and write.

    The profile is decoded and written once, whatever the number of
    mappings: gosym.pprof.symbolize_profile with `resolve=`, whose
    callback here finds each mapping's binary through the store."""
    rep: Dict[str, Any] = {"profile": profile_path, "output": out_path, "ok": False, "error": None,
                           "locations": 0, "filled": 0, "mappings": [],
                           "seconds": {"read": 0.0, "fetch": 0.0, "open": 0.0, "symbolize": 0.0,
                                       "write": 0.0}}
    secs = rep["seconds"]
    t = time.perf_counter()
    try:
        with open(profile_path, "rb") as f:
            data = f.read()
    except OSError as e:
        rep["error"] = f"{profile_path}: {e.strerror or e}"
        return rep
    secs["read"] = time.perf_counter() - t
    store = store_for(store_config)
    entries: Dict[int, Dict[str, Any]] = {}

    def resolve(m: ProfileMapping) -> Any:
        ent: Dict[str, Any] = {"id": m.id, "filename": m.file, "build_id": m.build_id,
                               "locations": m.locations, "status": "nothing to do", "problems": []}
        rep["mappings"].append(ent)
        entries[m.id] = ent
        if not m.pending:
            return None
        t = time.perf_counter()
        path = None
        if m.build_id.strip():
            found = store.resolve(m.build_id)
            ent["problems"] += found.problems
            if found.path:
                path, ent["found_by"], ent["source"] = found.path, "build_id", found.source
        if path is None:
            path = store.find_by_name(m.file, m.build_id)
            if path:
                ent["found_by"], ent["source"] = "filename", "file"
        secs["fetch"] += time.perf_counter() - t
        if path is None:
            ent["status"] = "not found"
            if not ent["problems"]:
                ent["problems"].append(f"mapping {m.id} {m.file or '?'}: no binary with build ID "
                                       f"{m.build_id or '(none)'} or this file name")
            return None
        ent["binary"] = path
        t = time.perf_counter()
        try:
            return binary_for(path)
        except GosymError as err:
            ent["status"] = "error"
            ent["problems"].append(err.with_path(path).one_line())
            return None
        finally:
            secs["open"] += time.perf_counter() - t

    t = time.perf_counter()
    try:
        out, summary = symbolize_profile(data, None, resolve=resolve)
    except GosymError as e:
        rep["error"] = e.with_path(profile_path).one_line()
        return rep
    secs["symbolize"] = max(0.0, time.perf_counter() - t - secs["fetch"] - secs["open"])
    rep["locations"] = summary.locations
    for mid, msg in summary.failed.items():
        entries[mid]["status"] = "error"
        entries[mid]["problems"].append(f"mapping {mid}: {msg}")
    for r in summary.mappings:
        ent = entries[r.id]
        ent["status"] = "symbolized"
        for k in ("filled", "already", "unmatched", "from_symtab"):
            ent[k] = getattr(r, k)
        rep["filled"] += r.filled
    if out_path is not None:
        t = time.perf_counter()
        try:
            write_atomic(out_path, out if summary.mappings else data)
        except OSError as err:
            rep["error"] = f"{out_path}: {err.strerror or err}"
            return rep
        secs["write"] = time.perf_counter() - t
    rep["ok"] = True
    return rep


def output_paths(inputs: Iterable[Tuple[str, str]], out_dir: Optional[str]) -> List[Tuple[str, str]]:
    """output_paths pairs each (profile, the input it came from) with the
    file it is written to: under `out_dir`, its path relative to the
    directory it was found in (a file named alone: its base name), or the
    profile itself when `out_dir` is None (in place).  GosymError when two
    profiles would be written to the same file."""
    pairs = []
    seen: Dict[str, str] = {}
    for prof, root in inputs:
        if out_dir is None:
            out = prof
        else:
            rel = os.path.relpath(prof, root) if os.path.isdir(root) else os.path.basename(prof)
            out = os.path.join(out_dir, rel)
        key = os.path.abspath(out)
        if key in seen:
            raise GosymError(f"{prof} and {seen[key]} would both be written to {out}")
        seen[key] = prof
        pairs.append((prof, out))
    return pairs


def symbolize_task(item: Tuple[str, Optional[str], StoreConfig]) -> Dict[str, Any]:
    """symbolize_task is symbolize_one for one (profile, output, config)
    item: the task a process pool or a Dask worker runs (module-level, so
    workers import it by name)."""
    return symbolize_one(*item)


def symbolize_many(pairs: Iterable[Tuple[str, Optional[str]]], config: StoreConfig, *,
                   jobs: Optional[int] = 1, scheduler: Any = None,
                   progress: Any = False) -> Iterator[Dict[str, Any]]:
    """symbolize_many runs symbolize_one over (profile, output) pairs and
    yields each report in input order: in this process (`jobs=1`, the
    default), on `jobs` local processes (None: one per CPU), or on a Dask
    cluster (`scheduler`: an address or a distributed.Client), through
    gosym.parallel.run.  Each process opens a store and each binary once.
    A task whose worker died (after gosym.parallel's retries) becomes a
    report with `ok: false` and the error, never a failed run."""
    from gosym.parallel import run

    items = [(prof, out, config) for prof, out in pairs]
    for res in run(symbolize_task, items, jobs=jobs, scheduler=scheduler, progress=progress):
        if res.error is None:
            yield res.value
        else:
            prof, out, _ = res.item
            yield {"profile": prof, "output": out, "ok": False, "error": f"{prof}: {res.error}",
                   "locations": 0, "filled": 0, "mappings": [],
                   "seconds": {"read": 0.0, "fetch": 0.0, "open": 0.0, "symbolize": 0.0, "write": 0.0}}


def totals(reports: Iterable[Dict[str, Any]]) -> Dict[str, int]:
    """totals sums reports: profiles, failed, locations, filled, and
    mappings by status."""
    t = {"profiles": 0, "failed": 0, "locations": 0, "filled": 0, "symbolized": 0, "not found": 0,
         "error": 0, "nothing to do": 0}
    for r in reports:
        t["profiles"] += 1
        t["failed"] += not r["ok"]
        t["locations"] += r["locations"]
        t["filled"] += r["filled"]
        for m in r["mappings"]:
            t[m["status"]] += 1
    return t


__all__ = ["binary_for", "close_all", "output_paths", "store_for", "symbolize_many", "symbolize_task",
           "symbolize_one", "totals"]
