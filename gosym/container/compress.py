"""Compressed sections: the one reader of their headers, and inflating them.

ELF SHF_COMPRESSED sections start with an Elf32_Chdr/Elf64_Chdr [gABI
"Section Compression"]: type (1 zlib, 2 zstd), size, alignment.  Legacy GNU
`.zdebug_*` sections start with "ZLIB" and an 8-byte big-endian size.
`gosym cost` reads only the header (the declared size); DWARF reading
(gosym.dwarf.sections) inflates.  Every declared size is checked against a
ratio cap before anything is inflated and against the output after, so a
decompression bomb gives FormatError, not memory.

zlib streams are inflated by ISA-L (the `isal` package, the `fast` extra)
when it is installed, about 2.5x faster than zlib on debug sections, else by
Python's zlib; both take the same capped path (a decompressobj, each call
allowed one byte past the declared size, the output checked against it as
it comes) and release the GIL while they inflate.  The input is fed 1 MB
at a time (256 KB for the units read beside the rows): ISA-L spends a third
more instructions when each call gets 16 KB (small output buffers go
through its own staging buffer and are grown by copying).  Once a section
is inflated, the pages of its compressed bytes are dropped from the
process's mapping of the file (_release).

What does not live here: which sections are DWARF and their names
(gosym.dwarf.sections).
"""
from __future__ import annotations

import mmap
import struct
import zlib
from typing import Any, Iterator, NamedTuple, Optional

from gosym.container.base import Container, Section
from gosym.errors import FormatError, UnsupportedError

SHF_COMPRESSED = 0x800
ELFCOMPRESS_ZLIB, ELFCOMPRESS_ZSTD = 1, 2
METHODS = {ELFCOMPRESS_ZLIB: "zlib", ELFCOMPRESS_ZSTD: "zstd"}

# A declared decompressed size above this multiple of the compressed bytes
# is refused before inflating anything (deflate cannot exceed ~1032:1; real
# debug sections compress 3-10:1).
MAX_RATIO = 1100
MAX_SECTION = 1 << 32


class Compression(NamedTuple):
    """Compression is what a compressed section's header says: `kind`
    ("zlib" or "zstd" for SHF_COMPRESSED, "zdebug" for a .zdebug section),
    `method` ("zlib", "zstd", or "type-N" for an unknown ELF type),
    the declared inflated `size`, and `header` bytes before the stream."""

    kind: str
    method: str
    size: int
    header: int


def compression(c: Container, s: Section) -> Optional[Compression]:
    """compression reads the compression header of section s: None when it
    is stored plain; FormatError when the header is truncated or a .zdebug
    section lacks its "ZLIB" mark."""
    if not s.size:
        return None
    if c.format == "ELF" and s.flags & SHF_COMPRESSED:
        order = ">" if c.byte_order == "big" else "<"
        if c.ptr_size == 8:
            hdr = 24
            if s.size < hdr:
                raise FormatError("compression header truncated", section=s.name, offset=s.offset)
            ch_type, _res, ch_size, _align = struct.unpack_from(order + "IIQQ", c.buf, s.offset)
        else:
            hdr = 12
            if s.size < hdr:
                raise FormatError("compression header truncated", section=s.name, offset=s.offset)
            ch_type, ch_size, _align = struct.unpack_from(order + "III", c.buf, s.offset)
        method = METHODS.get(ch_type, f"type-{ch_type}")
        return Compression(method, method, ch_size, hdr)
    if "zdebug" in s.name:
        head = bytes(c.buf[s.offset:s.offset + 12])
        if head[:4] != b"ZLIB" or s.size < 12:
            raise FormatError("missing ZLIB header of a .zdebug section", section=s.name, offset=s.offset)
        return Compression("zdebug", "zlib", int.from_bytes(head[4:12], "big"), 12)
    return None


_ZLIB: Any = None


def zlib_module() -> Any:
    """zlib_module returns the inflater used for zlib streams: isal.isal_zlib
    (ISA-L) when installed, else zlib (the same API), imported on first use."""
    global _ZLIB
    if _ZLIB is None:
        try:
            from isal import isal_zlib  # type: ignore[import-not-found]
            _ZLIB = isal_zlib
        except ImportError:
            _ZLIB = zlib
    return _ZLIB


def _zstd_decompress(data: Any, size: int, what: str) -> bytes:
    try:
        from compression import zstd as _std  # type: ignore[import-not-found]  # Python 3.14+
    except ImportError:
        _std = None
    if _std is not None:
        out = bytearray()
        rest = bytes(data)
        while rest and len(out) <= size:
            d = _std.ZstdDecompressor()
            out += d.decompress(rest, max_length=size + 1 - len(out))
            if not d.eof:
                break
            rest = d.unused_data
        return bytes(out)
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        raise UnsupportedError(f"{what} is compressed with zstd: install the 'zstandard' package "
                               "(pip install zstandard) to read it") from None
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(bytes(data), read_across_frames=True)
        chunks = []
        got = 0
        while got <= size:
            chunk = reader.read(size + 1 - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)
    except zstandard.ZstdError as e:
        raise FormatError(f"bad zstd data: {e}", section=what) from None


