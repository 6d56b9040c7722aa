"""Mach-O (thin 32/64-bit, and fat archives by architecture).

Layouts from <mach-o/loader.h>, <mach-o/fat.h> and <mach-o/nlist.h>.
File offsets inside a fat archive's slice are relative to the slice; this
module returns absolute offsets into the whole buffer.
"""
from __future__ import annotations

from typing import Optional

from gosym.container.base import SYMBOL_ENTRY_SIZE, Bytes, Container, Section, Segment, SymtabRef
from gosym.errors import FormatError, UnsupportedError

CPU = {7: "386", 0x01000007: "amd64", 12: "arm", 0x0100000C: "arm64",
       18: "ppc", 0x01000012: "ppc64"}
FILETYPE = {1: "object", 2: "exe", 6: "dylib", 8: "bundle"}
LC_SEGMENT, LC_SYMTAB, LC_SEGMENT_64 = 0x1, 0x2, 0x19
S_ZEROFILL_TYPES = (0x1, 0xC, 0x12)  # S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL
MAX_LOAD_COMMANDS = 1 << 16


def parse_macho(buf, arch: Optional[str] = None) -> Container:
    """parse_macho parses a thin Mach-O, or picks one slice of a fat archive
    (the one for `arch`, else the first)."""
    magic_be = int.from_bytes(bytes(buf[:4]), "big")
    if magic_be in (0xCAFEBABE, 0xCAFEBABF):
        return _parse_fat(buf, arch, magic_be == 0xCAFEBABF)
    return _parse_thin(buf, 0, len(buf))


def _parse_fat(buf, arch: Optional[str], is64: bool) -> Container:
    b = Bytes(buf, "big", "fat header")
    (nfat,) = b.unpack("I", 4)
    entsize = 32 if is64 else 20
    if nfat == 0 or 8 + nfat * entsize > len(buf):
        raise FormatError("bad fat archive header", section="fat header", offset=4)
    slices = []
    for i in range(nfat):
        if is64:
            cputype, _sub, off, size, _al, _res = b.unpack("iiQQII", 8 + i * entsize)
        else:
            cputype, _sub, off, size, _al = b.unpack("iiIII", 8 + i * entsize)
        slices.append((CPU.get(cputype & 0xFFFFFFFF, str(cputype)), off, size))
    chosen = slices[0]
    if arch is not None:
        for s in slices:
            if s[0] == arch:
                chosen = s
                break
        else:
            have = ", ".join(s[0] for s in slices)
            raise UnsupportedError(f"fat archive has no {arch} slice (has {have})")
    _, off, size = chosen
    if off + size > len(buf):
        raise FormatError("fat slice past end of file", section="fat header", offset=8)
    c = _parse_thin(buf, off, size)
    c.kind = c.kind + " (fat: " + ", ".join(s[0] for s in slices) + ")"
    return c


def _parse_thin(buf, base: int, size: int) -> Container:
    head = bytes(buf[base:base + 4])
    if head in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf"):
        order = "big"
    elif head in (b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"):
        order = "little"
    else:
        raise FormatError("bad Mach-O magic", section="Mach-O header", offset=base)
    is64 = head in (b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe")
    b = Bytes(buf, order, "Mach-O header")
    _magic, cputype, _sub, filetype, ncmds, sizeofcmds, _flags = b.unpack("IiiIIII", base)
    c = Container(buf=buf, format="Mach-O", arch=CPU.get(cputype & 0xFFFFFFFF, f"cpu-{cputype}"),
                  byte_order=order, ptr_size=8 if is64 else 4,
                  kind=FILETYPE.get(filetype, str(filetype)), base_offset=base, size=size)
    off = base + (32 if is64 else 28)
    end = off + sizeofcmds
    if end > base + size:
        raise FormatError("load commands past end of file", section="Mach-O header", offset=base)
    # Each command is at least 8 bytes; real files have tens.  The cap keeps
    # a hostile header (millions of 8-byte commands) from costing seconds.
    if ncmds > sizeofcmds // 8 or ncmds > MAX_LOAD_COMMANDS:
        raise FormatError(f"{ncmds} load commands in {sizeofcmds} bytes",
                          section="Mach-O header", offset=base + 16)
    lc = Bytes(buf, order, "Mach-O load commands")
    for _ in range(ncmds):
        cmd, cmdsize = lc.unpack("II", off)
        if cmdsize < 8 or off + cmdsize > end:
            raise FormatError("bad load command size", section="Mach-O load commands", offset=off)
        if cmd in (LC_SEGMENT, LC_SEGMENT_64):
            seg64 = cmd == LC_SEGMENT_64
            if seg64:
                (segname, vmaddr, vmsize, fileoff, filesize, _maxp, initprot, nsects,
                 _fl) = lc.unpack("16sQQQQiiII", off + 8)
                sect_off, sect_size = off + 72, 80
            else:
                (segname, vmaddr, vmsize, fileoff, filesize, _maxp, initprot, nsects,
                 _fl) = lc.unpack("16sIIIIiiII", off + 8)
                sect_off, sect_size = off + 56, 68
            seg = segname.split(b"\0", 1)[0].decode("utf-8", "replace")
            mapped = vmsize > 0 and seg != "__PAGEZERO"
            if mapped:
                fsz = min(filesize, max(0, size - fileoff))
                c.segments.append(Segment(name=seg, addr=vmaddr, mem_size=vmsize,
                                          offset=base + fileoff, file_size=fsz, flags=initprot))
            if sect_off + nsects * sect_size > off + cmdsize:
                raise FormatError("sections past end of load command",
                                  section="Mach-O load commands", offset=off)
            for k in range(nsects):
                so = sect_off + k * sect_size
                if seg64:
                    sectname, _sg, addr, ssize, soff, _a, _ro, _nr, sflags, _r1, _r2, _r3 = \
                        lc.unpack("16s16sQQIIIIIIII", so)
                else:
                    sectname, _sg, addr, ssize, soff, _a, _ro, _nr, sflags, _r1, _r2 = \
                        lc.unpack("16s16sIIIIIIIII", so)
                name = sectname.split(b"\0", 1)[0].decode("utf-8", "replace")
                zerofill = (sflags & 0xFF) in S_ZEROFILL_TYPES
                file_size = 0 if zerofill or soff == 0 else ssize
                if file_size and soff + file_size > size:
                    raise FormatError(f"section {name} extends past end of file",
                                      section=name, offset=base + soff)
                c.sections.append(Section(name=name, addr=addr, offset=base + soff if soff else 0,
                                          size=file_size, mem_size=ssize, mapped=mapped,
                                          flags=sflags, kind=sflags & 0xFF, segment=seg))
        elif cmd == LC_SYMTAB:
            symoff, nsyms, stroff, strsize = lc.unpack("IIII", off + 8)
            kind = "macho64" if is64 else "macho32"
            entsize = SYMBOL_ENTRY_SIZE[kind]
            if symoff + nsyms * entsize <= size and stroff + strsize <= size:
                c.symtabs.append(SymtabRef(kind=kind,
                                           offset=base + symoff, count=nsyms,
                                           str_offset=base + stroff, str_size=strsize,
                                           name="LC_SYMTAB"))
        off += cmdsize
    return c
