"""Binary: one Go program opened for reading, the root of the Python API."""
from __future__ import annotations

import array
import builtins
import mmap
import os
import warnings
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

from gosym import _native
from gosym.buildinfo import BuildInfo, read_build_info
from gosym.container import Container, detect
from gosym.errors import FormatError, GosymError, GosymWarning, NotGoBinaryError
from gosym.pclntab import Functions, Func, PclntabInfo, inline_context, open_pclntab, scan_raw
from gosym.results import FunctionCosts, LineColumns, LookupColumns, Symbolized
from gosym.symbolize import symbolize
from gosym.symtab import GosymtabInfo, SymbolTable, gosymtab_info

if TYPE_CHECKING:
    from gosym.dwarf import Dwarf

Frame = _native.Frame

_UNSET = object()


class _Closed:
    """Stands in for the container of a closed Binary: every use raises."""

    def __getattr__(self, name: str) -> Any:
        raise ValueError("operation on a closed binary")


_CLOSED: Any = _Closed()


class Binary(_native.BinaryCore):
    """Binary is an opened Go binary: its container, pclntab and build info.

    Opening maps the file and reads headers only (the pclntab header and a
    sorted check of its function table); tables decode when first asked.
    Use as a context manager, or call close().
    """

    def __init__(self, source: Union[str, "os.PathLike[str]", bytes, bytearray, memoryview],
                 *, arch: Optional[str] = None, base_address: Optional[int] = None,
                 debug_file: Any = None, check_build_id: bool = True):
        self.path: Optional[str] = None  #: the file's path; None when opened from bytes or a buffer
        self.notes: List[str] = []  #: how the input was read when not plainly (e.g. headers unreadable)
        self._file = None
        self._map: Optional[mmap.mmap] = None
        self._build_info = _UNSET
        self._symtab: Optional[SymbolTable] = None
        self._dwarf: Any = _UNSET
        try:
            buf: Any
            if isinstance(source, (bytes, bytearray, memoryview)):
                buf = source if isinstance(source, bytes) else bytes(source)
            else:
                self.path = os.fspath(source)
                self._file = builtins.open(self.path, "rb")
                size = os.fstat(self._file.fileno()).st_size
                if size == 0:
                    raise NotGoBinaryError("empty file")
                self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
                buf = self._map
            self._buf: Any = buf
            #: container is the file format layer the tables were found in (ELF, Mach-O, PE or raw).
            self.container: Container = self._container(buf, arch, base_address)
            #: pclntab says where the pclntab is and what its header holds (PclntabInfo).
            self._tab, self.pclntab = open_pclntab(self.container)
            self.notes += getattr(self.container, "notes", [])
            self._setup_inline()
            if debug_file is not None:
                from gosym.dwarf import open_debug_file
                self._dwarf = open_debug_file(self.container, self.path, debug_file,
                                              check_build_id=check_build_id, arch=arch)
        except GosymError as e:
            self.close()
            raise e.with_path(self.path)
        except BaseException:
            self.close()
            raise

    def _container(self, buf: Any, arch: Optional[str], base_address: Optional[int]) -> Container:
        """Parse the container; a raw image when base_address is given, and
        a raw scan of the whole file when its headers cannot be parsed."""
        from gosym.container.raw import parse_raw, sniff_arch

        if base_address is not None:
            return parse_raw(buf, base_address, arch=arch, scan=scan_raw)
        try:
            return detect(buf, arch=arch)
        except (FormatError, NotGoBinaryError) as e:
            why = str(e)
        sarch, order, ptr = sniff_arch(buf)
        c = parse_raw(buf, None, arch=arch or sarch, hint=(order, ptr), scan=scan_raw)
        if c.scan_hit is None:
            raise NotGoBinaryError(f"{why}; no Go pclntab found by scanning the whole file either")
        note = f"container headers unreadable ({why}); read as a raw image by scanning the whole file"
        self.notes.append(note)
        warnings.warn(f"{self.path or '<buffer>'}: {note}", GosymWarning, stacklevel=4)
        return c

    @property
    def base_address(self) -> Optional[int]:
        """base_address is the address of the buffer's first byte for a raw
        image (given, or inferred from moduledata), else None."""
        return getattr(self.container, "base_address", None) if self.format == "raw" else None

    # --------------------------------------------------------- facts
    @property
    def format(self) -> str:
        """format is "ELF", "Mach-O", "PE" or "raw" (no usable headers)."""
        return self.container.format

    @property
    def arch(self) -> str:
        """arch is the GOARCH the binary was built for."""
        return self.container.arch

    @property
    def byte_order(self) -> str:
        """byte_order is "little" or "big"."""
        return self.container.byte_order

    @property
    def ptr_size(self) -> int:
        """ptr_size is 4 or 8."""
        return self.container.ptr_size

    @property
    def build_info(self) -> Optional[BuildInfo]:
        """build_info is the Go version and module list, or None (read on first use)."""
        if self._build_info is _UNSET:
            self._build_info = read_build_info(self.container)
        return self._build_info  # type: ignore[return-value]

    @property
    def go_version(self) -> Optional[str]:
        """go_version is the toolchain version from the build info, or None."""
        bi = self.build_info
        return bi.go_version if bi else None

    @property
    def gosymtab(self) -> Optional[GosymtabInfo]:
        """gosymtab describes the legacy .gosymtab section (gosym.symtab.GosymtabInfo:
        section, size), or None when absent.  Go 1.3+ leaves it empty; only
        Go 1.0-1.2 binaries fill it (gosym reads the pclntab instead)."""
        return gosymtab_info(self.container)

    @property
    def dwarf(self) -> Optional["Dwarf"]:
        """dwarf is the DWARF line information (gosym.dwarf.Dwarf), or None
        when the file has no .debug_line; sections are read on first use.
        It comes from the debug_file given to open(), else the file itself,
        else a matching debug file installed for it (build ID or
        .gnu_debuglink, see gosym.debugfile); dwarf.path says which."""
        if self._dwarf is _UNSET:
            from gosym.dwarf import find_dwarf
            self._dwarf = find_dwarf(self.container, self.path)
        return self._dwarf  # type: ignore[return-value]

    # --------------------------------------------------------- functions
    @property
    def functions(self) -> Functions:
        """functions is the function table, a lazy sequence of Func."""
        return Functions(self._tab)

    def func_at(self, pc: int) -> Optional[Func]:
        """func_at returns the function containing pc, or None (binary search)."""
        i = self._tab.find(pc)
        return None if i < 0 else Func(self._tab, i)

    def lookup_many(self, pcs: Any, *, return_addresses: bool = False) -> LookupColumns:
        """lookup_many maps a buffer of uint64 pcs to LookupColumns (function
        index, line, file offset arrays) in one C loop with the GIL released:
        the physical function only, from the pclntab (symbolize answers from
        every source, inlined frames included).  Names come from
        functions.columns() and file_name().  `return_addresses`: the pcs
        are return addresses, as for lookup."""
        return LookupColumns(*self._tab.lookup_many(pcs, return_addresses=return_addresses))

    def line_table(self) -> LineColumns:
        """line_table returns every function's pc -> file:line rows as
        LineColumns, in one C pass with the GIL released (linear in the
        pcfile and pcln tables); file names come from file_name()."""
        return LineColumns(*self._tab.line_table())

    @property
    def symtab(self) -> "SymbolTable":
        """symtab is the container's symbol tables (ELF .symtab/.dynsym,
        Mach-O nlist, PE COFF) as one SymbolTable; decoded on first use."""
        if self._symtab is None:
            self._symtab = SymbolTable(self.container)
        return self._symtab

    def symbolize(self, pcs: Any, bias: int = 0, source: str = "pclntab", threads: int = 0, *,
                  return_addresses: bool = False, wrappers: bool = False) -> Symbolized:
        """symbolize expands many pcs at once, inlined frames included, into
        columns: any buffer of uint64 (array, numpy, bytes) or a sequence of
        ints.  `bias` is subtracted from every pc (runtime address - link
        address).  `source` picks where answers come from: "pclntab" (the
        default: C loops with the GIL released, no Python object per frame
        until asked with `.frames(k)`), "dwarf", "symtab", or "auto": the
        pclntab, then DWARF (file:line:column, for C code in cgo binaries),
        then the symbol tables.  Whatever the source, the result is a
        gosym.Symbolized: per pc `count[k]` frames from `first[k]` and
        `source[k]` (gosym.symbolize.PCLNTAB, DWARF, SYMTAB, or NONE for a
        miss); per frame `line`, `column`, `start_line`, `inlined`;
        `names()`, `files()`, `frames(k)`.  The pclntab pass splits batches
        of more than 64k pcs at function boundaries over `threads` threads
        (0: one per CPU, 1: the calling thread only); the answer is the same
        either way.  The other sources run on the calling thread: with them
        `threads` must be 0 or 1 (ValueError otherwise).  The pcs are
        instruction addresses unless `return_addresses` is set: then each is
        a return address (after the bias), answered as lookup answers one.
        Wrappers are left out unless `wrappers=True`, as in lookup; pcs
        where the inline tree cannot be followed get the physical function
        (counted in the result's `partial`, with a GosymWarning)."""
        if not isinstance(threads, int) or threads < 0:
            raise ValueError(f"threads must be an int >= 0 (0: one per CPU), not {threads!r}")
        if source == "pclntab":
            return self._tab.symbolize(pcs, bias, threads, return_addresses=return_addresses,
                                       wrappers=wrappers)
        if threads > 1:
            raise ValueError(f"threads={threads}: source {source!r} runs on the calling thread; "
                             "only source='pclntab' splits a batch over threads (use 0 or 1)")
        return symbolize(self._tab, pcs, bias, source, dwarf=lambda: self.dwarf, symtab=lambda: self.symtab,
                         return_addresses=return_addresses, wrappers=wrappers)

    def file_name(self, offset: int) -> str:
        """file_name returns the name of the file at a file-table offset, the
        kind of value lookup_many's and line_table's `file_offset` columns
        hold (one argument kind: an offset, never a row or file index)."""
        return self._tab.file_name(offset)

    def pclntab_sizes(self) -> Dict[str, int]:
        """pclntab_sizes splits the pclntab's bytes by what they hold: header,
        function table, _func records, names, cu and file tables, each kind
        of pc-value table, funcdata inside the table (Go 1.26+ puts go:func.*
        there), other.  The values sum to pclntab.size.  Linear in the table
        (one C pass)."""
        return self._tab.account(self._funcdata_off())

    def _funcdata_off(self) -> Optional[int]:
        info = self.pclntab
        _layout, gofunc = inline_context(self.container, self._tab, info.address, self.go_version)
        if gofunc and info.address and info.address <= gofunc < info.address + info.size:
            return gofunc - info.address   # Go 1.26+: go:func.* inside the table
        return None

    def function_costs(self) -> FunctionCosts:
        """function_costs says what each function costs (FunctionCosts): its
        code bytes and the pclntab bytes it owns, from the same one C pass as
        pclntab_sizes (whose split it carries), plus a walk of each
        function's pcsp and pcln tables for the code extent."""
        n = self._tab.nfunc
        pf = array.array("Q", bytes(8 * 5 * n))
        tables = self._tab.account(self._funcdata_off(), pf)
        return FunctionCosts(pf[0::5], pf[1::5], pf[2::5], pf[3::5], pf[4::5], tables)

    def _setup_inline(self) -> None:
        """Hand the core the inline context at open (cheap: the build info
        is read only for pre-1.16 tables or a stripped binary's moduledata).
        A failure is handed down too: every expansion then raises it."""
        c, tab = self.container, self._tab
        try:
            layout, gofunc = inline_context(c, tab, self.pclntab.address, lambda: self.go_version)
        except GosymError as e:
            tab.inline_failed(e.with_path(self.path))
            self.notes.append(f"inlined frames unavailable: {e}")
            return
        tab.set_inline(layout, gofunc, self.pclntab.address or 0, c.file_ranges())

    @property
    def inline_layout(self) -> int:
        """inline_layout is the inline-tree record size in use (16: Go 1.20+,
        20: Go 1.13-1.19), or 0 when inlined frames cannot be expanded."""
        return self._tab.inline_layout

    # --------------------------------------------------------- lifetime
    def close(self) -> None:
        """close releases the mapping; the Binary is unusable afterwards."""
        tab = getattr(self, "_tab", None)
        if tab is not None:
            tab.release()
        dw = getattr(self, "_dwarf", None)
        if dw is not None and dw is not _UNSET:
            dw.close()
        # Every later call raises ValueError: through the container, the
        # released table, or the caches dropped here.
        self.container = _CLOSED
        self._build_info = _UNSET
        self._symtab = None
        self._dwarf = _UNSET
        self._buf = None
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:
                pass  # a caller still holds a view; the map closes with it
            self._map = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> "Binary":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.container is _CLOSED:
            return f"<gosym.Binary {self.path or '<buffer>'} closed>"
        return f"<gosym.Binary {self.path or '<buffer>'} {self.format} {self.arch}>"


def open(source, *, arch: Optional[str] = None,  # noqa: A001 - the API name
         base_address: Optional[int] = None, debug_file=None, check_build_id: bool = True) -> Binary:
    """open maps a Go binary (path, bytes or buffer) and returns a Binary.

    With base_address, the input is a raw memory image with no headers (a
    core-dump segment, a process's text and rodata) whose first byte is
    loaded at that address; the pclntab is found by scanning, the text base
    from moduledata and the build info by scanning.  A file whose container
    headers cannot be parsed is read the same way (base inferred), with a
    GosymWarning and a line in Binary.notes.

    debug_file names a separate debug file to read DWARF from; its build ID
    must be the binary's unless check_build_id is False."""
    return Binary(source, arch=arch, base_address=base_address, debug_file=debug_file,
                  check_build_id=check_build_id)
