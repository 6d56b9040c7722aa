"""A symbol store: find a binary by build ID in directories and on debuginfod servers.

`Store` answers `find(build_id) -> path` and `open(build_id) -> Binary` from, in order:

1. files the user named (`binaries`), indexed under every ID they carry;
2. directories (`dirs`): the `.build-id/xx/rest` layout (`rest` the executable, `rest.debug` a
   debug file; `DIR/.build-id` or the `.build-id` directory itself) and flat trees of binaries,
   read once and indexed on disk (`CACHE/index/`), re-read only for files whose size or
   modification time changed;
3. debuginfod servers (`debuginfod`, else `$DEBUGINFOD_URLS`): `GET URL/buildid/HEX/executable`,
   then `/debuginfo`.  Downloads land in `CACHE/buildid/HEX/` by atomic rename (safe with many
   processes), are checked to carry the ID asked for (a mismatch is rejected and reported), and
   the cache is kept under a size cap by evicting the least recently used files.  An ID no
   server has is remembered for `negative_ttl` seconds; timeouts and server errors are retried
   `retries` times and then reported, never raised.

Keys (one binary is found by any of them): the GNU build ID (hex; what runtime/pprof, perf and
the eBPF profilers record), the Go build ID (`actionID/.../contentID`, as `go tool buildid`
prints it, and its bytes in hex, as the Parca agent records it), the OpenTelemetry profiling ID (`profiling_id`: a hash of the file's ends and size,
for files with neither) and the Mach-O UUID (hex, dashes ignored).  Servers are asked for hex
IDs only; a Go build ID is found in directories and named files.  IDs are read by
gosym.container.notes.
"""
from __future__ import annotations

import hashlib
import json
import mmap
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

from gosym.buildid import BuildIds, read_build_ids
from gosym.container import detect, is_executable_file
from gosym.errors import GosymError
from gosym.toolchain import cache_dir

