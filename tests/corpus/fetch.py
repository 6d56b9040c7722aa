#!/usr/bin/env python3
"""Fetch the real-world corpus of published Go binaries listed in ``public.tsv``.

Each row of ``public.tsv`` names a Go binary that its authors published inside a
package on a public registry (a PyPI wheel, an npm package or a Debian 12
package), together with its sha256.  This module downloads each package with
the registry's ordinary client (``pip``, ``npm``, ``apt-get``), pulls the
binary out of it, checks its sha256 and keeps it in a cache::

    $GOSYM_CACHE/corpus/<sha256>/<name>      (default ~/.cache/gosym)

A second run finds everything in the cache and does no network work.

Debian packages of any architecture are fetched with a private apt state
(package lists under ``<cache>/apt/<arch>``, the system's sources): nothing on
the system is changed, no ``dpkg --add-architecture``, and root is not needed.

Library use::

    from tests.corpus.fetch import ensure_corpus, load_rows, CorpusError
    for row in ensure_corpus():          # list of dicts, one per TSV row
        row["path"]  # absolute path of the cached binary, or
        row["skip"]  # one-line reason why the row could not be fetched

Script use::

    python tests/corpus/fetch.py [NAME ...] [--json] [--list] [--quiet]

Sources are pluggable: ``SOURCES`` maps a row's ``source`` column to a
function ``download(row, tmpdir) -> pathlib.Path`` that returns the path of
the downloaded package file (zip, tar, .deb, or the binary itself when
``member`` is ``-``) and raises ``Unavailable(reason)`` when the package can no
longer be had; the row it gets carries an extra ``_cache`` key (the cache
root).  The ``file`` source takes ``package`` as a local path, which is
what the tests use to exercise the fetcher without the network.  The
sources and the archive extraction live in ``tests/corpus/sources.py``;
this module keeps the rows, the cache and the fetch loop.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil  # noqa: F401  (tests patch fetch.shutil.which)
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Iterable, List, Optional

try:  # a module of the tests package, or this file run as a script
    from tests.corpus.sources import (  # noqa: F401  (re-exported names)
        SOURCES, CorpusError, Unavailable, _CHUNK, _LOG, _Missing, _extract_to, _norm, apt_dir,
        cache_root, download_deb, download_file, download_npm, download_pypi)
except ImportError:  # pragma: no cover - `python tests/corpus/fetch.py`
    from sources import (  # type: ignore[no-redef]  # noqa: F401
        SOURCES, CorpusError, Unavailable, _CHUNK, _LOG, _Missing, _extract_to, _norm, apt_dir,
        cache_root, download_deb, download_file, download_npm, download_pypi)


__all__ = [
    "CorpusError",
    "Unavailable",
    "TSV_PATH",
    "SOURCES",
    "load_rows",
    "cache_root",
    "cached_path",
    "ensure_corpus",
    "not_fetched",
    "sha256_file",
    "main",
]

TSV_PATH = Path(__file__).resolve().with_name("public.tsv")

# Columns every row must have (the facts columns after sha256 are kept as-is).
REQUIRED_COLUMNS = (
    "name", "source", "package", "version", "platform", "member", "inner", "sha256",
)

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


# --------------------------------------------------------------------------

def load_rows(path: os.PathLike | str | None = None) -> List[Dict[str, str]]:
    """Parse the corpus TSV: header line ``# col<TAB>col...``, one row a line.

    Values are returned as the raw strings of the file (``-`` where empty).
    """
    path = Path(path) if path is not None else TSV_PATH
    header: Optional[List[str]] = None
    rows: List[Dict[str, str]] = []
    seen = set()
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if line.startswith("#"):
                if header is None and line.startswith("# "):
                    header = line[2:].split("\t")
                    missing = [c for c in REQUIRED_COLUMNS if c not in header]
                    if missing:
                        raise CorpusError(f"{path}:{lineno}: header lacks columns {missing}")
                continue
            if header is None:
                raise CorpusError(f"{path}:{lineno}: row before the '# ' header line")
            fields = line.split("\t")
            if len(fields) != len(header):
                raise CorpusError(
                    f"{path}:{lineno}: {len(fields)} fields, header has {len(header)}")
            row = dict(zip(header, fields))
            if not _SHA_RE.match(row["sha256"]):
                raise CorpusError(f"{path}:{lineno}: bad sha256 {row['sha256']!r}")
            if not row["name"] or "/" in row["name"] or row["name"].startswith("."):
                raise CorpusError(f"{path}:{lineno}: bad name {row['name']!r}")
            if row["name"] in seen:
                raise CorpusError(f"{path}:{lineno}: duplicate name {row['name']!r}")
            seen.add(row["name"])
            rows.append(row)
    if header is None:
        raise CorpusError(f"{path}: no '# ' header line")
    return rows


# --------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------

def cached_path(row: Dict[str, str], cache: os.PathLike | str | None = None) -> Path:
    """Where the binary of *row* lives in the cache (whether or not it is there)."""
    return cache_root(cache) / "corpus" / row["sha256"] / row["name"]


def sha256_file(path: os.PathLike | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _marker_path(final: Path) -> Path:
    return final.with_name("." + final.name + ".ok")


def _marker_data(final: Path, sha: str) -> dict:
    st = final.stat()
    return {"sha256": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_marker(final: Path, sha: str) -> None:
    marker = _marker_path(final)
    tmp = marker.with_name(marker.name + f".{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(json.dumps(_marker_data(final, sha)))
    os.replace(tmp, marker)


def _is_cached(row: Dict[str, str], cache, rehash: bool) -> bool:
    """True if the cached file is there and good (marker trusted unless *rehash*)."""
    final = cached_path(row, cache)
    if not final.is_file():
        return False
    if not rehash:
        try:
            if json.loads(_marker_path(final).read_text()) == _marker_data(final, row["sha256"]):
                return True
        except (OSError, ValueError):
            pass
    if sha256_file(final) == row["sha256"]:
        _write_marker(final, row["sha256"])
        return True
    # Corrupt cache entry: drop it so it is fetched again.
    for p in (final, _marker_path(final)):
        try:
            p.unlink()
        except OSError:
            pass
    return False




def _extract_row(row: Dict[str, str], pkg: Path, workdir: Path, cache) -> int:
    """Extract the row's binary from *pkg* into the cache, verified and atomically."""
    final = cached_path(row, cache)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmpname = tempfile.mkstemp(prefix="." + row["name"] + ".", suffix=".part",
                                   dir=final.parent)
    tmp = Path(tmpname)
    try:
        with os.fdopen(fd, "wb") as dst:
            try:
                if row["inner"] not in ("-", ""):
                    outer = workdir / ("outer-" + os.path.basename(_norm(row["member"])))
                    with open(outer, "wb") as o:
                        _extract_to(pkg, row["member"], o, workdir)
                    try:
                        sha, size = _extract_to(outer, row["inner"], dst, workdir)
                    finally:
                        outer.unlink()
                    where = f"{row['member']}!{row['inner']}"
                else:
                    sha, size = _extract_to(pkg, row["member"], dst, workdir)
                    where = row["member"]
            except _Missing as e:
                hint = f" (similar: {', '.join(e.candidates)})" if e.candidates else ""
                raise CorpusError(f"{row['name']}: member {e.member!r} not found in "
                                  f"{pkg.name}{hint}") from None
            except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as e:
                raise CorpusError(f"{row['name']}: cannot read {pkg.name}: {e}") from None
        if sha != row["sha256"]:
            raise CorpusError(
                f"{row['name']}: sha256 mismatch for {where} in {pkg.name}: "
                f"expected {row['sha256']}, got {sha}")
        os.chmod(tmp, 0o755)
        os.replace(tmp, final)
        _write_marker(final, sha)
        return size
    finally:
        if tmp.exists():
            tmp.unlink()


