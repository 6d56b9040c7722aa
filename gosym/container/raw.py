"""Raw images: bytes with no container headers at all.

A raw image is a memory dump (a core-dump segment, a process's text and
rodata read from /proc/PID/mem) or a file whose container headers cannot be
parsed.  It is one segment: buf[0] is loaded at `base_address`.  Byte order
and pointer size come from the pclntab header found by scanning (magic, two
zero bytes, quantum, pointer size); when the base address is not known it is
inferred from runtime.firstmoduledata, whose first word points at the table
(gosym/pclntab.py: find_moduledata).

The container layer does not know the pclntab: parse_raw gets the table
scanner as an argument (gosym.pclntab.scan_raw), so this module imports
nothing above it.
"""
from __future__ import annotations

import struct
from typing import Any, Callable, List, Optional, Tuple

from gosym.container.base import Container, Segment


class RawContainer(Container):
    """RawContainer is a header-less image: one segment at base_address.

    base_from says where the base came from: "given" (the caller),
    "moduledata" (inferred from the moduledata's pointer to the pclntab) or
    "assumed" (0: addresses are buffer offsets)."""

    base_from: str = "assumed"
    moduledata: Optional[int] = None          # virtual address, when found
    scan_hit: Optional[Tuple[int, int]] = None  # (offset, size) of the pclntab found
    notes: List[str] = []                     # set per instance by raw_container

    @property
    def base_address(self) -> int:
        """base_address is the virtual address of buf[0]."""
        return self.segments[0].addr if self.segments else 0

    def rebase(self, base: int, source: str) -> None:
        """rebase moves the image to a new base address."""
        n = len(self.buf)  # type: ignore[arg-type]
        self.segments = [Segment(name="raw", addr=base, mem_size=n, offset=0, file_size=n, flags=7)]
        self.base_from = source


def sniff_arch(buf) -> Tuple[Optional[str], Optional[str], Optional[int]]:
    """sniff_arch reads (arch, byte order, pointer size) from the first bytes
    of a damaged ELF, Mach-O or PE file (only fixed-offset fields), or Nones."""
    head = bytes(buf[:0x200])
    try:
        if head[:4] == b"\x7fELF" and len(head) >= 20 and head[4] in (1, 2) and head[5] in (1, 2):
            from gosym.container.elf import MACHINES
            order: Any = "little" if head[5] == 1 else "big"
            machine = int.from_bytes(head[18:20], order)
            arch = MACHINES.get(machine)
            if machine == 0x15 and order == "little":
                arch = "ppc64le"
            return arch, order, 8 if head[4] == 2 else 4
        if head[:2] == b"MZ" and len(head) >= 0x40:
            from gosym.container.pe import MACHINES as PE_MACHINES
            lfanew = struct.unpack_from("<I", head, 0x3C)[0]
            if lfanew + 6 <= len(head) and head[lfanew:lfanew + 4] == b"PE\0\0":
                machine = struct.unpack_from("<H", head, lfanew + 4)[0]
                arch = PE_MACHINES.get(machine)
                return arch, "little", 4 if arch in ("386", "arm") else 8 if arch else None
        if len(head) >= 8 and head[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe",
                                           b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce"):
            from gosym.container.macho import CPU
            order = "little" if head[0] in (0xCF, 0xCE) else "big"
            cpu = int.from_bytes(head[4:8], order)
            return CPU.get(cpu), order, 8 if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf") else 4
    except (struct.error, IndexError):
        pass
    return None, None, None


Scanner = Callable[[RawContainer], Optional[Tuple[int, int]]]


def parse_raw(buf, base_address: Optional[int] = None, arch: Optional[str] = None,
              hint: Tuple[Optional[str], Optional[int]] = (None, None), *,
              scan: Scanner) -> RawContainer:
    """parse_raw views buf as a raw image loaded at base_address (None: to be
    inferred; 0 until then).  `scan` (gosym.pclntab.scan_raw) searches it
    for a pclntab header in any byte order and pointer size and returns the
    (offset, size) of the first valid table, whose header sets both; with
    none, the container has the `hint` (byte order, pointer size), else
    little-endian 64-bit, and no scan_hit (locate then raises
    NotGoBinaryError)."""
    n = len(buf)
    c = RawContainer(buf=buf, format="raw", arch=arch or "unknown", byte_order="little",
                     ptr_size=8, kind="raw", size=n)
    c.notes = []
    c.rebase(base_address or 0, "given" if base_address is not None else "assumed")
    hit = scan(c)
    if hit is not None:
        c.scan_hit = hit
    elif hint[0] and hint[1]:
        c.byte_order, c.ptr_size = hint[0], hint[1]
    return c
