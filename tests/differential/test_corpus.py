"""Tests of the real-world corpus fetcher (tests/corpus/fetch.py) and its rows.

The ``corpus_rows`` fixture (tests/conftest.py) is ``ensure_corpus(progress=False)``:
the whole corpus, fetched into the cache or skipped with a reason.  The unit
tests at the end use a local ``file`` source and injected sources, so they need
no network, except ``test_skip_nonexistent_pypi_version`` which asks PyPI.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from tests.corpus import fetch
from tests.corpus.fetch import CorpusError, Unavailable, ensure_corpus, load_rows

REPO = Path(__file__).resolve().parents[2]
FETCH_PY = REPO / "tests" / "corpus" / "fetch.py"
MAX_SKIPS = 3

ROWS = load_rows()
NAMES = [r["name"] for r in ROWS]
ELF_NAMES = [r["name"] for r in ROWS if r["format"] == "ELF"]
HEADER_COLUMNS = [
    "name", "source", "package", "version", "platform", "member", "inner", "sha256",
    "format", "arch", "endian", "go_version", "magic", "pclntab_how", "symtab", "dwarf",
    "buildmode", "cgo",
]


def _row(corpus_rows, name):
    for r in corpus_rows:
        if r["name"] == name:
            if "skip" in r:
                pytest.skip(f"{name} not fetched: {r['skip']}")
            return r
    raise AssertionError(f"{name} missing from corpus_rows")


# --------------------------------------------------------------------------
# The list itself
# --------------------------------------------------------------------------

def test_tsv_is_a_copy_of_the_shared_list():
    ours = (REPO / "tests" / "corpus" / "public.tsv").read_bytes()
    for cand in (REPO.parent / "shared" / "corpus" / "public.tsv",
                 Path("/work/shared/corpus/public.tsv")):
        if cand.is_file():
            assert ours == cand.read_bytes(), f"tests/corpus/public.tsv differs from {cand}"
            return
    pytest.skip("no shared/corpus/public.tsv beside the repo")


def test_load_rows():
    first = (REPO / "tests" / "corpus" / "public.tsv").read_text().splitlines()[0]
    assert first == "# " + "\t".join(HEADER_COLUMNS)
    assert len(ROWS) >= 20
    assert len(set(NAMES)) == len(NAMES)
    for r in ROWS:
        assert list(r) == HEADER_COLUMNS
        assert r["source"] in ("pypi", "npm", "deb"), r
        assert len(r["sha256"]) == 64 and int(r["sha256"], 16) >= 0
        assert r["format"] in ("ELF", "Mach-O", "PE"), r
        assert r["endian"] in ("le", "be"), r


def test_load_rows_rejects_malformed(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("# name\tsource\tpackage\tversion\tplatform\tmember\tinner\tsha256\n"
                   "x\tpypi\tp\t1\tany\tm\t-\tnot-a-sha\n")
    with pytest.raises(CorpusError, match="bad sha256"):
        load_rows(bad)
    bad.write_text("# name\tsource\n" "x\tpypi\n")
    with pytest.raises(CorpusError, match="lacks columns"):
        load_rows(bad)


# --------------------------------------------------------------------------
# The fetched corpus
# --------------------------------------------------------------------------

def test_every_row_fetched_or_skipped(corpus_rows):
    assert [r["name"] for r in corpus_rows] == NAMES
    skipped = []
    for r in corpus_rows:
        assert ("path" in r) != ("skip" in r), f"{r['name']}: needs exactly one of path/skip"
        if "skip" in r:
            reason = r["skip"]
            assert isinstance(reason, str) and reason.strip(), r["name"]
            assert "\n" not in reason, f"{r['name']}: reason is not one line: {reason!r}"
            skipped.append(f"{r['name']}: {reason}")
        else:
            p = Path(r["path"])
            assert p.is_absolute() and p.is_file(), r["path"]
            assert p.name == r["name"] and p.parent.name == r["sha256"]
        for col in HEADER_COLUMNS:
            assert r[col] == next(x for x in ROWS if x["name"] == r["name"])[col]
    assert len(skipped) <= MAX_SKIPS, "too many rows skipped:\n" + "\n".join(skipped)


def test_second_run_does_no_network_work(corpus_rows, monkeypatch):
    fetched = [r["name"] for r in corpus_rows if "path" in r]
    assert fetched

    def no_network(row, tmpdir):
        raise AssertionError(f"second run downloaded {row['name']}")

    for kind in ("pypi", "npm", "deb"):
        monkeypatch.setitem(fetch.SOURCES, kind, no_network)
    again = ensure_corpus(fetched, progress=False)
    assert [r["path"] for r in again] == [r["path"] for r in corpus_rows if "path" in r]


@pytest.mark.parametrize("name", NAMES)
def test_sha256(corpus_rows, name):
    r = _row(corpus_rows, name)
    h = hashlib.sha256(Path(r["path"]).read_bytes()).hexdigest()
    assert h == r["sha256"]


ELF_ARCH = {"EM_X86_64": "amd64", "EM_386": "386", "EM_ARM": "arm", "EM_AARCH64": "arm64",
            "EM_S390": "s390x", "EM_PPC64": "ppc64", "EM_PPC": "ppc", "EM_MIPS": "mips",
            "EM_RISCV": "riscv64", "EM_LOONGARCH": "loong64"}
MACHO_CPU = {7: "386", 0x01000007: "amd64", 12: "arm", 0x0100000C: "arm64",
             18: "ppc", 0x01000012: "ppc64"}
PE_MACHINE = {0x14C: "386", 0x8664: "amd64", 0x1C0: "arm", 0x1C4: "arm", 0xAA64: "arm64"}


def read_header(path):
    """(format, arch, endian) read independently of gosym."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
        if head[:4] == b"\x7fELF":
            fh.seek(0)
            elf = ELFFile(fh)
            endian = "le" if elf.little_endian else "be"
            arch = ELF_ARCH.get(elf["e_machine"], elf["e_machine"])
            if arch == "ppc64" and endian == "le":
                arch = "ppc64le"
            if arch == "mips" and elf.elfclass == 64:
                arch = "mips64"
            return "ELF", arch, endian
    magic_le = struct.unpack_from("<I", head)[0]
    if magic_le in (0xFEEDFACE, 0xFEEDFACF, 0xCEFAEDFE, 0xCFFAEDFE):
        endian = "le" if magic_le in (0xFEEDFACE, 0xFEEDFACF) else "be"
        cputype = struct.unpack_from("<I" if endian == "le" else ">I", head, 4)[0]
        return "Mach-O", MACHO_CPU.get(cputype, hex(cputype)), endian
    if head[:2] == b"MZ":
        lfanew = struct.unpack_from("<I", head, 0x3C)[0]
        with open(path, "rb") as fh:
            fh.seek(lfanew)
            pe = fh.read(6)
        assert pe[:4] == b"PE\0\0", f"{path}: MZ without PE header"
        machine = struct.unpack_from("<H", pe, 4)[0]
        return "PE", PE_MACHINE.get(machine, hex(machine)), "le"
    return "unknown", "?", "?"


