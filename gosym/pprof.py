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
import re
import os
import zlib
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from gosym import _profile
from gosym.container.compress import zlib_module
from gosym.errors import GosymError, UnsupportedError
from gosym.records import Record

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
    """Inflate gzip members up to MAX_PROFILE bytes (ISA-L when installed)."""
    out = []
    total = 0
    z = zlib_module()
    while data[:2] == b"\x1f\x8b":
        d = z.decompressobj(16 + zlib.MAX_WBITS)
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
    data = _raw(data)
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


class MappingReport(Record):
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
    split: int = 0             #: of filled: inlined chains kept split as the runtime wrote them

    def as_dict(self) -> dict:
        """as_dict renders the report for JSON."""
        d = dict(self.__dict__)
        d["bias"] = f"{self.bias:#x}" if self.bias >= 0 else f"-{-self.bias:#x}"
        return d


class Summary(Record):
    """Summary is what symbolize_profile did: per matched mapping a
    MappingReport, the totals, and the functions it added."""

    mappings: List[MappingReport] = []  #: one MappingReport per matched mapping
    locations: int = 0             #: all locations in the profile
    functions_added: int = 0      #: Function messages added to the profile
    strings_added: int = 0        #: strings added to the string table
    #: resolve= only: mapping id -> the one-line error that left that mapping unfilled
    #: (e.g. its file offset in none of the binary's segments); the other mappings are filled
    failed: Dict[int, str] = {}

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
                "mappings": [m.as_dict() for m in self.mappings],
                "failed": {str(k): v for k, v in self.failed.items()}}


class ProfileMapping(Record, frozen=True):
    """ProfileMapping is one Mapping of a profile as symbolize_profile's
    `resolve` callable receives it."""

    id: int           #: the profile's mapping id
    start: int        #: memory_start: the runtime address where the mapping begins
    limit: int        #: memory_limit: the runtime address past its end
    offset: int       #: file_offset: the file offset mapped at start
    file: str         #: the file name recorded in the profile ("" if none)
    build_id: str     #: the build ID recorded in the profile ("" if none)
    locations: int = 0  #: the profile's locations in this mapping
    pending: int = 0    #: of those, locations with no lines yet (what filling would do)


def _mappings(cols: Any) -> List[ProfileMapping]:
    maps = []
    for i in range(len(cols.map_id)):
        idx, _, already = _profile.pending(cols, cols.map_id[i], 0)
        maps.append(ProfileMapping(cols.map_id[i], cols.map_start[i], cols.map_limit[i], cols.map_offset[i],
                                   _text(cols, cols.map_file[i]), _text(cols, cols.map_bid[i]),
                                   len(idx) + already, len(idx)))
    return maps


def _text(cols: Any, i: int) -> str:
    return cols.string(i).decode("utf-8", "replace")


def _select(maps: List[ProfileMapping], binary: Any, selector: Optional[str]) -> List[Tuple[ProfileMapping, str]]:
    """The mappings that belong to the binary, each with how it matched."""
    from gosym.buildid import read_build_ids

    if selector is not None:
        sel = selector.strip()
        chosen: List[ProfileMapping]
        if sel.isdigit():
            chosen = [m for m in maps if m.id == int(sel)]
        elif sel.lower().startswith("0x"):
            try:
                addr = int(sel, 16)
            except ValueError:
                raise GosymError(f"bad --mapping {selector!r}: want an id, 0xADDRESS or a file name") from None
            chosen = [m for m in maps if m.start <= addr < max(m.limit, m.start + 1)]
        else:
            chosen = [m for m in maps if m.file == sel or _base(m.file) == _base(sel)]
        if not chosen:
            raise GosymError(f"no mapping in the profile matches --mapping {selector!r}")
        return [(m, "selector") for m in chosen]
    ids = read_build_ids(binary.container)
    by_id = [(m, "build_id") for m in maps if ids.matches(m.build_id)]
    if by_id:
        return by_id
    path = binary.path
    if path is None:
        return []
    real = os.path.realpath(path)
    base = _base(path)
    out = []
    for m in maps:
        if not m.file:
            continue
        bid = m.build_id.strip()
        # A mapping that records a different build of the same kind is another build.
        if bid and ((ids.gnu and _is_hex(bid)) or (ids.go and "/" in bid)):
            continue
        if m.file == path or m.file == real or _base(m.file) == base:
            out.append((m, "filename"))
    return out


def _base(name: str) -> str:
    """The last component of a file name written on any system (/ or \\)."""
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _is_hex(s: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in s)


