"""`gosym cost` against independent readings: binutils' readelf for section
sizes, compression, the section-to-segment mapping and mapped bytes; the
build flags each fixture was made with for what survives; a Python walk of
the pclntab (tests/support/pclnwalk.py) for every category of the table's split."""
import json
import os
import re
import subprocess
import sys

import pytest

from gosym.cost import cost
from tests.support import uncovered

PY = [sys.executable, "-m", "gosym", "cost"]


def elf_rows(rows):
    return [r for r in rows if r.get("path") and r["goos"] == "linux"]


def readelf_sections(path):
    """{name: (size, compressed, mapped)} from binutils' readelf: sizes and
    the C flag from `-SW`; mapped when the section's bytes lie inside a LOAD
    segment's file range (offsets and file sizes from `-lW`: the loader maps
    that whole range, ALLOC or not)."""
    out = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True, check=True).stdout
    segs = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True, check=True).stdout
    loads = [(int(o, 16), int(o, 16) + int(fs, 16)) for o, fs in
             re.findall(r"^\s+LOAD\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)", segs, re.M)]
    secs = {}
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+\S+\s+(\S*)\s", line)
        if m and m.group(1) != "NULL":
            name, typ, off, size, flags = m.group(1), m.group(2), int(m.group(4), 16), int(m.group(5), 16), m.group(6)
            size = 0 if typ == "NOBITS" else size
            mapped = size > 0 and any(a <= off and off + size <= b for a, b in loads)
            secs[name] = (size, "C" in flags, mapped)
    return secs


def test_sections_match_readelf(fixture_rows):
    uncovered.need("readelf", "binutils")
    rows = [r for r in elf_rows(fixture_rows) if r["program"] == "multipkg"]
    assert rows
    for r in rows:
        rep = cost(r["path"])
        secs = readelf_sections(r["path"])
        ours = {s["name"]: s for s in rep["sections"]}
        assert set(ours) == set(secs), (r["path"], set(ours) ^ set(secs))
        for name, (size, compressed, mapped) in secs.items():
            assert ours[name]["size"] == size, (name, r["flagset"])
            assert ours[name]["compressed"] == compressed, (name, r["flagset"])
            if size:
                assert ours[name]["mapped"] == mapped, (name, r["flagset"], r["goarch"])
        assert rep["mapped_bytes"] + rep["unmapped_bytes"] == rep["file_size"]


def test_pclntab_split_sums_to_the_table(fixture_rows, corpus_rows):
    paths = [r["path"] for r in fixture_rows if r.get("path")] + [r["path"] for r in corpus_rows if r.get("path")]
    for path in paths:
        rep = cost(path)
        t = rep["pclntab"]["tables"]
        assert sum(t.values()) == rep["pclntab"]["size"], path
        assert t["functab"] > 0 and t["func_records"] > 0 and t["pcln"] > 0 and t["funcnames"] > 0
        # What the format does not describe stays small: padding, mostly.
        assert t["other"] < 0.12 * rep["pclntab"]["size"], (path, t["other"])


def _pclntab_section(path):
    """(table bytes, big endian, go:func.* offset in the table or None) of an
    ELF file's .gopclntab, read with pyelftools; None without the section."""
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as f:
        elf = ELFFile(f)
        sec = elf.get_section_by_name(".gopclntab")
        if sec is None or sec["sh_type"] == "SHT_NOBITS":
            return None
        data, addr = sec.data(), sec["sh_addr"]
        gofunc = None
        symtab = elf.get_section_by_name(".symtab")
        if symtab is not None:
            for sym in symtab.get_symbol_by_name("go:func.*") or []:
                if addr <= sym["st_value"] < addr + len(data):
                    gofunc = sym["st_value"] - addr
        return data, not elf.little_endian, gofunc


# Corpus binaries whose split is also walked in Python (slow): one per table
# format the walker reads, and the two largest Go 1.20+ tables' neighbours.
WALKED_CORPUS = ("esbuild-0.11.23-go1.16-linux-amd64", "esbuild-0.14.49-go1.18-linux-amd64",
                 "go1.26.1-compile-linux-s390x", "go1.21.13-compile-linux-386")


