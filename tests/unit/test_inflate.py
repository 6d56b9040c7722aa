"""The zlib inflater of compressed debug sections: ISA-L (the `fast` extra)
when installed, else Python's zlib.  Both must give zlib's bytes and the same
errors on bad streams; Python's zlib (and zlib.compress) is the reference."""
from __future__ import annotations

import os
import random
import zlib

import pytest

from gosym.container import compress
from gosym.errors import FormatError

isal_zlib = pytest.importorskip("isal.isal_zlib", reason="ISA-L (pip package isal, the 'fast' extra) not installed")


@pytest.fixture(params=["isal", "zlib"])
def inflater(request, monkeypatch):
    monkeypatch.setattr(compress, "_ZLIB", isal_zlib if request.param == "isal" else zlib)
    return request.param


def _payloads():
    rnd = random.Random(14)
    text = b"".join(b"/src/pkg%d/file%d.go\x00" % (rnd.randrange(50), rnd.randrange(500)) for _ in range(20000))
    yield text, 9
    yield os.urandom(70000), 6              # stored blocks
    yield bytes(300000), 1                  # long runs
    yield b"", 6


@pytest.mark.parametrize("case", range(4))
def test_inflate_equals_zlib(inflater, case):
    data, level = list(_payloads())[case]
    z = zlib.compress(data, level)
    assert compress.zlib_module() is (isal_zlib if inflater == "isal" else zlib)
    assert compress.decompress("zlib", z, len(data), ".debug_x", 0) == data


def test_inflate_errors_match(inflater):
    data = b"gosym " * 5000
    z = zlib.compress(data)
    for stream, size in ((z, len(data) - 1), (z, len(data) + 1), (z[:-9], len(data)), (b"xx" + z, len(data)),
                         (z + b"trailing", len(data))):
        try:
            out = compress.decompress("zlib", stream, size, ".debug_x", 0)
        except FormatError:
            continue
        # Trailing bytes after the stream's end are not read (as zlib does).
        assert stream.endswith(b"trailing") and out == data