@pytest.mark.parametrize("name", NAMES)
def test_header_format_arch_endian(corpus_rows, name):
    r = _row(corpus_rows, name)
    assert read_header(r["path"]) == (r["format"], r["arch"], r["endian"])


@pytest.mark.parametrize("name", NAMES)
def test_go_version_and_pclntab_magic_in_file(corpus_rows, name):
    r = _row(corpus_rows, name)
    data = Path(r["path"]).read_bytes()
    assert r["go_version"].encode() in data
    magic = struct.pack("<I" if r["endian"] == "le" else ">I", int(r["magic"], 16))
    # pclntab header: magic, two zero pad bytes.
    assert magic + b"\0\0" in data


@pytest.mark.parametrize("name", ELF_NAMES)
def test_elf_section_facts(corpus_rows, name):
    """symtab, dwarf and pclntab_how columns against the ELF section table."""
    r = _row(corpus_rows, name)
    with open(r["path"], "rb") as fh:
        secs = {s.name: s["sh_flags"] for s in ELFFile(fh).iter_sections()}
    assert (".symtab" in secs) == (r["symtab"] == "1")
    kinds = set()
    for sname, flags in secs.items():
        if sname.startswith(".zdebug_"):
            kinds.add("zdebug")
        elif sname.startswith(".debug_"):
            kinds.add("zlib" if flags & SH_FLAGS.SHF_COMPRESSED else "plain")
    expected = set() if r["dwarf"] == "none" else set(r["dwarf"].split("+"))
    assert kinds == expected
    how = r["pclntab_how"]
    if how.startswith("section:"):
        assert how[len("section:"):] in secs
    else:
        assert how in ("symbol", "scan")
        assert ".gopclntab" not in secs and ".data.rel.ro.gopclntab" not in secs


