"""Separate debug files: where a `.debug` companion (objcopy
--only-keep-debug, Debian -dbgsym) of a binary may be, and whether it
matches the binary.

Build IDs and .gnu_debuglink are read by gosym.container.notes (the one
reader); this module only compares them and searches gdb's paths.  Opening
the debug file's DWARF is gosym.dwarf.discovery.
"""
from __future__ import annotations

import mmap
import os
import zlib
from typing import List, Optional

from gosym.container import Container, detect
from gosym.container.notes import BuildIds, debuglink, iter_notes, read_build_ids
from gosym.errors import GosymError

DEBUG_ROOT = "/usr/lib/debug"


class DebugFileMismatchError(GosymError):
    """DebugFileMismatchError means a debug file's build ID is not the binary's."""


def build_ids(c: Container) -> BuildIds:
    """build_ids reads the build IDs of a container (gosym.container.notes)."""
    return read_build_ids(c)


def _crc32(path: str) -> int:
    crc = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                return crc
            crc = zlib.crc32(chunk, crc)


def candidates(path: str, c: Container, root: str = DEBUG_ROOT) -> List[str]:
    """candidates lists where a debug file for `path` may be, in gdb's
    order: the build-ID tree, then the .gnu_debuglink name beside the
    binary, in its .debug directory and under the global debug root."""
    out = []
    ids = build_ids(c)
    if ids.gnu and len(ids.gnu) > 2:
        out.append(os.path.join(root, ".build-id", ids.gnu[:2], ids.gnu[2:] + ".debug"))
    link = debuglink(c)
    if link is not None:
        d = os.path.dirname(os.path.abspath(path))
        name = os.path.basename(link[0])
        out += [os.path.join(d, name), os.path.join(d, ".debug", name),
                os.path.join(root + d, name)]
    return out


def find_debug_file(path: str, c: Container, root: str = DEBUG_ROOT) -> Optional[str]:
    """find_debug_file returns the first existing candidate that matches
    (by build ID, or by the CRC-32 .gnu_debuglink records), or None."""
    link = debuglink(c)
    me = os.path.realpath(path)
    for cand in candidates(path, c, root):
        if not os.path.isfile(cand) or os.path.realpath(cand) == me:
            continue
        try:
            with open(cand, "rb") as f:
                with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                    dc = detect(m)
                    ok = check_match(c, dc, path, cand, strict=False)
                    del dc
            if ok is None and link is not None and os.path.basename(cand) == os.path.basename(link[0]):
                ok = _crc32(cand) == link[1]
        except (GosymError, OSError, ValueError):
            continue
        if ok:
            return cand
    return None


def check_match(binary: Container, debug: Container, binary_path: Optional[str],
                debug_path: Optional[str], strict: bool = True) -> Optional[bool]:
    """check_match compares the build IDs of a binary and its debug file:
    True when an ID both carry is equal, None when they share no kind of ID
    (nothing to compare), and on a difference False, or with strict=True a
    DebugFileMismatchError naming both files."""
    a, b = build_ids(binary), build_ids(debug)
    for kind in ("gnu", "go", "uuid"):
        x, y = getattr(a, kind), getattr(b, kind)
        if x is None and y is None:
            continue
        if x == y:
            return True
        if not strict:
            return False
        what = {"gnu": "GNU build ID", "go": "Go build ID", "uuid": "Mach-O UUID"}[kind]
        raise DebugFileMismatchError(
            f"debug file {debug_path or '<buffer>'} does not match: {what} "
            f"{x or 'absent'} in {binary_path or '<buffer>'}, {y or 'absent'} in the debug file "
            "(--no-build-id-check to use it anyway)").with_path(binary_path)
    return None


__all__ = ["BuildIds", "DEBUG_ROOT", "DebugFileMismatchError", "build_ids", "candidates", "check_match",
           "debuglink", "find_debug_file", "iter_notes"]
