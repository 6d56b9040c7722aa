"""pprof profiles: fill in function and line data for a Go binary's addresses.

A pprof profile (gzipped `profile.proto`, as written by runtime/pprof, perf
converters and eBPF agents) lists Locations by address, each in a Mapping of
the process's memory.  `symbolize_profile` finds the mappings that belong to
a binary (by build ID, else file name, else an explicit selector), looks up
every location there that has no Line entries — inlined frames become
several Lines, innermost first, as the format expects — with the mapping's
load bias taken off, and sets the mapping's has_* flags.

The schema below is gosym's own, built at run time with the `protobuf`
package (no generated code); field numbers follow the documented format
(github.com/google/pprof, proto/profile.proto).  String-table entries are
read as bytes, so a profile holding file names that are not UTF-8 still
round-trips.
"""
from __future__ import annotations

import array
import gzip
import os
import zlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

from gosym.errors import GosymError, UnsupportedError

MAX_PROFILE = 1 << 30   # bytes after gunzip: larger input is refused, not inflated

# (message, [(field name, number, type, label, message type)]): the fields of
# profile.proto that gosym reads or writes; others pass through as unknown
# fields.  Types: 3 int64, 4 uint64, 8 bool, 12 bytes, 11 message.
# Labels: 1 optional (proto3 implicit presence), 3 repeated (packed).
_SCHEMA: List[Tuple[str, List[Tuple[str, int, int, int, str]]]] = [
    ("ValueType", [("type", 1, 3, 1, ""), ("unit", 2, 3, 1, "")]),
    ("Label", [("key", 1, 3, 1, ""), ("str", 2, 3, 1, ""), ("num", 3, 3, 1, ""),
               ("num_unit", 4, 3, 1, "")]),
    ("Sample", [("location_id", 1, 4, 3, ""), ("value", 2, 3, 3, ""),
                ("label", 3, 11, 3, "Label")]),
    ("Mapping", [("id", 1, 4, 1, ""), ("memory_start", 2, 4, 1, ""), ("memory_limit", 3, 4, 1, ""),
                 ("file_offset", 4, 4, 1, ""), ("filename", 5, 3, 1, ""), ("build_id", 6, 3, 1, ""),
                 ("has_functions", 7, 8, 1, ""), ("has_filenames", 8, 8, 1, ""),
                 ("has_line_numbers", 9, 8, 1, ""), ("has_inline_frames", 10, 8, 1, "")]),
    ("Line", [("function_id", 1, 4, 1, ""), ("line", 2, 3, 1, ""), ("column", 3, 3, 1, "")]),
    ("Location", [("id", 1, 4, 1, ""), ("mapping_id", 2, 4, 1, ""), ("address", 3, 4, 1, ""),
                  ("line", 4, 11, 3, "Line"), ("is_folded", 5, 8, 1, "")]),
    ("Function", [("id", 1, 4, 1, ""), ("name", 2, 3, 1, ""), ("system_name", 3, 3, 1, ""),
                  ("filename", 4, 3, 1, ""), ("start_line", 5, 3, 1, "")]),
    ("Profile", [("sample_type", 1, 11, 3, "ValueType"), ("sample", 2, 11, 3, "Sample"),
                 ("mapping", 3, 11, 3, "Mapping"), ("location", 4, 11, 3, "Location"),
                 ("function", 5, 11, 3, "Function"), ("string_table", 6, 12, 3, ""),
                 ("drop_frames", 7, 3, 1, ""), ("keep_frames", 8, 3, 1, ""),
                 ("time_nanos", 9, 3, 1, ""), ("duration_nanos", 10, 3, 1, ""),
                 ("period_type", 11, 11, 1, "ValueType"), ("period", 12, 3, 1, ""),
                 ("comment", 13, 3, 3, ""), ("default_sample_type", 14, 3, 1, ""),
                 ("doc_url", 15, 3, 1, "")]),
]
_PACKAGE = "gosym.pprof"
_profile_class: Any = None


