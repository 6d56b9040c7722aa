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

from tests.support import uncovered  # noqa: E402

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
    """Every fixture build of the chosen subset (rows of the manifest); the
    toolchains this machine lacks are reported in the end-of-run block."""
    from tests.fixtures.build import ensure_fixtures, missing_toolchains

    subset = os.environ.get("GOSYM_FIXTURES", "ci")
    for name, reason, dropped in missing_toolchains(subset):
        uncovered.factory_missing[name] = reason
        uncovered.lost(reason, "fixture builds", len(dropped))
    return ensure_fixtures(subset, progress=False)


@pytest.fixture(scope="session")
def corpus_rows():
    """Every public-corpus row, fetched (with `path`) or skipped (with `skip`);
    the skipped ones are reported in the end-of-run block."""
    from tests.corpus.fetch import ensure_corpus, not_fetched

    rows = ensure_corpus(progress=False)
    for reason, names in not_fetched(rows).items():
        uncovered.lost(f"corpus: {reason}", f"binaries not fetched ({', '.join(names)})", len(names))
    return rows


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Tell tests/support/uncovered.py which test is running (for uncovered.reduced)."""
    uncovered._current[0] = item.nodeid
    yield
    uncovered._current[0] = None


def _skip_reason(rep) -> str:
    lr = rep.longrepr
    text = lr[2] if isinstance(lr, tuple) and len(lr) == 3 else str(lr)
    return text[len("Skipped: "):] if text.startswith("Skipped: ") else text


def _n(k: int, noun: str) -> str:
    return f"{k} {noun}" + ("" if k == 1 else "s")


def _tests(ids, limit=4) -> str:
    ids = sorted(set(ids))
    shown = ", ".join(i.split("/")[-1] for i in ids[:limit])
    return shown + (f", and {len(ids) - limit} more" if len(ids) > limit else "")


def pytest_terminal_summary(terminalreporter):
    """One block, at the end of every run, saying what was not covered and
    why: toolchains the fixture factory could not get, corpus binaries not
    fetched, tests that ran on less for want of a tool, and skipped tests
    grouped by reason."""
    gaps = uncovered.gaps()
    by_reason: dict = {}
    for rep in terminalreporter.stats.get("skipped", []):
        by_reason.setdefault(_skip_reason(rep), []).append(rep.nodeid)
    lines = []
    for g in gaps:
        skipped = [t for reason, ids in list(by_reason.items()) if reason.startswith(g.cause)
                   for t in by_reason.pop(reason)]
        parts = [f"{n} {what}" for what, n in g.lost.items()]
        if skipped:
            parts.append(f"{_n(len(set(skipped)), 'test')} skipped ({_tests(skipped)})")
        if g.reduced:
            parts.append(f"{_n(len(g.reduced), 'test')} ran without it ("
                         + "; ".join(f"{t.split('/')[-1]}: {', '.join(w)}" for t, w in
                                     sorted(g.reduced.items())) + ")")
        if parts:
            lines.append(f"{g.cause}: " + "; ".join(parts))
    for reason, ids in sorted(by_reason.items()):
        lines.append(f"skipped: {reason} ({_n(len(set(ids)), 'test')}: {_tests(ids)})")
    tr = terminalreporter
    tr.write_sep("=", "not covered in this run" if lines else "not covered in this run: nothing")
    if not lines:
        tr.write_line("no fixture build, corpus binary or test was lost to a missing tool; no test skipped")
    for ln in lines:
        tr.write_line(ln)
