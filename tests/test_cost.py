"""`gosym cost` against independent readings: binutils' readelf for section
sizes, compression and the section-to-segment mapping; the build flags each
fixture was made with for what survives; exact sums for the pclntab split."""
import json
import re
import shutil
import subprocess
import sys

import pytest

from gosym.cost import cost

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


@pytest.mark.skipif(shutil.which("readelf") is None, reason="binutils readelf not installed")
def test_sections_match_readelf(fixture_rows):
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
