"""DWARF line tables: where the sections are, decompression, compile units,
and the rows of every line program.

The line programs are decoded in C (csrc/dwarf_line.c through gosym._dwarf);
this module finds the sections in the container (ELF, Mach-O, PE), inflates
compressed ones once, reads each compile unit's name, comp_dir and
DW_AT_stmt_list from .debug_info (in Python: only the first DIE of each unit
is read), and resolves file entries to full paths.

Offsets in errors from DWARF sections are section offsets (of the
decompressed data), as readelf and llvm-dwarfdump print them.
"""
from __future__ import annotations

import array
import bisect
import builtins
import mmap
import os
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Tuple

from gosym import _dwarf, _native
from gosym.container import Container, Section, detect
from gosym.errors import FormatError, GosymError, UnsupportedError

SHF_COMPRESSED = 0x800
ELFCOMPRESS_ZLIB, ELFCOMPRESS_ZSTD = 1, 2

# A declared decompressed size above this multiple of the compressed bytes
# is refused before inflating anything (deflate cannot exceed ~1032:1; real
# debug sections compress 3-10:1).
MAX_RATIO = 1100
MAX_SECTION = 1 << 32

# Row flags (the `flags` column), [DWARF5 6.2.2].
IS_STMT = _dwarf.IS_STMT
END_SEQUENCE = _dwarf.END_SEQUENCE
BASIC_BLOCK = _dwarf.BASIC_BLOCK
PROLOGUE_END = _dwarf.PROLOGUE_END
EPILOGUE_BEGIN = _dwarf.EPILOGUE_BEGIN
FLAG_NAMES = ((IS_STMT, "is_stmt"), (END_SEQUENCE, "end_sequence"), (BASIC_BLOCK, "basic_block"),
              (PROLOGUE_END, "prologue_end"), (EPILOGUE_BEGIN, "epilogue_begin"))


def flag_names(flags: int) -> List[str]:
    """flag_names spells a row's flags byte as names (readelf order)."""
    return [name for bit, name in FLAG_NAMES if flags & bit]


# ------------------------------------------------------------------ sections

@dataclass
class DwarfSection:
    """DwarfSection is one DWARF section's (decompressed) bytes and origin."""

    name: str                # canonical name: ".debug_line"
    stored_name: str         # as in the file: ".zdebug_line", "__debug_line"
    offset: int              # file offset of the stored bytes
    stored_size: int         # bytes in the file
    size: int                # bytes after decompression
    compression: str         # "none" | "zlib" (SHF_COMPRESSED) | "zstd" | "zdebug"
    data: Any = field(repr=False, default=None)


def _names(container: Container, base: str) -> Tuple[str, str]:
    if container.format == "Mach-O":
        # Mach-O section names are cut at 16 bytes (__debug_str_offs).
        return f"__debug_{base}"[:16], f"__zdebug_{base}"[:16]
    return f".debug_{base}", f".zdebug_{base}"


def find_section(container: Container, base: str) -> Optional[Section]:
    """find_section returns the container's section for DWARF section
    `base` ("line", "info", ...): .debug_*/.zdebug_* or __debug_*/__zdebug_*."""
    plain, z = _names(container, base)
    for s in container.sections:
        if s.name in (plain, z) and (container.format != "Mach-O" or s.segment in ("__DWARF", "")):
            return s
    return None


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


def decompress(method: str, data: Any, size: int, what: str, offset: int) -> bytes:
    """decompress inflates `data` ("zlib" or "zstd") whose header declared
    `size` bytes; the size is checked against a ratio cap first and against
    the output after (a decompression bomb gives FormatError, not memory)."""
    if size > MAX_RATIO * len(data) + 4096 or size > MAX_SECTION:
        raise FormatError(f"declared decompressed size {size} too large for {len(data)} compressed bytes",
                          section=what, offset=offset)
    if method == "zlib":
        d = zlib.decompressobj()
        try:
            out = d.decompress(data, size + 1)
        except zlib.error as e:
            raise FormatError(f"bad zlib data: {e}", section=what, offset=offset) from None
        if len(out) == size and not d.eof:
            # All the declared bytes came out: the stream must end here.
            try:
                extra = d.decompress(d.unconsumed_tail, 1)
            except zlib.error as e:
                raise FormatError(f"bad zlib data: {e}", section=what, offset=offset) from None
            if extra or not d.eof:
                raise FormatError("zlib data longer than the declared size", section=what, offset=offset)
    elif method == "zstd":
        out = _zstd_decompress(data, size, what)
    else:
        raise UnsupportedError(f"{what}: unknown compression {method}")
    if len(out) != size:
        raise FormatError(f"decompressed {len(out)} bytes, header declared {size}", section=what,
                          offset=offset)
    return out