def test_pclntab_split_matches_an_independent_walk(fixture_rows, corpus_rows):
    """Every category of the split equals tests/support/pclnwalk.py's count, a Python
    walk of the header, function table, _func records and pc-value tables
    written from the Go runtime's layout; "other" (padding) is then what
    neither walk assigns, not a remainder taken on trust."""
    pytest.importorskip("elftools")
    from tests.support.pclnwalk import walk

    paths = [r["path"] for r in elf_rows(fixture_rows)]
    paths += [r["path"] for r in corpus_rows if r.get("path") and r["name"] in WALKED_CORPUS]
    versions = set()
    for path in paths:
        got = _pclntab_section(path)
        if got is None:
            continue
        data, big, gofunc = got
        rep = cost(path)
        ours = rep["pclntab"]["tables"]
        assert rep["pclntab"]["size"] == len(data), path
        theirs = walk(data, big, gofunc)
        if gofunc is None and ours["funcdata"]:
            # go:func.* inside the table but no symbol to place it: compare
            # the rest, and check funcdata + other against theirs together.
            theirs["other"] -= ours["funcdata"]
            theirs["funcdata"] = ours["funcdata"]
        assert ours == theirs, (path, {k: (ours[k], theirs.get(k)) for k in ours if ours[k] != theirs.get(k)})
        versions.add(rep["pclntab"]["version"])
    assert {"1.16", "1.18", "1.20"} <= versions, versions


def test_mapped_bytes_match_readelf(fixture_rows):
    """mapped_bytes is the union of the PT_LOAD file ranges readelf -lW
    lists; unmapped_bytes the rest of the file."""
    uncovered.need("readelf", "binutils")
    for r in elf_rows(fixture_rows):
        segs = subprocess.run(["readelf", "-lW", r["path"]], capture_output=True, text=True,
                              check=True).stdout
        loads = sorted((int(o, 16), int(o, 16) + int(fs, 16)) for o, fs in
                       re.findall(r"^\s+LOAD\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)",
                                  segs, re.M))
        assert loads, r["path"]
        union, end = 0, 0
        for a, b in loads:
            a = max(a, end)
            if b > a:
                union += b - a
                end = b
        rep = cost(r["path"])
        assert rep["mapped_bytes"] == union, (r["path"], rep["mapped_bytes"], union)
        assert rep["unmapped_bytes"] == os.path.getsize(r["path"]) - union, r["path"]


def test_survival_follows_the_build_flags(fixture_rows):
    """Each flag set's documented effect, on linux fixtures of the toolchains here."""
    by = {}
    for r in elf_rows(fixture_rows):
        if r["program"] == "multipkg" and r["goarch"] == "amd64":
            by.setdefault(r["flagset"], []).append(r)
    assert {"default", "sw", "nolinline", "trimpath", "nocompressdwarf"} <= set(by)
    for r in by["default"]:
        s = cost(r["path"])["survives"]
        assert s["symbols"] and s["dwarf_lines"] and s["inlined_frames"] and s["file_line"], r["toolchain"]
        assert not s["paths_trimmed"], r["toolchain"]
        assert s["go_version"] and s["build_settings"] and s["go_build_id"], r["toolchain"]
    for r in by["sw"]:      # -ldflags="-s -w": no symbol table, no DWARF; the pclntab stays
        s = cost(r["path"])["survives"]
        assert not s["symbols"] and not s["dwarf_lines"] and not s["dwarf_types"]
        assert s["function_names"] and s["file_line"] and s["inlined_frames"]
    for r in by["nolinline"]:  # -gcflags=all=-l: nothing is inlined
        assert not cost(r["path"])["survives"]["inlined_frames"]
    for r in by["trimpath"]:
        assert cost(r["path"])["survives"]["paths_trimmed"]
    for r in by["nocompressdwarf"]:
        rep = cost(r["path"])
        dw = [s for s in rep["sections"] if s["name"].startswith(".debug_")]
        assert dw and not any(s["compressed"] for s in dw)
        assert rep["dwarf_size"] == rep["dwarf_uncompressed_size"]
    for r in by["default"]:
        if r["toolchain"] != "system-1.19":   # compressed DWARF on ELF by default
            rep = cost(r["path"])
            assert rep["dwarf_uncompressed_size"] > rep["dwarf_size"] > 0


def test_cli_formats(fixture_rows):
    r = next(x for x in elf_rows(fixture_rows) if x["program"] == "multipkg" and x["flagset"] == "default")
    js = json.loads(subprocess.run(PY + ["--json", r["path"]], capture_output=True, text=True, check=True).stdout)
    for key in ("file_size", "mapped_bytes", "unmapped_bytes", "sections", "pclntab", "symtab_size",
                "dwarf_size", "dwarf_uncompressed_size", "survives"):
        assert key in js
    assert set(js["sections"][0]) >= {"name", "size", "mapped", "compressed", "uncompressed_size"}
    csv = subprocess.run(PY + ["--csv", r["path"], r["path"]], capture_output=True, text=True, check=True).stdout
    assert len(csv.splitlines()) == 3
    md = subprocess.run(PY + ["--md", r["path"]], capture_output=True, text=True, check=True).stdout
    assert md.startswith("| |")
    txt = subprocess.run(PY + [r["path"]], capture_output=True, text=True, check=True).stdout
    assert "pclntab (Go" in txt and "survives:" in txt
    bad = subprocess.run(PY + ["/nonexistent"], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.startswith("gosym: /nonexistent")
