"""Separate debug files: build IDs, .gnu_debuglink, and matching a `.debug`
companion (objcopy --only-keep-debug, Debian -dbgsym) to its binary.

Build IDs come from ELF notes [gABI "Note Section"]: NT_GNU_BUILD_ID (type 3,
owner "GNU") as ld and `go build -ldflags=-B=...` write it, and Go's own
build ID (type 4, owner "Go", cmd/link/internal/ld/elf.go: ELF_NOTE_GOBUILDID_TAG);
outside ELF, Go's build ID is the `\\xff Go build ID: "..."` string at the
start of the text (cmd/internal/buildid).  Mach-O's LC_UUID is the third.
"""
from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

from gosym.container import Container, Section
from gosym.errors import GosymError

SHT_NOTE = 7
NT_GNU_BUILD_ID = 3
NT_GO_BUILDID = 4
LC_UUID = 0x1B
GO_MARK = b"\xff Go build ID: \""
DEBUG_ROOT = "/usr/lib/debug"


class DebugFileMismatchError(GosymError):
    """DebugFileMismatchError means a debug file's build ID is not the binary's."""


@dataclass(frozen=True)
class BuildIds:
    """BuildIds are the identities a file carries: GNU build ID (hex), Go
    build ID (its string), Mach-O UUID (hex); each None when absent."""

    gnu: Optional[str] = None
    go: Optional[str] = None
    uuid: Optional[str] = None

    def __bool__(self) -> bool:
        return bool(self.gnu or self.go or self.uuid)


def iter_notes(c: Container, s: Section) -> Iterator[Tuple[bytes, int, bytes]]:
    """iter_notes yields (owner name, type, descriptor) of an ELF note
    section; a truncated note ends the walk (notes are 4-byte aligned)."""
    data = bytes(c.buf[s.offset:s.offset + s.size])
    fmt = ("<" if c.byte_order == "little" else ">") + "III"
    off = 0
    while off + 12 <= len(data):
        namesz, descsz, typ = struct.unpack_from(fmt, data, off)
        name_at = off + 12
        desc_at = name_at + ((namesz + 3) & ~3)
        end = desc_at + ((descsz + 3) & ~3)
        if desc_at + descsz > len(data):
            return
        yield data[name_at:name_at + namesz].rstrip(b"\0"), typ, data[desc_at:desc_at + descsz]
        off = end


def _go_mark(c: Container) -> Optional[str]:
    for s in c.sections:
        if s.name in (".text", "__text") and s.size:
            head = bytes(c.buf[s.offset:s.offset + min(s.size, 4096)])
            i = head.find(GO_MARK)
            if i >= 0:
                j = head.find(b"\"", i + len(GO_MARK))
                if j > 0:
                    return head[i + len(GO_MARK):j].decode("ascii", "replace")
    return None


def _macho_uuid(c: Container) -> Optional[str]:
    buf = c.buf
    base = c.base_offset
    is64 = c.ptr_size == 8
    e = "<" if c.byte_order == "little" else ">"
    if base + 28 > len(buf):
        return None
    ncmds, sizeofcmds = struct.unpack_from(e + "II", buf, base + 16)
    off = base + (32 if is64 else 28)
    end = min(off + sizeofcmds, len(buf))
    for _ in range(ncmds):
        if off + 8 > end:
            break
        cmd, size = struct.unpack_from(e + "II", buf, off)
        if size < 8:
            break
        if cmd == LC_UUID and off + 24 <= end:
            return bytes(buf[off + 8:off + 24]).hex()
        off += size
    return None


def build_ids(c: Container) -> BuildIds:
    """build_ids reads the build IDs of a container (linear in its notes)."""
    gnu = go = uuid = None
    if c.format == "ELF":
        for s in c.sections:
            if s.kind != SHT_NOTE or not s.size:
                continue
            for name, typ, desc in iter_notes(c, s):
                if name == b"GNU" and typ == NT_GNU_BUILD_ID and gnu is None:
                    gnu = desc.hex()
                elif name == b"Go" and typ == NT_GO_BUILDID and go is None:
                    go = desc.decode("ascii", "replace")
    elif c.format == "Mach-O":
        uuid = _macho_uuid(c)
    if go is None and c.format != "ELF":
        go = _go_mark(c)
    return BuildIds(gnu, go, uuid)


def debuglink(c: Container) -> Optional[Tuple[str, int]]:
    """debuglink returns the (file name, CRC-32) of .gnu_debuglink, or None
    [gdb manual, "Separate Debug Files"]."""
    s = c.section(".gnu_debuglink")
    if s is None or not s.size:
        return None
    data = bytes(c.buf[s.offset:s.offset + s.size])
    nul = data.find(b"\0")
    if nul <= 0:
        return None
    at = (nul + 4) & ~3
    if at + 4 > len(data):
        return None
    crc = int.from_bytes(data[at:at + 4], c.byte_order)
    return os.fsdecode(data[:nul]), crc


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
    from gosym.container import detect
    import mmap

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
