"""seed.py DIR - writes libFuzzer seeds for fuzz_pclntab into DIR: each
fixture binary's pclntab (mode byte 0, zero prefix: table at offset 0) and
its .debug_line (mode byte 1) and its symbol tables (mode byte 2).  Fixture binaries come from the test cache
(tests/fixtures/build.py, GOSYM_FIXTURES subset), plus synthetic tables
from tests/support/pclnwriter.py."""
from __future__ import annotations

import hashlib
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import gosym  # noqa: E402
from gosym.dwarf import read_section  # noqa: E402

# Seeds larger than this are cut (libFuzzer's -max_len applies anyway); the
# header, function table and the first records are what mutations hit.
MAX_SEED = 1 << 20


def pcln_seed(table: bytes, layout: int = 0, text_base: int = 0) -> bytes:
    prefix = bytes([0, layout, 3, 2]) + struct.pack("<QQI", text_base, 0, 0)
    return prefix + table


def inline_seed(b) -> bytes:
    """A seed whose "file" runs from go:func.* (where Go 1.18+ keeps the
    inline trees) to the end of the pclntab, so inline expansion finds real
    trees: gofunc is the file's start, the table sits at its offset.  Empty
    when the binary has no such layout or the span exceeds MAX_SEED."""
    from gosym.pclntab import inline_context

    info, c = b.pclntab, b.container
    if info.version < 118 or info.address is None:
        return b""
    layout, gofunc = inline_context(c, b._tab, info.address, b.go_version)
    goff = c.va_to_offset(gofunc) if gofunc else None
    if not layout or goff is None or goff >= info.offset:
        return b""
    span = bytes(b._buf[goff:info.offset + info.size])
    if len(span) > MAX_SEED:
        return b""
    prefix = bytes([0, 1 if layout == 16 else 2, 3, 2]) + struct.pack(
        "<QQI", info.text_start, 0, info.offset - goff)
    return prefix + span


SYM_KINDS = {"elf32": (1, 16), "elf64": (2, 24), "macho32": (3, 12), "macho64": (4, 16),
             "coff": (5, 18)}


def symtab_seed(c, ref) -> bytes:
    """A symbol-table seed: the first records (at most half of MAX_SEED) and
    the string table after them, with the prefix of fuzz_pclntab.c's symbol
    mode (count, table offset, string offset and length in the "file")."""
    kind, entsize = SYM_KINDS[ref.kind]
    count = min(ref.count, (MAX_SEED // 2) // entsize)
    syms = bytes(c.buf[ref.offset:ref.offset + count * entsize])
    strs = bytes(c.buf[ref.str_offset:ref.str_offset + min(ref.str_size, MAX_SEED // 2 - 64)])
    prefix = bytes([2, kind, c.byte_order == "big"]) + struct.pack(
        "<IIII", len(syms) // entsize, 0, len(syms), len(strs))
    return prefix + syms + strs


def write(out: Path, data: bytes) -> None:
    data = data[:MAX_SEED]
    (out / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    from tests.fixtures.build import ensure_fixtures

    n = 0
    for row in ensure_fixtures(os.environ.get("GOSYM_FIXTURES", "ci"), progress=False):
        if not row.get("path"):
            continue
        try:
            with gosym.open(row["path"]) as b:
                info = b.pclntab
                raw = bytes(b._buf[info.offset:info.offset + info.size])
                write(out, pcln_seed(raw, 0, info.text_start))
                n += 1
                seed = inline_seed(b)
                if seed:
                    write(out, seed)
                    n += 1
                for ref in b.container.symtabs:
                    if ref.kind in SYM_KINDS and ref.count:
                        write(out, symtab_seed(b.container, ref))
                        n += 1
                line = read_section(b.container, "line")
                if line is not None and line.data is not None:
                    write(out, b"\x01" + bytes(line.data))
                    n += 1
        except gosym.GosymError as e:
            print(f"seed: skip {row['path']}: {e}", file=sys.stderr)
    for data in synthetic():
        write(out, pcln_seed(data))
        n += 1
    for seed in synthetic_inline():
        write(out, seed)
        n += 1
    for seed in profile_seeds():
        write(out, b"\x04" + seed)
        n += 1
    print(f"seed: {n} seeds in {out}")
    return 0


def profile_seeds():
    """Small pprof profiles (profile.proto) for fuzz_profile: a stripped one
    and one with a function and lines, written field by field here."""
    def varint(v):
        out = bytearray()
        while v >= 0x80:
            out.append(v & 0x7F | 0x80)
            v >>= 7
        out.append(v)
        return bytes(out)

    def field(num, payload):
        if isinstance(payload, int):
            return varint(num << 3) + varint(payload)
        return varint(num << 3 | 2) + varint(len(payload)) + payload

    strings = b"".join(field(6, s) for s in (b"", b"samples", b"count", b"/app", b"main.f", b"f.go"))
    vt = field(1, field(1, 1) + field(2, 2))
    mapping = field(3, field(1, 1) + field(2, 0x400000) + field(3, 0x500000) + field(5, 3))
    locs = b"".join(field(4, field(1, i) + field(2, 1) + field(3, 0x401000 + 16 * i)) for i in (1, 2, 3))
    sample = field(2, field(1, b"".join(varint(i) for i in (1, 2, 3))) + field(2, varint(5)))
    unpacked = field(2, field(1, 3) + field(1, 1) + field(2, 7))
    yield vt + sample + unpacked + mapping + locs + strings
    fn = field(5, field(1, 1) + field(2, 4) + field(3, 4) + field(4, 5) + field(5, 3))
    lined = field(4, field(1, 4) + field(2, 1) + field(3, 0x401100) + field(4, field(1, 1) + field(2, 9)))
    yield vt + sample + mapping + locs + lined + fn + strings


def synthetic():
    """Small tables from tests/support/pclnwriter.py: every format, byte order and
    pointer size."""
    from tests.support.pclnwriter import SynFunc, SynTable, build

    funcs = [SynFunc("main.main", [(3, 0, 10), (2, 1, 20)], start_line=9),
             SynFunc("main.f", [(1, 1, 5)], start_line=4, pad_quanta=1),
             SynFunc("runtime.x", [(4, 0, 7), (1, 0, 8)])]
    for version in (12, 116, 118, 120):
        for big in (False, True):
            for ptr in (4, 8):
                t = SynTable(version, big, ptr, 4 if ptr == 4 else 1, 0x401000,
                             ["a.go", "b/c.go"], funcs)
                yield build(t).data


def synthetic_inline():
    """Synthetic tables with inline trees (tests/support/pclnwriter.py), every format
    that has them, laid out as the harness maps its "file" (at 0x400000):
    trees first, then the table; gofunc is the file's start."""
    from tests.support.pclnwriter import SynTable, build, inline_example

    f, g = inline_example()
    for version in (12, 116, 118, 120):
        for big in (False, True):
            for ptr in (4, 8):
                t = build(SynTable(version, big, ptr, 1, 0x401000, ["a.go", "b.go"], [f, g],
                                   base_va=0x400000))
                fd = 4 if version == 12 else 3
                prefix = bytes([0, 1 if t.layout == 16 else 2, fd, 2]) + struct.pack(
                    "<QQI", t.text_start, 0, t.table_off)
                yield prefix + t.image


if __name__ == "__main__":
    sys.exit(main())
