"""Time and memory bound on 100 MB hostile inputs (issue 6).

Each input is written to a file and read by `gosym dump` in a subprocess
under resource limits (address space and CPU time): it must end with a
result or the one-line error, within the limits and a wall-clock bound.
The inputs attack what is linear-or-worse in the input: tens of millions of
fake pclntab magics (every candidate must not cost a table walk), huge
claimed counts (function, file and load-command counts, extended ELF section
numbering), unaligned build-info magics, and moduledata look-alikes.
"""
from __future__ import annotations

import os
import resource
import struct
import subprocess
import sys
import time

import pytest

SIZE = 100 << 20
WALL = 15.0                 # seconds, per input (measured: ~1.5 s on 2 busy cores)
CPU = 60                    # RLIMIT_CPU seconds
ADDRESS_SPACE = 3 << 30     # RLIMIT_AS: the interpreter, the 100 MB map, headroom


def _fake_magics() -> bytes:
    """An ELF header whose section headers lie far past the end (so the
    container fails and the whole file is scanned), then fake Go 1.20 table
    headers claiming 2^63 functions, unaligned build-info magics and
    (len, cap) word pairs as moduledata's ftab would have."""
    unit = struct.pack("<IBBBBQQ", 0xFFFFFFF1, 0, 0, 1, 8, 1 << 63, 1 << 62)
    unit += b"\xff Go buildinf:" + bytes([8, 2]) + b"\0" * 6
    unit += struct.pack("<QQ", 1 << 40, 1 << 40)
    buf = bytearray(unit * (SIZE // len(unit)))
    struct.pack_into("<4sBBB9xHHIQQQIHHHHHH", buf, 0, b"\x7fELF", 2, 1, 1,
                     2, 0x3E, 1, 0, 64, 1 << 60, 0, 64, 56, 0xFFFF, 64, 0xFFFF, 0)
    return bytes(buf)


def _plausible_headers() -> bytes:
    """Go 1.18-style table headers, every 4 KiB, big-endian and little,
    32- and 64-bit, whose function count fits the rest of the file (so each
    opens and its function table would be walked) with zero entries (sorted)."""
    buf = bytearray(SIZE)
    k = 0
    for off in range(0, SIZE - 4096, 4096):
        be, ptr = k & 1, 4 if k & 2 else 8
        k += 1
        e = ">" if be else "<"
        w = "Q" if ptr == 8 else "I"
        nfunc = (SIZE - off - 8 * ptr - 64) // 8 - 1
        hdr = struct.pack(e + "I", 0xFFFFFFF0) + bytes([0, 0, 1, ptr])
        hdr += struct.pack(e + w * 8, nfunc, 1, 0x400000, 8 + 8 * ptr, 8 + 8 * ptr,
                           8 + 8 * ptr, 8 + 8 * ptr, 8 + 8 * ptr)
        buf[off:off + len(hdr)] = hdr
    return bytes(buf)


def _macho_commands() -> bytes:
    """A Mach-O header claiming 2^32-1 load commands over 100 MB of 8-byte
    commands."""
    hdr = struct.pack("<IiiIIII", 0xFEEDFACF, 0x01000007, 3, 2, 0xFFFFFFFF, SIZE - 64, 0) + b"\0" * 4
    return hdr + struct.pack("<II", 0x7777, 8) * ((SIZE - 64) // 8) + b"\0" * 32


def _elf_extended_sections() -> bytes:
    """An ELF header using extended section numbering (e_shnum 0) whose
    section 0 claims 2^40 sections, and e_phnum 65535 program headers."""
    buf = bytearray(SIZE)
    struct.pack_into("<4sBBB9xHHIQQQIHHHHHH", buf, 0, b"\x7fELF", 2, 1, 1,
                     2, 0x3E, 1, 0, 64, 4096, 0, 64, 56, 0xFFFF, 64, 0, 0)
    struct.pack_into("<Q", buf, 4096 + 32, 1 << 40)   # section 0 sh_size
    return bytes(buf)


def _limits() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU, CPU))


@pytest.mark.slow
@pytest.mark.parametrize("make", [_fake_magics, _plausible_headers, _macho_commands,
                                  _elf_extended_sections], ids=lambda f: f.__name__.strip("_"))
def test_hostile_100mb_bounded(make, tmp_path):
    path = tmp_path / "hostile"
    path.write_bytes(make())
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "gosym", "dump", str(path)], capture_output=True,
                       text=True, preexec_fn=_limits, timeout=4 * WALL)
    wall = time.monotonic() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.unlink(path)
    assert r.returncode in (0, 1), f"exit {r.returncode} (signal: limit hit?) {r.stderr[-500:]}"
    if r.returncode == 1:
        assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"gosym: {path}: "), r.stderr[-500:]
    assert "Traceback" not in r.stderr
    assert wall < WALL, f"{wall:.1f}s (cpu so far {usage.ru_utime:.1f}s)"
