"""Containers: fat Mach-O archives, buffers, section and symbol facts checked
against pyelftools (an independent ELF reader)."""
import struct

import pytest
from elftools.elf.elffile import ELFFile

import gosym
from gosym.container import detect

CPU = {"amd64": 0x01000007, "arm64": 0x0100000C, "386": 7}


def corpus_path(corpus_rows, name):
    for r in corpus_rows:
        if r["name"] == name and r.get("path"):
            return r["path"]
    pytest.skip(f"{name} not fetched")


def make_fat(slices):
    """A fat archive (<mach-o/fat.h>): big-endian header, 2^14-aligned slices."""
    align = 1 << 14
    header = struct.pack(">II", 0xCAFEBABE, len(slices))
    off = align
    entries, body = b"", b""
    for arch, data in slices:
        entries += struct.pack(">iiIII", CPU[arch], 3, off, len(data), 14)
        pad = (-len(data)) % align
        body += data + b"\0" * pad
        off += len(data) + pad
    head = header + entries
    return head + b"\0" * (align - len(head)) + body


def test_fat_macho_by_arch(tmp_path, corpus_rows):
    amd = corpus_path(corpus_rows, "esbuild-0.8.9-go1.15-darwin-amd64")
    arm = corpus_path(corpus_rows, "esbuild-0.14.49-go1.18-darwin-arm64")
    fat = tmp_path / "fat"
    fat.write_bytes(make_fat([("amd64", open(amd, "rb").read()), ("arm64", open(arm, "rb").read())]))
    for arch, thin in (("amd64", amd), ("arm64", arm)):
        with gosym.open(str(fat), arch=arch) as fb, gosym.open(thin) as tb:
            assert fb.arch == arch
            assert fb.go_version == tb.go_version
            assert fb.pclntab.nfunc == tb.pclntab.nfunc
            assert fb.pclntab.text_start == tb.pclntab.text_start
            fc, tc = fb.functions.columns(), tb.functions.columns()
            assert fc.name == tc.name and list(fc.entry) == list(tc.entry)
            pc = tc.entry[len(tc.entry) // 2] + 4
            assert fb.lookup(pc) == tb.lookup(pc)
    with gosym.open(str(fat)) as fb:          # default: the first slice
        assert fb.arch == "amd64"
    with pytest.raises(gosym.UnsupportedError, match="no 386 slice"):
        gosym.open(str(fat), arch="386")


def test_open_bytes_equals_open_path(corpus_rows):
    path = corpus_path(corpus_rows, "esbuild-0.11.23-go1.16-linux-amd64")
    data = open(path, "rb").read()
    with gosym.open(path) as a, gosym.open(data) as b:
        assert a.pclntab == b.pclntab
        assert a.functions.columns().name == b.functions.columns().name


@pytest.mark.parametrize("name", ["go1.27.3-compile-linux-amd64", "go1.26.1-compile-linux-s390x",
                                  "go1.21.13-compile-linux-386", "gojsonnet-0.21.0-cpython311-so-linux-amd64"])
def test_elf_sections_and_symbols_match_pyelftools(corpus_rows, name):
    path = corpus_path(corpus_rows, name)
    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        theirs = [(s.name, s["sh_addr"], s["sh_offset"],
                   0 if s["sh_type"] == "SHT_NOBITS" else s["sh_size"]) for s in elf.iter_sections()]
        loads = [(p["p_vaddr"], p["p_offset"], p["p_filesz"], p["p_memsz"])
                 for p in elf.iter_segments() if p["p_type"] == "PT_LOAD"]
        symtab = elf.get_section_by_name(".symtab")
        sym = None
        if symtab is not None:
            found = symtab.get_symbol_by_name("runtime.text")
            sym = found[0]["st_value"] if found else None
        data = fh.seek(0) or fh.read()
    c = detect(data)
    assert [(s.name, s.addr, s.offset, s.size) for s in c.sections] == theirs
    assert [(s.addr, s.offset, s.file_size, s.mem_size) for s in c.segments] == loads
    assert c.find_symbol("runtime.text") == sym
    assert c.ptr_size == (8 if elf.elfclass == 64 else 4)
    assert c.byte_order == ("little" if elf.little_endian else "big")
