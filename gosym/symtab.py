"""Symbol tables as a source of answers: ELF .symtab/.dynsym, Mach-O
LC_SYMTAB nlist, PE COFF symbols.

They name functions (Go and C) and their addresses, but carry no file or
line: the symbolizer uses them for code the pclntab does not cover, such as
C functions in cgo binaries.  Decoding is one C pass per table
(`_native.symtab_list`, wrapped as SymtabColumns); names are read on demand.
"""
from __future__ import annotations

import bisect
from typing import Any, Iterator, List, NamedTuple, Optional, Tuple

from gosym import _native
from gosym._native import Frame
from gosym.container import SYMBOL_ENTRY_SIZE, Container, SymtabRef
from gosym.records import Record

IMAGE_SCN_CNT_CODE = 0x20
SHF_EXECINSTR = 0x4


class SymtabColumns(NamedTuple):
    """SymtabColumns is one symbol table decoded into columns (one C pass,
    gosym._native.symtab_list): per symbol its value (array Q), size (Q),
    name_off into the string table (I), index in the table (I), section
    number (i), type (B) and is_func (B)."""

    value: Any
    size: Any
    name_off: Any
    index: Any
    section: Any
    type: Any
    is_func: Any

    def __len__(self) -> int:  # type: ignore[override]
        return len(self.value)


def symtab_columns(c: Container, ref: SymtabRef) -> SymtabColumns:
    """symtab_columns decodes the symbol table `ref` of container c (the
    typed wrapper of gosym._native.symtab_list)."""
    cols = _native.symtab_list(c.buf, ref.kind, c.byte_order == "big", ref.offset, ref.count)
    return SymtabColumns(cols["value"], cols["size"], cols["name_off"], cols["index"], cols["section"],
                         cols["type"], cols["is_func"])


class Symbol(Record, frozen=True):
    """Symbol is one symbol-table entry: name, address, size (0 if unknown),
    whether it is code, and the table it came from."""

    name: str                     #: symbol name
    address: int                  #: its address
    size: int                     #: size in bytes, 0 if unknown
    is_func: bool                 #: whether it is code
    table: str                    #: name of the symbol table it came from


class GosymtabInfo(Record, frozen=True):
    """GosymtabInfo describes the legacy .gosymtab section: its name in the
    file and its size.  Go 1.3+ leaves it empty; only Go 1.0-1.2 binaries
    fill it (gosym reads the pclntab instead).  as_dict() gives the JSON form."""

    section: str
    size: int

    def as_dict(self) -> dict:
        """as_dict returns {"section", "size"} (for JSON output)."""
        return {"section": self.section, "size": self.size}


def gosymtab_info(c: Container) -> Optional[GosymtabInfo]:
    """gosymtab_info returns the container's .gosymtab/__gosymtab, or None."""
    s = c.section(".gosymtab", "__gosymtab")
    return None if s is None else GosymtabInfo(s.name, s.size)


class SymbolTable:
    """SymbolTable holds every symbol of a container, with code symbols
    sorted by address for `lookup` (frames) and `symbol_at` (name and
    offset)."""

    def __init__(self, c: Container):
        self._c = c
        self._tables: List[Tuple[SymtabRef, SymtabColumns]] = [(ref, symtab_columns(c, ref))
                                                               for ref in c.symtabs]
        self._sorted: Optional[List[Tuple[int, int, int, int]]] = None
        self._starts: List[int] = []

    def __len__(self) -> int:
        return sum(len(cols.value) for _ref, cols in self._tables)

    def _name(self, ref: SymtabRef, cols: SymtabColumns, k: int) -> str:
        off = cols.name_off[k]
        if ref.kind == "coff" and off == 0xFFFFFFFF:
            rec = ref.offset + cols.index[k] * SYMBOL_ENTRY_SIZE["coff"]
            return bytes(self._c.buf[rec:rec + 8]).split(b"\0", 1)[0].decode("utf-8", "replace")
        if off >= ref.str_size:
            return ""
        start = ref.str_offset + off
        end = self._c.buf.find(b"\0", start, ref.str_offset + ref.str_size)
        if end < 0:
            end = ref.str_offset + ref.str_size
        return bytes(self._c.buf[start:end]).decode("utf-8", "replace")

    def _address(self, ref: SymtabRef, cols: SymtabColumns, k: int) -> Optional[int]:
        value, section = cols.value[k], cols.section[k]
        if ref.kind == "coff":
            if section <= 0 or section > len(self._c.sections):
                return None
            return self._c.sections[section - 1].addr + value
        return value

    def _is_code(self, ref: SymtabRef, cols: SymtabColumns, k: int) -> bool:
        if not cols.is_func[k]:
            return False
        section = cols.section[k]
        if ref.kind == "coff":
            s = self._c.sections[section - 1] if 0 < section <= len(self._c.sections) else None
            return bool(s and s.flags & IMAGE_SCN_CNT_CODE)
        if ref.kind.startswith("macho"):
            s = self._c.sections[section - 1] if 0 < section <= len(self._c.sections) else None
            return bool(s and s.segment == "__TEXT" and s.name in ("__text", "__stubs"))
        return True

    def __iter__(self) -> Iterator[Symbol]:
        for ref, cols in self._tables:
            for k in range(len(cols.value)):
                addr = self._address(ref, cols, k)
                if addr is None:
                    continue
                yield Symbol(self._name(ref, cols, k), addr, cols.size[k],
                             self._is_code(ref, cols, k), ref.name)

    def _index(self) -> None:
        rows = []
        for t, (ref, cols) in enumerate(self._tables):
            for k in range(len(cols.value)):
                if not self._is_code(ref, cols, k):
                    continue
                addr = self._address(ref, cols, k)
                if addr:
                    rows.append((addr, cols.size[k], t, k))
        rows.sort()
        self._sorted = rows
        self._starts = [r[0] for r in rows]

    def symbol_at(self, pc: int) -> Optional[Tuple[str, int]]:
        """symbol_at returns (function name, offset of pc from its start) for
        the code symbol containing pc, or None (binary search; the first call
        sorts the code symbols)."""
        if self._sorted is None:
            self._index()
        assert self._sorted is not None
        i = bisect.bisect_right(self._starts, pc) - 1
        if i < 0:
            return None
        addr, size, t, k = self._sorted[i]
        if size and pc >= addr + size:
            return None
        if not size and i + 1 < len(self._starts) and pc >= self._starts[i + 1]:
            return None
        ref, cols = self._tables[t]
        return self._name(ref, cols, k), pc - addr

    def lookup(self, pc: int) -> List[Frame]:
        """lookup returns the frames at pc, innermost first, as
        Binary.lookup does: one Frame naming the code symbol containing pc,
        with file "" and line 0 (a symbol table has no positions) and the
        symbol's address as entry; [] on a miss.  Costs as symbol_at."""
        hit = self.symbol_at(pc)
        if hit is None:
            return []
        name, off = hit
        return [Frame(name, "", 0, False, 0, pc - off)]
