"""The result types shared by every source of answers (pclntab, DWARF,
symbol tables): what Binary.symbolize returns, whatever its `source`.

Only types live here, no decoding: the pclntab's batch result is the C
class gosym._native.Symbolized, the multi-source one
gosym.symbolize.MergedSymbolized; both satisfy `Symbolized`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, List, Protocol, runtime_checkable

if TYPE_CHECKING:
    from gosym._native import Frame


@runtime_checkable
class Symbolized(Protocol):
    """Symbolized is the columnar answer of Binary.symbolize for a batch of
    pcs, the same interface for every source.

    Per pc k: `count[k]` frames starting at frame `first[k]` (innermost
    first; 0 frames on a miss) and `source[k]`, which source answered
    (gosym.symbolize.NONE, PCLNTAB, DWARF or SYMTAB).  Per frame j:
    `line[j]`, `column[j]` (0 where the source has none: the pclntab),
    `start_line[j]`, `inlined[j]`.  Names and files of all frames come from
    names() and files(); frames(k) builds the Frame objects of one pc."""

    first: Any
    count: Any
    line: Any
    start_line: Any
    inlined: Any

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
