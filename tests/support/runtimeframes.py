"""The frames fixture (tests/fixtures/src/frames): call sites the runtime
treats specially (wrappers, method values, generic instantiations, closures,
deferred calls, a function ending in a call, panicwrap, a chain inlined
across packages and files), each recording runtime.Callers and the
runtime's own frames for them; and runtime/pprof CPU and allocation
profiles of the same sites.  Built per toolchain for linux/amd64 (run
natively on x86-64) and linux/arm64 (run under qemu-aarch64-static when it
is installed); tests skip, saying why, where a build cannot run.

    path = build("1.27.3")                      # or build("1.27.3", "arm64")
    for rec in sites(path): rec["pcs"], rec["frames"]
    cpu, heap = profiles(path, tmp_path, ms=300)   # runtime-written profiles
"""
from __future__ import annotations

import json
import platform
import shutil
import subprocess
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

# Every toolchain the fixture factory has, linux/amd64; arm64 with the newest.
TARGETS: Tuple[Tuple[str, str], ...] = (
    ("system-1.19", "amd64"), ("1.21.13", "amd64"), ("1.24.11", "amd64"), ("1.27.3", "amd64"),
    ("1.27.3", "arm64"),
)


def launcher(goarch: str) -> Optional[List[str]]:
    """The command prefix that runs a linux/goarch program here, or None."""
    native = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine())
    if goarch == native:
        return []
    exe = shutil.which({"amd64": "qemu-x86_64-static", "arm64": "qemu-aarch64-static"}[goarch])
    return [exe] if exe else None


def build(toolchain: str, goarch: str = "amd64") -> str:
    """build returns the path of the frames fixture for a toolchain and
    linux/goarch, skipping the test when the toolchain is missing or the
    binary cannot run here."""
    from gosym.toolchain import ToolchainError
    from tests.fixtures.build import FixtureError, Spec, ensure_spec

    if launcher(goarch) is None:
        pytest.skip(f"linux/{goarch} does not run here (no qemu-user-static)")
    try:
        row = ensure_spec(Spec("frames", toolchain, "linux", goarch, "default"))
    except (ToolchainError, FixtureError) as e:
        pytest.skip(f"no Go {toolchain} toolchain: {e}")
    if row.get("error"):
        pytest.fail(f"frames {toolchain} {goarch} does not build: {row['error'][:500]}")
    return row["path"]


def _goarch(path: str) -> str:
    import gosym

    with gosym.open(path) as b:
        return {"x86_64": "amd64", "amd64": "amd64", "arm64": "arm64", "aarch64": "arm64"}.get(b.arch, b.arch)


def sites(path: str, goarch: Optional[str] = None) -> List[dict]:
    """sites runs `frames sites`: one dict per site with "site", "pcs" (hex
    return addresses from runtime.Callers) and "frames" (the runtime's
    CallersFrames: function, file, line, pc, entry)."""
    cmd = (launcher(goarch or _goarch(path)) or []) + [path, "sites"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    return [json.loads(line) for line in out.stdout.splitlines()]


def profiles(path: str, outdir: Path, ms: int = 300, goarch: Optional[str] = None) -> Tuple[Path, Path]:
    """profiles runs `frames profile` for ms milliseconds and returns the
    runtime/pprof CPU and allocation profiles it wrote (gzipped
    profile.proto, symbolized by the runtime)."""
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = (launcher(goarch or _goarch(path)) or []) + [path, "profile", str(outdir), str(ms)]
    subprocess.run(cmd, capture_output=True, timeout=300, check=True)
    return outdir / "cpu.pprof", outdir / "heap.pprof"


def print_name(name: str) -> str:
    """The runtime's printed form of a function name (Go 1.21+
    runtime.funcNameForPrint): from the first "[" to the last "]" prints as
    "[...]" (the type arguments of a generic instantiation)."""
    i, j = name.find("["), name.rfind("]")
    if i < 0 or j <= i:
        return name
    return name[:i] + "[...]" + name[j + 1:]
