"""ELF (32/64-bit, either byte order): sections, PT_LOAD segments, symbol tables.

Layouts from the System V gABI, "ELF Header", "Sections", "Program Header".
"""
from __future__ import annotations

import struct
from typing import Dict, Optional

from gosym.container.base import SYMBOL_ENTRY_SIZE, Bytes, Container, Section, Segment, SymtabRef
from gosym.errors import FormatError

ET = {1: "REL", 2: "EXEC", 3: "DYN", 4: "CORE"}

# e_machine -> GOARCH (ppc64 byte order decides ppc64 vs ppc64le).
MACHINES = {3: "386", 0x3E: "amd64", 0x28: "arm", 0xB7: "arm64", 0x15: "ppc64",
            0x16: "s390x", 0xF3: "riscv64", 8: "mips", 0x102: "loong64", 0x14: "ppc"}

SHT_SYMTAB, SHT_NOBITS, SHT_DYNSYM, SHT_RELA, SHT_REL = 2, 8, 11, 4, 9
SHF_ALLOC = 0x2
PT_LOAD = 1

# R_*_RELATIVE relocation types per machine (psABI of each architecture).
RELATIVE = {0x3E: 8, 3: 8, 0xB7: 1027, 0x28: 23, 0x15: 22, 0x16: 12, 0xF3: 3, 0x102: 3}


class ElfContainer(Container):
    """ElfContainer adds ELF-only facts: machine number and dynamic relocations."""

    machine: int = 0
    _relative: Optional[Dict[int, int]] = None

    def relocated_word(self, va: int) -> Optional[int]:
        if self._relative is None:
            self._relative = self._load_relative()
        return self._relative.get(va)

    def _load_relative(self) -> Dict[int, int]:
        out: Dict[int, int] = {}
        rtype = RELATIVE.get(self.machine)
        if rtype is None:
            return out
        big = self.byte_order == "big"
        for s in self.sections:
            if s.kind != SHT_RELA or not s.size:
                continue
            if self.ptr_size == 8:
                fmt = (">" if big else "<") + "QQq"
                for off, info, addend in struct.iter_unpack(fmt, self.buf[s.offset:s.offset + s.size - s.size % 24]):
                    if info & 0xFFFFFFFF == rtype:
                        out[off] = addend & 0xFFFFFFFFFFFFFFFF
            else:
                fmt = (">" if big else "<") + "IIi"
                for off, info, addend in struct.iter_unpack(fmt, self.buf[s.offset:s.offset + s.size - s.size % 12]):
                    if info & 0xFF == rtype:
                        out[off] = addend & 0xFFFFFFFF
        return out


