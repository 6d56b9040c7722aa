"""The pclntab as a source of symbol data: where it is, its text base, and the
function objects built on the native decoder (gosym/_pclntab.pyx,
gosym/_native.pyx, csrc/pclntab.c).
"""
from __future__ import annotations

import enum
from typing import Callable, Iterator, List, Optional, Sequence, Tuple, Union, overload

from gosym import _native
from gosym.container import Container
from gosym.errors import FormatError, NotGoBinaryError
from gosym.records import Record
from gosym.results import FuncRecord, FunctionColumns, LineRow


class PclntabVersion(enum.IntEnum):
    """PclntabVersion orders the table formats: V12 < V116 < V118 < V120."""

    V12 = 12     #: magic 0xfffffffb, Go 1.2-1.15
    V116 = 116   #: magic 0xfffffffa, Go 1.16-1.17
    V118 = 118   #: magic 0xfffffff0, Go 1.18-1.19
    V120 = 120   #: magic 0xfffffff1, Go 1.20+

    def __str__(self) -> str:
        return {12: "1.2", 116: "1.16", 118: "1.18", 120: "1.20"}[int(self)]


SECTION_NAMES = (".gopclntab", "__gopclntab", ".data.rel.ro.gopclntab")

# moduledata word indexes (runtime/symtab.go: moduledata, Go 1.16+): pcHeader,
# six slices of three words, findfunctab, minpc, maxpc, text, etext.
MD_MINPC = 1 + 6 * 3 + 1
MD_TEXT = MD_MINPC + 2


class PclntabInfo(Record):
    """PclntabInfo describes one pclntab: its format, header and location."""

    version: PclntabVersion      #: table format
    magic: int                   #: the header's magic number
    quantum: int                 #: instruction size quantum (1 on x86, 4 on arm64, …)
    ptr_size: int                #: pointer size in bytes, 4 or 8
    big_endian: bool             #: byte order of the table
    nfunc: int                   #: function count from the header
    nfiles: int                  #: file count from the header
    text_start: int              #: the text base used (0 before Go 1.18: unused)
    header_text_start: int       #: as stored in the header (Go 1.18+; 0 on Go 1.26+)
    text_start_from: str         #: "runtime.text" | "moduledata" | "header" | ".text" | "n/a"
    found_by: str                #: "section" | "symbol" | "scan"
    section: Optional[str]       #: section name when found by section
    offset: int                  #: file offset
    address: Optional[int]       #: virtual address, when mapped
    size: int                    #: size in bytes

    def as_dict(self) -> dict:
        """as_dict renders the info with the JSON names of `gosym dump --json`."""
        return {
            "version": str(self.version), "magic": f"{self.magic:#010x}", "quantum": self.quantum,
            "ptr_size": self.ptr_size, "text_start": self.text_start,
            "header_text_start": self.header_text_start, "text_start_from": self.text_start_from,
            "nfunc": self.nfunc, "nfiles": self.nfiles, "found_by": self.found_by,
            "section": self.section, "offset": self.offset, "address": self.address,
            "size": self.size,
        }


def locate(c: Container) -> Tuple[int, int, Optional[int], str, Optional[str]]:
    """locate finds the pclntab: (file offset, size, address, found_by, section).

    By section name first, then by the runtime.pclntab / runtime.epclntab
    symbols (PE has no pclntab section).  Raises NotGoBinaryError when
    neither finds one."""
    s = c.section(*SECTION_NAMES)
    if s is not None and s.size:
        return s.offset, s.size, s.addr or None, "section", s.name
    if c.format == "raw":
        hit = getattr(c, "scan_hit", None)
        if hit is None:
            raise NotGoBinaryError("no Go pclntab found (no valid table header in the image)")
        return hit[0], hit[1], c.offset_to_va(hit[0]), "scan", None
    start = c.find_symbol("runtime.pclntab", "_runtime.pclntab")
    end = c.find_symbol("runtime.epclntab", "_runtime.epclntab")
    if start is not None and end is not None and end > start:
        off = c.va_to_offset(start, end - start)
        if off is None:
            raise FormatError("runtime.pclntab symbol points outside the file", section="symtab")
        return off, end - start, start, "symbol", None
    hit = scan(c)
    if hit is not None:
        off, size = hit
        return off, size, c.offset_to_va(off), "scan", None
    raise NotGoBinaryError("no Go pclntab found (no .gopclntab section, no runtime.pclntab "
                           "symbol, and no valid table header in the file)")