# --------------------------------------------------------------------------
# ensure_corpus
# --------------------------------------------------------------------------

def _group_key(row: Dict[str, str]) -> tuple:
    return (row["source"], row["package"], row["version"], row["platform"])


def _fmt_mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def ensure_corpus(names: Optional[Iterable[str]] = None, progress: bool = True, *,
                  rows: Optional[List[Dict[str, str]]] = None,
                  cache: os.PathLike | str | None = None,
                  jobs: int = 3, rehash: bool = False) -> List[Dict[str, str]]:
    """Make sure the corpus binaries are in the cache; return one dict per row.

    Each dict has the row's columns plus either ``path`` (absolute path of the
    verified cached binary) or ``skip`` (one-line reason the row could not be
    fetched: package or version gone, registry refused, tool missing).

    *names* selects rows by name (unknown names raise ``CorpusError``); *rows*
    replaces the TSV (for tests); *cache* overrides ``$GOSYM_CACHE``; *jobs*
    is the number of packages downloaded at once; *rehash* re-hashes cached
    files instead of trusting their sidecar marker.

    A checksum mismatch or a missing member raises ``CorpusError`` after the
    other rows are done, naming the row (and the expected and actual sha256).
    """
    all_rows = load_rows() if rows is None else [dict(r) for r in rows]
    for r in all_rows:
        missing = [c for c in REQUIRED_COLUMNS if c not in r]
        if missing:
            raise CorpusError(f"row {r.get('name')!r} lacks columns {missing}")
        if not _SHA_RE.match(r["sha256"]):
            raise CorpusError(f"{r['name']}: bad sha256 {r['sha256']!r}")
    if names is not None:
        by_name = {r["name"]: r for r in all_rows}
        wanted = list(dict.fromkeys(names))
        unknown = [n for n in wanted if n not in by_name]
        if unknown:
            raise CorpusError(f"unknown corpus rows: {', '.join(unknown)}")
        selected = [by_name[n] for n in wanted]
    else:
        selected = all_rows

    total = len(selected)
    out_lock = threading.Lock()
    done = [0]

    def log(msg: str) -> None:
        if progress:
            with out_lock:
                print(msg, file=sys.stderr, flush=True)

    def sys_log(msg: str) -> None:
        with out_lock:
            print(msg, file=sys.stderr, flush=True)

    results: Dict[int, Dict[str, str]] = {}
    errors: List[str] = []

    def finish(i: int, row: Dict[str, str], status: str, **extra) -> None:
        res = dict(row)
        res.update(extra)
        with out_lock:
            results[i] = res
            done[0] += 1
            k = done[0]
        log(f"[{k}/{total}] {row['name']} ... {status}")

    # Cached rows first: no network.
    groups: Dict[tuple, List[tuple]] = {}
    for i, row in enumerate(selected):
        if _is_cached(row, cache, rehash):
            finish(i, row, "cached", path=str(cached_path(row, cache)))
        else:
            groups.setdefault(_group_key(row), []).append((i, row))

    def work(key: tuple, members: List[tuple]) -> None:
        source = key[0]
        _LOG[threading.get_ident()] = sys_log
        t0 = time.monotonic()
        tmproot = cache_root(cache) / "tmp"
        tmproot.mkdir(parents=True, exist_ok=True)
        try:
            with tempfile.TemporaryDirectory(prefix="fetch-", dir=tmproot) as td:
                tmpdir = Path(td)
                download = SOURCES.get(source)
                if download is None:
                    for i, row in members:
                        finish(i, row, f"skip (unknown source {source!r})",
                               skip=f"unknown source {source!r}")
                    return
                first = members[0][1]
                desc = f"{source} {first['package']} {first['version']}"
                if first["platform"] not in ("-", ""):
                    desc += f" ({first['platform']})"
                log(f"  downloading {desc} for {len(members)} row(s) ...")
                try:
                    pkg = download(dict(first, _cache=str(cache_root(cache))), tmpdir)
                except Unavailable as e:
                    for i, row in members:
                        finish(i, row, f"skip: {e}", skip=str(e))
                    return
                pkg_size = pkg.stat().st_size
                work_dir = tmpdir / "work"
                work_dir.mkdir()
                for i, row in members:
                    try:
                        size = _extract_row(row, pkg, work_dir, cache)
                    except CorpusError as e:
                        with out_lock:
                            errors.append(str(e))
                        finish(i, row, f"ERROR: {e}", error=str(e))
                        continue
                    finish(i, row, f"fetched {_fmt_mb(size)} in {time.monotonic() - t0:.1f}s"
                               f" (package {_fmt_mb(pkg_size)})",
                           path=str(cached_path(row, cache)))
        finally:
            _LOG.pop(threading.get_ident(), None)

    if groups:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
            futs = [ex.submit(work, k, v) for k, v in groups.items()]
            for f in futs:
                f.result()

    out = [results[i] for i in range(total)]
    not_fetched = [r for r in out if "skip" in r]
    if not_fetched:
        # Said even without progress: a binary that could not be had is not a quiet loss.
        sys_log(f"corpus: {len(not_fetched)} of {total} rows not fetched: " +
                "; ".join(f"{r['name']} ({r['skip']})" for r in not_fetched))
    if errors:
        raise CorpusError(errors[0] if len(errors) == 1 else
                          f"{len(errors)} corpus rows failed:\n  " + "\n  ".join(errors))
    return out


