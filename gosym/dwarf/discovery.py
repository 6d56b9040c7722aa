"""Opening DWARF: mapping a file, and finding a binary's separate debug
file (by build ID or .gnu_debuglink, gosym.debugfile) when it has no
DWARF of its own.

What does not live here: reading build IDs (gosym.container.notes), the
Dwarf object itself (gosym.dwarf.reader).
"""
from __future__ import annotations

import builtins
import mmap
import os
from typing import Any, Optional, Tuple

from gosym.container import Container, detect
from gosym.debugfile import check_match, find_debug_file
from gosym.dwarf.reader import Dwarf
from gosym.errors import FormatError, GosymError

_OPEN = builtins.open


def _map(path: str) -> Tuple[Any, Any]:
    f = _OPEN(path, "rb")
    try:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), f
    except ValueError:
        f.close()
        raise FormatError("empty file").with_path(path) from None
    except BaseException:
        f.close()
        raise


def _unmap(m: Any, f: Any) -> None:
    if m is not None:
        m.close()
    if f is not None:
        f.close()


def open_debug_file(binary: Container, binary_path: Optional[str], debug_file: Any, *,
                    check_build_id: bool = True, arch: Optional[str] = None) -> Dwarf:
    """open_debug_file opens a separate debug file (objcopy --only-keep-debug,
    a -dbgsym package's .debug) for `binary` and returns its Dwarf.  Unless
    check_build_id is False, a build ID that differs from the binary's
    raises gosym.debugfile.DebugFileMismatchError naming both files."""
    path = os.fspath(debug_file)
    m, f = _map(path)
    try:
        c = detect(m, arch=arch or (binary.arch if binary.format == "Mach-O" else None))
        if check_build_id:
            check_match(binary, c, binary_path, path)
        d = Dwarf.from_container(c, path)
        if d is None:
            raise FormatError("no DWARF line table (.debug_line)")
    except GosymError as e:
        _unmap(m, f)
        raise e.with_path(path)
    except BaseException:
        _unmap(m, f)
        raise
    d._map, d._file = m, f
    return d


def find_dwarf(binary: Container, binary_path: Optional[str]) -> Optional[Dwarf]:
    """find_dwarf returns the binary's own Dwarf, else that of a matching
    separate debug file found through its build ID or .gnu_debuglink
    (gosym.debugfile.find_debug_file), else None."""
    d = Dwarf.from_container(binary, binary_path)
    if d is not None or binary_path is None or binary.format != "ELF":
        return d
    cand = find_debug_file(binary_path, binary)
    if cand is None:
        return None
    return open_debug_file(binary, binary_path, cand, check_build_id=False)


def open_dwarf(source: Any, *, arch: Optional[str] = None, debug_file: Any = None,
               check_build_id: bool = True) -> Dwarf:
    """open_dwarf maps any ELF, Mach-O or PE file (Go or not: C programs
    too) and returns its Dwarf; raises FormatError when it has no
    .debug_line.  With debug_file, the rows come from that separate debug
    file, checked against the file's build ID (see open_debug_file);
    without, a file with no DWARF of its own is matched to a debug file by
    build ID or .gnu_debuglink where one is installed.  Close it (or use
    `with`) to unmap the file."""
    f = None
    m = None
    path = None
    if isinstance(source, (bytes, bytearray, memoryview)):
        buf: Any = bytes(source)
    else:
        path = os.fspath(source)
        m, f = _map(path)
        buf = m
    try:
        c = detect(buf, arch=arch)
        if debug_file is not None:
            d = open_debug_file(c, path, debug_file, check_build_id=check_build_id, arch=arch)
            del c
            _unmap(m, f)
            return d
        found = find_dwarf(c, path)
    except GosymError as e:
        _unmap(m, f)
        raise e.with_path(path)
    except BaseException:
        _unmap(m, f)
        raise
    if found is None:
        _unmap(m, f)
        raise FormatError("no DWARF line table (.debug_line)").with_path(path)
    if found.container is not c:
        _unmap(m, f)       # the rows come from a separate debug file
        return found
    found._map, found._file = m, f
    return found


__all__ = ["find_dwarf", "open_debug_file", "open_dwarf"]