def read_section(container: Container, base: str) -> Optional[DwarfSection]:
    """read_section returns DWARF section `base` decompressed (or as a
    zero-copy view when stored plain), or None when the file lacks it."""
    s = find_section(container, base)
    if s is None or s.size == 0:
        return None
    canon = f".debug_{base}"
    view = memoryview(container.buf)[s.offset:s.offset + s.size]
    what = s.name
    if container.format == "ELF" and s.flags & SHF_COMPRESSED:
        # Elf32_Chdr / Elf64_Chdr (gABI "Section Compression").
        end = ">" if container.byte_order == "big" else "<"
        if container.ptr_size == 8:
            hdr = 24
            if s.size < hdr:
                raise FormatError("compression header truncated", section=what, offset=s.offset)
            ch_type, _res, ch_size, _align = struct.unpack_from(end + "IIQQ", view, 0)
        else:
            hdr = 12
            if s.size < hdr:
                raise FormatError("compression header truncated", section=what, offset=s.offset)
            ch_type, ch_size, _align = struct.unpack_from(end + "III", view, 0)
        if ch_type == ELFCOMPRESS_ZLIB:
            method = "zlib"
        elif ch_type == ELFCOMPRESS_ZSTD:
            method = "zstd"
        else:
            raise UnsupportedError(f"{what}: unknown ELF compression type {ch_type}")
        data = decompress(method, view[hdr:], ch_size, what, s.offset)
        return DwarfSection(canon, s.name, s.offset, s.size, len(data), method, data)
    if "zdebug" in s.name:
        # Legacy GNU compression: "ZLIB", 8-byte big-endian size, zlib stream.
        if bytes(view[:4]) != b"ZLIB" or s.size < 12:
            raise FormatError("missing ZLIB header of a .zdebug section", section=what, offset=s.offset)
        size = int.from_bytes(view[4:12], "big")
        data = decompress("zlib", view[12:], size, what, s.offset)
        return DwarfSection(canon, s.name, s.offset, s.size, len(data), "zdebug", data)
    return DwarfSection(canon, s.name, s.offset, s.size, s.size, "none", view)


# ------------------------------------------------------------ compile units

@dataclass
class CompileUnit:
    """CompileUnit is one unit of .debug_info: its header and the name,
    comp_dir and line-program offset of its first DIE."""

    offset: int                  #: .debug_info offset of the unit header
    version: int                  #: DWARF version of the unit
    unit_type: int               #: DW_UT_* (1 compile, 2 type, 3 partial, 4 skeleton, 5 split)
    address_size: int             #: address size in bytes
    offset_size: int              #: 4 (32-bit DWARF) or 8 (64-bit DWARF)
    name: Optional[str] = None    #: DW_AT_name: the primary source file
    comp_dir: Optional[str] = None  #: DW_AT_comp_dir: the compilation directory
    producer: Optional[str] = None  #: DW_AT_producer: the compiler
    language: Optional[int] = None  #: DW_AT_language (DW_LANG_* code)
    stmt_list: Optional[int] = None  #: DW_AT_stmt_list: .debug_line offset of its line program
    dwo_name: Optional[str] = None   #: split DWARF: the unit's body is in a .dwo file


DW_UT_compile, DW_UT_type, DW_UT_partial, DW_UT_skeleton, DW_UT_split_compile, DW_UT_split_type = range(1, 7)
DW_AT_name, DW_AT_stmt_list, DW_AT_language, DW_AT_comp_dir, DW_AT_producer = 0x03, 0x10, 0x13, 0x1B, 0x25
DW_AT_str_offsets_base, DW_AT_dwo_name, DW_AT_GNU_dwo_name = 0x72, 0x76, 0x2130

# Fixed-size forms [DWARF5 7.5.6]: form -> bytes ("a": address size,
# "o": offset size, "r": ref_addr, which is the address size in DWARF 2).
_FIXED: Dict[int, Any] = {0x01: "a", 0x05: 2, 0x06: 4, 0x07: 8, 0x0B: 1, 0x0C: 1, 0x0E: "o", 0x10: "r", 0x11: 1,
          0x12: 2, 0x13: 4, 0x14: 8, 0x17: "o", 0x19: 0, 0x1C: 4, 0x1D: "o", 0x1E: 16, 0x1F: "o",
          0x20: 8, 0x21: 0, 0x24: 8, 0x25: 1, 0x26: 2, 0x27: 3, 0x28: 4, 0x29: 1, 0x2A: 2, 0x2B: 3,
          0x2C: 4, 0x1F20: "o", 0x1F21: "o"}