# Compressed input is fed to the inflater this many bytes at a time (the
# output comes in pieces of about 3-10 times that on debug sections), each
# call allowed at most one byte past the declared size.  On hovel's 3.4 MB
# .debug_info, ISA-L takes 174M instructions in 16 KB steps, 145M in 256 KB
# steps and 136M in 1 MB steps (about as one call over the whole input).
_STEP = 1 << 20


def inflate_chunks(method: str, data: Any, size: int, what: str, offset: int,
                   step: int = _STEP) -> Iterator[bytes]:
    """inflate_chunks inflates `data` ("zlib" or "zstd") whose header
    declared `size` bytes, yielding the output a piece at a time (a reader
    that needs only part of it at once keeps only that).  The size is
    checked against a ratio cap first, as the stream goes and at its end (a
    decompression bomb gives FormatError, not memory).  `step` is the
    compressed bytes fed per call (zlib)."""
    if method not in ("zlib", "zstd"):
        kind = method[5:] if method.startswith("type-") else method
        raise UnsupportedError(f"{what}: unknown ELF compression type {kind}")
    if size > MAX_RATIO * len(data) + 4096 or size > MAX_SECTION:
        raise FormatError(f"declared decompressed size {size} too large for {len(data)} compressed bytes",
                          section=what, offset=offset)
    got = 0
    if method == "zlib":
        z = zlib_module()
        d = z.decompressobj()
        view = memoryview(data)
        for k in range(0, len(view), step):
            piece = view[k:k + step]
            while True:
                try:
                    # Never more than one byte past the declared size.
                    out = d.decompress(piece, size + 1 - got)
                except z.error as e:
                    raise FormatError(f"bad zlib data: {e}", section=what, offset=offset) from None
                got += len(out)
                if got > size:
                    raise FormatError(f"decompressed {got} bytes, header declared {size}", section=what,
                                      offset=offset)
                if out:
                    yield out
                piece = d.unconsumed_tail
                if not piece or d.eof:
                    break
            if d.eof:
                break
    else:
        out = _zstd_decompress(data, size, what)
        got = len(out)
        if got <= size:
            yield out
    if got != size:
        raise FormatError(f"decompressed {got} bytes, header declared {size}", section=what, offset=offset)


def decompress(method: str, data: Any, size: int, what: str, offset: int) -> bytes:
    """decompress inflates `data` ("zlib" or "zstd") whose header declared
    `size` bytes, whole (inflate_chunks, joined); the size is checked
    against a ratio cap first and against the output as it comes (a
    decompression bomb gives FormatError, not memory)."""
    return b"".join(inflate_chunks(method, data, size, what, offset))


def section_chunks(c: Container, s: Section, step: int = _STEP) -> Iterator[Any]:
    """section_chunks yields the bytes of section s in pieces: inflated as
    the stream goes when compressed (inflate_chunks, `step` compressed bytes
    at a time), else one zero-copy view of the file."""
    view = memoryview(c.buf)[s.offset:s.offset + s.size]
    comp = compression(c, s)
    if comp is None:
        yield view
        return
    yield from inflate_chunks(comp.method, view[comp.header:], comp.size, s.name, s.offset, step)
    _release(c, s)


def _release(c: Container, s: Section) -> None:
    """Once section s is inflated, drop the pages of its stored bytes from
    this process's mapping of the file (madvise MADV_DONTNEED: the file
    stays in the page cache, and a later read maps them again), so the
    compressed bytes are not counted beside what was inflated from them."""
    advise = getattr(c.buf, "madvise", None)
    flag = getattr(mmap, "MADV_DONTNEED", None)
    if advise is None or flag is None:
        return
    page = mmap.PAGESIZE
    lo = -(-s.offset // page) * page
    hi = (s.offset + s.size) // page * page
    if hi > lo:
        try:
            advise(flag, lo, hi - lo)
        except (OSError, ValueError):
            pass


def section_data(c: Container, s: Section) -> "tuple[Any, str]":
    """section_data returns (bytes, compression kind) of section s:
    inflated when compressed (the pieces copied into one bytearray of the
    declared size as they come, never joined; a section inflated in one
    piece is kept as is), else a zero-copy view of the file and "none"."""
    view = memoryview(c.buf)[s.offset:s.offset + s.size]
    comp = compression(c, s)
    if comp is None:
        return view, "none"
    out: Any = None
    got = 0
    # inflate_chunks checks the declared size before the first piece, and
    # the total against it as it goes: no piece writes past the end.
    for piece in inflate_chunks(comp.method, view[comp.header:], comp.size, s.name, s.offset):
        if out is None:
            if len(piece) == comp.size:
                out, got = piece, len(piece)      # whole in one piece: kept as is
                continue
            out = bytearray(comp.size)
        out[got:got + len(piece)] = piece
        got += len(piece)
    _release(c, s)
    return (out if out is not None else b""), comp.kind


__all__ = ["Compression", "ELFCOMPRESS_ZLIB", "ELFCOMPRESS_ZSTD", "MAX_RATIO", "MAX_SECTION", "SHF_COMPRESSED",
           "compression", "decompress", "inflate_chunks", "section_chunks", "section_data", "zlib_module"]
