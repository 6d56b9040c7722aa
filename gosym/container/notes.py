"""Identities a file carries: build IDs (ELF notes, Go's text mark, Mach-O
LC_UUID) and .gnu_debuglink.  The one reader of each; gosym.buildid
(profiles) and gosym.debugfile (separate debug files) use it.

ELF notes [gABI "Note Section"]: namesz, descsz, type, then the name and the
descriptor, each padded to 4 bytes.  Owner "GNU" type 3 (NT_GNU_BUILD_ID, a
hash printed as hex by readelf, perf and runtime/pprof; ld --build-id and
`go build -ldflags=-B=...` write it) and owner "Go" type 4 (Go's build ID
string, cmd/link/internal/ld/elf.go: ELF_NOTE_GOBUILDID_TAG).  Outside ELF,
Go keeps its build ID at the start of the text as
`\\xff Go build ID: "..."\\n \\xff` (cmd/internal/buildid).  Mach-O's
LC_UUID is a 16-byte identity.  .gnu_debuglink [gdb manual, "Separate
Debug Files"] is a file name, padding to 4 bytes, then a CRC-32.

What does not live here: matching a debug file to its binary and the
search paths (gosym.debugfile); reading build info (gosym.buildinfo).
"""
from __future__ import annotations

import os
import struct
from typing import Iterator, Optional, Tuple

from gosym.container.base import Container, Section
from gosym.records import Record

SHT_NOTE = 7
NT_GNU_BUILD_ID = 3
NT_GO_BUILD_ID = 4
LC_UUID = 0x1B
GO_MARK = b"\xff Go build ID: \""
MAX_ID = 1024           # longest build ID taken (real ones: 20-byte hash, ~80-char Go ID)
TEXT_HEAD = 4096        # bytes of text searched for the Go mark
RAW_HEAD = 1 << 16      # a raw image (no sections): bytes searched from its start


class BuildIds(Record, frozen=True):
    """BuildIds are the identities a file carries: GNU build ID (lower-case
    hex), Go build ID (its string), Mach-O UUID (hex); each None when absent."""

    gnu: Optional[str] = None
    go: Optional[str] = None
    uuid: Optional[str] = None

    def __bool__(self) -> bool:
        return bool(self.gnu or self.go or self.uuid)

    def matches(self, text: str) -> bool:
        """matches tells whether a recorded build ID (a pprof Mapping.build_id,
        perf's hex) names this binary: equal to the GNU ID (case-insensitive)
        or to the Go ID."""
        t = text.strip()
        if not t:
            return False
        return (self.gnu is not None and t.lower() == self.gnu) or (self.go is not None and t == self.go)


def iter_notes(c: Container, s: Section) -> Iterator[Tuple[bytes, int, bytes]]:
    """iter_notes yields (owner name, type, descriptor) of each note in an
    ELF note section; every length is checked against the section and the
    file, and a truncated note ends the walk."""
    order = "<" if c.byte_order == "little" else ">"
    start = s.offset
    end = min(s.offset + s.size, len(c.buf))
    pos = start
    while pos + 12 <= end:
        namesz, descsz, typ = struct.unpack_from(order + "III", c.buf, pos)
        name_at = pos + 12
        desc_at = name_at + ((namesz + 3) & ~3)
        nxt = desc_at + ((descsz + 3) & ~3)
        if desc_at + descsz > end:
            return
        yield (bytes(c.buf[name_at:name_at + namesz]).rstrip(b"\0"), typ,
               bytes(c.buf[desc_at:desc_at + descsz]))
        pos = nxt


def go_text_mark(c: Container) -> Optional[str]:
    """go_text_mark returns the Go build ID written at the start of the
    text (`\\xff Go build ID: "..."`), or None.  Reads at most 4 KiB of
    .text/__text, or of a raw image's first 64 KiB."""
    heads = []
    for s in c.sections:
        if s.name in (".text", "__text") and s.size:
            heads.append((s.offset, min(s.size, TEXT_HEAD)))
    if not c.sections and c.format == "raw":
        heads.append((0, min(len(c.buf), RAW_HEAD)))
    for off, n in heads:
        head = bytes(c.buf[off:off + n])
        at = head.find(GO_MARK)
        if at >= 0:
            tail = head[at + len(GO_MARK):]
            q = tail.find(b"\"")
            if 0 < q <= MAX_ID:
                return tail[:q].decode("utf-8", "replace")
    return None


def macho_uuid(c: Container) -> Optional[str]:
    """macho_uuid returns a Mach-O file's LC_UUID as hex, or None (walks the
    load commands, each size checked against sizeofcmds and the file)."""
    if c.format != "Mach-O":
        return None
    buf = c.buf
    base = c.base_offset
    e = "<" if c.byte_order == "little" else ">"
    if base + 28 > len(buf):
        return None
    ncmds, sizeofcmds = struct.unpack_from(e + "II", buf, base + 16)
    off = base + (32 if c.ptr_size == 8 else 28)
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


def read_build_ids(c: Container) -> BuildIds:
    """read_build_ids finds the GNU and Go build IDs and the Mach-O UUID of
    a container: ELF note sections; the Go ID, when no note has it, at the
    start of the text in any format.  Linear in the notes; reads at most
    4 KiB of text."""
    gnu = go = None
    if c.format == "ELF":
        for s in c.sections:
            if s.kind != SHT_NOTE or not s.size:
                continue
            for name, typ, desc in iter_notes(c, s):
                if name == b"GNU" and typ == NT_GNU_BUILD_ID and gnu is None and 0 < len(desc) <= MAX_ID:
                    gnu = desc.hex()
                elif name == b"Go" and typ == NT_GO_BUILD_ID and go is None and 0 < len(desc) <= MAX_ID:
                    go = desc.decode("utf-8", "replace")
    if go is None:
        go = go_text_mark(c)
    return BuildIds(gnu=gnu, go=go, uuid=macho_uuid(c))


def debuglink(c: Container) -> Optional[Tuple[str, int]]:
    """debuglink returns the (file name, CRC-32) of .gnu_debuglink, or None."""
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


__all__ = ["BuildIds", "GO_MARK", "NT_GNU_BUILD_ID", "NT_GO_BUILD_ID", "SHT_NOTE", "debuglink",
           "go_text_mark", "iter_notes", "macho_uuid", "read_build_ids"]