INDEX_VERSION = 2          # bumped when the keys a file is indexed under change
CHUNK = 1 << 20
STALE_PART = 3600       # seconds after which a partial download is another process's leftover
_HEX = re.compile(r"^[0-9a-f]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class StoreConfig:
    """StoreConfig is everything a Store needs, picklable so that worker
    processes build the same store: `dirs` (directories of binaries),
    `binaries` (files named by the user), `debuginfod` (server URLs; None:
    `$DEBUGINFOD_URLS`), `cache_dir` (None: `$GOSYM_CACHE/store` or
    `~/.cache/gosym/store`), `timeout` (seconds per connection or read),
    `retries` (further attempts after a timeout or server error),
    `max_cache_bytes` (downloads kept, least recently used evicted),
    `negative_ttl` (seconds an ID no server has is not asked for again) and
    `server_backoff` (seconds a server that failed after its retries is
    skipped by this process)."""

    dirs: Tuple[str, ...] = ()
    binaries: Tuple[str, ...] = ()
    debuginfod: Optional[Tuple[str, ...]] = None
    cache_dir: Optional[str] = None
    timeout: float = 30.0
    retries: int = 2
    max_cache_bytes: int = 8 << 30
    negative_ttl: float = 600.0
    server_backoff: float = 30.0

    def servers(self) -> Tuple[str, ...]:
        """servers returns the debuginfod URLs: `debuginfod`, else the
        space-separated `$DEBUGINFOD_URLS`."""
        if self.debuginfod is not None:
            return tuple(u.rstrip("/") for u in self.debuginfod if u)
        return tuple(u.rstrip("/") for u in os.environ.get("DEBUGINFOD_URLS", "").split() if u)

    def root(self) -> str:
        """root returns the cache directory (index and downloads)."""
        return self.cache_dir or os.path.join(os.fspath(cache_dir()), "store")


@dataclass
class Found:
    """Found is the answer to Store.resolve: the `path` (None when no source
    has the ID), where it came from (`source`: "file", "dir", "cache",
    "debuginfod" or ""), and one line per problem met on the way
    (`problems`: server errors, timeouts, rejected downloads)."""

    path: Optional[str]
    source: str = ""
    problems: List[str] = field(default_factory=list)


def normalize_id(build_id: str) -> str:
    """normalize_id returns the form IDs are indexed under: hex IDs (GNU,
    hashes, Mach-O UUIDs with or without dashes) in lower case, a Go build
    ID as it is."""
    t = build_id.strip()
    low = t.lower()
    if _UUID.match(low):
        return low.replace("-", "")
    if _HEX.match(low):
        return low
    return t


def profiling_id(path: str) -> Optional[str]:
    """profiling_id returns the OpenTelemetry profiles' file ID
    (`process.executable.build_id.profiling`): the first 16 bytes, in hex,
    of the SHA-256 of the file's first and last 4096 bytes and its length
    as a big-endian 64-bit number.  None when the file cannot be read."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(4096)
            f.seek(max(0, size - 4096))
            tail = f.read(4096)
    except OSError:
        return None
    return hashlib.sha256(head + tail + size.to_bytes(8, "big")).digest()[:16].hex()


def id_keys(ids: BuildIds, profiling: Optional[str] = None) -> List[str]:
    """id_keys lists every key a file with these IDs (and this
    profiling_id) is found by."""
    go_hex = ids.go.encode().hex() if ids.go else None     # Parca's form of the Go build ID
    keys = [k for k in (ids.gnu and ids.gnu.lower(), ids.go, go_hex, ids.uuid and ids.uuid.lower(), profiling)
            if k]
    return list(dict.fromkeys(keys))


def file_ids(path: str) -> Optional[BuildIds]:
    """file_ids reads the build IDs of an ELF, Mach-O or PE file, or None
    when it is not one or cannot be read (headers and notes only)."""
    if not is_executable_file(path):
        return None
    try:
        with open(path, "rb") as f:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        # The map is closed when the last view of it goes (the container may keep some).
        return read_build_ids(detect(mm))
    except (OSError, ValueError, GosymError, IndexError, OverflowError):
        return None


def write_atomic(path: str, data: bytes) -> None:
    """write_atomic writes a file under a temporary name in its directory
    (made if missing) and renames it into place: readers in other
    processes see the old file or the new one, never a part."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _entry_ok(e) -> bool:
    """An index entry as DirIndex writes it: [size, mtime_ns, [key, ...]]."""
    return (isinstance(e, list) and len(e) == 3 and isinstance(e[0], int) and isinstance(e[1], int)
            and isinstance(e[2], list) and all(isinstance(k, str) for k in e[2]))


class DirIndex:
    """DirIndex maps build IDs to the files of one directory tree, cached in
    `index_file` and refreshed from the files' sizes and modification
    times (only new or changed files are read again)."""

    def __init__(self, root: str, index_file: str):
        self.root = os.path.abspath(root)   #: the directory, absolute
        self.index_file = index_file        #: where the index is cached
        self.keys: Dict[str, str] = {}      #: build ID key -> path
        self.read = 0          #: files whose IDs were read by this refresh (others came from the cache)
        self.refresh()

    def refresh(self) -> None:
        """refresh walks the tree again and reads the IDs of changed files."""
        old: Dict[str, list] = {}
        try:
            with open(self.index_file) as f:
                saved = json.load(f)
            if saved.get("version") == INDEX_VERSION and saved.get("root") == self.root:
                old = {rel: e for rel, e in saved.get("files", {}).items() if _entry_ok(e)}
        except (OSError, ValueError, AttributeError, TypeError):
            old = {}          # a damaged index is rebuilt, not trusted
        files: Dict[str, list] = {}
        self.read = 0
        for rel, st, bid_name in self._walk():
            prev = old.get(rel)
            if prev and prev[0] == st.st_size and prev[1] == st.st_mtime_ns:
                files[rel] = prev
                continue
            if bid_name is not None:
                keys = [bid_name]
            else:
                full = os.path.join(self.root, rel)
                ids = file_ids(full)
                self.read += 1
                keys = id_keys(ids, profiling_id(full)) if ids else []
            files[rel] = [st.st_size, st.st_mtime_ns, keys]
        if files != old:
            try:
                write_atomic(self.index_file, json.dumps(
                    {"version": INDEX_VERSION, "root": self.root, "files": files}).encode())
            except OSError:
                pass
        self.keys = {}
        # Executables before debug files (`rest` before `rest.debug`) and files
        # in sorted order, so the same tree always gives the same answer.
        for rel in sorted(files, key=lambda r: (r.endswith(".debug"), r)):
            for k in files[rel][2]:
                self.keys.setdefault(k, os.path.join(self.root, rel))

    def _walk(self) -> Iterator[Tuple[str, os.stat_result, Optional[str]]]:
        for top, dirs, names in os.walk(self.root):
            dirs.sort()
            in_bid = os.path.basename(os.path.dirname(top)) == ".build-id" or \
                (top == self.root and os.path.basename(top) == ".build-id")
            for name in sorted(names):
                path = os.path.join(top, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                if not os.path.isfile(path) or st.st_size < 64:
                    continue
                rel = os.path.relpath(path, self.root)
                bid_name = None
                parent = os.path.basename(top)
                if in_bid and len(parent) == 2 and top != self.root:
                    stem = name[:-6] if name.endswith(".debug") else name
                    cand = (parent + stem).lower()
                    if _HEX.match(cand):
                        bid_name = cand
                yield rel, st, bid_name


class Store:
    """Store finds binaries by build ID: the files and directories of its
    StoreConfig first, then its debuginfod servers (see the module's
    docstring).  `Store(config)` or `Store(dirs=..., debuginfod=[...], ...)`
    with StoreConfig's fields.  One Store per process; its methods take no
    locks and the on-disk cache is shared safely between processes."""

    def __init__(self, config: Optional[StoreConfig] = None, **kw):
        if config is None:
            kw = {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in kw.items()}
            config = StoreConfig(**kw)
        elif kw:
            raise TypeError("Store takes a StoreConfig or keyword arguments, not both")
        self.config = config                #: the StoreConfig
        self.root = config.root()           #: the cache directory
        self.named: Dict[str, str] = {}     #: build ID key -> a named file
        self._named_keys: List[Tuple[str, Optional[BuildIds], List[str]]] = []
        for b in config.binaries:
            ids = file_ids(b)
            keys = id_keys(ids, profiling_id(b)) if ids else []
            self._named_keys.append((b, ids, keys))
            for k in keys:
                self.named.setdefault(k, os.path.abspath(b))
        self.indexes = [DirIndex(d, self._index_path(d)) for d in config.dirs]  #: one DirIndex per directory
        self._down: Dict[str, Tuple[float, str]] = {}   # server -> (skipped until, why)

    def _index_path(self, d: str) -> str:
        h = hashlib.sha256(os.path.abspath(d).encode()).hexdigest()[:24]
        return os.path.join(self.root, "index", h + ".json")

    def find_by_name(self, filename: str, build_id: str = "") -> Optional[str]:
        """find_by_name returns the first named file (`binaries`) whose base
        name is that of `filename` (a path written on any system), unless
        `build_id` is an ID of a kind that file carries and not its own
        (another build under the same name); None otherwise."""
        base = _base(filename)
        if not base:
            return None
        bid = normalize_id(build_id)
        for path, ids, keys in self._named_keys:
            if _base(path) != base:
                continue
            if bid and ids:
                has_kind = bool(ids.go) if "/" in bid else bool(ids.gnu or ids.uuid)
                if has_kind and bid not in keys:
                    continue
            return path
        return None

    def find(self, build_id: str) -> Optional[str]:
        """find returns the path of the file with this build ID (named
        files, directories, the download cache, then the servers), or None."""
        return self.resolve(build_id).path

    def open(self, build_id: str):
        """open returns the gosym.Binary with this build ID; GosymError when
        no source has it (the message lists the problems met)."""
        import gosym

        found = self.resolve(build_id)
        if found.path is None:
            why = "; ".join(found.problems) or "in no directory and on no server"
            raise GosymError(f"build ID {build_id}: not found ({why})")
        return gosym.open(found.path)

    def resolve(self, build_id: str) -> Found:
        """resolve finds a build ID and says where and what went wrong on
        the way (a Found); it never raises for a server's failure."""
        key = normalize_id(build_id)
        if not key:
            return Found(None)
        path = self.named.get(key)
        if path is not None:
            return Found(path, "file")
        for ix in self.indexes:
            path = ix.keys.get(key)
            if path is not None and os.path.isfile(path):
                return Found(path, "dir")
        # Servers know hex IDs only (a Go build ID is found in directories only).
        hexkey = key
        if not _HEX.match(hexkey) or not (8 <= len(hexkey) <= 128):
            return Found(None)
        cached = self._cached(hexkey)
        if cached is not None:
            return Found(cached, "cache")
        cfg = self.config
        servers = cfg.servers()
        if not servers:
            return Found(None)
        if self._negative(hexkey):
            return Found(None, "", [f"build ID {hexkey}: no server had it (remembered for "
                                    f"{self.config.negative_ttl:g} s)"])
        problems: List[str] = []
        all_missing = True
        now = time.monotonic()
        for url in servers:
            down = self._down.get(url)
            if down is not None and now < down[0]:
                problems.append(f"{url}: skipped ({down[1]}, less than {cfg.server_backoff:g} s ago)")
                all_missing = False
                continue
            for kind in ("executable", "debuginfo"):
                status, path = self._download(url, hexkey, kind, problems)
                if path is not None:
                    return Found(path, "debuginfod", problems)
                if status != 404:
                    all_missing = False
                    if status < 0:       # the server failed: spare the next IDs its retries
                        self._down[url] = (time.monotonic() + cfg.server_backoff, problems[-1].split(": ", 1)[-1])
                    break
        if all_missing:
            self._remember_missing(hexkey)
        return Found(None, "", problems)

    # --- the download cache ------------------------------------------------

    def _entry_dir(self, hexkey: str) -> str:
        return os.path.join(self.root, "buildid", hexkey)

    def _cached(self, hexkey: str) -> Optional[str]:
        for kind in ("executable", "debuginfo"):
            p = os.path.join(self._entry_dir(hexkey), kind)
            if os.path.isfile(p):
                try:
                    os.utime(p)          # the LRU clock: last use
                except OSError:
                    pass
                return p
        return None

    def _negative_path(self, hexkey: str) -> str:
        return os.path.join(self.root, "negative", hexkey)

    def _negative(self, hexkey: str) -> bool:
        try:
            age = time.time() - os.stat(self._negative_path(hexkey)).st_mtime
        except OSError:
            return False
        return 0 <= age < self.config.negative_ttl

    def _remember_missing(self, hexkey: str) -> None:
        try:
            write_atomic(self._negative_path(hexkey), b"")
        except OSError:
            pass

    def _download(self, url: str, hexkey: str, kind: str, problems: List[str]) -> Tuple[int, Optional[str]]:
        """One file from one server, with retries: (HTTP status, path); the
        status is 0 for a rejected file and -1 when the server failed."""
        import urllib.error     # here, not at import: http.client costs every `gosym pprof` ~0.1 s

        target = f"{url}/buildid/{hexkey}/{kind}"
        cfg = self.config
        for attempt in range(cfg.retries + 1):
            if attempt:
                time.sleep(min(0.2 * (2 ** (attempt - 1)), 2.0))
            try:
                status, path = self._fetch(target, hexkey, kind)
            except urllib.error.HTTPError as e:
                if e.code == 404:
                    return 404, None
                err = f"HTTP {e.code}"
                retry = e.code >= 500 or e.code == 429
            except (urllib.error.URLError, OSError, ValueError) as e:
                reason = getattr(e, "reason", e)
                err = "timed out" if "timed out" in str(reason) or isinstance(reason, TimeoutError) \
                    else str(reason)
                retry = True
            except _Rejected as e:
                problems.append(f"{target}: {e}")
                return 0, None
            else:
                return status, path
            if not retry or attempt == cfg.retries:
                problems.append(f"{target}: {err} (after {attempt + 1} "
                                f"attempt{'s' if attempt else ''})")
                return -1, None
        return -1, None

    def _fetch(self, target: str, hexkey: str, kind: str) -> Tuple[int, str]:
        import urllib.request

        cfg = self.config
        d = self._entry_dir(hexkey)
        req = urllib.request.Request(target, headers={"User-Agent": "gosym-store"})
        deadline = time.monotonic() + max(cfg.timeout * 10, 60.0)
        with urllib.request.urlopen(req, timeout=cfg.timeout) as r:
            want = r.headers.get("Content-Length")
            os.makedirs(d, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=d, prefix=".part-")
            try:
                got = 0
                with os.fdopen(fd, "wb") as f:
                    while True:
                        if time.monotonic() > deadline:
                            raise _Rejected("download too slow (gave up)")
                        chunk = r.read(CHUNK)
                        if not chunk:
                            break
                        got += len(chunk)
                        if got > cfg.max_cache_bytes:
                            raise _Rejected(f"file larger than the cache ({cfg.max_cache_bytes} bytes)")
                        f.write(chunk)
                if want is not None and want.isdigit() and int(want) != got:
                    raise _Rejected(f"truncated: {got} of {want} bytes")
                ids = file_ids(tmp)
                if ids is None:
                    raise _Rejected("the server's file is not an ELF, Mach-O or PE file")
                if hexkey not in id_keys(ids, profiling_id(tmp)):
                    raise _Rejected("rejected: the server's file has build ID "
                                    f"{ids.gnu or ids.uuid or ids.go or 'none'}, not {hexkey}")
                final = os.path.join(d, kind)
                os.replace(tmp, final)
            except BaseException:
                _unlink(tmp)
                raise
        self._evict(keep=final)
        return r.status, final

    def _evict(self, keep: str) -> None:
        """Least recently used downloads go until the cache fits its cap."""
        top = os.path.join(self.root, "buildid")
        files = []
        total = 0
        for dirpath, _dirs, names in os.walk(top):
            for n in names:
                p = os.path.join(dirpath, n)
                try:
                    st = os.stat(p)
                except OSError:
                    continue
                if n.startswith(".part-") and time.time() - st.st_mtime > STALE_PART:
                    _unlink(p)     # left by a process that died mid-download
                    continue
                total += st.st_size
                if not n.startswith(".") and p != keep:
                    files.append((st.st_mtime, p, st.st_size))
        files.sort()
        for _mtime, p, size in files:
            if total <= self.config.max_cache_bytes:
                break
            _unlink(p)          # an open (mapped) file stays readable until closed
            total -= size
            try:
                os.rmdir(os.path.dirname(p))
            except OSError:
                pass


def _base(name: str) -> str:
    """The last component of a file name written on any system (/ or \\)."""
    return name.replace("\\", "/").rsplit("/", 1)[-1]


class _Rejected(Exception):
    """A downloaded file that is not the one asked for."""


__all__ = ["DirIndex", "Found", "Store", "StoreConfig", "file_ids", "profiling_id",
           "id_keys", "is_executable_file", "normalize_id", "write_atomic"]
