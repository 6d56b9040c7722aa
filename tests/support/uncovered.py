"""What a pytest run could not cover, and why (issue 11).

Coverage that depends on what happens to be installed is never lost quietly:
the fixture factory's dropped toolchains, the corpus rows that could not be
fetched, tests that skip for a missing tool, and tests that ran on less than
they would with the tool all land here, and tests/conftest.py prints them in
one block at the end of the run (pytest_terminal_summary).

A *cause* is the one-line reason, naming the tool or package that is missing
("golang-1.19-go not installed"); the same cause from the factory, from a
skip and from a test that ran reduced is one line of the block.

    from tests.support import uncovered
    uncovered.skip("qemu-user-static not installed", "runs the arm64 fixtures")   # skips the test
    uncovered.reduced(request, "golang-1.19-go not installed", "no Go 1.19 raw image")
    path = uncovered.need("readelf", "binutils")     # the tool's path, or a skip naming it
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import pytest


@dataclass
class Gap:
    """Everything one cause took from the run."""

    cause: str
    lost: Dict[str, int] = field(default_factory=dict)   # what -> how many ("fixture builds": 4)
    reduced: Dict[str, List[str]] = field(default_factory=dict)  # test id -> what it went without
    skipped: List[str] = field(default_factory=list)     # test ids


_gaps: Dict[str, Gap] = {}
# Toolchains the fixture factory could not get when the session's fixtures
# were made: name -> reason (set by conftest's fixture_rows).  Tests ask this,
# not the file system, so a toolchain installed mid-run changes nothing.
factory_missing: Dict[str, str] = {}
_current: List[Optional[str]] = [None]   # node id of the running test (set by conftest)


def _gap(cause: str) -> Gap:
    g = _gaps.get(cause)
    if g is None:
        g = _gaps[cause] = Gap(cause)
    return g


def lost(cause: str, what: str, n: int = 1) -> None:
    """lost records that n items of *what* (e.g. "fixture builds") were not had, because of *cause*.

    Idempotent per (cause, what): the count is the largest one recorded, so a
    session fixture that is asked twice does not double it."""
    g = _gap(cause)
    g.lost[what] = max(g.lost.get(what, 0), n)


def reduced(cause: str, what: str) -> None:
    """reduced records that the running test passed on less than it would
    have: *what* was not checked, because of *cause*."""
    test = _current[0] or "(outside a test)"
    _gap(cause).reduced.setdefault(test, [])
    if what not in _gap(cause).reduced[test]:
        _gap(cause).reduced[test].append(what)


def skip(cause: str, what: str = "") -> None:
    """skip skips the running test with the reason "<cause>: <what>" (the
    block groups skips by cause)."""
    _gap(cause)
    reason = f"{cause}: {what}" if what else cause
    try:   # reported at the test's location, not this helper's
        exc = pytest.skip.Exception(reason, _use_item_location=True)
    except TypeError:  # pragma: no cover - pytest < 7
        exc = pytest.skip.Exception(reason)
    raise exc


def need(tool: str, package: str, what: str = "") -> str:
    """need returns the path of *tool*, or skips the test naming the tool and
    the Debian package that has it."""
    path = shutil.which(tool)
    if path is None:
        skip(missing(tool, package), what)
    return path  # type: ignore[return-value]


def missing(tool: str, package: str) -> str:
    """missing is the cause for an absent tool: "<tool> not installed (Debian <package>)"."""
    return f"{tool} not installed (Debian {package})" if package else f"{tool} not installed"


def gaps() -> List[Gap]:
    """gaps returns what was recorded, in the order the causes first came up."""
    return list(_gaps.values())
