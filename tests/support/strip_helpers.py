"""Helpers that make stripped and header-less twins of ELF binaries, for
tests/differential/test_stripped.py (issue 6: results must match the unstripped file)."""
from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path
from typing import Optional


def drop_section_headers(data: bytes) -> bytes:
    """drop_section_headers returns a copy of the ELF image with every section
    header gone: e_shoff, e_shnum and e_shstrndx zeroed (the table's bytes stay
    where they were, unreferenced), as a loader-only view of the file would
    be.  Program headers are untouched."""
    if data[:4] != b"\x7fELF":
        raise ValueError("not an ELF file")
    out = bytearray(data)
    E = ">" if data[5] == 2 else "<"
    if data[4] == 2:   # ELFCLASS64
        struct.pack_into(E + "Q", out, 0x28, 0)      # e_shoff
        struct.pack_into(E + "HH", out, 0x3C, 0, 0)  # e_shnum, e_shstrndx
    else:
        struct.pack_into(E + "I", out, 0x20, 0)
        struct.pack_into(E + "HH", out, 0x30, 0, 0)
    return bytes(out)


def drop_coff_symbols(data: bytes) -> bytes:
    """drop_coff_symbols returns a copy of the PE image whose COFF file
    header no longer points at a symbol table (PointerToSymbolTable and
    NumberOfSymbols zeroed), as `strip` or `-ldflags=-s` leave it."""
    if data[:2] != b"MZ":
        raise ValueError("not a PE file")
    out = bytearray(data)
    lfanew = struct.unpack_from("<I", data, 0x3C)[0]
    struct.pack_into("<II", out, lfanew + 12, 0, 0)
    return bytes(out)


def strip_tool() -> Optional[str]:
    """strip_tool returns binutils strip (or llvm-strip), or None."""
    return shutil.which("strip") or shutil.which("llvm-strip")


def strip_all(path: str, workdir: Path) -> bytes:
    """strip_all runs `strip --strip-all` on a copy of path in workdir and
    returns the stripped bytes (the original file is not touched)."""
    dst = workdir / (Path(path).name + ".stripped")
    err = "no strip tool"
    # binutils first; Debian's plain `strip` knows only the host's ELF
    # machines, so foreign targets (arm64, s390x, ...) fall back to
    # llvm-strip, which reads every ELF machine.
    for tool in (shutil.which("strip"), shutil.which("llvm-strip")):
        if tool is None:
            continue
        shutil.copyfile(path, dst)
        p = subprocess.run([tool, "--strip-all", str(dst)], capture_output=True)
        if p.returncode == 0:
            return dst.read_bytes()
        err = f"{tool}: {p.stderr.decode(errors='replace').strip()}"
    raise RuntimeError(err)


def raw_image(data: bytes):
    """raw_image returns (image, base): the ELF file's PT_LOAD segments laid
    out as a memory dump holds them, each segment's file bytes at
    vaddr - base in one zero-filled buffer (base: the first segment's
    address rounded down to a page; bss and gaps stay zero)."""
    E = ">" if data[5] == 2 else "<"
    if data[4] == 2:
        phoff, = struct.unpack_from(E + "Q", data, 0x20)
        phentsize, phnum = struct.unpack_from(E + "HH", data, 0x36)
        fmt, fields = E + "IIQQQQQQ", (2, 3, 5)          # p_offset, p_vaddr, p_filesz
    else:
        phoff, = struct.unpack_from(E + "I", data, 0x1C)
        phentsize, phnum = struct.unpack_from(E + "HH", data, 0x2A)
        fmt, fields = E + "IIIIIIII", (1, 2, 4)
    segs = []
    for i in range(phnum):
        ph = struct.unpack_from(fmt, data, phoff + i * phentsize)
        if ph[0] == 1:   # PT_LOAD
            segs.append(tuple(ph[k] for k in fields))
    base = min(v for _o, v, _n in segs) & ~0xFFF
    image = bytearray(max(v + n for _o, v, n in segs) - base)
    for off, va, n in segs:
        image[va - base:va - base + n] = data[off:off + n]
    return bytes(image), base
