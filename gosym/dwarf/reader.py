"""The Dwarf object: one binary's DWARF line information, with its caches
and lookups (one pc, a batch, every row).

What does not live here: opening files and finding separate debug files
(gosym.dwarf.discovery), section reading (gosym.dwarf.sections), units
(gosym.dwarf.units), row and file-table shapes (gosym.dwarf.lines).
"""
from __future__ import annotations

import array
import mmap
import os
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from gosym import _dwarf
from gosym._native import Frame
from gosym.container import Container
from gosym.dwarf.lines import END_SEQUENCE, LineInfo, LineRows, LineTable, LineTables, _resolve
from gosym.container.compress import compression, section_chunks, section_data
from gosym.dwarf.sections import DwarfSection, SectionSummary, find_section, read_section
from gosym.dwarf.units import DW_UT_compile, DW_UT_partial, DW_UT_skeleton, DW_UT_split_compile, CompileUnit, \
    parse_units, parse_units_stream
from gosym.errors import FormatError, GosymError, UnsupportedError


def _cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class Dwarf:
    """Dwarf is the DWARF line information of one binary.

    Creating it only finds the sections; each is decompressed on first use
    and kept.  units() reads the compile units; line_rows() decodes every
    line program in one C pass; line_at(pc) and lookup(pc) decode only the
    unit whose sequence covers pc (after one row-less pass that indexes
    sequences)."""

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
        return self._read_units(1 << 20)

    def _read_units(self, step: int) -> List[CompileUnit]:
        # step: compressed bytes inflated at a time for a streamed .debug_info.
        if self._units is None:
            # .debug_info is read for the first DIE of each unit only: it is
            # not kept, and a compressed one is read as it inflates
            # (inflated, it is often larger than .debug_line).
            cached = self._secs.get("info")
            s = None if cached is not None else find_section(self.container, "info")
            if cached is None and (s is None or s.size == 0):
                self._units = []
            else:
                big = self.container.byte_order == "big"
                try:
                    more = (self._data("abbrev"), self._data("str"), self._data("line_str"),
                            self._data("str_offsets"), big)
                    if cached is not None:
                        units = parse_units(cached.data, *more)
                    elif s is not None and compression(self.container, s) is None:
                        units = parse_units(section_data(self.container, s)[0], *more)
                    elif s is not None:
                        units = parse_units_stream(section_chunks(self.container, s, step), *more)
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
            t = self._table_maker()(k)
        return t

    def _table_maker(self) -> Callable[[int], LineTable]:
        """A function of k that makes (and caches) table k from what it
        captures now: it keeps working after close(), as the tables of
        line_rows() are made on first use."""
        offs, line, owner, tables, path = self.line_offsets(), self._line_section(), self._owner, self._tables, self.path

        def make(k: int) -> LineTable:
            t = tables.get(k)
            if t is None:
                off = offs[k]
                try:
                    h = line.header(off)
                    dirs, files = line.entries(off)
                except GosymError as e:
                    raise e.with_path(path)
                unit = owner.get(off)
                rdirs, rfiles = _resolve(h["version"], unit.comp_dir if unit else None, dirs, files)
                t = tables[k] = LineTable(off, h["version"], unit, rdirs, rfiles, line)
            return t
        return make

    # ------------------------------------------------------------ rows
    def line_rows(self) -> LineRows:
        """line_rows decodes every line program in one C pass (GIL released)
        and returns the rows as columns with each program's file table
        (each table read and its paths resolved on first use).
        Linear in .debug_line; 15 to 25 bytes per row (see LineRows)."""
        cols = self._decode_beside_units()
        offs = self.line_offsets()
        if cols is None:
            try:
                cols = self._line_section().decode(offs)
            except GosymError as e:
                raise self._err(e)
        return LineRows(cols, LineTables(len(offs), self._table_maker()))

    def _decode_beside_units(self) -> Optional[tuple]:
        """When the units are still to be read from a compressed .debug_info,
        read them on a second thread (inflating releases the GIL) while this
        one inflates .debug_line and decodes the programs found by walking
        it.  Returns those rows when the walk found the programs the units
        name (as in every binary seen), else None (the caller decodes the
        units' programs); None too when there is nothing to overlap, or no
        second CPU to overlap on (where this process may run on one CPU, the
        thread would only add switching, and its pieces of .debug_info would
        be held beside the rows)."""
        if self._units is not None or self._offsets is not None or "info" in self._secs:
            return None
        if _cpus() < 2:
            return None
        s = find_section(self.container, "info")
        if s is None or s.size < 1 << 16:
            return None
        try:
            if compression(self.container, s) is None:
                return None
        except GosymError:
            return None
        import threading

        for base in ("str", "line_str"):      # both threads read these
            self.section(base)

        def read_units() -> None:
            try:
                # Beside the rows: smaller pieces (a quarter of the memory,
                # 7% more instructions, on the other CPU).
                self._read_units(256 << 10)
            except BaseException:  # noqa: BLE001 - the caller reads them again and raises
                pass

        th = threading.Thread(target=read_units, name="gosym-dwarf-units", daemon=True)
        th.start()
        try:
            line = self._line_section()
            walked = line.unit_offsets()
            cols = line.decode(walked)
        except GosymError:
            cols = None
        finally:
            th.join()
        if cols is None or self.line_offsets() != walked:
            return None
        return cols

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
            ordinal = array.array("I", bytes(4 * len(unit)))
            prev, n = -1, 0
            for i, u in enumerate(unit):
                n = n + 1 if u == prev else 0
                prev = u
                ordinal[i] = n
            self._seq = (_dwarf.SequenceIndex(lo, hi), unit, ordinal)
        return self._seq

    def line_at(self, pc: int) -> Optional[LineInfo]:
        """line_at returns (file, line, column) of the row covering pc, or
        None on a miss.  The first call indexes the sequences (one pass over
        .debug_line storing no rows); each call then decodes at most one
        line program (the last 16 are cached) and binary-searches it, with
        the sequence and row searches of lookup_many (gosym._dwarf)."""
        index, unit, ordinal = self._sequences()
        if not 0 <= pc < 1 << 64:
            return None
        s = index.find(pc)
        if s < 0:
            return None
        k, nth = unit[s], ordinal[s]
        cols = self._unit_rows(k)
        ends = cols[7]
        if nth >= len(ends):
            return None
        start = ends[nth - 1] + 1 if nth else 0
        i = _dwarf.row_at(cols[0], start, ends[nth], pc)
        if i < 0:
            return None
        t = self.table(k)
        return LineInfo(t.file_at(cols[1][i]), cols[2][i], cols[3][i])

    def lookup(self, pc: int) -> List[Frame]:
        """lookup returns the frames at pc, innermost first, as
        Binary.lookup does: one Frame with the file ("" when the row's file
        is not in the table) and line of the row covering pc ([] on a miss).  A line table names no function, so
        the frame's function is "" and its entry None (Binary.lookup(pc,
        source="dwarf") takes the name from the symbol tables); the column
        is in line_at(pc).  Costs as line_at."""
        li = self.line_at(pc)
        if li is None:
            return []
        return [Frame("", li.file or "", li.line, False, 0, None)]

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

    def describe(self) -> Dict[str, SectionSummary]:
        """describe summarizes the sections (stored and decompressed sizes,
        compression) for reports: canonical name -> SectionSummary."""
        return {s.name: SectionSummary(s.stored_name, s.offset, s.stored_size, s.size, s.compression)
                for s in self.sections}



__all__ = ["Dwarf"]