def test_script_prints_cached_rows(corpus_rows):
    fetched = [r for r in corpus_rows if "path" in r][:3]
    cp = subprocess.run([sys.executable, str(FETCH_PY), "--json", "--quiet",
                         *[r["name"] for r in fetched]],
                        capture_output=True, text=True, timeout=600)
    assert cp.returncode == 0, cp.stderr
    out = json.loads(cp.stdout)
    assert [(r["name"], r["path"]) for r in out] == [(r["name"], r["path"]) for r in fetched]
    cp = subprocess.run([sys.executable, str(FETCH_PY), fetched[0]["name"]],
                        capture_output=True, text=True, timeout=600)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split("\t") == [fetched[0]["name"], "ok", fetched[0]["path"] + "\n"]
    assert "cached" in cp.stderr


# --------------------------------------------------------------------------
# Unit tests of the fetcher, on local sources
# --------------------------------------------------------------------------

def _file_row(name, package, sha, member="-", inner="-"):
    return {"name": name, "source": "file", "package": str(package), "version": "0",
            "platform": "-", "member": member, "inner": inner, "sha256": sha}


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _leftovers(cache):
    return [p for p in Path(cache).rglob("*") if p.name.endswith(".part")]


def test_checksum_mismatch_raises(tmp_path):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x7fELF not really a binary")
    wrong = "0" * 64
    row = _file_row("fake-row", blob, wrong)
    cache = tmp_path / "cache"
    with pytest.raises(CorpusError) as ei:
        ensure_corpus(rows=[row], cache=cache, progress=False)
    msg = str(ei.value)
    assert "fake-row" in msg and wrong in msg and _sha(blob.read_bytes()) in msg
    assert not fetch.cached_path(row, cache).exists()
    assert _leftovers(cache) == []


def _make_wheel(tmp_path, payloads):
    """A zip holding a .tar.gz (with bin/a, bin/b) plus a plain member."""
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as tf:
        for n in ("bin/a", "bin/b"):
            ti = tarfile.TarInfo(n)
            ti.size = len(payloads[n])
            tf.addfile(ti, io.BytesIO(payloads[n]))
    whl = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        zf.writestr("pkg/lib/thing.tar.gz", tgz.getvalue())
        zf.writestr("pkg/bin/plain", payloads["plain"])
    return whl


def test_shared_package_downloaded_once_and_cached(tmp_path, monkeypatch):
    payloads = {"bin/a": b"A" * 1000, "bin/b": b"B" * 2000, "plain": b"P" * 300}
    whl = _make_wheel(tmp_path, payloads)
    calls = []

    def counting(row, tmpdir):
        calls.append(row["name"])
        return fetch.download_file(row, tmpdir)

    monkeypatch.setitem(fetch.SOURCES, "counting", counting)
    rows = [
        _file_row("a", whl, _sha(payloads["bin/a"]), "pkg/lib/thing.tar.gz", "bin/a"),
        _file_row("b", whl, _sha(payloads["bin/b"]), "pkg/lib/thing.tar.gz", "./bin/b"),
        _file_row("plain", whl, _sha(payloads["plain"]), "pkg/bin/plain"),
    ]
    for r in rows:
        r["source"] = "counting"
    cache = tmp_path / "cache"
    out = ensure_corpus(rows=rows, cache=cache, progress=False)
    assert len(calls) == 1
    assert [r["name"] for r in out] == ["a", "b", "plain"]
    for r, key in zip(out, ("bin/a", "bin/b", "plain")):
        assert Path(r["path"]).read_bytes() == payloads[key]
        assert Path(r["path"]) == fetch.cached_path(r, cache)
    assert _leftovers(cache) == []

    # Warm: nothing downloaded.
    again = ensure_corpus(rows=rows, cache=cache, progress=False, rehash=True)
    assert len(calls) == 1
    assert [r["path"] for r in again] == [r["path"] for r in out]

    # A damaged cache entry is detected and fetched again.
    Path(out[2]["path"]).write_bytes(b"damaged")
    again = ensure_corpus(["plain"], rows=rows, cache=cache, progress=False)
    assert len(calls) == 2
    assert Path(again[0]["path"]).read_bytes() == payloads["plain"]


