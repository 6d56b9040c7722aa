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
from gosym.pprof import parse_profile, symbolize_profile
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


def fill_mappings(prof: Any, chosen: List[Tuple[Any, Any]]) -> Tuple[Optional[bytes], Dict[int, Any]]:
    """fill_mappings fills the given (mapping, Binary) pairs of a parsed
    profile and returns (the encoded profile or None when nothing was
    filled, {mapping id: MappingReport or the GosymError it raised}).

    The one place gosym.pprof is called for a set of mappings: one call per
    mapping with its id as the selector (each call encodes the profile, the
    last encoding is the answer)."""
    out: Optional[bytes] = None
    reports: Dict[int, Any] = {}
    for m, binary in chosen:
        try:
            data, summary = symbolize_profile(prof, binary, mapping=str(m.id))
        except GosymError as e:
            reports[m.id] = e
            continue
        out = data
        reports[m.id] = summary.mappings[0]
    return out, reports


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
    and `seconds` spent to read, fetch, open, symbolize and write."""
    rep: Dict[str, Any] = {"profile": profile_path, "output": out_path, "ok": False, "error": None,
                           "locations": 0, "filled": 0, "mappings": [],
                           "seconds": {"read": 0.0, "fetch": 0.0, "open": 0.0, "symbolize": 0.0,
                                       "write": 0.0}}
    secs = rep["seconds"]
    t = time.perf_counter()
    try:
        with open(profile_path, "rb") as f:
            data = f.read()
        prof = parse_profile(data)
    except OSError as e:
        rep["error"] = f"{profile_path}: {e.strerror or e}"
        return rep
    except GosymError as e:
        rep["error"] = e.with_path(profile_path).one_line()
        return rep
    secs["read"] = time.perf_counter() - t
    store = store_for(store_config)
    st = prof.string_table

    def text(i: int) -> str:
        return st[i].decode("utf-8", "replace")

    todo: Dict[int, int] = {}
    total: Dict[int, int] = {}
    for loc in prof.location:
        total[loc.mapping_id] = total.get(loc.mapping_id, 0) + 1
        if not len(loc.line):
            todo[loc.mapping_id] = todo.get(loc.mapping_id, 0) + 1
    rep["locations"] = len(prof.location)
    chosen: List[Tuple[Any, Any]] = []
    entries: Dict[int, Dict[str, Any]] = {}
    for m in prof.mapping:
        ent: Dict[str, Any] = {"id": m.id, "filename": text(m.filename), "build_id": text(m.build_id),
                               "locations": total.get(m.id, 0), "status": "nothing to do", "problems": []}
        rep["mappings"].append(ent)
        entries[m.id] = ent
        if not todo.get(m.id):
            continue
        t = time.perf_counter()
        path = None
        if ent["build_id"].strip():
            found = store.resolve(ent["build_id"])
            ent["problems"] += found.problems
            if found.path:
                path, ent["found_by"], ent["source"] = found.path, "build_id", found.source
        if path is None:
            path = store.find_by_name(ent["filename"], ent["build_id"])
            if path:
                ent["found_by"], ent["source"] = "filename", "file"
        secs["fetch"] += time.perf_counter() - t
        if path is None:
            ent["status"] = "not found"
            if not ent["problems"]:
                ent["problems"].append(f"mapping {m.id} {ent['filename'] or '?'}: no binary with build ID "
                                       f"{ent['build_id'] or '(none)'} or this file name")
            continue
        ent["binary"] = path
        t = time.perf_counter()
        try:
            b = binary_for(path)
        except GosymError as err:
            ent["status"] = "error"
            ent["problems"].append(err.with_path(path).one_line())
            continue
        finally:
            secs["open"] += time.perf_counter() - t
        chosen.append((m, b))
    t = time.perf_counter()
    out, results = fill_mappings(prof, chosen)
    secs["symbolize"] = time.perf_counter() - t
    for mid, r in results.items():
        ent = entries[mid]
        if isinstance(r, GosymError):
            ent["status"] = "error"
            ent["problems"].append(f"mapping {mid}: {r}")
            continue
        ent["status"] = "symbolized"
        for k in ("filled", "already", "unmatched", "from_symtab"):
            ent[k] = getattr(r, k)
        rep["filled"] += r.filled
    if out_path is not None:
        t = time.perf_counter()
        try:
            write_atomic(out_path, out if out is not None else data)
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


def symbolize_many(pairs: Iterable[Tuple[str, Optional[str]]], config: StoreConfig) -> Iterator[Dict[str, Any]]:
    """symbolize_many runs symbolize_one over (profile, output) pairs in
    this process, in order, yielding each report."""
    for prof, out in pairs:
        yield symbolize_one(prof, out, config)


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


__all__ = ["binary_for", "close_all", "fill_mappings", "output_paths", "store_for", "symbolize_many",
           "symbolize_one", "totals"]
