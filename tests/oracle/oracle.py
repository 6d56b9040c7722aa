"""Build and run the Go reference reader (``tests/oracle/main.go``).

The oracle is a small stdlib-only Go program that reads a binary with
``debug/gosym`` (and ``debug/buildinfo``) and prints one JSON object; see the
comment at the top of ``main.go`` for what it prints and how it finds the
pclntab and the text base. Differential tests compare gosym against it.

:func:`build_oracle` compiles it once with Go 1.27.3 (from
``gosym.toolchain.goroot``, or the GOROOT named by ``$GOSYM_ORACLE_GOROOT``)
into ``<cache>/oracle/<key>/oracle`` where ``<cache>`` is ``$GOSYM_CACHE`` or
``~/.cache/gosym`` and ``<key>`` is the sha256 of ``main.go``, ``go.mod`` and
the toolchain version, so an edit of the sources or another toolchain gives
another executable and an unchanged one is reused without work. The file is
written under a temporary name in the same folder and renamed into place.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterable, Optional

__all__ = [
    "OracleError",
    "NotGoBinaryError",
    "ORACLE_GO_VERSION",
    "oracle_goroot",
    "build_oracle",
    "run_oracle",
]

ORACLE_DIR = Path(__file__).resolve().parent
SOURCES = ("main.go", "go.mod")
ORACLE_GO_VERSION = "1.27.3"
BUILD_TIMEOUT = 600
RUN_TIMEOUT = 900

_lock = threading.Lock()
_built: dict = {}


class OracleError(RuntimeError):
    """OracleError is raised when the oracle cannot be built or fails on a binary.

    ``returncode`` is the oracle's exit status (None when it did not run) and
    ``stderr`` its one-line message.
    """

    def __init__(self, message: str, returncode: Optional[int] = None, stderr: str = ""):
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class NotGoBinaryError(OracleError):
    """NotGoBinaryError is raised when the oracle says the file is not a Go binary (exit 2)."""


def _toolchain_module():
    """Import gosym.toolchain, or load the file alone if the package does not import."""
    try:
        from gosym import toolchain

        return toolchain
    except ImportError:
        path = ORACLE_DIR.parents[1] / "gosym" / "toolchain.py"
        if not path.exists():
            return None
        spec = importlib.util.spec_from_file_location("_gosym_toolchain_for_oracle", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod


def _cache_dir() -> Path:
    env = os.environ.get("GOSYM_CACHE")
    if env:
        return Path(env).expanduser().absolute()
    return Path.home() / ".cache" / "gosym"


def oracle_goroot() -> Path:
    """oracle_goroot returns the GOROOT the oracle is built with ($GOSYM_ORACLE_GOROOT or Go 1.27.3)."""
    env = os.environ.get("GOSYM_ORACLE_GOROOT")
    if env:
        return Path(env)
    tc = _toolchain_module()
    if tc is None:
        raise OracleError("no toolchain: gosym/toolchain.py is missing and $GOSYM_ORACLE_GOROOT is unset")
    return Path(tc.goroot(ORACLE_GO_VERSION))


def _goroot_version(goroot: Path) -> str:
    vf = goroot / "VERSION"
    if vf.exists():
        first = vf.read_text(errors="replace").splitlines()
        if first:
            return first[0].strip()
    proc = subprocess.run([str(goroot / "bin" / "go"), "env", "GOVERSION"],
                          env=_env(goroot), capture_output=True, text=True)
    if proc.returncode != 0:
        raise OracleError(f"cannot get the version of {goroot}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def _env(goroot: Path) -> dict:
    tc = _toolchain_module()
    if tc is not None and hasattr(tc, "go_env"):
        env = dict(tc.go_env(goroot))
    else:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
        env.update(GOROOT=str(goroot), GOTOOLCHAIN="local", GOPROXY="off",
                   GOFLAGS="-mod=mod", GOWORK="off", GOENV="off",
                   GOCACHE=str(_cache_dir() / "gocache" / "oracle"),
                   GOPATH=str(_cache_dir() / "gopath"))
        env["PATH"] = os.pathsep.join([str(goroot / "bin"), env.get("PATH", os.defpath)])
    env["CGO_ENABLED"] = "0"
    for k in ("GOOS", "GOARCH"):
        env.pop(k, None)
    return env


def _key(version: str) -> str:
    h = hashlib.sha256()
    for name in SOURCES:
        data = (ORACLE_DIR / name).read_bytes()
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    h.update(b"toolchain\0" + version.encode())
    return h.hexdigest()


def build_oracle() -> Path:
    """build_oracle compiles the oracle if needed and returns the path of the executable."""
    with _lock:
        override = os.environ.get("GOSYM_ORACLE_GOROOT")
        goroot: Optional[Path] = None
        if override:
            goroot = Path(override)
            version = _goroot_version(goroot)
        else:
            version = "go" + ORACLE_GO_VERSION
        exe_name = "oracle.exe" if sys.platform == "win32" else "oracle"
        final = _cache_dir() / "oracle" / _key(version) / exe_name
        memo = _built.get(str(final))
        if memo is not None and memo.exists():
            return memo
        if final.exists():
            _built[str(final)] = final
            return final
        if goroot is None:
            goroot = oracle_goroot()
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".oracle-", dir=final.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            cmd = [str(goroot / "bin" / "go"), "build", "-trimpath", "-o", str(tmp), "."]
            try:
                proc = subprocess.run(cmd, cwd=ORACLE_DIR, env=_env(goroot), capture_output=True,
                                      text=True, timeout=BUILD_TIMEOUT)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise OracleError(f"building the oracle failed: {exc}") from exc
            if proc.returncode != 0:
                msg = (proc.stderr or proc.stdout).strip().replace("\n", " | ")
                raise OracleError(f"building the oracle failed: {msg}", proc.returncode, proc.stderr)
            os.chmod(tmp, 0o755)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                tmp.unlink()
        _built[str(final)] = final
        return final


def run_oracle(binary: os.PathLike | str, pcs: Optional[Iterable[int]] = None, funcs: bool = True,
               scan: bool = False, timeout: float = RUN_TIMEOUT) -> dict:
    """run_oracle runs the oracle on *binary* and returns its JSON output as a dict.

    *pcs* (integers) adds ``lookups``, *funcs* adds ``functions``, *scan*
    makes the oracle ignore section names and symbols. Raises
    :class:`OracleError` (:class:`NotGoBinaryError` for exit status 2) with
    the oracle's stderr line on failure.
    """
    exe = build_oracle()
    cmd = [str(exe)]
    if funcs:
        cmd.append("-funcs")
    if scan:
        cmd.append("-scan")
    stdin = None
    if pcs is not None:
        cmd += ["-pcs", "-"]
        stdin = "".join(f"{int(pc):#x}\n" for pc in pcs)
    cmd.append(os.fspath(binary))
    try:
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise OracleError(f"oracle timed out after {timeout}s on {binary}") from exc
    if proc.returncode != 0:
        line = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit status {proc.returncode}"
        cls = NotGoBinaryError if proc.returncode == 2 else OracleError
        raise cls(line, proc.returncode, proc.stderr)
    try:
        return json.loads(proc.stdout)
    except ValueError as exc:
        raise OracleError(f"oracle printed bad JSON for {binary}: {exc}", proc.returncode) from exc