def profile_class() -> Any:
    """profile_class returns the protobuf message class of a Profile, built
    once from gosym's schema; raises UnsupportedError without `protobuf`."""
    global _profile_class
    if _profile_class is not None:
        return _profile_class
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    except ImportError:
        raise UnsupportedError("pprof support needs the protobuf package: "
                               "pip install 'gosym[pprof]'") from None
    fdp = descriptor_pb2.FileDescriptorProto(name="gosym/pprof_profile.proto", package=_PACKAGE,
                                             syntax="proto3")
    for msg, fields in _SCHEMA:
        m = fdp.message_type.add(name=msg)
        for name, number, typ, label, ref in fields:
            f = m.field.add(name=name, number=number, type=typ, label=label)
            if ref:
                f.type_name = f".{_PACKAGE}.{ref}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    desc = pool.FindMessageTypeByName(f"{_PACKAGE}.Profile")
    _profile_class = message_factory.GetMessageClass(desc)
    return _profile_class


def _gunzip(data: bytes) -> bytes:
    """Inflate gzip members up to MAX_PROFILE bytes."""
    out = []
    total = 0
    while data[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunk = d.decompress(data, MAX_PROFILE + 1 - total)
        total += len(chunk)
        out.append(chunk)
        if total > MAX_PROFILE or d.unconsumed_tail:
            raise GosymError(f"profile inflates past {MAX_PROFILE >> 20} MiB")
        if not d.eof:
            raise GosymError("truncated gzip data")
        data = d.unused_data
    return b"".join(out)


def parse_profile(data: Union[bytes, bytearray, memoryview]) -> Any:
    """parse_profile decodes a pprof profile (gzipped or not) into a message
    of profile_class(); GosymError when it is not one."""
    cls = profile_class()
    data = bytes(data)
    if data[:2] == b"\x1f\x8b":
        try:
            data = _gunzip(data)
        except (zlib.error, EOFError) as e:
            raise GosymError(f"bad gzip data: {e}") from None
    prof = cls()
    try:
        prof.ParseFromString(data)
    except Exception as e:  # google.protobuf.message.DecodeError and the C parser's errors
        raise GosymError(f"not a pprof profile: {e or 'undecodable protobuf'}") from None
    _check(prof)
    return prof


def _check(prof: Any) -> None:
    """The structural rules pprof itself enforces, on the fields gosym uses."""
    st = prof.string_table
    if not st:
        raise GosymError("not a pprof profile: empty string table")
    if st[0] != b"":
        raise GosymError("not a pprof profile: string table does not start with \"\"")
    n = len(st)
    for m in prof.mapping:
        if not (0 <= m.filename < n and 0 <= m.build_id < n):
            raise GosymError(f"mapping {m.id}: string index out of range")
    for f in prof.function:
        if not (0 <= f.name < n and 0 <= f.system_name < n and 0 <= f.filename < n):
            raise GosymError(f"function {f.id}: string index out of range")
    mids = {m.id for m in prof.mapping}
    if 0 in mids:
        raise GosymError("mapping with id 0")
    for loc in prof.location:
        if loc.id == 0:
            raise GosymError("location with id 0")
        if loc.mapping_id and loc.mapping_id not in mids:
            raise GosymError(f"location {loc.id}: unknown mapping {loc.mapping_id}")


@dataclass
class MappingReport:
    """MappingReport says how one profile mapping was matched and filled."""

    id: int                       #: the profile's mapping id
    filename: str                 #: the mapping's file name
    build_id: str                 #: the mapping's build ID ("" if none)
    matched_by: str            #: "build_id" | "filename" | "selector"
    bias: int                     #: runtime address - link address, from the mapping's start and file offset
    locations: int = 0         #: locations in this mapping
    filled: int = 0            #: given lines by gosym
    already: int = 0           #: had lines already (left as they were)
    unmatched: int = 0         #: no function at that address in the binary
    from_symtab: int = 0       #: of filled: a symbol-table name only (no file, line)

    def as_dict(self) -> dict:
        """as_dict renders the report for JSON."""
        d = dict(self.__dict__)
        d["bias"] = f"{self.bias:#x}" if self.bias >= 0 else f"-{-self.bias:#x}"
        return d


@dataclass
class Summary:
    """Summary is what symbolize_profile did: per matched mapping a
    MappingReport, the totals, and the functions it added."""

    mappings: List[MappingReport] = field(default_factory=list)  #: one MappingReport per matched mapping
    locations: int = 0             #: all locations in the profile
    functions_added: int = 0      #: Function messages added to the profile
    strings_added: int = 0        #: strings added to the string table

    @property
    def matched(self) -> int:
        """matched is the number of locations in the binary's mappings."""
        return sum(m.locations for m in self.mappings)

    @property
    def filled(self) -> int:
        """filled is the number of locations gosym gave lines to."""
        return sum(m.filled for m in self.mappings)

    @property
    def unmatched(self) -> int:
        """unmatched is the number of locations in the binary's mappings at
        addresses no function covers."""
        return sum(m.unmatched for m in self.mappings)

    def as_dict(self) -> dict:
        """as_dict renders the summary for JSON."""
        return {"locations": self.locations, "matched": self.matched, "filled": self.filled,
                "already": sum(m.already for m in self.mappings), "unmatched": self.unmatched,
                "functions_added": self.functions_added, "strings_added": self.strings_added,
                "mappings": [m.as_dict() for m in self.mappings]}


class _Strings:
    """The profile's string table with an index, appended to on demand."""

    def __init__(self, table: Any):
        self.table = table
        self.index: Dict[bytes, int] = {}
        for i, s in enumerate(table):
            self.index.setdefault(s, i)
        self.added = 0

    def get(self, s: str) -> int:
        b = s.encode("utf-8", "surrogateescape")
        i = self.index.get(b)
        if i is None:
            i = len(self.table)
            self.table.append(b)
            self.index[b] = i
            self.added += 1
        return i

    def text(self, i: int) -> str:
        return self.table[i].decode("utf-8", "replace")


def _select(prof: Any, strings: _Strings, binary: Any, selector: Optional[str]) -> List[Tuple[Any, str]]:
    """The mappings that belong to the binary, each with how it matched."""
    from gosym.buildid import read_build_ids

    maps = list(prof.mapping)
    if selector is not None:
        sel = selector.strip()
        chosen: List[Any]
        if sel.isdigit():
            chosen = [m for m in maps if m.id == int(sel)]
        elif sel.lower().startswith("0x"):
            try:
                addr = int(sel, 16)
            except ValueError:
                raise GosymError(f"bad --mapping {selector!r}: want an id, 0xADDRESS or a file name") from None
            chosen = [m for m in maps if m.memory_start <= addr < max(m.memory_limit, m.memory_start + 1)]
        else:
            chosen = [m for m in maps if strings.text(m.filename) == sel
                      or _base(strings.text(m.filename)) == _base(sel)]
        if not chosen:
            raise GosymError(f"no mapping in the profile matches --mapping {selector!r}")
        return [(m, "selector") for m in chosen]
    ids = read_build_ids(binary.container)
    by_id = [(m, "build_id") for m in maps if ids.matches(strings.text(m.build_id))]
    if by_id:
        return by_id
    path = binary.path
    if path is None:
        return []
    real = os.path.realpath(path)
    base = _base(path)
    out = []
    for m in maps:
        name = strings.text(m.filename)
        if not name:
            continue
        bid = strings.text(m.build_id).strip()
        # A mapping that records a different build of the same kind is another build.
        if bid and ((ids.gnu and _is_hex(bid)) or (ids.go and "/" in bid)):
            continue
        if name == path or name == real or _base(name) == base:
            out.append((m, "filename"))
    return out


def _base(name: str) -> str:
    """The last component of a file name written on any system (/ or \\)."""
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _is_hex(s: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in s)


def symbolize_profile(data: Union[bytes, Any], binary: Any, *, mapping: Optional[str] = None,
                      symtab: bool = True) -> Tuple[bytes, Summary]:
    """symbolize_profile fills in the Function and Line entries of the
    locations in `binary`'s mappings of a pprof profile and returns the new
    profile (gzipped profile.proto) and a Summary.

    `data` is the profile's bytes (gzipped or not) or an already parsed
    message; `binary` a gosym.Binary or a path.  Mappings are matched by
    build ID (GNU or Go), else by file name, else only by `mapping`: a
    mapping id, a 0xADDRESS inside it, or a file name.  Each mapping's load
    bias comes from its start, file offset and the binary's segments.
    Locations that already have lines are left alone; functions are shared
    with those already in the profile (same name, file and start line).
    `symtab` lets the symbol tables name code the pclntab does not cover.
    One batch symbolization per mapping (C loop); Python work per frame.
    Raises GosymError on a bad profile or when no mapping matches."""
    import gosym
    from gosym.maps import load_bias

    if isinstance(binary, (str, os.PathLike)):
        with gosym.open(binary) as b:
            return symbolize_profile(data, b, mapping=mapping, symtab=symtab)
    prof = parse_profile(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    if not isinstance(data, (bytes, bytearray, memoryview)):
        _check(prof)
    strings = _Strings(prof.string_table)
    summary = Summary(locations=len(prof.location))
    chosen = _select(prof, strings, binary, mapping)
    if not chosen:
        names = ", ".join(f"{m.id}:{strings.text(m.filename) or '?'}" for m in prof.mapping) or "none"
        raise GosymError(f"no mapping in the profile belongs to {binary.path or 'the binary'} "
                         f"(by build ID or file name; mappings: {names}); choose one with --mapping")

    funcs: Dict[Tuple[int, int, int, int], int] = {}
    for f in prof.function:
        funcs.setdefault((f.name, f.system_name, f.filename, f.start_line), f.id)
    next_fid = max((f.id for f in prof.function), default=0) + 1
    fid_cache: Dict[Tuple[str, str, int], int] = {}

    def function_id(name: str, filename: str, start_line: int) -> int:
        nonlocal next_fid
        k = (name, filename, start_line)
        fid = fid_cache.get(k)
        if fid is None:
            ni, fi = strings.get(name), strings.get(filename)
            key = (ni, ni, fi, start_line)
            fid = funcs.get(key)
            if fid is None:
                fid = next_fid
                next_fid += 1
                prof.function.add(id=fid, name=ni, system_name=ni, filename=fi, start_line=start_line)
                funcs[key] = fid
                summary.functions_added += 1
            fid_cache[k] = fid
        return fid

    by_mapping: Dict[int, List[Any]] = {}
    for loc in prof.location:
        by_mapping.setdefault(loc.mapping_id, []).append(loc)
    inline_ok = binary.inline_layout != 0
    for m, how in chosen:
        fake = m.memory_start == 0 and m.memory_limit == 0
        bias = 0 if fake else load_bias(binary.container, m.memory_start, m.file_offset)
        if bias is None:
            raise GosymError(f"mapping {m.id}: file offset {m.file_offset:#x} is in none of "
                             "the binary's loadable segments")
        rep = MappingReport(m.id, strings.text(m.filename), strings.text(m.build_id), how, bias)
        summary.mappings.append(rep)
        locs = by_mapping.get(m.id, [])
        rep.locations = len(locs)
        todo = [loc for loc in locs if not len(loc.line)]
        rep.already = len(locs) - len(todo)
        pcs = array.array("Q", [(loc.address - bias) & 0xFFFFFFFFFFFFFFFF for loc in todo])
        res = binary.symbolize(pcs)
        first, count, line, start = res.first, res.count, res.line, res.start_line
        names, files = res.names(), res.files()
        # One Function per distinct (name, file, start line).
        by_frame: Dict[Tuple[str, str, int], int] = {}
        for k, loc in enumerate(todo):
            n = count[k]
            if n == 0:
                hit = binary.symtab.symbol_at(pcs[k]) if symtab else None
                if hit is None:
                    rep.unmatched += 1
                    continue
                loc.line.add(function_id=function_id(hit[0], "", 0), line=0)
                rep.filled += 1
                rep.from_symtab += 1
                continue
            a = first[k]
            for j in range(a, a + n):
                key = (names[j], files[j], start[j])
                fid = by_frame.get(key)
                if fid is None:
                    fid = by_frame[key] = function_id(names[j], files[j], start[j])
                loc.line.add(function_id=fid, line=line[j])
            rep.filled += 1
        complete = rep.unmatched == 0 and rep.locations > 0
        lines_ok = complete and rep.from_symtab == 0
        m.has_functions = m.has_functions or complete
        m.has_filenames = m.has_filenames or lines_ok
        m.has_line_numbers = m.has_line_numbers or lines_ok
        m.has_inline_frames = m.has_inline_frames or (lines_ok and inline_ok)
    summary.strings_added = strings.added
    return gzip.compress(prof.SerializeToString(), compresslevel=6, mtime=0), summary


def strip_profile(data: bytes) -> bytes:
    """strip_profile removes every Function and Line entry and clears the
    mappings' has_* flags, keeping addresses and mappings (a gzipped
    profile as a symbolizer receives it from a stripped deployment)."""
    prof = parse_profile(data)
    del prof.function[:]
    for loc in prof.location:
        del loc.line[:]
    for m in prof.mapping:
        m.has_functions = m.has_filenames = m.has_line_numbers = m.has_inline_frames = False
    return gzip.compress(prof.SerializeToString(), compresslevel=6, mtime=0)
