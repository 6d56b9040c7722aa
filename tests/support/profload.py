"""The profload fixture (tests/fixtures/src/profload), built with the 1.27.3
toolchain for linux/amd64, non-PIE and PIE, once per cache (content-keyed
like every fixture).  Tests that run it skip on other hosts."""
from __future__ import annotations

import platform
import sys

import pytest

TOOLCHAIN = "1.27.3"


def runnable() -> bool:
    """runnable tells whether linux/amd64 binaries run here."""
    return sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")


def build(flagset: str) -> str:
    """build returns the path of profload built with a flag set ("default" or "pie")."""
    from gosym.toolchain import ToolchainError
    from tests.fixtures.build import FixtureError, Spec, ensure_spec

    if not runnable():
        pytest.skip("profload runs on linux/amd64 only")
    try:
        row = ensure_spec(Spec("profload", TOOLCHAIN, "linux", "amd64", flagset))
    except (ToolchainError, FixtureError) as e:
        pytest.skip(f"no Go {TOOLCHAIN} toolchain: {e}")
    if row.get("error"):
        pytest.fail(f"profload {flagset} does not build: {row['error'][:500]}")
    return row["path"]