def not_fetched(rows: List[Dict[str, str]]) -> Dict[str, List[str]]:
    """Group the rows ensure_corpus could not fetch by reason: {reason: [names]}."""
    out: Dict[str, List[str]] = {}
    for r in rows:
        if "skip" in r:
            out.setdefault(r["skip"], []).append(r["name"])
    return out


# --------------------------------------------------------------------------
# Script
# --------------------------------------------------------------------------

def main(argv: Optional[List[str]] = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Fetch the gosym real-world corpus into the cache.")
    ap.add_argument("names", nargs="*", metavar="NAME", help="rows to fetch (default: all)")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    ap.add_argument("--list", action="store_true",
                    help="list rows and whether they are cached; fetch nothing")
    ap.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    ap.add_argument("--cache", help="cache directory (default $GOSYM_CACHE or ~/.cache/gosym)")
    ap.add_argument("--jobs", "-j", type=int, default=3, help="parallel downloads (default 3)")
    ap.add_argument("--rehash", action="store_true", help="re-hash cached files")
    ap.add_argument("--path", action="store_true",
                    help="print only the paths of the fetched binaries, one per line")
    args = ap.parse_args(argv)

    try:
        if args.list:
            rows = load_rows()
            if args.names:
                known = {r["name"] for r in rows}
                unknown = [n for n in args.names if n not in known]
                if unknown:
                    raise CorpusError(f"unknown corpus rows: {', '.join(unknown)}")
                rows = [r for r in rows if r["name"] in set(args.names)]
            out = []
            for r in rows:
                r = dict(r)
                p = cached_path(r, args.cache)
                if _is_cached(r, args.cache, args.rehash):
                    r["path"] = str(p)
                out.append(r)
        else:
            out = ensure_corpus(args.names or None, progress=not args.quiet,
                                cache=args.cache, jobs=args.jobs, rehash=args.rehash)
    except CorpusError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    if args.path:
        for r in out:
            if "path" in r:
                print(r["path"])
            else:
                print(f"error: {r['name']}: {r.get('skip') or r.get('error') or 'not fetched'}",
                      file=sys.stderr)
        return 0 if all("path" in r for r in out) else 1
    if args.json:
        json.dump(out, sys.stdout, indent=1)
        print()
    else:
        for r in out:
            if "path" in r:
                status = "cached" if args.list else "ok"
                print(f"{r['name']}\t{status}\t{r['path']}")
            elif "skip" in r:
                print(f"{r['name']}\tskip\t{r['skip']}")
            else:
                print(f"{r['name']}\t{'missing' if args.list else 'error'}\t"
                      f"{r.get('error', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