def test_missing_member_raises(tmp_path):
    whl = _make_wheel(tmp_path, {"bin/a": b"a", "bin/b": b"b", "plain": b"p"})
    rows = [_file_row("no-member", whl, "1" * 64, "pkg/bin/nothere"),
            _file_row("no-inner", whl, "2" * 64, "pkg/lib/thing.tar.gz", "bin/c")]
    for row in rows:
        with pytest.raises(CorpusError, match=row["name"] + ".*not found"):
            ensure_corpus(rows=[row], cache=tmp_path / "cache", progress=False)


def test_unavailable_source_becomes_skip(tmp_path, monkeypatch):
    def gone(row, tmpdir):
        raise Unavailable(f"test: {row['package']} is gone")

    monkeypatch.setitem(fetch.SOURCES, "gone", gone)
    row = _file_row("gone-row", "pkgname", "3" * 64)
    row["source"] = "gone"
    (out,) = ensure_corpus(rows=[row], cache=tmp_path / "cache", progress=False)
    assert out["skip"] == "test: pkgname is gone" and "path" not in out


def test_unknown_name_raises(tmp_path):
    with pytest.raises(CorpusError, match="no-such-row"):
        ensure_corpus(["no-such-row"], cache=tmp_path / "cache", progress=False)


def test_progress_lines(tmp_path, capfd):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"x" * 100)
    row = _file_row("progress-row", blob, _sha(b"x" * 100))
    ensure_corpus(rows=[row], cache=tmp_path / "cache")
    ensure_corpus(rows=[row], cache=tmp_path / "cache")
    ensure_corpus(rows=[row], cache=tmp_path / "cache", progress=False)
    err = capfd.readouterr().err.splitlines()
    assert "[1/1] progress-row ... fetched" in "\n".join(err)
    assert err[-1] == "[1/1] progress-row ... cached"
    assert sum("progress-row" in l for l in err) == 2


def test_skip_nonexistent_pypi_version(tmp_path):
    """Asks PyPI for a version that does not exist: the row is skipped, not failed."""
    row = {"name": "ghost", "source": "pypi", "package": "editorconfig-checker",
           "version": "0.0.0.999", "platform": "any", "member": "x", "inner": "-",
           "sha256": "4" * 64}
    (out,) = ensure_corpus(rows=[row], cache=tmp_path / "cache", progress=False)
    assert "path" not in out
    assert out["skip"].startswith("pip: ")
    assert "editorconfig-checker==0.0.0.999" in out["skip"]
    assert "\n" not in out["skip"]


def test_list_mode_does_not_fetch(tmp_path):
    env = dict(os.environ, GOSYM_CACHE=str(tmp_path / "empty-cache"))
    cp = subprocess.run([sys.executable, str(FETCH_PY), "--list", "--json"],
                        capture_output=True, text=True, env=env, timeout=120)
    assert cp.returncode == 0, cp.stderr
    out = json.loads(cp.stdout)
    assert [r["name"] for r in out] == NAMES
    assert all("path" not in r for r in out)
    assert not (tmp_path / "empty-cache" / "corpus").exists()


@pytest.mark.parametrize("use_dpkg_deb", [True, False])
def test_deb_member_extraction(tmp_path, monkeypatch, use_dpkg_deb):
    """A .deb built here: its data archive is read with dpkg-deb, or without it."""
    import shutil

    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb not installed")
    root = tmp_path / "root"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: fake\nVersion: 1.0-1\nArchitecture: armhf\n"
        "Maintainer: t <t@example.invalid>\nDescription: fake\n")
    (root / "usr" / "bin").mkdir(parents=True)
    payload = b"\x7fELF" + os.urandom(5000)
    (root / "usr" / "bin" / "fake").write_bytes(payload)
    deb = tmp_path / "fake_1.0-1_armhf.deb"
    subprocess.run(["dpkg-deb", "-Zxz", "--root-owner-group", "--build", str(root), str(deb)],
                   check=True, capture_output=True)
    if not use_dpkg_deb:
        real_which = shutil.which
        monkeypatch.setattr(fetch.shutil, "which",
                            lambda n, *a, **k: None if n == "dpkg-deb" else real_which(n, *a, **k))
    row = _file_row("fake-deb", deb, _sha(payload), "./usr/bin/fake")
    (out,) = ensure_corpus(rows=[row], cache=tmp_path / "cache", progress=False)
    assert Path(out["path"]).read_bytes() == payload
