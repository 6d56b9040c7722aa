"""DWARF line information: where the sections are, decompression, compile
units, line tables, the `Dwarf` object and debug-file discovery.

The line programs are decoded in C (csrc/dwarf_line.c through
gosym._dwarf); this package finds the sections in the container (ELF,
Mach-O, PE), inflates compressed ones once, reads each compile unit's
name, comp_dir and DW_AT_stmt_list from .debug_info (only the first DIE of
each unit), and resolves file entries to full paths.

Modules, each with one concern:
  sections   finding a DWARF section and reading it (inflated) whole
  units      compile-unit headers and their first DIE
  lines      row flags, file tables, LineTable / LineRows / LineInfo
  reader     the Dwarf object: caches, lookup, line_at, lookup_many, line_rows
  discovery  open_dwarf, separate debug files (find_dwarf, open_debug_file)

Nothing else lives here: build IDs and compression headers are read by the
container layer (gosym.container.notes, gosym.container.compress).
"""
from __future__ import annotations

from gosym.dwarf.discovery import find_dwarf, open_debug_file, open_dwarf
from gosym.dwarf.lines import (BASIC_BLOCK, END_SEQUENCE, EPILOGUE_BEGIN, FLAG_NAMES, IS_STMT, PROLOGUE_END,
                               FileEntry, LineInfo, LineRows, LineTable, LineTables, _resolve, flag_names, join_path)
from gosym.dwarf.reader import Dwarf
from gosym.dwarf.sections import (MAX_RATIO, MAX_SECTION, SHF_COMPRESSED, DwarfSection, SectionSummary, decompress,
                                  find_section, read_section)
from gosym.dwarf.units import (DW_AT_comp_dir, DW_AT_dwo_name, DW_AT_GNU_dwo_name, DW_AT_language, DW_AT_name,
                               DW_AT_producer, DW_AT_stmt_list, DW_AT_str_offsets_base, DW_UT_compile,
                               DW_UT_partial, DW_UT_skeleton, DW_UT_split_compile, DW_UT_split_type, DW_UT_type,
                               CompileUnit, parse_units)

__all__ = [
    "BASIC_BLOCK", "CompileUnit", "DW_AT_GNU_dwo_name", "DW_AT_comp_dir", "DW_AT_dwo_name", "DW_AT_language",
    "DW_AT_name", "DW_AT_producer", "DW_AT_stmt_list", "DW_AT_str_offsets_base", "DW_UT_compile",
    "DW_UT_partial", "DW_UT_skeleton", "DW_UT_split_compile", "DW_UT_split_type", "DW_UT_type", "Dwarf",
    "DwarfSection", "END_SEQUENCE", "EPILOGUE_BEGIN", "FLAG_NAMES", "FileEntry", "IS_STMT", "LineInfo",
    "LineRows", "LineTable", "LineTables", "MAX_RATIO", "MAX_SECTION", "PROLOGUE_END", "SHF_COMPRESSED", "SectionSummary", "decompress",
    "find_dwarf", "find_section", "flag_names", "join_path", "open_debug_file", "open_dwarf", "parse_units",
    "read_section",
]
