"""Shared pytest fixtures: the built fixture binaries, the public corpus, the oracle.

GOSYM_FIXTURES=ci|full picks the fixture subset (default ci).  Binaries are
built or fetched into the cache ($GOSYM_CACHE or ~/.cache/gosym) once; later
runs reuse them.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

try:
    from hypothesis import HealthCheck, settings

    settings.register_profile("dev", max_examples=60, deadline=None)
    settings.register_profile("ci", max_examples=300, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
except ImportError:  # pragma: no cover
    pass


@pytest.fixture(scope="session")
def fixture_rows():
    """Every fixture build of the chosen subset (rows of the manifest)."""
    from tests.fixtures.build import ensure_fixtures

    return ensure_fixtures(os.environ.get("GOSYM_FIXTURES", "ci"), progress=False)


@pytest.fixture(scope="session")
def corpus_rows():
    """Every public-corpus row, fetched (with `path`) or skipped (with `skip`)."""
    from tests.corpus.fetch import ensure_corpus

    return ensure_corpus(progress=False)


@pytest.fixture(scope="session")
def oracle():
    """run_oracle(binary, pcs=None, funcs=True) -> dict, from the Go reference program."""
    from tests.oracle.oracle import build_oracle, run_oracle

    build_oracle()
    return run_oracle


@pytest.fixture(autouse=True)
def _no_swallowed_exceptions():
    """Fail any test during which an exception was swallowed ("Exception
    ignored in ...": Cython callbacks and __del__ report through
    sys.unraisablehook instead of raising)."""
    seen = []
    old = sys.unraisablehook
    sys.unraisablehook = lambda u: seen.append(f"{u.exc_type.__name__}: {u.exc_value} in {u.object!r}")
    try:
        yield
    finally:
        sys.unraisablehook = old
    assert not seen, "Exception ignored: " + "; ".join(seen)