_ULEB_FORMS = {0x0F, 0x15, 0x1A, 0x1B, 0x22, 0x23, 0x1F01, 0x1F02}
_STRX = {0x1A: None, 0x25: 1, 0x26: 2, 0x27: 3, 0x28: 4, 0x1F02: None}


class _Cur:
    """A checked little cursor for the few DIEs read in Python."""

    def __init__(self, data: Any, section: str, big: bool, pos: int = 0, end: Optional[int] = None):
        self.d = data
        self.section = section
        self.big = big
        self.pos = pos
        self.end = len(data) if end is None else end

    def fail(self, msg: str, at: Optional[int] = None) -> FormatError:
        return FormatError(msg, section=self.section, offset=self.pos if at is None else at)

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise self.fail("read past the end of the unit")
        b = bytes(self.d[self.pos:self.pos + n])
        self.pos += n
        return b

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big" if self.big else "little")

    def _leb(self, kind: str) -> int:
        """A LEB128 through the C cursor (csrc/reader.h), bounded by the unit."""
        start = self.pos
        with memoryview(self.d) as whole, whole[:self.end] as mv:
            try:
                v, self.pos = _native.read_value(mv, kind, start)
            except FormatError as e:
                why = "past the end of the unit" if "past end" in e.message else "too long"
                raise self.fail(f"LEB128 {why}", start) from None
        return int(v)

    def uleb(self) -> int:
        return self._leb("uvarint")

    def sleb(self) -> int:
        return self._leb("sleb128")

    def cstr(self) -> str:
        d = self.d
        i = self.pos
        end = self.end
        # memoryview has no find(): scan in chunks of bytes.
        while i < end:
            chunk = bytes(d[i:min(end, i + 256)])
            k = chunk.find(b"\0")
            if k >= 0:
                s = bytes(d[self.pos:i + k]).decode("utf-8", "surrogateescape")
                self.pos = i + k + 1
                return s
            i += len(chunk)
        raise self.fail("string not terminated")


def _cstr_at(data: Any, off: int, section: str) -> str:
    if data is None:
        raise FormatError(f"string form without {section}", section=section, offset=off)
    return _Cur(data, section, False, off).cstr()


class _Abbrevs:
    """Abbreviation tables of .debug_abbrev, parsed per table offset on use."""

    def __init__(self, data: Any):
        self.data = data
        self.tables: Dict[int, Dict[int, List[Tuple[int, int, int]]]] = {}

    def get(self, table: int, code: int) -> List[Tuple[int, int, int]]:
        t = self.tables.get(table)
        if t is None:
            t = self.tables[table] = self._parse(table)
        if code not in t:
            raise FormatError(f"abbreviation code {code} not in table", section=".debug_abbrev", offset=table)
        return t[code]

    def _parse(self, off: int) -> Dict[int, List[Tuple[int, int, int]]]:
        c = _Cur(self.data, ".debug_abbrev", False, off)
        out: Dict[int, List[Tuple[int, int, int]]] = {}
        while True:
            code = c.uleb()
            if code == 0:
                return out
            c.uleb()          # tag
            c.take(1)         # has children
            attrs = []
            while True:
                name, form = c.uleb(), c.uleb()
                if name == 0 and form == 0:
                    break
                implicit = c.sleb() if form == 0x21 else 0
                attrs.append((name, form, implicit))
            out[code] = attrs