def parse_elf(buf) -> ElfContainer:
    """parse_elf reads the ELF header, section and program headers of buf."""
    n = len(buf)
    if n < 52:
        raise FormatError("ELF header truncated", section="ELF header", offset=0)
    ei_class, ei_data = buf[4], buf[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise FormatError("bad ELF class or data encoding", section="ELF header", offset=4)
    order = "little" if ei_data == 1 else "big"
    is64 = ei_class == 2
    b = Bytes(buf, order, "ELF header")
    if is64:
        (e_type, e_machine, _v, _entry, e_phoff, e_shoff, _fl, _ehs, e_phentsize, e_phnum,
         e_shentsize, e_shnum, e_shstrndx) = b.unpack("HHIQQQIHHHHHH", 16)
    else:
        (e_type, e_machine, _v, _entry, e_phoff, e_shoff, _fl, _ehs, e_phentsize, e_phnum,
         e_shentsize, e_shnum, e_shstrndx) = b.unpack("HHIIIIIHHHHHH", 16)
    arch = MACHINES.get(e_machine, f"elf-machine-{e_machine}")
    if e_machine == 0x15 and order == "little":
        arch = "ppc64le"
    c = ElfContainer(buf=buf, format="ELF", arch=arch, byte_order=order,
                     ptr_size=8 if is64 else 4, kind=ET.get(e_type, str(e_type)), size=n)
    c.machine = e_machine

    # Program headers: PT_LOAD segments are what the loader maps.
    ph = Bytes(buf, order, "ELF program headers")
    if e_phoff and e_phnum:
        if e_phentsize < (56 if is64 else 32):
            raise FormatError("bad program header size", section="ELF header", offset=0)
        if e_phoff + e_phnum * e_phentsize > n:
            raise FormatError("program headers past end of file", section="ELF header", offset=e_phoff)
        for i in range(e_phnum):
            off = e_phoff + i * e_phentsize
            if is64:
                p_type, p_flags, p_offset, p_vaddr, _pa, p_filesz, p_memsz, _al = ph.unpack("IIQQQQQQ", off)
            else:
                p_type, p_offset, p_vaddr, _pa, p_filesz, p_memsz, p_flags, _al = ph.unpack("IIIIIIII", off)
            if p_type == PT_LOAD:
                filesz = max(0, min(p_filesz, n - p_offset)) if p_offset <= n else 0
                c.segments.append(Segment(name=f"LOAD{len(c.segments)}", addr=p_vaddr,
                                          mem_size=p_memsz, offset=p_offset,
                                          file_size=filesz, flags=p_flags))

    # Section headers (may be absent: stripped of section headers).
    sh = Bytes(buf, order, "ELF section headers")
    shnum = e_shnum
    if e_shoff and e_shentsize < (64 if is64 else 40):
        raise FormatError("bad section header size", section="ELF header", offset=0)
    if e_shoff and shnum == 0:
        # Extended numbering: the count lives in section 0's sh_size (gABI).
        shnum = sh.unpack("Q" if is64 else "I", e_shoff + (32 if is64 else 20))[0]
    if e_shoff and shnum:
        if e_shoff + shnum * e_shentsize > n:
            raise FormatError("section headers past end of file", section="ELF header", offset=e_shoff)
        raw = []
        for i in range(shnum):
            off = e_shoff + i * e_shentsize
            if is64:
                raw.append(sh.unpack("IIQQQQIIQQ", off))
            else:
                raw.append(sh.unpack("IIIIIIIIII", off))
        strtab_off = strtab_size = 0
        if e_shstrndx < len(raw):
            strtab_off, strtab_size = raw[e_shstrndx][4], raw[e_shstrndx][5]
        names = Bytes(buf, order, ".shstrtab")
        for (sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, _info,
             _align, _entsize) in raw:
            name = ""
            if strtab_size and sh_name < strtab_size and strtab_off + sh_name < n:
                name = names.cstr(strtab_off + sh_name, min(256, strtab_size - sh_name))
            file_size = 0 if sh_type == SHT_NOBITS else sh_size
            if file_size and sh_offset + file_size > n:
                raise FormatError(f"section {name or '?'} extends past end of file",
                                  section=name or "ELF section headers", offset=sh_offset)
            c.sections.append(Section(name=name, addr=sh_addr, offset=sh_offset,
                                      size=file_size, mem_size=sh_size,
                                      mapped=bool(sh_flags & SHF_ALLOC), flags=sh_flags,
                                      kind=sh_type))
        for s, r in zip(c.sections, raw):
            if s.kind in (SHT_SYMTAB, SHT_DYNSYM) and s.size:
                link = r[6]
                if link >= len(c.sections):
                    continue
                strs = c.sections[link]
                kind = "elf64" if is64 else "elf32"
                entsize = SYMBOL_ENTRY_SIZE[kind]
                c.symtabs.append(SymtabRef(kind=kind, offset=s.offset,
                                           count=s.size // entsize, str_offset=strs.offset,
                                           str_size=strs.size, name=s.name))
        # .symtab first: it has the Go symbols; .dynsym rarely does.
        c.symtabs.sort(key=lambda t: t.name != ".symtab")
    return c
