"""Build info against `go version -m` (the real tool), with and without headers.

For every public-corpus binary (Go 1.13 to 1.27: pointer-style blobs before
1.18, inline strings after) and every fixture, gosym's build info on the
intact file equals what `go version -m` (Go 1.27.3's debug/buildinfo)
prints; and the same binary without its headers — ELF with no section
headers, as a raw memory image (base given and inferred), PE with no COFF
symbols or with a broken optional header, Mach-O with garbage load
commands — gives the same build info, found by scanning for the
`\\xff Go buildinf:` magic.
"""
from __future__ import annotations

import os
import subprocess
import warnings
from typing import Callable, Dict, List, Optional, Tuple

import pytest

import gosym
from gosym.toolchain import goroot
from tests.support.strip_helpers import drop_coff_symbols, drop_section_headers, raw_image
from tests.differential.test_raw import _elf_phdrs_past_end, _macho_garbage_commands, _pe_bad_optional_header


def go_version_m(path: str) -> Optional[dict]:
    """go_version_m runs `go version -m` and parses its output into the
    shape of BuildInfo.as_dict(), or None when the tool finds no build info."""
    go = str(goroot("1.27.3") / "bin" / "go")
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="")
    r = subprocess.run([go, "version", "-m", path], capture_output=True, text=True, env=env,
                       timeout=120)
    if r.returncode != 0 or not r.stdout.strip():
        return None
    lines = r.stdout.splitlines()
    head = lines[0]
    info: dict = {"go_version": head.rsplit(": ", 1)[1], "path": "", "main": None, "deps": [],
                  "settings": {}}
    last = None
    for line in lines[1:]:
        parts = line[1:].split("\t")
        key = parts[0]

        def mod(p: List[str]) -> dict:
            return {"path": p[1], "version": p[2] if len(p) > 2 else "",
                    "sum": p[3] if len(p) > 3 else "", "replace": None}
        if key == "path":
            info["path"] = parts[1]
        elif key == "mod":
            info["main"] = last = mod(parts)
        elif key == "dep":
            last = mod(parts)
            info["deps"].append(last)
        elif key == "=>" and last is not None:
            last["replace"] = mod(parts)
        elif key == "build":
            k, _, v = parts[1].partition("=")
            info["settings"][k] = v
    return info


def _info(data: bytes, **kw) -> Optional[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gosym.GosymWarning)
        with gosym.open(data, **kw) as b:
            bi = b.build_info
            return bi.as_dict() if bi else None


def _variants(fmt: str, data: bytes) -> List[Tuple[str, Callable[[], Optional[dict]]]]:
    if fmt == "ELF":
        image, base = raw_image(data)
        return [("no section headers", lambda: _info(drop_section_headers(data))),
                ("program headers past end", lambda: _info(_elf_phdrs_past_end(data))),
                ("raw image", lambda: _info(image, base_address=base)),
                ("raw image, base inferred", lambda: _info(image))]
    if fmt == "PE":
        return [("no COFF symbols", lambda: _info(drop_coff_symbols(data))),
                ("bad optional header", lambda: _info(_pe_bad_optional_header(data)))]
    return [("garbage load commands", lambda: _info(_macho_garbage_commands(data)))]


def _minor(v: str) -> int:
    return int(v[4:].split(".")[0]) if v.startswith("go1.") else 99


def _check(label: str, path: str, fmt: str, problems: List[str], versions: Dict[str, str]) -> None:
    want = go_version_m(path)
    with open(path, "rb") as fh:
        data = fh.read()
    got = _info(data)
    if want is None:
        if got is not None:
            problems.append(f"{label}: go version -m finds no build info, gosym does")
        return
    versions[label] = want["go_version"]
    if got != want:
        problems.append(f"{label}: intact file: {got} != go version -m {want}")
        return
    for what, read in _variants(fmt, data):
        try:
            twin = read()
        except gosym.GosymError as e:
            problems.append(f"{label}, {what}: {e}")
            continue
        if twin == want:
            continue
        # Known limit: a pre-1.18 blob holds pointers into .data; in a PE file
        # whose headers are unreadable, file offsets there are not a constant
        # distance from addresses, so the strings cannot be followed. gosym
        # must then give nothing rather than something wrong.
        if what == "bad optional header" and _minor(want["go_version"]) < 18 and twin is None:
            continue
        problems.append(f"{label}, {what}: {twin} != {want}")


def test_corpus_build_info_matches_go_version_m(corpus_rows):
    rows = [r for r in corpus_rows if r.get("path")]
    if not rows:
        pytest.skip("no corpus binaries fetched")
    problems: List[str] = []
    versions: Dict[str, str] = {}
    for r in rows:
        _check(r["name"], r["path"], r["format"], problems, versions)
    assert not problems, "\n".join(problems[:10])
    # Both blob styles were compared.
    assert any(_minor(v) < 18 for v in versions.values())
    assert any(_minor(v) >= 18 for v in versions.values())


def test_fixture_build_info_matches_go_version_m(fixture_rows):
    fmt = {"linux": "ELF", "darwin": "Mach-O", "windows": "PE"}
    problems: List[str] = []
    versions: Dict[str, str] = {}
    for r in fixture_rows:
        if r.get("path"):
            _check(f"{r['program']} {r['go_version']} {r['goos']}/{r['goarch']} {r['flagset']}",
                   r["path"], fmt[r["goos"]], problems, versions)
    assert not problems, "\n".join(problems[:10])
    assert versions
