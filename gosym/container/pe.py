"""PE/COFF (PE32 and PE32+): sections, image base, COFF symbol table.

Layouts from the Microsoft PE/COFF specification: "MS-DOS Stub", "COFF File
Header", "Optional Header", "Section Table", "COFF Symbol Table", "COFF
String Table".  Long section names ("/123") resolve through the string table.
"""
from __future__ import annotations

from gosym.container.base import SYMBOL_ENTRY_SIZE, Bytes, Container, Section, Segment, SymtabRef
from gosym.errors import FormatError

MACHINES = {0x14C: "386", 0x8664: "amd64", 0xAA64: "arm64", 0x1C4: "arm", 0x1C0: "arm"}
IMAGE_SCN_CNT_UNINITIALIZED_DATA = 0x80


def parse_pe(buf) -> Container:
    """parse_pe reads the PE headers and section table of buf."""
    n = len(buf)
    b = Bytes(buf, "little", "PE header")
    (lfanew,) = b.unpack("I", 0x3C)
    if bytes(buf[lfanew:lfanew + 4]) != b"PE\0\0":
        raise FormatError("missing PE signature", section="PE header", offset=lfanew)
    machine, nsect, _ts, symptr, nsyms, opt_size, chars = b.unpack("HHIIIHH", lfanew + 4)
    opt = lfanew + 24
    (magic,) = b.unpack("H", opt) if opt_size >= 2 else (0,)
    if magic == 0x20B:
        ptr_size = 8
        (image_base,) = b.unpack("Q", opt + 24)
    elif magic == 0x10B:
        ptr_size = 4
        (image_base,) = b.unpack("I", opt + 28)
    else:
        raise FormatError(f"unknown optional header magic {magic:#x}", section="PE header", offset=opt)
    c = Container(buf=buf, format="PE", arch=MACHINES.get(machine, f"pe-machine-{machine:#x}"),
                  byte_order="little", ptr_size=ptr_size,
                  kind="dll" if chars & 0x2000 else "exe", image_base=image_base, size=n)
    strtab = 0
    strsize = 0
    entsize = SYMBOL_ENTRY_SIZE["coff"]
    if symptr and symptr + nsyms * entsize + 4 <= n:
        strtab = symptr + nsyms * entsize
        (strsize,) = b.unpack("I", strtab)
        strsize = min(strsize, n - strtab)
        c.symtabs.append(SymtabRef(kind="coff", offset=symptr, count=nsyms,
                                   str_offset=strtab, str_size=strsize, name="COFF"))
    sect = opt + opt_size
    if sect + nsect * 40 > n:
        raise FormatError("section table past end of file", section="PE header", offset=sect)
    names = Bytes(buf, "little", "COFF string table")
    for i in range(nsect):
        raw_name, vsize, vaddr, rawsize, rawptr, _r, _l, _nr, _nl, schars = \
            b.unpack("8sIIIIIIHHI", sect + i * 40)
        name = raw_name.split(b"\0", 1)[0].decode("utf-8", "replace")
        if name.startswith("/") and name[1:].isdigit() and strtab:
            k = int(name[1:])
            if k < strsize:
                name = names.cstr(strtab + k, strsize - k)
        file_size = 0 if schars & IMAGE_SCN_CNT_UNINITIALIZED_DATA else min(rawsize, vsize or rawsize)
        if file_size and rawptr + file_size > n:
            raise FormatError(f"section {name} extends past end of file", section=name, offset=rawptr)
        addr = image_base + vaddr
        c.sections.append(Section(name=name, addr=addr, offset=rawptr if file_size else 0,
                                  size=file_size, mem_size=vsize, mapped=True, flags=schars))
        c.segments.append(Segment(name=name, addr=addr, mem_size=vsize, offset=rawptr,
                                  file_size=file_size, flags=schars))
    return c