# At most this many header candidates per scan get the (linear) structural
# check, so a file stuffed with fake headers costs bounded time (issue 6).
MAX_CANDIDATES = 64


def _valid_candidate(c: Container, off: int, limit: int) -> Optional[int]:
    """Return the usable size of a pclntab candidate at off, or None."""
    try:
        tab = _native.Pclntab(c.buf, off, limit - off, "scan")
    except FormatError:
        return None
    if tab.nfunc == 0 or tab.ptr_size != c.ptr_size or tab.big_endian != (c.byte_order == "big"):
        return None
    try:
        tab.check_sorted()
        first = tab.func(0)
        last = tab.func(tab.nfunc - 1)
        if not first["name"] or not last["name"]:
            return None
    except (FormatError, IndexError):
        return None
    finally:
        tab.release()
    return limit - off


def scan(c: Container, any_layout: bool = False) -> Optional[Tuple[int, int]]:
    """scan searches the file bytes of mapped segments (or the whole buffer)
    for a pclntab header — magic, two zero bytes, quantum 1/2/4, pointer size
    — and returns (offset, size) of the first candidate whose function table
    is sorted and whose first and last records decode.  The size runs to the
    end of the segment: the header gives no total length.  Candidates must
    have the container's pointer size and byte order, unless any_layout (a
    raw image), where the first valid candidate sets them.  The search is one
    C pass per range (_native.pcln_scan); at most MAX_CANDIDATES are checked."""
    ranges = [(s.offset, s.offset + s.file_size) for s in c.segments if s.file_size]
    if not ranges:
        ranges = [(0, len(c.buf))]  # type: ignore[arg-type]
    want_ptr = -1 if any_layout else c.ptr_size
    want_be = -1 if any_layout else int(c.byte_order == "big")
    tried = 0
    for start, end in ranges:
        pos = start
        while True:
            hit = _native.pcln_scan(c.buf, pos, end, want_ptr, want_be)
            if hit is None:
                break
            off, ptr, big = hit
            tried += 1
            if tried > MAX_CANDIDATES:
                return None
            if any_layout:
                c.ptr_size, c.byte_order = ptr, ("big" if big else "little")
            size = _valid_candidate(c, off, end)
            if size:
                return off, size
            pos = off + 1
    return None


def _words(c: Container, off: int, n: int) -> Optional[List[int]]:
    """n pointer-sized words at a file offset, or None past the end."""
    p = c.ptr_size
    if off < 0 or off + n * p > len(c.buf):  # type: ignore[arg-type]
        return None
    raw = bytes(c.buf[off:off + n * p])  # type: ignore[index]
    return [int.from_bytes(raw[k * p:(k + 1) * p], c.byte_order) for k in range(n)]