def parse_units(info: Any, abbrev: Any, strs: Any, line_str: Any, str_offsets: Any,
                big: bool) -> List[CompileUnit]:
    """parse_units reads every unit header of .debug_info and the
    attributes of its first DIE.  Linear in the number of units."""
    units: List[CompileUnit] = []
    abbrevs = _Abbrevs(abbrev) if abbrev is not None else None
    pos = 0
    n = len(info)
    while pos < n:
        c = _Cur(info, ".debug_info", big, pos)
        length = c.uint(4)
        offsz = 4
        if length == 0xFFFFFFFF:
            length = c.uint(8)
            offsz = 8
        elif length >= 0xFFFFFFF0:
            raise c.fail("reserved unit_length value", pos)
        end = c.pos + length
        if end > n:
            raise c.fail("unit extends past the section", pos)
        c.end = end
        version = c.uint(2)
        if not 2 <= version <= 5:
            raise c.fail(f"unsupported DWARF version {version}", pos)
        if version >= 5:
            unit_type = c.uint(1)
            addr_size = c.uint(1)
            abbrev_off = c.uint(offsz)
            if unit_type in (DW_UT_skeleton, DW_UT_split_compile):
                c.take(8)
            elif unit_type in (DW_UT_type, DW_UT_split_type):
                c.take(8 + offsz)
        else:
            unit_type = DW_UT_compile
            abbrev_off = c.uint(offsz)
            addr_size = c.uint(1)
        cu = CompileUnit(offset=pos, version=version, unit_type=unit_type,
                         address_size=addr_size, offset_size=offsz)
        code = c.uleb() if c.pos < end else 0
        if code and abbrevs is None:
            raise FormatError(".debug_info without .debug_abbrev", section=".debug_abbrev")
        if code:
            assert abbrevs is not None
            strx: Dict[int, int] = {}
            str_base: Optional[int] = None
            for name, form, implicit in abbrevs.get(abbrev_off, code):
                val = _read_attr(c, form, implicit, version, addr_size, offsz, strs, line_str)
                if form in _STRX:
                    strx[name] = val
                    continue
                if name == DW_AT_str_offsets_base:
                    str_base = val
                elif name == DW_AT_name and isinstance(val, str):
                    cu.name = val
                elif name == DW_AT_comp_dir and isinstance(val, str):
                    cu.comp_dir = val
                elif name == DW_AT_producer and isinstance(val, str):
                    cu.producer = val
                elif name == DW_AT_language and isinstance(val, int):
                    cu.language = val
                elif name == DW_AT_stmt_list and isinstance(val, int):
                    cu.stmt_list = val
                elif name in (DW_AT_dwo_name, DW_AT_GNU_dwo_name):
                    cu.dwo_name = val if isinstance(val, str) else "?"
            for name, idx in strx.items():
                s = _strx(idx, str_base, offsz, str_offsets, strs, big)
                if name == DW_AT_name:
                    cu.name = s
                elif name == DW_AT_comp_dir:
                    cu.comp_dir = s
                elif name == DW_AT_producer:
                    cu.producer = s
                elif name in (DW_AT_dwo_name, DW_AT_GNU_dwo_name):
                    cu.dwo_name = s or "?"
        units.append(cu)
        pos = end
    return units


def _strx(idx: int, base: Optional[int], offsz: int, str_offsets: Any, strs: Any, big: bool) -> Optional[str]:
    if str_offsets is None or strs is None:
        return None
    if base is None:
        base = 16 if offsz == 8 else 8   # past the .debug_str_offsets header
    at = base + idx * offsz
    if at + offsz > len(str_offsets):
        raise FormatError("string index past .debug_str_offsets", section=".debug_str_offsets", offset=at)
    off = int.from_bytes(bytes(str_offsets[at:at + offsz]), "big" if big else "little")
    return _cstr_at(strs, off, ".debug_str")


def _read_attr(c: _Cur, form: int, implicit: int, version: int, addr_size: int, offsz: int,
               strs: Any, line_str: Any) -> Any:
    """Read one attribute value: strings resolved, the rest as ints (blocks
    skipped, returned as None)."""
    while form == 0x16:        # DW_FORM_indirect
        form = c.uleb()
    if form == 0x08:
        return c.cstr()
    if form == 0x21:
        return implicit
    if form == 0x0D:
        return c.sleb()
    if form in _ULEB_FORMS:
        return c.uleb()
    spec = _FIXED.get(form)
    if spec is not None:
        if spec == "a":
            size = addr_size
        elif spec == "o":
            size = offsz
        elif spec == "r":
            size = addr_size if version == 2 else offsz
        else:
            size = int(spec)
        val = c.uint(size)
        if form == 0x0E:
            return _cstr_at(strs, val, ".debug_str")
        if form == 0x1F:
            return _cstr_at(line_str, val, ".debug_line_str")
        return val
    if form in (0x09, 0x18):    # block, exprloc
        c.take(c.uleb())
        return None
    if form == 0x0A:
        c.take(c.uint(1))
        return None
    if form == 0x03:
        c.take(c.uint(2))
        return None
    if form == 0x04:
        c.take(c.uint(4))
        return None
    raise c.fail(f"unknown attribute form {form:#x}")


# ------------------------------------------------------------ paths

_WIN_ABS = re.compile(r"^([A-Za-z]:)?[\\/]")


def _is_abs(path: str) -> bool:
    return path.startswith("/") or bool(_WIN_ABS.match(path))


def join_path(directory: Optional[str], name: str) -> str:
    """join_path joins a relative file name onto a directory, keeping the
    directory's separator style; absolute names come back unchanged."""
    if not directory or directory == "." or _is_abs(name):
        return name
    sep = "\\" if "\\" in directory and "/" not in directory else "/"
    return directory.rstrip("\\/") + sep + name


