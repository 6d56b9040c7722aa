"""Build info: the Go version and module list the linker records.

The blob starts with the 14-byte magic "\\xff Go buildinf:", then pointer size
and flags bytes (runtime/debug and debug/buildinfo: flag 1 = big-endian
pointers, flag 2 = strings inline).  Go 1.18+ writes two uvarint-length
strings inline at offset 32; older releases write two pointers to Go string
headers (data pointer, length) at offset 16.  The module text is wrapped in
16-byte sentinels.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from gosym import _native
from gosym.container import Container
from gosym.errors import FormatError
from gosym.records import Record

MAGIC = b"\xff Go buildinf:"
SECTIONS = (".go.buildinfo", "__go_buildinfo")
MAX_STRING = 1 << 20


class Module(Record):
    """Module is one line of the module list: path, version, checksum."""

    path: str                     #: module path
    version: str = ""             #: module version ("(devel)" for a main module built from a checkout)
    sum: str = ""                 #: go.sum checksum ("h1:…"), or ""
    replace: Optional["Module"] = None  #: the module that replaces it (a `=>` line), or None


class BuildInfo(Record):
    """BuildInfo is what `go version -m` prints: Go version, main package path,
    main module, dependencies and build settings."""

    go_version: str               #: toolchain that built the binary ("go1.27.3")
    path: str = ""                #: main package path
    main: Optional[Module] = None  #: main module, or None
    deps: List[Module] = []  #: dependency modules, in the order the binary lists them
    settings: Dict[str, str] = {}  #: build settings (`-buildmode`, `GOOS`, `vcs.revision`, …), key to value
    offset: int = 0               #: file offset of the build-info blob

    def as_dict(self) -> dict:
        """as_dict renders the build info for JSON."""
        def mod(m: Optional[Module]):
            if m is None:
                return None
            return {"path": m.path, "version": m.version, "sum": m.sum,
                    "replace": mod(m.replace)}
        return {"go_version": self.go_version, "path": self.path, "main": mod(self.main),
                "deps": [mod(d) for d in self.deps], "settings": dict(self.settings)}


def _uvarint(data: bytes, pos: int):
    """A uvarint through the C cursor: (value, next) or (None, pos)."""
    try:
        v, nxt = _native.read_value(data, "uvarint", pos)
    except (FormatError, ValueError):
        return None, pos
    return int(v), nxt


def _find_blob(c: Container) -> Optional[int]:
    s = c.section(*SECTIONS)
    if s is not None and s.size >= 32:
        if bytes(c.buf[s.offset:s.offset + 14]) == MAGIC:  # type: ignore[index]
            return s.offset
    # No section (PE, stripped section headers): the blob is 16-aligned in
    # the data; search the file for the magic.
    pos = c.buf.find(MAGIC)
    for _ in range(1 << 16):   # bounded on a file stuffed with unaligned magics
        if pos < 0:
            break
        if pos % 16 == 0 or c.format == "raw":
            return pos
        pos = c.buf.find(MAGIC, pos + 1)
    return None


def _read_go_string(c: Container, va: int, ptr: int, order: Any) -> Optional[str]:
    hdr = c.read_va(va, 2 * ptr)
    if hdr is None:
        return None
    data_va = int.from_bytes(hdr[:ptr], order)
    n = int.from_bytes(hdr[ptr:], order)
    if n > MAX_STRING:
        return None
    raw = c.read_va(data_va, n) if n else b""
    if raw is None:
        return None
    return raw.decode("utf-8", "replace")


def parse_modinfo(text: str, info: BuildInfo) -> None:
    """parse_modinfo fills path, main, deps and settings from the module text."""
    if len(text) >= 33 and text[-17] == "\n":
        text = text[16:-16]
    last: Optional[Module] = None
    for line in text.splitlines():
        parts = line.split("\t")
        if not parts:
            continue
        key = parts[0]
        if key == "path" and len(parts) >= 2:
            info.path = parts[1]
        elif key in ("mod", "dep") and len(parts) >= 2:
            m = Module(parts[1], parts[2] if len(parts) > 2 else "", parts[3] if len(parts) > 3 else "")
            if key == "mod":
                info.main = m
            else:
                info.deps.append(m)
            last = m
        elif key == "=>" and last is not None and len(parts) >= 2:
            last.replace = Module(parts[1], parts[2] if len(parts) > 2 else "",
                                  parts[3] if len(parts) > 3 else "")
        elif key == "build" and len(parts) >= 2:
            k, _, v = parts[1].partition("=")
            info.settings[k] = v


def read_build_info(c: Container) -> Optional[BuildInfo]:
    """read_build_info returns the BuildInfo of a container, or None if it has
    none (a Go binary before 1.13, or one whose blob was removed)."""
    off = _find_blob(c)
    if off is None:
        return None
    head = bytes(c.buf[off:off + 32])  # type: ignore[index]
    if len(head) < 32:
        return None
    ptr, flags = head[14], head[15]
    if flags & 2:
        data = bytes(c.buf[off + 32:off + 32 + 2 * MAX_STRING])  # type: ignore[index]
        n, pos = _uvarint(data, 0)
        if n is None or pos + n > len(data):
            return None
        version = data[pos:pos + n].decode("utf-8", "replace")
        pos += n
        n, pos = _uvarint(data, pos)
        mod = data[pos:pos + n].decode("utf-8", "replace") if n is not None and pos + n <= len(data) else ""
    else:
        if ptr not in (4, 8):
            return None
        order: Any = "big" if flags & 1 else "little"
        va1 = int.from_bytes(head[16:16 + ptr], order)
        va2 = int.from_bytes(head[16 + ptr:16 + 2 * ptr], order)
        version = _read_go_string(c, va1, ptr, order) or ""
        mod = _read_go_string(c, va2, ptr, order) or ""
    if not version.startswith("go") and not version.startswith("devel"):
        return None
    info = BuildInfo(go_version=version, offset=off)
    parse_modinfo(mod, info)
    return info
