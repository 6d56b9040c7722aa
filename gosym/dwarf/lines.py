"""DWARF line tables: row flags, file tables resolved to full paths, and
the rows of the line programs as columns.

The line programs themselves are decoded in C (csrc/dwarf_line.c through
gosym._dwarf.LineSection); this module gives their results a shape:
LineTable (one program's header facts and file table), LineRows (every
row, as arrays), LineInfo (one answer, with its column).

What does not live here: finding and inflating sections
(gosym.dwarf.sections), compile units (gosym.dwarf.units), the lookups and
caches (gosym.dwarf.reader).
"""
from __future__ import annotations

import array
import bisect
import operator
import re
from collections.abc import Sequence
from typing import Any, Callable, List, NamedTuple, Optional, Tuple

from gosym import _dwarf
from gosym.dwarf.units import CompileUnit
from gosym.records import Record

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
    """LineInfo is a DWARF answer for one pc (Dwarf.line_at): full file path, line and column."""

    file: Optional[str]           #: full path of the file, or None when the row's file number is not in the table
    line: int                     #: line (0: no source line)
    column: int                   #: column (0: unknown)


class LineTable(Record):
    """LineTable is one line program's header facts and file table.

    `file_at(k)` maps the file register k of its rows to a full path:
    DWARF 5 numbers files from 0, earlier versions from 1 [DWARF5 6.2.4]."""

    offset: int                       #: .debug_line offset of the unit
    version: int                      #: DWARF version of the line program
    unit: Optional[CompileUnit]       #: the compile unit that points at it
    directories: List[str]            #: resolved directory paths
    files: List[FileEntry]            #: the header's file table
    _line: Any = None
    _defined: Optional[List[FileEntry]] = None

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

    def file_at(self, k: int) -> Optional[str]:
        """file_at returns the full path of file register value k, or None
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


class LineTables(Sequence):
    """LineTables is LineRows.tables: the line programs' LineTables as a
    read-only sequence, each read (header, file table, resolved paths) on
    first use and kept; equal to a list of the same tables."""

    def __init__(self, n: int, make: Callable[[int], LineTable]):
        self._n = n
        self._make = make

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            return [self._make(i) for i in range(*k.indices(self._n))]
        k = operator.index(k)
        if k < 0:
            k += self._n
        if not 0 <= k < self._n:
            raise IndexError("line table index out of range")
        return self._make(k)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, LineTables)):
            return len(other) == self._n and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LineTables({self._n} programs)"


class LineRows:
    """LineRows is every row of the line programs, as columns.

    `address` (array Q), `file` (the file register: array H, or I when a
    value needs it), `line` (I), `column` (I), `flags` (B: IS_STMT | END_SEQUENCE
    | BASIC_BLOCK | PROLOGUE_END | EPILOGUE_BEGIN), `discriminator` (I);
    column and discriminator are a gosym._dwarf.ZeroColumn (no storage)
    when all their values are 0, as in Go's line tables.  `tables[u]` is unit
    u's LineTable and its rows are `unit_row[u]:unit_row[u+1]`.  15 bytes
    per row for Go (address, line, file, flags), at most 25."""

    def __init__(self, cols: tuple, tables: "Sequence[LineTable]"):
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

    def row_file(self, i: int) -> Optional[str]:
        """row_file returns the full path of row i's file, or None when its
        file register is not in the unit's table (LineTable.file_at)."""
        return self.tables[self.unit_of(i)].file_at(self.file[i])



__all__ = ["BASIC_BLOCK", "END_SEQUENCE", "EPILOGUE_BEGIN", "FLAG_NAMES", "FileEntry", "IS_STMT", "LineInfo",
           "LineRows", "LineTable", "LineTables", "PROLOGUE_END", "flag_names", "join_path"]
