"""Type stubs for the column passes of `gosym check` (gosym/_columns.pyx)."""
from array import array
from typing import Any, Callable, Dict, Optional

CMP_AGREE: int
CMP_LINE: int
CMP_FILE: int
CMP_FILE_LINE: int
CMP_NO_DWARF: int
CMP_DWARF_LINE0: int
CMP_NO_PCLNTAB: int
CMP_NEITHER: int
CMP_OUTSIDE: int

def row_starts(address: Any, flags: Any) -> array: ...
def intern_keys(keys: Any, name_of: Callable[[int], Optional[str]], ids: Dict[str, int]) -> array: ...
def gather(values: Any, idx: Any) -> array: ...
def classify(p_file: Any, p_line: Any, d_file: Any, d_line: Any, d_row: Any,
             p_func: Any = ...) -> array: ...
