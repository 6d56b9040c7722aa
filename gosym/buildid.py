"""Build IDs: the identifiers profilers record to tell one build from another.

An ELF file may carry notes (gABI "Note Section": namesz, descsz, type, then
the name and the descriptor, each padded to 4 bytes) named "GNU" with type 3
(NT_GNU_BUILD_ID, a hash printed as hex by readelf, perf and runtime/pprof)
and "Go" with type 4 (the Go build ID string, cmd/internal/buildid).  Other
formats keep the Go build ID at the start of the text as
`\\xff Go build ID: "..."\\n \\xff`.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterator, Optional, Tuple

from gosym.container import Container

SHT_NOTE = 7
NT_GNU_BUILD_ID = 3
NT_GO_BUILD_ID = 4
TEXT_MARK = b"\xff Go build ID: \""
MAX_ID = 1024


@dataclass(frozen=True)
class BuildIDs:
    """BuildIDs holds a binary's GNU build ID (lower-case hex) and Go build
    ID (text), each None when absent."""

    gnu: Optional[str] = None
    go: Optional[str] = None

    def matches(self, text: str) -> bool:
        """matches tells whether a recorded build ID (a pprof Mapping.build_id,
        perf's hex) names this binary: equal to the GNU ID (case-insensitive)
        or to the Go ID."""
        t = text.strip()
        if not t:
            return False
        return (self.gnu is not None and t.lower() == self.gnu) or (self.go is not None and t == self.go)


def _notes(c: Container, offset: int, size: int) -> Iterator[Tuple[bytes, int, bytes]]:
    """The (name, type, descriptor) of each note in [offset, offset+size),
    every length checked against the range and the file."""
    order = "<" if c.byte_order == "little" else ">"
    end = min(offset + size, len(c.buf))
    pos = offset
    while pos + 12 <= end:
        namesz, descsz, typ = struct.unpack_from(order + "III", c.buf, pos)
        name_at = pos + 12
        desc_at = name_at + ((namesz + 3) & ~3)
        nxt = desc_at + ((descsz + 3) & ~3)
        if nxt > end or desc_at + descsz > end:
            return
        yield bytes(c.buf[name_at:name_at + namesz]).rstrip(b"\0"), typ, bytes(c.buf[desc_at:desc_at + descsz])
        pos = nxt


def read_build_ids(c: Container) -> BuildIDs:
    """read_build_ids finds the GNU and Go build IDs of a container (ELF note
    sections; the Go ID also at the start of the text in any format).  Reads
    the note sections and at most 4 KiB of text."""
    gnu = go = None
    if c.format == "ELF":
        for s in c.sections:
            if s.kind != SHT_NOTE or not s.size:
                continue
            for name, typ, desc in _notes(c, s.offset, s.size):
                if name == b"GNU" and typ == NT_GNU_BUILD_ID and gnu is None and 0 < len(desc) <= MAX_ID:
                    gnu = desc.hex()
                elif name == b"Go" and typ == NT_GO_BUILD_ID and go is None and 0 < len(desc) <= MAX_ID:
                    go = desc.decode("utf-8", "replace")
    if go is None:
        text = c.section(".text", "__text")
        if text is not None and text.size:
            head = bytes(c.buf[text.offset:text.offset + min(text.size, 4096)])
            at = head.find(TEXT_MARK)
            if at >= 0:
                tail = head[at + len(TEXT_MARK):]
                q = tail.find(b"\"")
                if 0 < q <= MAX_ID:
                    go = tail[:q].decode("utf-8", "replace")
    return BuildIDs(gnu=gnu, go=go)
