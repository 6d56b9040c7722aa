"""Mutation tests (issue 6): damaged fixtures and synthetic tables through the
public API.  The only property for hostile input is Go's FuzzReader one:
every call returns or raises gosym.GosymError -- no other exception, no
crash, no hang.

Inputs are a few small real fixtures (ELF 32/64-bit, both byte orders,
Mach-O, PE) and tables from tests/support/pclnwriter.py, with bit flips,
truncations, splices and overwrites of header fields (pclntab header words
and function-table entries; ELF e_phoff/e_shoff/e_shnum/e_shstrndx; Mach-O
ncmds/sizeofcmds/cmdsize; PE e_lfanew/NumberOfSections).  Mutations land
mostly where structure lives (headers, the pclntab header and function
table) rather than uniformly over megabytes of code.

A hang is caught by a watchdog (faulthandler.dump_traceback_later with
exit): a C loop that never returns cannot be interrupted from Python, so
the process dumps every thread's stack and exits, failing the run loudly.
"""
from __future__ import annotations

import faulthandler
import struct
import time
from array import array
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import gosym
from gosym import GosymError, _native

# Mutated containers often fall back to a raw scan, which warns (tests/differential/test_raw.py
# checks the warning); here only "result or GosymError" matters.
pytestmark = pytest.mark.filterwarnings("ignore::gosym.GosymWarning")
from tests.support.pclnwriter import SynFunc, SynTable, build

# Per-example bounds: the watchdog kills the process past HANG_SECONDS; an
# example slower than SLOW_SECONDS (but finished) fails the test.
HANG_SECONDS = 20.0
SLOW_SECONDS = 5.0

# Fixture variants to mutate: (program, goos, goarch), default flags.  ELF
# 64 LE, ELF 32 LE, ELF 64 BE, Mach-O 64, PE 64 and PE 32.
WANTED = [("tiny", "linux", "amd64"), ("multipkg", "linux", "386"),
          ("multipkg", "linux", "s390x"), ("multipkg", "linux", "ppc64"),
          ("tiny", "darwin", "amd64"), ("multipkg", "darwin", "arm64"),
          ("multipkg", "windows", "amd64"), ("multipkg", "windows", "386")]

INTERESTING = [0, 1, 2, 4, 7, 8, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF,
               0x80000000, 2**63, 2**64 - 1]


class Sample(NamedTuple):
    name: str
    data: bytes
    # Named fields: (file offset, size in bytes, big endian).
    fields: Dict[str, Tuple[int, int, bool]]
    # Byte ranges where structure lives: (start, end).
    hot: List[Tuple[int, int]]