# ------------------------------------------------------------ line tables

class FileEntry(NamedTuple):
    """FileEntry is one file of a line-program header, `path` resolved."""

    name: Optional[str]
    dir_index: int
    mtime: int
    size: int
    md5: Optional[bytes]
    path: Optional[str]


class LineInfo(NamedTuple):
    """LineInfo is a DWARF answer for one pc: full file path, line and column."""

    file: Optional[str]           #: full path of the file, or None when the row's file number is not in the table
    line: int                     #: line (0: no source line)
    column: int                   #: column (0: unknown)


@dataclass
class LineTable:
    """LineTable is one line program's header facts and file table.

    `file_name(k)` maps the file register k of its rows to a full path:
    DWARF 5 numbers files from 0, earlier versions from 1 [DWARF5 6.2.4]."""

    offset: int                       #: .debug_line offset of the unit
    version: int                  #: DWARF version of the line program
    unit: Optional[CompileUnit]       #: the compile unit that points at it
    directories: List[str]            #: resolved directory paths
    files: List[FileEntry]            #: the header's file table
    _line: Any = field(default=None, repr=False, compare=False)
    _defined: Optional[List[FileEntry]] = field(default=None, repr=False, compare=False)

    @property
    def defined_files(self) -> List[FileEntry]:
        """defined_files are the files DW_LNE_define_file adds in the
        program (DWARF 2-4 [DWARF4 6.2.5.3]; numbered on after `files`).
        Read on first use, by one row-less run of the program."""
        if self._defined is None:
            self._defined = []
            if self.version < 5 and self._line is not None:
                raw = self._line.defined_files(self.offset)
                comp = self.unit.comp_dir if self.unit else None
                self._defined = _resolve_files(comp, self.directories, raw)
        return self._defined

    def all_files(self) -> List[FileEntry]:
        """all_files is the header's files followed by the defined ones."""
        return self.files + self.defined_files

    def file_name(self, k: int) -> Optional[str]:
        """file_name returns the full path of file register value k, or None
        (a register past the header's table looks in defined_files)."""
        i = k if self.version >= 5 else k - 1
        if 0 <= i < len(self.files):
            return self.files[i].path
        if i >= len(self.files) and self.version < 5:
            i -= len(self.files)
            d = self.defined_files
            if i < len(d):
                return d[i].path
        return None


def _resolve(version: int, comp_dir: Optional[str], dirs: List[Optional[str]],
             files: List[tuple]) -> Tuple[List[str], List[FileEntry]]:
    if version >= 5:
        # Directory 0 is the compilation directory [DWARF5 6.2.4 item 20].
        d0 = join_path(comp_dir, dirs[0] or "") if dirs else (comp_dir or "")
        rdirs = [d0] + [join_path(d0, d or "") for d in dirs[1:]]
    else:
        # Index 0 is the compilation directory; entries from 1 on [DWARF4 6.2.4 item 11].
        rdirs = [comp_dir or ""] + [join_path(comp_dir, d or "") for d in dirs]
    return rdirs, _resolve_files(comp_dir, rdirs, files)


def _resolve_files(comp_dir: Optional[str], rdirs: List[str], files: List[tuple]) -> List[FileEntry]:
    out = []
    for name, di, mtime, size, md5 in files:
        path = None
        if name is not None:
            path = join_path(rdirs[di], name) if di < len(rdirs) else name
        out.append(FileEntry(name, di, mtime, size, md5, path))
    return out


class LineRows:
    """LineRows is every row of the line programs, as columns.

    `address` (array Q), `file` (the file register: array H, or I when a
    value needs it), `line` (I), `column` (I), `flags` (B: IS_STMT | END_SEQUENCE
    | BASIC_BLOCK | PROLOGUE_END | EPILOGUE_BEGIN), `discriminator` (I);
    column and discriminator are a gosym._dwarf.ZeroColumn (no storage)
    when all their values are 0, as in Go's line tables.  `tables[u]` is unit
    u's LineTable and its rows are `unit_row[u]:unit_row[u+1]`.  15 bytes
    per row for Go (address, line, file, flags), at most 25."""

    def __init__(self, cols: tuple, tables: List[LineTable]):
        (self.address, self.file, self.line, self.column, self.flags,
         self.discriminator, self.unit_row) = cols
        self.tables = tables
        self._unit: Optional[array.array] = None

    def __len__(self) -> int:
        return len(self.address)

    @property
    def unit(self) -> array.array:
        """unit is the table index of each row (array I, built on first use)."""
        if self._unit is None:
            u = array.array("I")
            for k in range(len(self.tables)):
                u.extend(array.array("I", [k]) * (self.unit_row[k + 1] - self.unit_row[k]))
            self._unit = u
        return self._unit

    def unit_of(self, i: int) -> int:
        """unit_of returns the table index of row i (binary search)."""
        return bisect.bisect_right(self.unit_row, i) - 1

    def file_name(self, i: int) -> Optional[str]:
        """file_name returns the full path of row i's file."""
        return self.tables[self.unit_of(i)].file_name(self.file[i])