def find_moduledata(c: Container, tab: "_native.Pclntab", off: int) -> Optional[Tuple[int, int]]:
    """find_moduledata finds runtime.firstmoduledata by its shape alone, with
    no address known: (file offset of moduledata, address of the pclntab).

    The linker fills moduledata's first slices from the table
    (cmd/link/internal/ld/symtab.go; runtime/symtab.go: moduledata).  Go
    1.16+: pcHeader, then funcnametab, cutab, filetab, pctab, pclntable and
    ftab slices; each slice pointer is pcHeader plus the header's offset of
    that table, and ftab's length and capacity are nfunc+1.  Go 1.2-1.15:
    the pclntable slice (pointer to the table, length = capacity), then ftab
    (pointer 8+ptrsize bytes after it, length = capacity = nfunc+1).  The
    search looks for the two equal nfunc+1 words and checks the rest; at most
    MAX_CANDIDATES hits are checked."""
    p = c.ptr_size
    nft = tab.nfunc + 1
    needle = nft.to_bytes(p, c.byte_order) * 2
    lay = tab.layout
    if tab.version >= PclntabVersion.V116:
        at = 17    # ftab's length word
        rel = {1: lay["funcname"], 4: lay["cu"], 13: lay["functab"], 16: lay["functab"]}
    else:
        at = 4
        rel = {3: 8 + p}
    buf = c.buf
    pos = buf.find(needle)  # type: ignore[attr-defined]
    seen = 0
    while pos >= 0 and seen < MAX_CANDIDATES:
        md = pos - at * p
        if md >= 0:
            seen += 1
            w = _words(c, md, at + 2)
            if w is not None and w[0] and all(w[k] == w[0] + v for k, v in rel.items()):
                if tab.version >= PclntabVersion.V116 or w[1] == w[2]:
                    return md, w[0]
        pos = buf.find(needle, pos + 1)  # type: ignore[attr-defined]
    return None


def scan_raw(c: Container) -> Optional[Tuple[int, int]]:
    """scan_raw is scan for a raw image: any pointer size and byte order
    (the scanner gosym.container.raw.parse_raw is given)."""
    return scan(c, any_layout=True)


def _moduledata_addr(c: Container, pcln_va: Optional[int]) -> Optional[int]:
    """Address of runtime.firstmoduledata: the .go.module section (Go 1.26+),
    the symbol, or a data word pointing at the pclntab header (a raw image:
    found by shape when the table was opened)."""
    md_raw = getattr(c, "moduledata", None)
    if md_raw is not None:
        return md_raw
    s = c.section(".go.module", "__go_module")
    if s is not None and s.addr:
        return s.addr
    addr = c.find_symbol("runtime.firstmoduledata", "_runtime.firstmoduledata")
    if addr is not None:
        return addr
    if pcln_va is None:
        return None
    needle = pcln_va.to_bytes(c.ptr_size, c.byte_order)
    for s in c.sections:
        if not s.size or not s.addr or s.name not in (
                ".noptrdata", ".data", "__noptrdata", "__data", ".data.rel.ro", "__go_module"):
            continue
        pos = s.offset
        end = s.offset + s.size
        buf = c.buf
        while True:
            pos = buf.find(needle, pos, end)  # type: ignore[attr-defined]
            if pos < 0:
                break
            if (pos - s.offset) % c.ptr_size == 0:
                return s.addr + (pos - s.offset)
            pos += 1
    if c.format == "ELF":
        # No usable section headers (removed, a loader-only image, or names
        # garbled by a strip tool): search the writable PT_LOAD segments
        # (PF_W; moduledata is in .noptrdata, in the RW segment).  Without
        # this, a Go 1.26+ table (header text start 0) got text base 0 and
        # inline trees were lost.
        for g in c.segments:
            if not g.file_size or not g.flags & 2:
                continue
            pos, end = g.offset, g.offset + g.file_size
            while True:
                pos = c.buf.find(needle, pos, end)  # type: ignore[attr-defined]
                if pos < 0:
                    break
                if (g.addr + pos - g.offset) % c.ptr_size == 0:
                    return g.addr + (pos - g.offset)
                pos += 1
    return None


def _word(c: Container, va: int) -> Optional[int]:
    """A pointer-sized word at va, with the load-time relocation applied when
    the file leaves it for the loader (PIE)."""
    rel = c.relocated_word(va)
    if rel is not None:
        return rel
    return c.read_ptr_va(va)