def _raw(data: Any) -> bytes:
    """The uncompressed profile.proto bytes of data (bytes, gzipped or not,
    or a protobuf message)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        data = data.SerializeToString()
    data = bytes(data)
    if data[:2] == b"\x1f\x8b":
        try:
            data = _gunzip(data)
        except (zlib.error, zlib_module().error, EOFError) as e:
            raise GosymError(f"bad gzip data: {e}") from None
    return data


Resolver = Callable[[ProfileMapping], Any]


def symbolize_profile(data: Union[bytes, Any], binary: Any, *, mapping: Optional[str] = None,
                      symtab: bool = True, resolve: Optional[Resolver] = None,
                      return_addresses: bool = False, wrappers: bool = False,
                      split_inline: Optional[bool] = None) -> Tuple[bytes, Summary]:
    """symbolize_profile fills in the Function and Line entries of the
    locations in `binary`'s mappings of a pprof profile and returns the new
    profile (gzipped profile.proto) and a Summary.

    `data` is the profile's bytes (gzipped or not) or a parsed protobuf
    message (parse_profile), which is then also filled in place; `binary`
    a gosym.Binary or a path.  Mappings are matched by
    build ID (GNU or Go), else by file name, else only by `mapping`: a
    mapping id, a 0xADDRESS inside it, or a file name.  With `binary=None`,
    `resolve(m)` is called once per mapping (a ProfileMapping, which says
    how many of its locations have no lines yet) and returns the Binary for
    it or None (left alone): one profile, several binaries; a mapping that
    cannot be filled then goes to `Summary.failed` instead of raising.
    Each mapping's load bias comes from its start, file offset and the
    binary's segments.  Locations that already have lines are left alone.
    Every location gets its frames innermost first (inlined calls
    included).  A Function is a (name, file, start line): the file of the
    frame's own line (profile.proto keeps the file in the Function, so this
    is what makes every Line's file:line true); a function whose code lies
    in one file (nearly all; not package init functions, which gather the
    var initializers of several files) is one Function.  An existing
    Function with the same name, file and start line is reused.
    `symtab` lets the symbol tables name code the pclntab does not cover.
    Addresses are read as instruction addresses, which is what runtime/pprof
    writes (a location's address is runtime.Frame.PC: the return address
    minus 1, inside the call instruction) and what `go tool pprof` reads;
    `return_addresses=True` is for producers that record raw return
    addresses: each is then answered as runtime.Frames.Next answers one
    (the function containing it, the position of address - 1).
    `wrappers`: keep the autogenerated wrapper frames the runtime hides
    (Binary.symbolize's `wrappers`; go tool pprof and debug/gosym name them).
    `split_inline`: runtime/pprof of Go 1.12 to 1.18 (golang/go#50996)
    wrote some inlined chains across two locations of a sample, the inlined
    frames in one and the outer function in the next; refilling both fully
    would repeat the outer frames.  None (the default) keeps that split
    when the binary's Go version is one of those (a location followed in a
    sample by a location of the same physical function whose frames are
    its outermost frames loses them); True or False forces it.  Newer
    runtime/pprof still splits one kind of chain: a function inlined into
    a function of the same name (a recursive function inlined into itself,
    slices.pdqsortCmpFunc in the Go 1.27 compiler), by its "maybe
    recursion" rule when it merges a stack's frames into locations; None
    keeps those splits for every producer.  The
    profile is decoded and written by C (gosym._profile), the frames
    come from one Binary.symbolize batch per mapping: no Python object per
    location.  Raises GosymError on a bad profile or when no mapping
    matches."""
    import gosym

    if isinstance(binary, (str, os.PathLike)):
        with gosym.open(binary) as b:
            return symbolize_profile(data, b, mapping=mapping, symtab=symtab, return_addresses=return_addresses,
                                     wrappers=wrappers,
                                     split_inline=split_inline)
    if binary is None and resolve is None:
        raise TypeError("symbolize_profile: give a binary or resolve=")
    cols = _profile.decode_profile(_raw(data))
    summary = Summary(locations=len(cols.loc_id))
    maps = _mappings(cols)
    chosen: List[Tuple[ProfileMapping, Any, str]] = []
    if binary is None:
        assert resolve is not None
        for m in maps:
            b = resolve(m)
            if b is not None:
                chosen.append((m, b, "resolve"))
    else:
        chosen = [(m, binary, how) for m, how in _select(maps, binary, mapping)]
        if not chosen:
            names = ", ".join(f"{m.id}:{m.file or '?'}" for m in maps) or "none"
            raise GosymError(f"no mapping in the profile belongs to {binary.path or 'the binary'} "
                             f"(by build ID or file name; mappings: {names}); choose one with --mapping")
    out = _Writer(cols)
    for m, b, how in chosen:
        split = (True if _old_runtime(b) else None) if split_inline is None else split_inline
        try:
            summary.mappings.append(out.fill(m, b, how, symtab, return_addresses, wrappers, split))
        except GosymError as e:
            if binary is not None:
                raise
            summary.failed[m.id] = str(e)     # one binary's problem; the other mappings go on
    summary.functions_added = out.add.nfunctions
    summary.strings_added = out.add.nstrings
    raw = out.encode()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        data.ParseFromString(bytes(raw))     # a parsed message is filled in place, as before
    return _gzip(raw), summary


class _Writer:
    """The additions to one profile: line columns per location, new
    Functions and strings (gosym._profile.Additions), flags; encode()
    writes the result."""

    def __init__(self, cols: Any):
        n = len(cols.loc_id)
        self.cols = cols
        self.fill_first = array.array("I", bytes(4 * n))
        self.fill_count = array.array("I", bytes(4 * n))
        self.lfid = array.array("Q")
        self.lline = array.array("q")
        self.add = _profile.Additions(cols)

    def fill(self, m: ProfileMapping, b: Any, how: str, symtab: bool, ret: bool, wrappers: bool,
             split: Optional[bool]) -> MappingReport:
        from gosym.maps import load_bias

        fake = m.start == 0 and m.limit == 0
        bias = 0 if fake else load_bias(b.container, m.start, m.offset)
        if bias is None:
            raise GosymError(f"mapping {m.id}: file offset {m.offset:#x} is in none of "
                             "the binary's loadable segments")
        rep = MappingReport(m.id, m.file, m.build_id, how, bias)
        idx, pcs, rep.already = _profile.pending(self.cols, m.id, bias & 0xFFFFFFFFFFFFFFFF)
        rep.locations = len(idx) + rep.already
        res = b.symbolize(pcs, return_addresses=ret, wrappers=wrappers)
        dense, _, repfr = _profile.group_frames(res.first, res.count, res.name_off, res.file_off)
        fid_of = self.add.frame_functions(b._tab, repfr, res.name_off, res.file_off, res.start_line)
        base = len(self.lfid)
        self.lfid.extend(_profile.take_u64(fid_of, dense))
        self.lline.extend(_profile.widen_i32(res.line))
        _profile.place(self.fill_first, self.fill_count, idx, res.first, res.count, base)
        if split is not False:
            # split None: a runtime of Go 1.18+, whose runtime/pprof still cuts
            # a chain where a function is inlined into one of the same name
            # (its "maybe recursion" rule when merging a stack's frames into
            # locations): only those cuts are kept.
            cut = _profile.split_chains(self.cols, idx, res.first, res.count, res.func, res.name_off, res.line)
            no = res.name_off
            for k in (k for k, n in enumerate(cut) if n):
                j = res.first[k] + cut[k]
                if split is None and no[j - 1] != no[j]:
                    continue
                self.fill_count[idx[k]] = cut[k]
                rep.split += 1
        for k in res.misses():
            hit = b.symtab.symbol_at(pcs[k]) if symtab else None
            if hit is None:
                rep.unmatched += 1
                continue
            self.fill_first[idx[k]] = len(self.lfid)
            self.fill_count[idx[k]] = 1
            self.lfid.append(self.add.function(hit[0], "", 0))
            self.lline.append(0)
            rep.from_symtab += 1
        rep.filled = len(idx) - rep.unmatched
        complete = rep.unmatched == 0 and rep.locations > 0
        lines_ok = complete and rep.from_symtab == 0
        inline_ok = b.inline_layout != 0
        mi = list(self.cols.map_id).index(m.id)
        flags = self.cols.map_flags[mi]
        flags |= (1 if complete else 0) | (6 if lines_ok else 0) | (8 if lines_ok and inline_ok else 0)
        self.cols.map_flags[mi] = flags
        return rep

    def encode(self) -> bytearray:
        return _profile.encode_profile(self.cols, self.fill_first, self.fill_count, self.lfid, self.lline,
                                       self.add)


def _old_runtime(b: Any) -> bool:
    """Whether the binary's runtime/pprof (Go 1.12 to 1.18) split inlined
    chains across locations (golang/go#50996; a Go 1.18 esbuild's own CPU
    profile still has them: tests/differential/test_real_profiles.py)."""
    m = re.match(r"go1\.(\d+)", b.go_version or "")
    return m is not None and 12 <= int(m.group(1)) < 19


def _gzip(data: Union[bytes, bytearray]) -> bytes:
    """gzip, fast: ISA-L's level 2 when the `isal` package is installed
    (the `fast` extra; 4-5x fewer instructions than zlib's level 1 and ~5%
    larger), else zlib at level 1 (4x faster than the default 6, ~10%
    larger): a profile is written once and read a few times.  The header
    has no name and mtime 0, so equal profiles give equal bytes."""
    z = zlib_module()
    c = z.compressobj(2 if z is not zlib else 1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def strip_profile(data: bytes) -> bytes:
    """strip_profile removes every Function and Line entry and clears the
    mappings' has_* flags, keeping addresses and mappings (a gzipped
    profile as a symbolizer receives it from a stripped deployment)."""
    import gzip

    prof = parse_profile(data)
    del prof.function[:]
    for loc in prof.location:
        del loc.line[:]
    for m in prof.mapping:
        m.has_functions = m.has_filenames = m.has_line_numbers = m.has_inline_frames = False
    return gzip.compress(prof.SerializeToString(), compresslevel=6, mtime=0)