_OPEN = builtins.open


class Dwarf:
    """Dwarf is the DWARF line information of one binary.

    Creating it only finds the sections; each is decompressed on first use
    and kept.  units() reads the compile units; line_rows() decodes every
    line program in one C pass; lookup(pc) decodes only the unit whose
    sequence covers pc (after one row-less pass that indexes sequences)."""

    def __init__(self, container: Container, path: Optional[str] = None):
        self.container = container  #: the container the sections are in
        self.path = path  #: the file the DWARF was read from (the binary, or its debug file)
        self._secs: Dict[str, Optional[DwarfSection]] = {}
        self._line: Optional[_dwarf.LineSection] = None
        self._units: Optional[List[CompileUnit]] = None
        self._offsets: Optional[array.array] = None
        self._owner: Dict[int, CompileUnit] = {}
        self._tables: Dict[int, LineTable] = {}
        self._seq: Optional[tuple] = None
        self._cache: Dict[int, tuple] = {}
        self._map: Optional[mmap.mmap] = None
        self._file: Any = None
        self._all_rows: Optional[LineRows] = None

    # ------------------------------------------------------------ opening
    @classmethod
    def from_container(cls, container: Container, path: Optional[str] = None) -> Optional["Dwarf"]:
        """from_container returns the container's Dwarf, or None without a
        line table section."""
        if find_section(container, "line") is None:
            return None
        return cls(container, path)

    def close(self) -> None:
        """close drops the section views (and the file, if opened by open_dwarf)."""
        self._line = None
        self._all_rows = None
        self._secs.clear()
        self._cache.clear()
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:
                pass
            self._map = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> "Dwarf":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _err(self, e: GosymError) -> GosymError:
        return e.with_path(self.path)

    # ------------------------------------------------------------ sections
    def section(self, base: str) -> Optional[DwarfSection]:
        """section returns DWARF section `base` ("line", "info", "str", ...),
        decompressed on first use, or None."""
        if base not in self._secs:
            try:
                self._secs[base] = read_section(self.container, base)
            except GosymError as e:
                raise self._err(e)
        return self._secs[base]

    def _data(self, base: str) -> Any:
        s = self.section(base)
        return s.data if s is not None else None

    @property
    def sections(self) -> List[DwarfSection]:
        """sections lists the DWARF sections this reads that the file has."""
        out = []
        for base in ("line", "line_str", "info", "abbrev", "str", "str_offsets"):
            s = self.section(base)
            if s is not None:
                out.append(s)
        return out

    def _line_section(self) -> _dwarf.LineSection:
        if self._line is None:
            line = self.section("line")
            if line is None:
                raise self._err(FormatError("no .debug_line section"))
            self._line = _dwarf.LineSection(line.data, self._data("line_str"), self._data("str"),
                                            self.container.byte_order == "big", line.stored_name)
        return self._line

    # ------------------------------------------------------------ units
    def units(self) -> List[CompileUnit]:
        """units returns every unit of .debug_info (header and first DIE).
        Raises UnsupportedError for split DWARF (-gsplit-dwarf)."""
        if self._units is None:
            info = self._data("info")
            if info is None:
                self._units = []
            else:
                big = self.container.byte_order == "big"
                try:
                    units = parse_units(info, self._data("abbrev"), self._data("str"),
                                        self._data("line_str"), self._data("str_offsets"), big)
                except GosymError as e:
                    raise self._err(e)
                for u in units:
                    if u.dwo_name is not None or u.unit_type in (DW_UT_skeleton, DW_UT_split_compile):
                        raise self._err(UnsupportedError(
                            f"split DWARF (-gsplit-dwarf): unit at .debug_info offset {u.offset:#x} "
                            f"keeps its debug info in {u.dwo_name or 'a .dwo file'}; gosym reads "
                            "only DWARF linked into the binary"))
                self._units = units
        return self._units

    def line_offsets(self) -> array.array:
        """line_offsets returns the .debug_line offsets of the line programs
        (those the units name, in section order; without .debug_info, a walk
        of the section unit by unit)."""
        if self._offsets is None:
            units = self.units()
            line = self._line_section()
            if units:
                for u in units:
                    if u.stmt_list is None:
                        continue
                    # A compile or partial unit owns its program before a type unit.
                    cur = self._owner.get(u.stmt_list)
                    if cur is None or (cur.unit_type not in (DW_UT_compile, DW_UT_partial)
                                       and u.unit_type in (DW_UT_compile, DW_UT_partial)):
                        self._owner[u.stmt_list] = u
                offs = sorted(self._owner)
                self._offsets = array.array("Q", offs)
            else:
                try:
                    self._offsets = line.unit_offsets()
                except GosymError as e:
                    raise self._err(e)
        return self._offsets

    def table(self, k: int) -> LineTable:
        """table returns line program k's header facts and resolved file table."""
        t = self._tables.get(k)
        if t is None:
            off = self.line_offsets()[k]
            line = self._line_section()
            try:
                h = line.header(off)
                dirs, files = line.entries(off)
            except GosymError as e:
                raise self._err(e)
            unit = self._owner.get(off)
            rdirs, rfiles = _resolve(h["version"], unit.comp_dir if unit else None, dirs, files)
            t = self._tables[k] = LineTable(off, h["version"], unit, rdirs, rfiles, line)
        return t

    # ------------------------------------------------------------ rows
    def line_rows(self) -> LineRows:
        """line_rows decodes every line program in one C pass (GIL released)
        and returns the rows as columns with each program's file table.
        Linear in .debug_line; 15 to 25 bytes per row (see LineRows)."""
        offs = self.line_offsets()
        try:
            cols = self._line_section().decode(offs)
        except GosymError as e:
            raise self._err(e)
        tables = [self.table(k) for k in range(len(offs))]
        return LineRows(cols, tables)

    def iter_tables(self) -> Iterator[Tuple[LineTable, LineRows]]:
        """iter_tables yields (table, rows) one line program at a time
        (memory of one program's rows)."""
        offs = self.line_offsets()
        line = self._line_section()
        for k in range(len(offs)):
            try:
                cols = line.decode(array.array("Q", [offs[k]]), self._hint(k))
            except GosymError as e:
                raise self._err(e)
            t = self.table(k)
            yield t, LineRows(cols, [t])

    def _hint(self, k: int) -> int:
        line = self._line_section()
        off = self.line_offsets()[k]
        try:
            return (line.next_unit(off) - off) // 2 + 64
        except GosymError:
            return 64

    def _unit_rows(self, k: int) -> tuple:
        cols = self._cache.get(k)
        if cols is None:
            if len(self._cache) >= 16:
                self._cache.pop(next(iter(self._cache)))
            try:
                cols = self._line_section().decode(array.array("Q", [self.line_offsets()[k]]), self._hint(k))
            except GosymError as e:
                raise self._err(e)
            ends = [i for i, f in enumerate(cols[4]) if f & END_SEQUENCE]
            cols = cols + (ends,)
            self._cache[k] = cols
        return cols

    def _sequences(self) -> tuple:
        if self._seq is None:
            try:
                lo, hi, unit = self._line_section().sequences(self.line_offsets())
            except GosymError as e:
                raise self._err(e)
            # Ordinal of each sequence inside its unit.
            ordinal = []
            prev, n = -1, 0
            for u in unit:
                n = n + 1 if u == prev else 0
                prev = u
                ordinal.append(n)
            order = sorted(range(len(lo)), key=lambda i: (lo[i], hi[i]))
            slo = [lo[i] for i in order]
            shi = [hi[i] for i in order]
            sunit = [(unit[i], ordinal[i]) for i in order]
            maxhi, m = [], 0
            for h in shi:
                m = max(m, h)
                maxhi.append(m)
            self._seq = (slo, shi, sunit, maxhi)
        return self._seq

    def lookup(self, pc: int) -> Optional[LineInfo]:
        """lookup returns (file, line, column) of the row covering pc, or
        None on a miss.  The first call indexes the sequences (one pass over
        .debug_line storing no rows); each call then decodes at most one
        line program (the last 16 are cached) and binary-searches it."""
        slo, shi, sunit, maxhi = self._sequences()
        j = bisect.bisect_right(slo, pc) - 1
        while j >= 0 and maxhi[j] > pc:
            if slo[j] <= pc < shi[j]:
                k, ordinal = sunit[j]
                cols = self._unit_rows(k)
                ends = cols[7]
                if ordinal >= len(ends):
                    return None
                start = ends[ordinal - 1] + 1 if ordinal else 0
                end = ends[ordinal]
                i = bisect.bisect_right(cols[0], pc, start, end) - 1
                if i < start:
                    return None
                t = self.table(k)
                return LineInfo(t.file_name(cols[1][i]), cols[2][i], cols[3][i])
            j -= 1
        return None

    def lookup_many(self, pcs: Any) -> Tuple[LineRows, array.array]:
        """lookup_many maps a buffer of uint64 pcs to the rows covering them:
        returns (rows, index) where index[k] is pcs[k]'s row in rows (int64,
        -1 on a miss).  The first call decodes every line program (the rows
        are kept); then one sort of the sequences and two binary searches
        per pc in a typed loop with the GIL released."""
        if self._all_rows is None:
            self._all_rows = self.line_rows()
        rows = self._all_rows
        return rows, _dwarf.lookup_rows(rows.address, rows.flags, pcs)

    def describe(self) -> dict:
        """describe summarizes the sections (stored and decompressed sizes,
        compression) for reports."""
        return {s.name: {"stored_name": s.stored_name, "file_offset": s.offset,
                         "stored_size": s.stored_size, "size": s.size,
                         "compression": s.compression} for s in self.sections}