def text_base(c: Container, tab: "_native.Pclntab", pcln_va: Optional[int]) -> Tuple[int, str]:
    """text_base returns (address, source) of runtime.text, to which Go 1.18+
    function-table entries are relative.  It is not the start of .text in
    cgo and c-archive builds, and Go 1.26+ stores 0 in the header.

    Cheapest first: the header word (after its load-time relocation in a
    PIE), then moduledata's text field (.go.module section on Go 1.26+), then
    the runtime.text symbol, then moduledata found by symbol or by a data
    word pointing at the table.  Each moduledata answer is checked against
    its minpc field."""
    if tab.version < PclntabVersion.V118:
        return 0, "n/a"
    hdr = tab.header_text_start
    if not hdr and pcln_va is not None and c.kind == "DYN":
        hdr = c.relocated_word(pcln_va + 8 + 2 * tab.ptr_size) or 0
    if hdr:
        return hdr, "header"

    def from_moduledata(md: Optional[int]) -> Optional[int]:
        if md is None:
            return None
        text = _word(c, md + MD_TEXT * c.ptr_size)
        minpc = _word(c, md + MD_MINPC * c.ptr_size)
        if text and minpc is not None and minpc - text == tab.entry(0):
            return text
        return None

    s = c.section(".go.module", "__go_module")
    text = from_moduledata(s.addr if s is not None and s.addr else None)
    if text:
        return text, "moduledata"
    addr = c.find_symbol("runtime.text", "_runtime.text")
    if addr is not None:
        return addr, "runtime.text"
    text = from_moduledata(_moduledata_addr(c, pcln_va))
    if text:
        return text, "moduledata"
    s = c.section(".text", "__text")
    if s is not None:
        return s.addr, ".text"
    return 0, "n/a"


# moduledata word index of gofunc (cmd/link/internal/ld/symtab.go), by Go
# release: covctrs/ecovctrs arrived in 1.20, typedesclen/itab words in 1.27.
GOFUNC_INDEX = ((27, 43), (20, 40), (18, 38))


def _go_minor(go_version: Optional[str]) -> Optional[int]:
    if not go_version or not go_version.startswith("go1."):
        return None
    digits = ""
    for ch in go_version[4:]:
        if not ch.isdigit():
            break
        digits += ch
    return int(digits) if digits else None


def inline_context(c: Container, tab: "_native.Pclntab", pcln_va: Optional[int],
                   go_version: Union[Optional[str], Callable[[], Optional[str]]]) -> Tuple[int, int]:
    """inline_context returns (record layout, gofunc address) for inline
    expansion: layout 16 (Go 1.20+), 20 (Go 1.13-1.19) or 0 when the trees
    cannot be read; gofunc is 0 before Go 1.18 (funcdata are pointers).
    go_version is the toolchain version, or a function returning it that
    is called only when the answer depends on it (a 1.2-format table, or a
    gofunc found through moduledata), so that opening a binary does not read
    its build info."""
    def version() -> Optional[str]:
        return go_version() if callable(go_version) else go_version

    minor: Optional[int] = None
    if tab.version < PclntabVersion.V116:
        minor = _go_minor(version())
    if tab.version >= PclntabVersion.V120:
        layout = 16
    elif tab.version >= PclntabVersion.V116:
        layout = 20
    else:
        # The 1.2 magic covers Go 1.2-1.15; the 20-byte records start at 1.13.
        layout = 20 if minor is not None and minor >= 13 else 0
    if layout == 0 or tab.version < PclntabVersion.V118:
        return layout, 0
    # Mach-O prefixes C names with "_": ask for those first there (each name
    # that misses is a whole scan of the symbol table, ~10 ms on a big one).
    names = ("go:func.*", "go.func.*", "_go:func.*", "_go.func.*")
    if c.format == "Mach-O":
        names = names[2:] + names[:2]
    gofunc = c.find_symbol(*names)
    if gofunc is None:
        md = _moduledata_addr(c, pcln_va)
        if md is not None:
            minor = _go_minor(version())
            indexes = [i for (v, i) in GOFUNC_INDEX if minor is not None and minor >= v][:1] \
                or [i for (_v, i) in GOFUNC_INDEX]
            for idx in indexes:
                val = _word(c, md + idx * c.ptr_size)
                if val and c.va_to_offset(val) is not None:
                    gofunc = val
                    break
    if not gofunc:
        return 0, 0
    return layout, gofunc


