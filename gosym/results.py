"""The result types of the public API: rows and columns that Binary and
Functions return, and `Symbolized`, what Binary.symbolize returns whatever
its `source`.

Only types live here, no decoding: the pclntab's batch result is the C
class gosym._native.Symbolized, the multi-source one
gosym.symbolize.MergedSymbolized; both satisfy `Symbolized`.
"""
from __future__ import annotations

from array import array
from typing import (TYPE_CHECKING, Any, Dict, Iterator, List, NamedTuple, Optional, Protocol, Sequence,
                    Tuple, runtime_checkable)

from gosym.records import Record

if TYPE_CHECKING:
    from gosym._native import Frame


class LineRow(NamedTuple):
    """LineRow is one run of a function's line table: pcs [pc, end) map to file:line."""

    pc: int                      #: first pc of the run
    end: int                     #: pc past the run
    file: str                    #: source file
    line: int                    #: source line


class FunctionColumns(NamedTuple):
    """FunctionColumns is the whole function table as columns (one row per
    function, in table order)."""

    entry: "Sequence[int]"       #: array('Q')
    end: "Sequence[int]"         #: array('Q'): the next function's entry
    name: "Sequence[str]"        #: NameColumn: decoded on access; .tolist() for all
    start_line: "Sequence[int]"  #: array('i'); 0 before Go 1.20
    file: Optional[List[str]] = None   #: entry file per function; only with columns(files=True)


class FunctionCosts(NamedTuple):
    """FunctionCosts is what each function of the pclntab costs, as uint64
    columns in table order (Binary.function_costs).  A byte of the table is
    counted once, for the first function that references it (a pc-value table
    shared by several functions goes to the lowest index); `tables` is the
    whole table's split (Binary.pclntab_sizes), so the table bytes no function
    owns are `sum(tables.values()) - sum(record + name + pcvalue + funcdata)`.
    A go:func.* object (stack map, inline tree, ...) runs to the next object
    a function names, as the linker lays them out back to back."""

    code: "Sequence[int]"      #: code bytes: the pc extent of its pc-value tables (padding excluded)
    record: "Sequence[int]"    #: its function-table pair and _func record with pcdata/funcdata arrays
    name: "Sequence[int]"      #: its name's bytes (with the NUL)
    pcvalue: "Sequence[int]"   #: pcsp, pcfile, pcln and pcdata table bytes it owns
    funcdata: "Sequence[int]"  #: go:func.* bytes it owns where they lie in the table (Go 1.26+), else 0
    tables: Dict[str, int]     #: the table split, as Binary.pclntab_sizes


class FuncRecord(Record, frozen=True):
    """FuncRecord is every decoded field of one _func record
    (runtime/symtab.go: _func): entry and end pcs, name, file, the record's
    offset in the table, args, deferreturn, the pcsp/pcfile/pcln table
    offsets, npcdata, cu_offset, start_line (Go 1.20+, else 0), func_id,
    flag and nfuncdata.  as_dict() gives the JSON form."""

    entry: int
    end: int
    name: str
    file: str
    record_offset: int
    args: int
    deferreturn: int
    pcsp: int
    pcfile: int
    pcln: int
    npcdata: int
    cu_offset: int
    start_line: int
    func_id: int
    flag: int
    nfuncdata: int

    def as_dict(self) -> dict:
        """as_dict returns the fields as a dict (for JSON output)."""
        return dict(self.__dict__)


class LookupColumns(NamedTuple):
    """LookupColumns is the answer of Binary.lookup_many: per pc, the
    function index (int64 array, -1 on a miss), the line (int32 array, -1
    unknown) and the file offset (uint32 array, 0 unknown; Binary.file_name
    turns it into a name)."""

    func: "array"           #: function index per pc (int64; -1 on a miss)
    line: "array"           #: line per pc (int32; -1 unknown)
    file_offset: "array"    #: file offset per pc (uint32; 0 unknown; Binary.file_name names it)


class LineColumns(NamedTuple):
    """LineColumns is every function's pc -> file:line table as columns
    (Binary.line_table): per row its first pc (uint64 array), file offset
    (uint32 array; Binary.file_name gives the name), line (int32 array) and
    function index (uint32 array), each function's rows together in table
    order; `failed` counts the functions whose tables did not decode (they
    have no rows)."""

    pc: "array"             #: first pc of each row (uint64)
    file_offset: "array"    #: file offset of each row (uint32; Binary.file_name names it)
    line: "array"           #: line of each row (int32)
    func: "array"           #: function index of each row (uint32)
    failed: int             #: functions whose tables did not decode (no rows)


@runtime_checkable
class Symbolized(Protocol):
    """Symbolized is the columnar answer of Binary.symbolize for a batch of
    pcs, the same interface for every source.

    Per pc k: `count[k]` frames starting at frame `first[k]` (innermost
    first; 0 frames on a miss) and `source[k]`, which source answered
    (gosym.symbolize.NONE, PCLNTAB, DWARF or SYMTAB).  Per frame j:
    `line[j]`, `column[j]` (0 where the source has none: the pclntab),
    `start_line[j]`, `inlined[j]`.  Names and files of all frames come from
    names() and files(); frames(k) builds the Frame objects of one pc.
    `partial` counts the pcs whose inline tree could not be followed (they
    have the physical function's frame only; a GosymWarning said so)."""

    first: Any
    count: Any
    line: Any
    start_line: Any
    inlined: Any
    partial: int   #: pcs answered with the physical function only: their inline tree could not be followed

    @property
    def source(self) -> Any:
        """source is the per-pc array of which source answered."""
        ...

    @property
    def column(self) -> Any:
        """column is the per-frame column array (0: unknown)."""
        ...

    @property
    def nframes(self) -> int:
        """nframes is the total number of frames over all pcs."""
        ...

    def __len__(self) -> int:
        """The number of pcs."""
        ...

    def names(self) -> List[str]:
        """names returns the function name of every frame."""
        ...

    def files(self) -> List[str]:
        """files returns the file name of every frame."""
        ...

    def frames(self, k: int) -> List["Frame"]:
        """frames returns the Frame objects of pc k, innermost first."""
        ...

    def __iter__(self) -> Iterator[List["Frame"]]:
        """Iterating gives frames(k) for every pc in order."""
        ...

    def render_text(self, style: str, inline: bool = True,
                    valid: Optional[bytes] = None) -> Optional[Tuple[bytes, Any]]:
        """render_text writes every pc's answer in a text style of `gosym
        lookup` ("go", "gnu", "llvm") in one C pass (csrc/render.c, the one
        writer of these styles): returns (text, ends), ends[k] the end of pc
        k's answer; valid marks the pcs to answer.  None only from a pclntab
        result whose names are damaged (names() then raises)."""
        ...