def _map(path: str) -> Tuple[Any, Any]:
    f = _OPEN(path, "rb")
    try:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), f
    except ValueError:
        f.close()
        raise FormatError("empty file").with_path(path) from None
    except BaseException:
        f.close()
        raise


def _unmap(m: Any, f: Any) -> None:
    if m is not None:
        m.close()
    if f is not None:
        f.close()


def open_debug_file(binary: Container, binary_path: Optional[str], debug_file: Any, *,
                    check_build_id: bool = True, arch: Optional[str] = None) -> Dwarf:
    """open_debug_file opens a separate debug file (objcopy --only-keep-debug,
    a -dbgsym package's .debug) for `binary` and returns its Dwarf.  Unless
    check_build_id is False, a build ID that differs from the binary's
    raises gosym.debugfile.DebugFileMismatchError naming both files."""
    from gosym.debugfile import check_match

    path = os.fspath(debug_file)
    m, f = _map(path)
    try:
        c = detect(m, arch=arch or (binary.arch if binary.format == "Mach-O" else None))
        if check_build_id:
            check_match(binary, c, binary_path, path)
        d = Dwarf.from_container(c, path)
        if d is None:
            raise FormatError("no DWARF line table (.debug_line)")
    except GosymError as e:
        _unmap(m, f)
        raise e.with_path(path)
    except BaseException:
        _unmap(m, f)
        raise
    d._map, d._file = m, f
    return d