def _raw_moduledata(c: Container, tab: "_native.Pclntab", off: int,
                    va: Optional[int]) -> Optional[int]:
    """For a raw image: find moduledata by shape, infer the base address from
    its pointer to the table when the caller gave none, and remember its
    address for text base and gofunc.  Returns the table's address."""
    from gosym.container.raw import RawContainer

    assert isinstance(c, RawContainer)
    hit = find_moduledata(c, tab, off)
    if hit is None:
        if c.base_from != "given":
            c.notes.append("no moduledata found: addresses are assumed to be buffer offsets")
        return va
    md_off, pcln_va = hit
    if c.base_from != "given":
        c.rebase(pcln_va - off, "moduledata")
    elif pcln_va != va:
        c.notes.append(f"moduledata puts the pclntab at {pcln_va:#x}, the given base "
                       f"address at {va or 0:#x}")
    c.moduledata = c.offset_to_va(md_off)
    return c.offset_to_va(off)


def open_pclntab(c: Container) -> Tuple["_native.Pclntab", PclntabInfo]:
    """open_pclntab locates, opens and checks the pclntab of a container."""
    off, size, va, found_by, section = locate(c)
    tab = _native.Pclntab(c.buf, off, size, section or "pclntab")
    if tab.ptr_size != c.ptr_size and c.format != "raw":
        raise FormatError(f"pclntab pointer size {tab.ptr_size} does not match the "
                          f"{c.ptr_size * 8}-bit container", section=section or "pclntab", offset=off)
    if tab.big_endian != (c.byte_order == "big"):
        raise FormatError("pclntab byte order does not match the container",
                          section=section or "pclntab", offset=off)
    if c.format == "raw":
        va = _raw_moduledata(c, tab, off, va)
    base, base_from = text_base(c, tab, va)
    tab.text_base = base
    tab.check_sorted()
    info = PclntabInfo(
        version=PclntabVersion(tab.version), magic=tab.magic, quantum=tab.quantum,
        ptr_size=tab.ptr_size, big_endian=tab.big_endian, nfunc=tab.nfunc, nfiles=tab.nfiles,
        text_start=base, header_text_start=tab.header_text_start, text_start_from=base_from,
        found_by=found_by, section=section, offset=off, address=va, size=size)
    return tab, info


# ------------------------------------------------------------------ names

def _mask_brackets(name: str) -> str:
    """Replace what is inside [...] (type arguments) by '_' so that dots and
    slashes there are ignored; unbalanced brackets leave the name as is."""
    depth = 0
    out = []
    for ch in name:
        if ch == "[":
            depth += 1
            out.append(ch)
        elif ch == "]":
            depth -= 1
            if depth < 0:
                return name
            out.append(ch)
        else:
            out.append("_" if depth > 0 else ch)
    return name if depth else "".join(out)


def split_name(name: str, version: int = 120) -> Tuple[str, str, str]:
    """split_name returns (package, receiver, base name) of a Go symbol name,
    with the rules of debug/gosym's Sym.PackageName/ReceiverName/BaseName."""
    m = _mask_brackets(name)
    slash = m.rfind("/")
    start = slash if slash >= 0 else 0
    first = m.find(".", start)
    last = m.rfind(".", start)
    # Compiler-generated symbols belong to no package: "go:"/"type:" since
    # Go 1.20, "go."/"type." before.
    if (version >= 120 and m.startswith(("go:", "type:"))) or \
            (version <= 118 and m.startswith(("go.", "type."))):
        package = ""
    else:
        package = name[:first] if first >= 0 else ""
    receiver = name[first + 1:last] if first >= 0 and last >= 0 and first != last else ""
    dot = m.rfind(".")
    base = name[dot + 1:] if dot >= 0 else name
    return package, receiver, base