def _container_fields(data: bytes) -> Tuple[Dict[str, Tuple[int, int, bool]], List[Tuple[int, int]]]:
    f: Dict[str, Tuple[int, int, bool]] = {}
    hot = [(4, min(len(data), 4096))]   # past the magic: most mutations should still parse
    if data[:4] == b"\x7fELF":
        is64, be = data[4] == 2, data[5] == 2
        E = ">" if be else "<"
        if is64:
            f.update(e_phoff=(0x20, 8, be), e_shoff=(0x28, 8, be), e_phnum=(0x38, 2, be),
                     e_shentsize=(0x3A, 2, be), e_shnum=(0x3C, 2, be), e_shstrndx=(0x3E, 2, be))
            shoff, shnum = struct.unpack_from(E + "Q", data, 0x28)[0], struct.unpack_from(E + "H", data, 0x3C)[0]
            shsize = 64
        else:
            f.update(e_phoff=(0x1C, 4, be), e_shoff=(0x20, 4, be), e_phnum=(0x2C, 2, be),
                     e_shentsize=(0x2E, 2, be), e_shnum=(0x30, 2, be), e_shstrndx=(0x32, 2, be))
            shoff, shnum = struct.unpack_from(E + "I", data, 0x20)[0], struct.unpack_from(E + "H", data, 0x30)[0]
            shsize = 40
        hot.append((shoff, min(len(data), shoff + shnum * shsize)))
    elif data[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce"):
        be = data[0] == 0xFE
        hdr = 32 if data[:4] in (b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf") else 28
        f.update(ncmds=(16, 4, be), sizeofcmds=(20, 4, be), cmd0_cmdsize=(hdr + 4, 4, be))
        # cmdsize of the first few load commands.
        off = hdr
        for k in range(1, 6):
            size = int.from_bytes(data[off + 4:off + 8], "big" if be else "little")
            if size < 8:
                break
            off += size
            f[f"cmd{k}_cmdsize"] = (off + 4, 4, be)
    elif data[:2] == b"MZ":
        lfanew = struct.unpack_from("<I", data, 0x3C)[0]
        f.update(e_lfanew=(0x3C, 4, False), NumberOfSections=(lfanew + 6, 2, False),
                 SizeOfOptionalHeader=(lfanew + 20, 2, False))
    return f, hot


def _pcln_fields(info, data: bytes, base: int = 0) -> Tuple[Dict[str, Tuple[int, int, bool]], List[Tuple[int, int]]]:
    """Fields of the pclntab header (and function table, Go 1.18+) at file
    offset base; runtime/symtab.go: pcHeader."""
    f: Dict[str, Tuple[int, int, bool]] = {}
    P, be = info.ptr_size, info.big_endian
    f["pcln_magic"] = (base, 4, be)
    f["pcln_quantum"] = (base + 6, 1, be)
    f["pcln_ptrsize"] = (base + 7, 1, be)
    nwords = 1 if info.version == 12 else (8 if info.version >= 118 else 7)
    for k in range(nwords):
        f[f"pcln_word{k}"] = (base + 8 + k * P, P, be)
    hot = [(base, base + 8 + nwords * P)]
    if info.version >= 118:
        ftab = int.from_bytes(data[base + 8 + 7 * P:base + 8 + 8 * P], "big" if be else "little")
        start = base + ftab
        for k in range(min(info.nfunc, 6)):
            f[f"functab{k}_entry"] = (start + 8 * k, 4, be)
            f[f"functab{k}_funcoff"] = (start + 8 * k + 4, 4, be)
        hot.append((start, min(len(data), start + 8 * info.nfunc + 4)))
    return f, hot


_samples: Optional[List[Sample]] = None


def _synthetic() -> List[Sample]:
    funcs = [SynFunc("main.main", [(3, 0, 10), (2, 1, 20)], start_line=9),
             SynFunc("main.f", [(1, 1, 5)], start_line=4, pad_quanta=1),
             SynFunc("runtime.g", [(4, 0, 7), (1, 0, 8)])]
    out = []
    for version in (12, 116, 118, 120):
        for big, ptr in ((False, 8), (True, 4)):
            t = build(SynTable(version, big, ptr, 4 if ptr == 4 else 1, 0x401000,
                               ["a.go", "b/c.go"], funcs))
            tab = _native.Pclntab(t.data, 0, len(t.data))
            info = type("I", (), dict(ptr_size=ptr, big_endian=big, version=version,
                                      nfunc=tab.nfunc))
            fields, hot = _pcln_fields(info, t.data)
            out.append(Sample(f"syn-v{version}-{'be' if big else 'le'}{ptr}", t.data, fields, hot))
    return out


@pytest.fixture(scope="module")
def samples(fixture_rows) -> List[Sample]:
    out: List[Sample] = []
    seen = set()
    for prog, goos, arch in WANTED:
        for row in fixture_rows:
            if (row.get("path") and row["program"] == prog and row["goos"] == goos
                    and row["goarch"] == arch and row["flagset"] == "default"
                    and (prog, goos, arch) not in seen):
                seen.add((prog, goos, arch))
                with open(row["path"], "rb") as fh:
                    data = fh.read()
                with gosym.open(data) as b:
                    info = b.pclntab
                    cf, chot = _container_fields(data)
                    pf, phot = _pcln_fields(info, data, info.offset)
                out.append(Sample(f"{prog}-{goos}-{arch}-{row['go_version']}", data,
                                  {**cf, **pf}, chot + phot))
    if not out:
        pytest.skip("no fixture binaries")
    return out


# ------------------------------------------------------------ mutations
def _put(buf: bytearray, off: int, size: int, be: bool, value: int) -> None:
    if 0 <= off and off + size <= len(buf):
        buf[off:off + size] = (value % (1 << (8 * size))).to_bytes(size, "big" if be else "little")


@st.composite
def mutations(draw, s: Sample) -> Tuple[str, Callable[[bytearray], bytearray]]:
    """A list of 1-4 mutations of sample s, as a description and a function."""
    steps = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["field", "field", "flip", "bytes", "truncate", "splice"]))
        # An offset: in a hot range most of the time, anywhere otherwise.
        if draw(st.integers(0, 3)) and s.hot:
            lo, hi = draw(st.sampled_from(s.hot))
            hi = max(lo + 1, hi)
        else:
            lo, hi = (4 if draw(st.integers(0, 7)) else 0), len(s.data)
        off = draw(st.integers(min(lo, hi - 1), hi - 1))
        if kind == "field" and s.fields:
            name = draw(st.sampled_from(sorted(s.fields)))
            foff, size, be = s.fields[name]
            val = draw(st.one_of(st.sampled_from(INTERESTING),
                                 st.integers(0, len(s.data) + 64),
                                 st.integers(0, 2**64 - 1)))
            steps.append((f"{name}={val:#x}", lambda b, foff=foff, size=size, be=be, val=val:
                          (_put(b, foff, size, be, val), b)[1]))
        elif kind == "flip":
            bit = draw(st.integers(0, 7))
            steps.append((f"flip@{off:#x}.{bit}", lambda b, off=off, bit=bit:
                          (b.__setitem__(off, b[off] ^ (1 << bit)) if off < len(b) else None, b)[1]))
        elif kind == "bytes":
            junk = draw(st.binary(min_size=1, max_size=16))
            steps.append((f"bytes@{off:#x}={junk.hex()}", lambda b, off=off, junk=junk:
                          (b.__setitem__(slice(off, off + len(junk)), junk), b)[1]))
        elif kind == "truncate":
            # Mostly in the second half (tables and DWARF are cut, headers
            # survive); a hot offset a quarter of the time.
            if draw(st.integers(0, 3)):
                off = draw(st.integers(len(s.data) // 2, len(s.data) - 1))
            steps.append((f"truncate@{off:#x}", lambda b, off=off: b[:off]))
        else:
            # Splice: copy a run of the file elsewhere (or delete / insert).
            src = draw(st.integers(0, len(s.data) - 1))
            n = draw(st.integers(1, 256))
            mode = draw(st.sampled_from(["overwrite", "insert", "delete"]))
            def splice(b, off=off, src=src, n=n, mode=mode):
                chunk = bytes(b[src:src + n])
                if mode == "overwrite":
                    b[off:off + len(chunk)] = chunk
                elif mode == "insert":
                    b[off:off] = chunk
                else:
                    del b[off:off + n]
                return b
            steps.append((f"splice-{mode}@{off:#x}<-{src:#x}+{n}", splice))

    def apply(buf: bytearray) -> bytearray:
        for _, fn in steps:
            buf = fn(buf)
        return buf
    return "; ".join(d for d, _ in steps), apply


# ------------------------------------------------------------ the property
def _exercise_binary(data: bytes, dwarf: bool) -> None:
    """Everything a user does with an opened binary, in bounded amounts."""
    with gosym.open(data) as b:
        fns = b.functions
        cols = fns.columns()
        n = len(fns)
        for i in sorted({0, n // 3, n // 2, n - 1}):
            if 0 <= i < n:
                fn = fns[i]
                fn.lines()
                b.lookup(fn.entry)
                b.lookup(max(fn.entry, fn.end - 1))
        pcs = [0, 2**64 - 1] + [int(e) + 1 for e in list(cols.entry)[:: max(1, n // 40)]]
        b.lookup_many(array("Q", pcs))
        res = b.symbolize(array("Q", pcs))
        for k in range(min(len(pcs), 8)):
            res.frames(k)
        b.build_info
        if dwarf and b.dwarf is not None:
            b.dwarf.line_rows()


def _exercise_table(data: bytes, text_base: int) -> None:
    """The same over a bare table (no container): the native Pclntab."""
    tab = _native.Pclntab(data, 0, len(data))
    if tab.version >= 118:
        tab.text_base = text_base
    tab.check_sorted()
    entry, end, names, start_line = tab.columns()
    pcs = [0, 2**64 - 1] + [int(e) for e in entry] + [max(0, int(e) - 1) for e in end]
    for pc in pcs[:16]:
        tab.lookup(pc)
    tab.lookup_many(array("Q", pcs))
    tab.symbolize(array("Q", pcs), 0)
    for i in range(min(tab.nfunc, 4)):
        tab.lines(i)


def _check(fn: Callable[[], None], what: str) -> None:
    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
    t0 = time.perf_counter()
    try:
        fn()
    except GosymError:
        pass
    except Exception as e:  # noqa: BLE001 - the property under test
        raise AssertionError(f"{what}: {type(e).__name__}: {e}") from e
    finally:
        faulthandler.cancel_dump_traceback_later()
    took = time.perf_counter() - t0
    assert took < SLOW_SECONDS, f"{what}: took {took:.1f}s"


def _regression(fn: Callable[[], None], what: str) -> None:
    """Run a regression's body under the same watchdog and time bound as
    _check, but strictly: a GosymError (or anything else) fails the test,
    so the body's assertions on the specific outcome must be reached."""
    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
    t0 = time.perf_counter()
    try:
        fn()
    finally:
        faulthandler.cancel_dump_traceback_later()
    took = time.perf_counter() - t0
    assert took < SLOW_SECONDS, f"{what}: took {took:.1f}s"


HOSTILE = settings(suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow, HealthCheck.data_too_large],
                   deadline=None)


@HOSTILE
@given(data=st.data())
def test_mutated_fixture(samples, data):
    s = data.draw(st.sampled_from(samples), label="sample")
    desc, apply = data.draw(mutations(s), label="mutations")
    buf = bytes(apply(bytearray(s.data)))
    _check(lambda: _exercise_binary(buf, dwarf=data.draw(st.integers(0, 3), label="dwarf") == 0),
           f"{s.name}: {desc}")


_SYN = _synthetic()


@HOSTILE
@given(data=st.data())
def test_mutated_table(data):
    s = data.draw(st.sampled_from(_SYN), label="sample")
    desc, apply = data.draw(mutations(s), label="mutations")
    buf = bytes(apply(bytearray(s.data)))
    base = data.draw(st.sampled_from([0, 0x401000, 2**64 - 16]), label="text_base")
    _check(lambda: _exercise_table(buf, base), f"{s.name}: {desc}")


@HOSTILE
@given(blob=st.binary(max_size=512), head=st.sampled_from(
    [b"", b"\x7fELF\x02\x01\x01", b"\x7fELF\x01\x02\x01", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xce",
     b"\xca\xfe\xba\xbe", b"MZ"]))
def test_random_bytes(blob, head):
    """Short garbage behind each container magic."""
    _check(lambda: _exercise_binary(head + blob, dwarf=True), (head + blob)[:64].hex())


# ------------------------------------------------------------ regressions
def _v120_with_line_table(first_bytes: bytes) -> Tuple[bytes, int]:
    """A synthetic Go 1.20 table whose first function's line table starts
    with first_bytes (its file table is left intact); returns the table and
    the function's entry."""
    t = build(SynTable(120, False, 8, 1, 0x401000, ["a.go"],
                       [SynFunc("main.a", [(4, 0, 10), (4, 0, 11), (4, 0, 12), (4, 0, 13)]),
                        SynFunc("main.b", [(4, 0, 3)])]))
    d = bytearray(t.data)
    word = lambda k: struct.unpack_from("<Q", d, 8 + 8 * k)[0]  # noqa: E731
    pctab, ftab = word(6), word(7)
    rec = ftab + struct.unpack_from("<I", d, ftab + 4)[0]
    pcln = struct.unpack_from("<I", d, rec + 24)[0]   # _func: entryOff nameOff args deferreturn pcsp pcfile pcln
    assert len(first_bytes) <= 9                       # the table's own length
    d[pctab + pcln:pctab + pcln + len(first_bytes)] = first_bytes
    return bytes(d), t.entries[0]


def _v120_with_bad_line_table() -> Tuple[bytes, int]:
    """The line table starts with an over-long varint."""
    return _v120_with_line_table(b"\xff\xff\xff\xff\x7f")


def test_regression_pcvalue_walk_after_error():
    """fuzz/regress/hang-pcv-step-after-error: a pc-value walk that failed
    left the shared reader's error set, and the next walk on that reader
    (the file table, in lookup_many and symbolize) spun forever because
    gs__pcv_step returned without marking itself done."""
    data, entry = _v120_with_bad_line_table()

    def run():
        tab = _native.Pclntab(data, 0, len(data))
        tab.text_base = 0x401000
        fi, line, _ = tab.lookup_many(array("Q", [entry + 5, entry + 1]))
        assert list(line) == [-1, -1]
        # The walks ended: in the batch each bad pc fails only itself (no
        # frames); a single lookup reports the malformed table.
        res = tab.symbolize(array("Q", [entry + 5, entry + 1]), 0)
        assert [res.frames(0), res.frames(1)] == [[], []]
        for pc in (entry + 5, entry + 1):
            with pytest.raises(GosymError, match="varint"):
                tab.lookup(pc)
    _regression(run, "bad line table")


def test_regression_pcvalue_wraps():
    """fuzz/regress/ubsan-pcvalue-overflow: a value delta of INT32_MIN on the
    initial -1 overflowed a signed int (undefined behaviour; UBSan aborts in
    fuzz/asan_suite.sh).  Values now wrap as Go's int32 does."""
    # zig-zag 0xffffffff = INT32_MIN, for 4 bytes; then the end marker.
    data, entry = _v120_with_line_table(b"\xff\xff\xff\xff\x0f\x04\x00")

    def run():
        tab = _native.Pclntab(data, 0, len(data))
        tab.text_base = 0x401000
        _, line, _ = tab.lookup_many(array("Q", [entry + 1]))
        assert list(line) == [2**31 - 1]             # -1 + INT32_MIN, wrapped
        assert list(tab.lines(0)[2]) == [2**31 - 1]
        (fr,) = tab.symbolize(array("Q", [entry + 1]), 0).frames(0)
        assert (fr.function, fr.line) == ("main.a", 2**31 - 1)
    _regression(run, "wrapping line delta")


def test_regression_symbolize_text_span_over_4gib():
    """Entries that wrap past 2^64 (a text base near the top and a mutated
    first entry) make a span no packed key can hold: symbolize answered
    with a ValueError that failed the whole batch (found by the mutation
    test above).  Now each pc is looked up on its own, as lookup() does."""
    t = build(SynTable(118, False, 8, 1, 0x401000, ["a.go"],
                       [SynFunc("main.a", [(4, 0, 10), (4, 0, 11)]),
                        SynFunc("main.b", [(4, 0, 3)])]))
    tab = _native.Pclntab(t.data, 0, len(t.data))
    tab.text_base = 2**64 - 4   # entries wrap: the last entry is below the first
    entry, end, _names, _sl = tab.columns()
    assert int(end[-1]) < int(entry[0])
    pcs = [0, 2**64 - 1] + [int(e) for e in entry] + [int(e) + 1 for e in entry]
    res = tab.symbolize(array("Q", pcs), 0)
    assert len(res) == len(pcs)
    assert [res.frames(k) for k in range(len(pcs))] == [tab.lookup(pc) for pc in pcs]
    assert any(res.frames(k) for k in range(len(pcs)))