def find_dwarf(binary: Container, binary_path: Optional[str]) -> Optional[Dwarf]:
    """find_dwarf returns the binary's own Dwarf, else that of a matching
    separate debug file found through its build ID or .gnu_debuglink
    (gosym.debugfile.find_debug_file), else None."""
    d = Dwarf.from_container(binary, binary_path)
    if d is not None or binary_path is None or binary.format != "ELF":
        return d
    from gosym.debugfile import find_debug_file

    cand = find_debug_file(binary_path, binary)
    if cand is None:
        return None
    return open_debug_file(binary, binary_path, cand, check_build_id=False)


def open_dwarf(source: Any, *, arch: Optional[str] = None, debug_file: Any = None,
               check_build_id: bool = True) -> Dwarf:
    """open_dwarf maps any ELF, Mach-O or PE file (Go or not: C programs
    too) and returns its Dwarf; raises FormatError when it has no
    .debug_line.  With debug_file, the rows come from that separate debug
    file, checked against the file's build ID (see open_debug_file);
    without, a file with no DWARF of its own is matched to a debug file by
    build ID or .gnu_debuglink where one is installed.  Close it (or use
    `with`) to unmap the file."""
    f = None
    m = None
    path = None
    if isinstance(source, (bytes, bytearray, memoryview)):
        buf: Any = bytes(source)
    else:
        path = os.fspath(source)
        m, f = _map(path)
        buf = m
    try:
        c = detect(buf, arch=arch)
        if debug_file is not None:
            d = open_debug_file(c, path, debug_file, check_build_id=check_build_id, arch=arch)
            del c
            _unmap(m, f)
            return d
        found = find_dwarf(c, path)
    except GosymError as e:
        _unmap(m, f)
        raise e.with_path(path)
    except BaseException:
        _unmap(m, f)
        raise
    if found is None:
        _unmap(m, f)
        raise FormatError("no DWARF line table (.debug_line)").with_path(path)
    if found.container is not c:
        _unmap(m, f)       # the rows come from a separate debug file
        return found
    found._map, found._file = m, f
    return found
