"""Registry packages for the corpus fetcher (tests/corpus/fetch.py): how a
row's package is downloaded with the registry's own client (pip, npm, a
private apt state for Debian packages, or a local file) and how the binary
is pulled out of it (zip, tar, .deb, nested archives) while hashing.

What does not live here: the TSV rows, the cache layout and its markers, and
the fetch loop (fetch.py)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional

_CHUNK = 1 << 20
_SUBPROCESS_TIMEOUT = 1800  # seconds, per download


class CorpusError(Exception):
    """A row is wrong: checksum mismatch, member missing, malformed TSV..."""


class Unavailable(Exception):
    """The package of a row can no longer be fetched (the row is skipped)."""


# --------------------------------------------------------------------------
# TSV


def cache_root(cache: os.PathLike | str | None = None) -> Path:
    """The cache directory: *cache*, else ``$GOSYM_CACHE``, else ``~/.cache/gosym``."""
    if cache is None:
        cache = os.environ.get("GOSYM_CACHE") or os.path.join(
            os.path.expanduser("~"), ".cache", "gosym")
    return Path(cache).expanduser().resolve()



# --------------------------------------------------------------------------
# Sources: download(row, tmpdir) -> path of the package file
# --------------------------------------------------------------------------

def _run(cmd: List[str], cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=_SUBPROCESS_TIMEOUT)
    except FileNotFoundError as e:
        raise Unavailable(f"{cmd[0]}: not installed ({e.strerror})") from None
    except subprocess.TimeoutExpired:
        raise Unavailable(f"{cmd[0]}: timed out after {_SUBPROCESS_TIMEOUT}s") from None


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _last_error(output: str, prefixes: Iterable[str], prefer: Iterable[str]) -> str:
    lines = [l.strip() for l in output.splitlines() if l.strip()]
    errs = [l for l in lines if any(l.startswith(p) for p in prefixes)]
    for key in prefer:
        for l in errs:
            if key in l:
                return l
    if errs:
        return errs[-1]
    return lines[-1] if lines else "(no output)"


def _strip_prefix(line: str, prefixes: Iterable[str]) -> str:
    for p in prefixes:
        if line.startswith(p):
            return line[len(p):].strip()
    return line


def _only_file(tmpdir: Path, pattern: str, what: str) -> Path:
    found = sorted(tmpdir.glob(pattern))
    if len(found) != 1:
        raise Unavailable(f"{what}: expected one {pattern} file, got {[p.name for p in found]}")
    return found[0]


def download_pypi(row: Dict[str, str], tmpdir: Path) -> Path:
    spec = f"{row['package']}=={row['version']}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir",
           "--disable-pip-version-check", "--only-binary=:all:",
           "--python-version", "3.11", "-d", str(tmpdir)]
    if row["platform"] not in ("any", "-", ""):
        cmd += ["--platform", row["platform"]]
    cmd.append(spec)
    cp = _run(cmd)
    if cp.returncode != 0:
        line = _last_error(cp.stderr + "\n" + cp.stdout, ["ERROR:"],
                           ["No matching distribution", "Could not find a version"])
        raise Unavailable("pip: " + _one_line(_strip_prefix(line, ["ERROR:"])))
    return _only_file(tmpdir, "*.whl", f"pip {spec}")


def download_npm(row: Dict[str, str], tmpdir: Path) -> Path:
    spec = f"{row['package']}@{row['version']}"
    cp = _run(["npm", "pack", spec, "--json", "--ignore-scripts", "--silent"], cwd=tmpdir)
    if cp.returncode != 0:
        reason = None
        try:
            err = json.loads(cp.stdout).get("error", {})
            reason = err.get("summary") or err.get("code")
        except (ValueError, AttributeError):
            pass
        if not reason:
            reason = _strip_prefix(
                _last_error(cp.stderr + "\n" + cp.stdout, ["npm error", "npm ERR!"],
                            ["404", "notarget", "E404", "ETARGET"]),
                ["npm error", "npm ERR!"])
        raise Unavailable(f"npm: {_one_line(reason)} ({spec})")
    return _only_file(tmpdir, "*.tgz", f"npm {spec}")


_apt_lock = threading.Lock()


def _say(msg: str) -> None:
    """Report apt work (printed even with progress=False)."""
    log = _LOG.get(threading.get_ident())
    if log is not None:
        log(msg)
    else:
        print(msg, file=sys.stderr, flush=True)


def _apt_opts(base: Path, arch: str) -> List[str]:
    """apt-get options for a private apt state under *base*, for *arch* only.

    The system's sources (mirror) are used, but package lists, caches and dpkg
    status are our own: no ``dpkg --add-architecture``, no change to the system's
    apt state, no root needed.  (Adding a foreign architecture to the system
    would make every later system ``apt-get update`` fetch its lists too, and
    fail whenever one of them is broken on the mirror.)
    """
    for d in ("lists/partial", "cache/archives/partial"):
        (base / d).mkdir(parents=True, exist_ok=True)
    status = base / "status"
    if not status.exists():
        status.write_text("")
    opts = {
        "Dir::State::Lists": base / "lists",
        "Dir::Cache": base / "cache",
        "Dir::State::status": status,
        "APT::Architecture": arch,
        "APT::Architectures::": arch,
        "Debug::NoLocking": "1",
        "Acquire::Languages": "none",
    }
    if os.geteuid() == 0:
        opts["APT::Sandbox::User"] = "root"
    out: List[str] = []
    for k, v in opts.items():
        out += ["-o", f"{k}={v}"]
    return out


def _apt_update(opts: List[str], arch: str) -> Optional[str]:
    """``apt-get update`` of the private lists; return its errors or None.

    A failed update is not fatal: a mirror in the middle of a sync may fail one
    list (e.g. bookworm-security) while the one we need was fetched fine.
    """
    _say(f"deb: apt-get update of private {arch} package lists")
    cp = _run(["apt-get", *opts, "update"])
    if cp.returncode == 0:
        return None
    lines = [l.strip() for l in (cp.stderr + "\n" + cp.stdout).splitlines()
             if l.startswith(("E:", "W:")) and "Some index files failed" not in l]
    err = " | ".join(_one_line(l, 200) for l in dict.fromkeys(lines)) or "(no error line)"
    _say(f"deb: apt-get update reported: {err}")
    return err


def apt_dir(arch: str, cache: os.PathLike | str | None = None) -> Path:
    """Private apt state for *arch* (package lists), kept in the cache."""
    return cache_root(cache) / "apt" / arch


def download_deb(row: Dict[str, str], tmpdir: Path) -> Path:
    """``apt-get download PACKAGE=VERSION`` for architecture ``platform``."""
    if shutil.which("apt-get") is None:
        raise Unavailable("deb: apt-get not installed (not a Debian system)")
    arch = row["platform"]
    spec = f"{row['package']}:{arch}={row['version']}"
    base = apt_dir(arch, row.get("_cache"))
    opts = _apt_opts(base, arch)
    lists = base / "lists"
    cmd = ["apt-get", *opts, "download", "-q", spec]
    update_err = None
    with _apt_lock:
        if not any(lists.glob("*_Packages*")):
            update_err = _apt_update(opts, arch)
    cp = _run(cmd, cwd=tmpdir)
    # Lists stale (a newer upload replaced them) or half-fetched from a busy
    # mirror: update and retry, twice at most.
    for attempt in range(2):
        if cp.returncode == 0:
            break
        _say(f"deb: apt-get download {spec} failed: "
             f"{_one_line(_last_error(cp.stderr + cp.stdout, ['E:'], ['E:']), 200)}")
        if attempt:
            time.sleep(5)
        with _apt_lock:
            update_err = _apt_update(opts, arch)
        cp = _run(cmd, cwd=tmpdir)
    if cp.returncode != 0:
        line = _last_error(cp.stderr + "\n" + cp.stdout, ["E:"], ["E:"])
        reason = "apt: " + _one_line(_strip_prefix(line, ["E:"]), 200) + f" ({spec}"
        reason += "; replaced on the mirror?)" if "not found" in line else ")"
        if update_err and not any(lists.glob("*_Packages*")):
            reason += f"; apt-get update: {_one_line(update_err, 150)}"
        raise Unavailable(reason)
    return _only_file(tmpdir, "*.deb", f"apt {spec}")


def download_file(row: Dict[str, str], tmpdir: Path) -> Path:
    """Local source for tests: ``package`` is the path of the package file."""
    src = Path(row["package"]).expanduser()
    if not src.is_file():
        raise Unavailable(f"file: {src} does not exist")
    return src


SOURCES: Dict[str, Callable[[Dict[str, str], Path], Path]] = {
    "pypi": download_pypi,
    "npm": download_npm,
    "deb": download_deb,
    "file": download_file,
}

# Per-thread progress logger used by sources for notes such as apt changes.
_LOG: Dict[int, Callable[[str], None]] = {}




# --------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------

def _norm(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def _copy_hashing(src, dst) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    for chunk in iter(lambda: src.read(_CHUNK), b""):
        h.update(chunk)
        dst.write(chunk)
        n += len(chunk)
    return h.hexdigest(), n


def _deb_data_tar(deb: Path, workdir: Path) -> Path:
    """The data archive of a .deb as a tar file in *workdir*."""
    out = workdir / (deb.name + ".data.tar")
    if shutil.which("dpkg-deb"):
        with open(out, "wb") as fh:
            cp = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=fh,
                                stderr=subprocess.PIPE, text=True)
        if cp.returncode == 0:
            return out
        raise CorpusError(f"dpkg-deb --fsys-tarfile {deb.name}: {_one_line(cp.stderr)}")
    # No dpkg-deb: read the ar archive ourselves; tarfile handles .xz/.gz/.bz2.
    with open(deb, "rb") as fh:
        if fh.read(8) != b"!<arch>\n":
            raise CorpusError(f"{deb.name}: not an ar archive")
        while True:
            hdr = fh.read(60)
            if len(hdr) < 60:
                break
            name = hdr[:16].decode().strip().rstrip("/")
            size = int(hdr[48:58].decode().strip())
            if name.startswith("data.tar"):
                with open(out, "wb") as o:
                    remaining = size
                    while remaining:
                        chunk = fh.read(min(_CHUNK, remaining))
                        if not chunk:
                            break
                        o.write(chunk)
                        remaining -= len(chunk)
                return out
            fh.seek(size + (size & 1), 1)
    raise CorpusError(f"{deb.name}: no data.tar member")


class _Missing(Exception):
    def __init__(self, member: str, candidates: List[str]):
        super().__init__(member)
        self.member = member
        self.candidates = candidates


def _close_names(names: Iterable[str], member: str) -> List[str]:
    base = os.path.basename(_norm(member))
    return [n for n in names if base and os.path.basename(_norm(n)) == base][:5]


def _extract_to(archive: Path, member: str, dst, workdir: Path) -> tuple[str, int]:
    """Copy *member* of *archive* (zip, tar[.gz|.xz|...], .deb) into *dst*."""
    if member in ("-", ""):
        with open(archive, "rb") as fh:
            return _copy_hashing(fh, dst)
    with open(archive, "rb") as fh:
        head = fh.read(8)
    if head == b"!<arch>\n":
        archive = _deb_data_tar(archive, workdir)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            match = member if member in names else next(
                (n for n in names if _norm(n) == _norm(member)), None)
            if match is None:
                raise _Missing(member, _close_names(names, member))
            with zf.open(match) as src:
                return _copy_hashing(src, dst)
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive, "r:*") as tf:
            members = tf.getmembers()
            match = next((m for m in members if m.name == member), None) or next(
                (m for m in members if _norm(m.name) == _norm(member)), None)
            if match is None or not (match.isfile() or match.issym() or match.islnk()):
                raise _Missing(member, _close_names((m.name for m in members), member))
            src = tf.extractfile(match)
            if src is None:
                raise _Missing(member, [])
            with src:
                return _copy_hashing(src, dst)
    raise CorpusError(f"{archive.name}: not a zip, tar or .deb archive")
