"""Checks on the fixture factory's manifest and the binaries it built.

The rows come from the session fixture ``fixture_rows`` (tests/conftest.py).
Container and header facts are read with pyelftools and small struct parsers,
independently of gosym's own readers.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
from pathlib import Path

import pytest
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from tests.support import uncovered
from tests.fixtures.build import (
    FLAGSETS,
    SYSTEM_TOOLCHAIN,
    WHEEL_TOOLCHAINS,
    Spec,
    fixture_key,
    fixtures_dir,
)

ROW_KEYS = {
    "program", "toolchain", "go_version", "goos", "goarch", "flagset", "flags",
    "cgo", "path", "sha256", "size", "error", "key",
}

# GOARCH -> (ELF class, little endian?, e_machine name)
ELF_ARCH = {
    "amd64": (64, True, "EM_X86_64"),
    "386": (32, True, "EM_386"),
    "arm": (32, True, "EM_ARM"),
    "arm64": (64, True, "EM_AARCH64"),
    "ppc64": (64, False, "EM_PPC64"),
    "s390x": (64, False, "EM_S390"),
    "riscv64": (64, True, "EM_RISCV"),
}
MACHO_CPU = {"amd64": 0x01000007, "arm64": 0x0100000C}
PE_MACHINE = {"amd64": 0x8664, "386": 0x14C, "arm64": 0xAA64}

STRIP_SYMTAB = {"s", "sw"}
STRIP_DWARF = {"w", "sw"}


def built(rows, **match):
    """Rows without an error whose fields equal *match*."""
    out = []
    for r in rows:
        if r["error"] is not None:
            continue
        if all(r[k] == v for k, v in match.items()):
            out.append(r)
    return out


def elf_rows(rows):
    return built(rows, goos="linux")


def section_names(elf: ELFFile) -> list[str]:
    return [s.name for s in elf.iter_sections()]


def open_elf(row):
    f = open(row["path"], "rb")
    return f, ELFFile(f)


def describe(row) -> str:
    return f"{row['program']} {row['toolchain']} {row['goos']}/{row['goarch']} {row['flagset']}"


# ---- manifest shape -------------------------------------------------------


def test_rows_have_all_fields(fixture_rows):
    assert fixture_rows, "the fixture factory returned no rows"
    for r in fixture_rows:
        assert set(r) == ROW_KEYS, describe(r)
        assert r["flags"] == list(FLAGSETS[r["flagset"]]), describe(r)
        assert isinstance(r["cgo"], bool)
        assert r["cgo"] == (r["program"] == "cgo"), describe(r)


def test_keys_are_content_addressed(fixture_rows):
    for r in fixture_rows:
        spec = Spec(r["program"], r["toolchain"], r["goos"], r["goarch"], r["flagset"])
        assert r["key"] == fixture_key(spec), describe(r)
        if r["path"] is not None:
            assert Path(r["path"]).parent.name == r["key"], describe(r)
            assert Path(r["path"]).parent.parent == fixtures_dir(), describe(r)


def test_every_toolchain_covered(fixture_rows):
    have = {r["toolchain"] for r in built(fixture_rows)}
    for tc in WHEEL_TOOLCHAINS:
        assert tc in have, f"no successful build with go{tc}"
    # Go 1.19 is Debian's golang-1.19-go: required when the factory found it
    # at the session's start (the end-of-run block reports it otherwise).
    if SYSTEM_TOOLCHAIN not in uncovered.factory_missing:
        assert SYSTEM_TOOLCHAIN in have


def test_go_version_matches_toolchain(fixture_rows):
    for r in fixture_rows:
        if r["toolchain"] == SYSTEM_TOOLCHAIN:
            assert r["go_version"].startswith("go1.19"), describe(r)
        else:
            assert r["go_version"] == "go" + r["toolchain"], describe(r)


def test_error_rows_have_no_path(fixture_rows):
    for r in fixture_rows:
        if r["error"] is not None:
            assert isinstance(r["error"], str) and r["error"].strip(), describe(r)
            assert r["path"] is None and r["sha256"] is None and r["size"] is None, describe(r)
        else:
            assert r["path"] is not None, describe(r)


def test_manifest_file_matches_rows(fixture_rows):
    subset = os.environ.get("GOSYM_FIXTURES", "ci")
    stored = json.loads((fixtures_dir() / f"manifest-{subset}.json").read_text())
    assert stored == fixture_rows


# ---- files ------------------------------------------------------------------


def test_paths_exist_and_hash_matches(fixture_rows):
    for r in built(fixture_rows):
        p = Path(r["path"])
        assert p.is_absolute() and p.is_file(), describe(r)
        data = p.read_bytes()
        assert len(data) == r["size"], describe(r)
        assert hashlib.sha256(data).hexdigest() == r["sha256"], describe(r)
        want = r["program"] + (".exe" if r["goos"] == "windows" else "")
        assert p.name == want, describe(r)


def test_container_matches_goos(fixture_rows):
    for r in built(fixture_rows):
        head = Path(r["path"]).read_bytes()[:4096]
        if r["goos"] == "linux":
            assert head[:4] == b"\x7fELF", describe(r)
        elif r["goos"] == "darwin":
            magic_le = struct.unpack("<I", head[:4])[0]
            magic_be = struct.unpack(">I", head[:4])[0]
            assert {magic_le, magic_be} & {0xFEEDFACE, 0xFEEDFACF}, describe(r)
        elif r["goos"] == "windows":
            assert head[:2] == b"MZ", describe(r)
            (lfanew,) = struct.unpack_from("<I", head, 0x3C)
            assert head[lfanew:lfanew + 4] == b"PE\0\0", describe(r)
        else:
            pytest.fail(f"unexpected GOOS in {describe(r)}")


def test_elf_header_matches_goarch(fixture_rows):
    rows = elf_rows(fixture_rows)
    assert rows
    for r in rows:
        bits, little, machine = ELF_ARCH[r["goarch"]]
        f, elf = open_elf(r)
        with f:
            assert elf.elfclass == bits, describe(r)
            assert elf.little_endian == little, describe(r)
            assert elf["e_machine"] == machine, describe(r)


def test_macho_and_pe_cpu_match_goarch(fixture_rows):
    for r in built(fixture_rows):
        head = Path(r["path"]).read_bytes()[:4096]
        if r["goos"] == "darwin":
            magic, cputype = struct.unpack_from("<II", head, 0)
            assert magic == 0xFEEDFACF, describe(r)  # Go writes 64-bit little-endian Mach-O
            assert cputype == MACHO_CPU[r["goarch"]], describe(r)
        elif r["goos"] == "windows":
            (lfanew,) = struct.unpack_from("<I", head, 0x3C)
            (machine,) = struct.unpack_from("<H", head, lfanew + 4)
            assert machine == PE_MACHINE[r["goarch"]], describe(r)


def test_both_byte_orders_and_pointer_sizes_present(fixture_rows):
    seen = set()
    for r in elf_rows(fixture_rows):
        bits, little, _ = ELF_ARCH[r["goarch"]]
        seen.add((bits, little))
    assert (64, True) in seen and (32, True) in seen and (64, False) in seen, seen
    assert {r["goos"] for r in built(fixture_rows)} == {"linux", "darwin", "windows"}


# ---- flag effects -------------------------------------------------------------


def test_symtab_presence_follows_s_flag(fixture_rows):
    checked = {"stripped": 0, "default": 0}
    for r in elf_rows(fixture_rows):
        f, elf = open_elf(r)
        with f:
            names = section_names(elf)
        if r["flagset"] in STRIP_SYMTAB:
            assert ".symtab" not in names, describe(r)
            checked["stripped"] += 1
        elif r["flagset"] == "default":
            assert ".symtab" in names, describe(r)
            checked["default"] += 1
    assert all(checked.values()), checked


def test_dwarf_presence_follows_w_flag(fixture_rows):
    checked = {"stripped": 0, "kept": 0}
    for r in elf_rows(fixture_rows):
        f, elf = open_elf(r)
        with f:
            debug = [n for n in section_names(elf) if n.startswith((".debug_", ".zdebug_"))]
        if r["flagset"] in STRIP_DWARF:
            if r["cgo"]:
                # external linking may keep the C objects' DWARF; Go's must be gone
                assert DW_LANG_GO not in _dwarf_languages(r), describe(r)
            else:
                assert debug == [], describe(r)
            checked["stripped"] += 1
        elif r["flagset"] not in STRIP_SYMTAB:  # newer linkers: -s implies -w
            assert any(n in (".debug_info", ".zdebug_info") for n in debug), describe(r)
            checked["kept"] += 1
    assert all(checked.values()), checked


DW_LANG_GO = 0x16


def _dwarf_languages(row) -> set:
    """DW_AT_language of every compile unit in the ELF binary of *row*."""
    f, elf = open_elf(row)
    with f:
        if not elf.has_dwarf_info():
            return set()
        langs = set()
        for cu in elf.get_dwarf_info().iter_CUs():
            attr = cu.get_top_DIE().attributes.get("DW_AT_language")
            langs.add(attr.value if attr else None)
        return langs


def _debug_info_compressed(elf: ELFFile) -> bool | None:
    """True/False for a compressed/plain .debug_info; None when there is none."""
    if elf.get_section_by_name(".zdebug_info") is not None:
        return True
    sec = elf.get_section_by_name(".debug_info")
    if sec is None:
        return None
    if sec["sh_flags"] & SH_FLAGS.SHF_COMPRESSED:
        return True
    elf.stream.seek(sec["sh_offset"])
    return elf.stream.read(4) == b"ZLIB"


def test_nocompressdwarf_has_plain_debug_info(fixture_rows):
    plain = built(fixture_rows, goos="linux", flagset="nocompressdwarf")
    assert plain, "no nocompressdwarf ELF build"
    for r in plain:
        f, elf = open_elf(r)
        with f:
            assert elf.get_section_by_name(".zdebug_info") is None, describe(r)
            assert _debug_info_compressed(elf) is False, describe(r)
    # and the default is compressed, so the check above can tell them apart
    defaults = built(fixture_rows, goos="linux", flagset="default", program="multipkg")
    assert defaults
    for r in defaults:
        f, elf = open_elf(r)
        with f:
            assert _debug_info_compressed(elf) is True, describe(r)


def test_pie_builds_are_position_independent(fixture_rows):
    pies = built(fixture_rows, goos="linux", flagset="pie")
    assert pies, "no PIE ELF build"
    for r in pies:
        f, elf = open_elf(r)
        with f:
            assert elf["e_type"] == "ET_DYN", describe(r)
    for r in built(fixture_rows, goos="linux", flagset="default", cgo=False):
        f, elf = open_elf(r)
        with f:
            assert elf["e_type"] == "ET_EXEC", describe(r)


def test_trimpath_removes_build_directory(fixture_rows):
    trimmed = built(fixture_rows, flagset="trimpath")
    assert trimmed, "no trimpath build"
    markers = {str(fixtures_dir() / "src").encode(), str(fixtures_dir().resolve() / "src").encode()}
    for r in trimmed:
        data = Path(r["path"]).read_bytes()
        assert not any(m in data for m in markers), describe(r)
    for r in built(fixture_rows, flagset="default", program="multipkg"):
        data = Path(r["path"]).read_bytes()
        assert any(m in data for m in markers), describe(r)


def test_cgo_builds_link_the_c_function(fixture_rows):
    rows = built(fixture_rows, program="cgo")
    assert rows, "no cgo build"
    for r in rows:
        assert (r["goos"], r["goarch"]) == ("linux", "amd64")
        f, elf = open_elf(r)
        with f:
            assert elf.get_section_by_name(".interp") is not None, describe(r)
            if r["flagset"] in STRIP_SYMTAB:
                assert elf.get_section_by_name(".symtab") is None, describe(r)
                continue
            symtab = elf.get_section_by_name(".symtab")
            assert symtab is not None, describe(r)
            syms = symtab.get_symbol_by_name("gosym_fixture_mix")
            assert syms and syms[0]["st_info"]["type"] == "STT_FUNC", describe(r)


def test_toolchain_rejections_are_recorded(fixture_rows):
    rejected = [r for r in fixture_rows if r["error"] is not None]
    if os.environ.get("GOSYM_FIXTURES", "ci") == "ci":
        assert rejected, "the ci subset includes a build the toolchain rejects"
    for r in rejected:
        assert "panic:" not in r["error"], describe(r)


# ---- running the host binaries ------------------------------------------------


def _run(row, *args) -> str:
    proc = subprocess.run([row["path"], *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{describe(row)}: {proc.stderr}"
    return proc.stdout


def test_multipkg_output_is_deterministic(fixture_rows):
    rows = built(fixture_rows, program="multipkg", goos="linux", goarch="amd64")
    assert rows
    outputs = {describe(r): _run(r) for r in rows}
    first = next(iter(outputs.values()))
    assert "div 0 runtime error: integer divide by zero" in first
    assert "digits 4 cannot parse x5" in first
    for name, out in outputs.items():
        assert out == first, name


def _sites(row) -> list[dict]:
    return [json.loads(line) for line in _run(row, "frames").splitlines()]


def test_frames_mode_shows_inlined_sites(fixture_rows):
    rows = [r for r in built(fixture_rows, program="multipkg", goos="linux", goarch="amd64")
            if r["flagset"] != "nolinline"]
    assert rows
    for r in rows:
        sites = _sites(r)
        assert len(sites) >= 4, describe(r)
        for s in sites:
            frames = s["frames"]
            expect = s["expect_inlined"]
            assert expect, (describe(r), s["site"])
            assert frames[0]["function"].endswith("/probe.Capture"), (describe(r), s["site"])
            chain = frames[1:1 + len(expect)]
            outer = frames[1 + len(expect)]
            assert [f["function"] for f in chain] == expect, (describe(r), s["site"])
            assert outer["function"].startswith("main.site") and not outer["inlined"]
            for f in chain:
                # inlined into the outer function: same physical function entry
                assert f["inlined"], (describe(r), s["site"], f)
                assert f["entry"] == outer["entry"], (describe(r), s["site"], f)
                assert int(outer["entry"], 16) <= int(f["pc"], 16), (describe(r), s["site"])
            assert len(s["pcs"]) == len(frames), (describe(r), s["site"])


def test_frames_mode_without_inlining(fixture_rows):
    rows = built(fixture_rows, program="multipkg", goos="linux", goarch="amd64",
                 flagset="nolinline")
    assert rows
    for r in rows:
        for s in _sites(r):
            names = [f["function"] for f in s["frames"]]
            assert not any(f["inlined"] for f in s["frames"]), (describe(r), s["site"])
            for fn in s["expect_inlined"]:
                assert fn in names, (describe(r), s["site"], fn)
            entries = [f["entry"] for f in s["frames"]]
            assert len(set(entries)) == len(entries), (describe(r), s["site"])


def test_tiny_and_cgo_run(fixture_rows):
    for r in built(fixture_rows, program="tiny", goos="linux", goarch="amd64"):
        assert _run(r, "fixture") == "hello, fixture\n", describe(r)
    for r in built(fixture_rows, program="cgo"):
        assert _run(r).startswith("cgo-fixture "), describe(r)
