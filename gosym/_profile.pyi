from array import array
from typing import Any, Tuple

class ProfileColumns:
    data: bytes
    str_off: array
    str_len: array
    map_id: array
    map_start: array
    map_limit: array
    map_offset: array
    map_file: array
    map_bid: array
    map_flags: array
    loc_id: array
    loc_map: array
    loc_addr: array
    loc_nlines: array
    loc_off: array
    loc_len: array
    fn_id: array
    fn_name: array
    fn_sys: array
    fn_file: array
    fn_start: array
    smp_first: array
    smp_count: array
    smp_locs: array
    def string(self, i: int) -> bytes: ...
    @property
    def nstrings(self) -> int: ...

class Additions:
    cols: ProfileColumns
    def __init__(self, cols: ProfileColumns) -> None: ...
    @property
    def nstrings(self) -> int: ...
    @property
    def nfunctions(self) -> int: ...
    def function(self, name: str, file: str, start_line: int) -> int: ...
    def frame_functions(self, tab: Any, frames: array, name_off: array, file_off: array,
                        start_line: array) -> array: ...

def decode_profile(data: bytes) -> ProfileColumns: ...
def encode_profile(c: ProfileColumns, fill_first: array, fill_count: array, lfid: array, lline: array,
                   add: Additions) -> bytearray: ...
def pending(c: ProfileColumns, mapping_id: int, bias: int) -> Tuple[array, array, int]: ...
def group_frames(first: array, count: array, name_off: array, file_off: array) -> Tuple[array, array, array]: ...
def take_u64(table: array, idx: array) -> array: ...
def place(fill_first: array, fill_count: array, idx: array, first: array, count: array, base: int) -> None: ...
def widen_i32(a: array) -> array: ...
def split_chains(c: ProfileColumns, idx: array, first: array, count: array, func: array,
                 name_off: array, line: array) -> array: ...