class Func:
    """Func is one function of the pclntab; fields decode on first use."""

    __slots__ = ("_tab", "index", "_rec", "_version")

    def __init__(self, tab: "_native.Pclntab", index: int):
        self._tab = tab
        self.index = index  #: position in the function table (`functions[index]`)
        self._rec: Optional[dict] = None
        self._version = tab.version

    def _record(self) -> dict:
        if self._rec is None:
            self._rec = self._tab.func(self.index)
        return self._rec

    @property
    def name(self) -> str:
        """name is the function's full Go symbol name."""
        return self._tab.func_name(self.index)

    @property
    def entry(self) -> int:
        """entry is the function's first pc."""
        return self._tab.entry(self.index)

    @property
    def end(self) -> int:
        """end is the next function-table entry's address (debug/gosym Func.End)."""
        return self._tab.entry(self.index + 1)

    @property
    def file(self) -> str:
        """file is the source file of the function's entry pc."""
        return self._record()["file"]

    @property
    def start_line(self) -> int:
        """start_line is the line of the func keyword (Go 1.20+; 0 before)."""
        return self._record()["start_line"]

    @property
    def args(self) -> int:
        """args is the size in bytes of the arguments and results."""
        return self._record()["args"]

    @property
    def frame_size(self) -> int:
        """frame_size is the largest stack-pointer delta in the function (its
        pcsp table's maximum; linear in the function's tables)."""
        return self._tab.frame_size(self.index)

    @property
    def func_id(self) -> int:
        """func_id marks special runtime functions (abi.FuncID)."""
        return self._record()["func_id"]

    @property
    def package(self) -> str:
        """package is the package path part of the name."""
        return split_name(self.name, self._version)[0]

    @property
    def receiver(self) -> str:
        """receiver is the receiver type of a method ("" for plain functions)."""
        return split_name(self.name, self._version)[1]

    @property
    def base_name(self) -> str:
        """base_name is the name without package or receiver."""
        return split_name(self.name, self._version)[2]

    @property
    def has_inline_tree(self) -> bool:
        """has_inline_tree says whether the function has an inline tree (calls
        inlined into it that lookup can expand); False when the binary's
        trees cannot be read (Binary.inline_layout 0)."""
        return bool(self._tab.inline_tree_offset(self.index))

    def record(self) -> FuncRecord:
        """record returns every decoded _func field (for dumps and reports)."""
        return FuncRecord(**self._record())

    def lines(self) -> List[LineRow]:
        """lines returns the function's pc -> file:line table (linear in it).
        The last row ends where the tables end, which can be before `end`
        (alignment padding has no line)."""
        pcs, files, lines, end = self._tab.lines(self.index)
        rows = []
        n = len(pcs)
        for k in range(n):
            rows.append(LineRow(pcs[k], pcs[k + 1] if k + 1 < n else end, files[k], lines[k]))
        return rows

    def __repr__(self) -> str:
        return f"<Func {self.name} {self.entry:#x}-{self.end:#x}>"

    def __eq__(self, other) -> bool:
        return isinstance(other, Func) and other._tab is self._tab and other.index == self.index

    def __hash__(self) -> int:
        return hash((id(self._tab), self.index))


class Functions(Sequence):
    """Functions is the function table as a lazy sequence of Func."""

    def __init__(self, tab: "_native.Pclntab"):
        self._tab = tab

    def __len__(self) -> int:
        return self._tab.nfunc

    @overload
    def __getitem__(self, i: int) -> Func: ...
    @overload
    def __getitem__(self, i: slice) -> List[Func]: ...
    def __getitem__(self, i: Union[int, slice]):
        n = self._tab.nfunc
        if isinstance(i, slice):
            return [Func(self._tab, k) for k in range(*i.indices(n))]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("function index out of range")
        return Func(self._tab, i)

    def __iter__(self) -> Iterator[Func]:
        for k in range(self._tab.nfunc):
            yield Func(self._tab, k)

    def columns(self, files: bool = False) -> FunctionColumns:
        """columns returns the whole table in one C pass: entry and end as
        uint64 arrays, names as a sequence of str (decoded on first access;
        `.tolist()` decodes all), start lines as an int32 array, and with
        files=True the entry file of every function as a list of str (one
        more pass over the pcfile tables: linear in them)."""
        return FunctionColumns(*self._tab.columns(files))

    def get(self, name: str) -> Optional[Func]:
        """get returns the first function with this exact name, or None (linear)."""
        names = self._tab.columns()[2]
        try:
            return Func(self._tab, names.index(name))
        except ValueError:
            return None
