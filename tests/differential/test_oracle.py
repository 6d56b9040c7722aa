"""Tests of the Go reference reader (tests/oracle) against independently known facts.

The oracle is what gosym is compared with, so it is checked here on its own:
against the facts recorded for each public-corpus binary (tests/corpus's
TSV), against how each fixture was built, against the ELF symbol tables
(pyelftools), against itself with section names and symbols ignored (-scan),
and on PIE files whose moduledata words are left 0 for the dynamic loader.

Relation verified between the pclntab header and debug/gosym: with no
symtab, ``Table.Funcs`` is built by ``go12Funcs`` with exactly one Func per
function-table entry, so ``len(functions) == nfunc``; ``end`` is the next
entry's pc and the last ``end`` is the table's end-pc sentinel, which equals
moduledata.maxpc.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.oracle.oracle import NotGoBinaryError, OracleError, oracle_goroot, run_oracle

VERSION_OF_MAGIC = {"0xfffffffb": "1.2", "0xfffffffa": "1.16", "0xfffffff0": "1.18", "0xfffffff1": "1.20"}
FORMAT_OF_GOOS = {"linux": "ELF", "darwin": "Mach-O", "windows": "PE"}
ENDIAN = {"le": "little", "be": "big"}

_results: dict = {}


def _run(path, scan=False):
    """Oracle output with functions, memoised per (path, scan) for this session."""
    key = (str(path), scan)
    if key not in _results:
        _results[key] = run_oracle(path, funcs=True, scan=scan)
    return _results[key]


def _present(rows):
    return [r for r in rows if r.get("path")]


def _label(row):
    if "name" in row:
        return row["name"]
    return f"{row.get('program')} {row.get('toolchain')} {row.get('goos')}/{row.get('goarch')} {row.get('flagset')}"


def _common_problems(out):
    """Facts that must hold for every binary, whatever it is."""
    p = out["pclntab"]
    fns = out["functions"]
    probs = []
    if VERSION_OF_MAGIC.get(p["magic"]) != p["version"]:
        probs.append(f"version {p['version']} does not match magic {p['magic']}")
    if p["ptr_size"] != out["ptr_size"]:
        probs.append(f"pclntab ptr_size {p['ptr_size']} != file's {out['ptr_size']}")
    if p["byte_order"] != out["byte_order"]:
        probs.append(f"pclntab byte order {p['byte_order']} != file's {out['byte_order']}")
    if len(fns) != p["nfunc"]:
        probs.append(f"{len(fns)} functions but header nfunc {p['nfunc']}")
    if not fns:
        return probs + ["no functions"]
    for a, b in zip(fns, fns[1:]):
        if not (a["entry"] <= a["end"] == b["entry"]):
            probs.append(f"function table not contiguous/sorted at {a} {b}")
            break
    if p["version"] in ("1.18", "1.20"):
        if p["text_base"] is None or p["text_base_from"] not in ("runtime.text", "moduledata", "header"):
            probs.append(f"1.18+ table without a text base: {p['text_base']} from {p['text_base_from']}")
        elif fns[0]["entry"] < p["text_base"]:
            probs.append(f"first entry {fns[0]['entry']:#x} below text base {p['text_base']:#x}")
        hts = p["header_text_start"]
        if hts not in (0, p["text_base"]):
            probs.append(f"header textStart {hts:#x} is neither 0 nor the text base {p['text_base']:#x}")
    elif p["text_base"] is not None or p["text_base_from"] != "n/a":
        probs.append(f"pre-1.18 table with text base {p['text_base']} from {p['text_base_from']}")
    md = out["moduledata"]
    if md is None:
        probs.append("moduledata not found")
    else:
        if md["minpc"] != fns[0]["entry"]:
            probs.append(f"moduledata.minpc {md['minpc']:#x} != first entry {fns[0]['entry']:#x}")
        if md["maxpc"] != fns[-1]["end"]:
            probs.append(f"moduledata.maxpc {md['maxpc']:#x} != last end {fns[-1]['end']:#x}")
        if p["text_base"] is not None and md["text"] != p["text_base"]:
            probs.append(f"moduledata.text {md['text']:#x} != text base {p['text_base']:#x}")
    ts = out["text_section"]
    if ts is not None and p["text_base"] is not None:
        if not ts["addr"] <= p["text_base"] < ts["addr"] + ts["size"]:
            probs.append(f"text base {p['text_base']:#x} outside {ts['name']}")
    if "runtime.text" in out["symbols"] and p["text_base"] is not None:
        if p["text_base_from"] != "runtime.text" or p["text_base"] != out["symbols"]["runtime.text"]:
            probs.append("runtime.text symbol present but not used as the text base")
    return probs


def _scan_problems(path, out):
    """-scan must find the same table, text base, moduledata and functions."""
    s = _run(path, scan=True)
    probs = []
    for k in ("addr", "nfunc", "magic", "text_base"):
        if s["pclntab"][k] != out["pclntab"][k]:
            probs.append(f"-scan pclntab.{k} {s['pclntab'][k]} != {out['pclntab'][k]}")
    if s["pclntab"]["found_by"] != "scan":
        probs.append(f"-scan found the pclntab by {s['pclntab']['found_by']}")
    if (s["moduledata"] or {}).get("addr") != (out["moduledata"] or {}).get("addr"):
        probs.append("-scan found another moduledata")
    if s["functions"] != out["functions"]:
        probs.append("-scan gives other functions")
    return probs


def _report(problems):
    if problems:
        pytest.fail(f"{len(problems)} problem(s):\n" + "\n".join(problems))


# ----------------------------------------------------------------- public corpus


def test_corpus_facts(corpus_rows):
    rows = _present(corpus_rows)
    if not rows:
        pytest.skip("no corpus binary could be fetched: " + "; ".join(r.get("skip", "") for r in corpus_rows))
    problems = []
    for row in rows:
        name = row["name"]
        try:
            out = _run(row["path"])
        except OracleError as exc:
            problems.append(f"{name}: oracle failed: {exc}")
            continue
        p = out["pclntab"]
        facts = {
            "format": (out["format"], row["format"]),
            "arch": (out["arch"], row["arch"]),
            "byte_order": (out["byte_order"], ENDIAN.get(row["endian"], row["endian"])),
            "go_version": (out["go_version"], row["go_version"]),
            "magic": (p["magic"], row["magic"]),
        }
        how = row["pclntab_how"]
        if how.startswith("section:"):
            facts["found_by"] = (p["found_by"], "section")
            facts["section"] = (p["section"], how.split(":", 1)[1])
        else:
            facts["found_by"] = (p["found_by"], how)
        if row["symtab"] in ("0", "1"):
            facts["has runtime.text symbol"] = ("runtime.text" in out["symbols"], row["symtab"] == "1")
        for what, (got, want) in facts.items():
            if got != want:
                problems.append(f"{name}: {what} is {got!r}, corpus says {want!r}")
        ts = out["text_section"]
        if p["text_base"] is not None and ts is not None and row["cgo"] in ("0", "1"):
            differs = p["text_base"] != ts["addr"]
            if row["cgo"] == "1" and row["format"] == "ELF" and not differs:
                problems.append(f"{name}: cgo ELF binary but text base == start of .text ({ts['addr']:#x})")
            if row["cgo"] == "0" and differs:
                problems.append(f"{name}: non-cgo binary but text base {p['text_base']:#x} != .text {ts['addr']:#x}")
        problems += [f"{name}: {m}" for m in _common_problems(out)]
    _report(problems)


def test_corpus_scan_agrees(corpus_rows):
    rows = _present(corpus_rows)
    if not rows:
        pytest.skip("no corpus binary could be fetched")
    problems = []
    for row in rows:
        try:
            problems += [f"{row['name']}: {m}" for m in _scan_problems(row["path"], _run(row["path"]))]
        except OracleError as exc:
            problems.append(f"{row['name']}: oracle failed: {exc}")
    _report(problems)


def test_corpus_text_base_kinds(corpus_rows):
    """The binaries that need care get their text base from where they must."""
    by_name = {r["name"]: r for r in _present(corpus_rows)}
    want = {
        # stripped cgo executable, Go 1.26: header textStart is 0, .text starts with C code
        "sqlc-1.31.1-linux-amd64": ("section", "moduledata"),
        # Go c-archive linked into a Python extension: no .gopclntab section
        "gojsonnet-0.21.0-cpython311-so-linux-amd64": ("symbol", "runtime.text"),
        # no section, no symbols
        "age-1.1.1-deb12-armhf": ("scan", "moduledata"),
        "actionlint-1.6.22-windows-amd64.exe": ("scan", "moduledata"),
        "esbuild-0.8.9-go1.15-windows-amd64.exe": ("scan", "n/a"),
    }
    checked = 0
    problems = []
    for name, (found_by, base_from) in want.items():
        if name not in by_name:
            continue
        checked += 1
        p = _run(by_name[name]["path"])["pclntab"]
        if (p["found_by"], p["text_base_from"]) != (found_by, base_from):
            problems.append(f"{name}: found by {p['found_by']}, base from {p['text_base_from']}; "
                            f"want {found_by}, {base_from}")
    if not checked:
        pytest.skip("none of these corpus binaries could be fetched")
    _report(problems)


# ----------------------------------------------------------------- fixtures


def test_fixture_facts(fixture_rows):
    rows = _present(fixture_rows)
    if not rows:
        pytest.skip("no fixture was built")
    problems = []
    for row in rows:
        label = _label(row)
        try:
            out = _run(row["path"])
        except OracleError as exc:
            problems.append(f"{label}: oracle failed: {exc}")
            continue
        p = out["pclntab"]
        if out["format"] != FORMAT_OF_GOOS.get(row["goos"]):
            problems.append(f"{label}: format {out['format']}")
        if out["arch"] != row["goarch"]:
            problems.append(f"{label}: arch {out['arch']}")
        want_ver = row.get("go_version") or ""
        if want_ver:
            if out["go_version"] != want_ver:
                problems.append(f"{label}: go_version {out['go_version']!r}, built with {want_ver!r}")
        elif not str(row.get("toolchain", "")).startswith("system-") and \
                not out["go_version"].startswith("go" + str(row.get("toolchain", ""))):
            problems.append(f"{label}: go_version {out['go_version']!r}")
        stripped = row.get("flagset") in ("s", "sw")
        if stripped and "runtime.text" in out["symbols"]:
            problems.append(f"{label}: -s build still has runtime.text")
        if p["version"] in ("1.18", "1.20"):
            want_from = "moduledata" if stripped else "runtime.text"
            if p["text_base_from"] != want_from:
                problems.append(f"{label}: text base from {p['text_base_from']}, want {want_from}")
        ts = out["text_section"]
        if ts is not None and p["text_base"] is not None and out["format"] == "ELF":
            differs = p["text_base"] != ts["addr"]
            if row.get("cgo") and not differs:
                problems.append(f"{label}: cgo build but text base == start of .text")
            if not row.get("cgo") and differs:
                problems.append(f"{label}: text base {p['text_base']:#x} != .text {ts['addr']:#x}")
        problems += [f"{label}: {m}" for m in _common_problems(out)]
        problems += [f"{label}: {m}" for m in _scan_problems(row["path"], out)]
    _report(problems)


# ----------------------------------------------------------------- independent symbol tables


def _elf_func_symbols(path):
    """Unique STT_FUNC names in .symtab -> address (pyelftools)."""
    from elftools.elf.elffile import ELFFile

    seen: dict = {}
    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        tab = elf.get_section_by_name(".symtab")
        if tab is None:
            return None
        for sym in tab.iter_symbols():
            if sym["st_info"]["type"] != "STT_FUNC" or sym["st_shndx"] == "SHN_UNDEF" or not sym.name:
                continue
            seen.setdefault(sym.name, []).append(sym["st_value"])
    return {k: v[0] for k, v in seen.items() if len(v) == 1}


def test_entries_match_elf_symtab(fixture_rows, corpus_rows):
    """Function entries (hence the text base) agree with .symtab, read by pyelftools."""
    pytest.importorskip("elftools")
    candidates = [(_label(r), r["path"]) for r in _present(fixture_rows)
                  if r.get("goos") == "linux" and r.get("flagset") not in ("s", "sw")]
    candidates += [(r["name"], r["path"]) for r in _present(corpus_rows)
                   if r["format"] == "ELF" and r["symtab"] == "1"]
    problems = []
    checked = 0
    for label, path in candidates:
        syms = _elf_func_symbols(path)
        if not syms:
            continue
        out = _run(path)
        fns = out["functions"]
        counts: dict = {}
        for f in fns:
            counts[f["name"]] = counts.get(f["name"], 0) + 1
        # Names the pclntab holds twice (an assembly function and its ABI
        # wrapper share one name) are left out, like names .symtab holds twice.
        matched = [(f, syms[f["name"]]) for f in fns if f["name"] in syms and counts[f["name"]] == 1]
        bad = [(f["name"], f["entry"], addr) for f, addr in matched if f["entry"] != addr]
        if len(matched) < 0.5 * len(fns):
            problems.append(f"{label}: only {len(matched)}/{len(fns)} functions found in .symtab")
        if bad:
            problems.append(f"{label}: {len(bad)} entries differ from .symtab, e.g. {bad[:3]}")
        checked += 1
    if not checked:
        pytest.skip("no ELF binary with a .symtab")
    _report(problems)


# ----------------------------------------------------------------- lookups


def _sample_pcs(fns, limit=300):
    step = max(1, len(fns) // limit)
    pcs, want = [], []
    for f in fns[::step]:
        for pc in {f["entry"], (f["entry"] + f["end"]) // 2, max(f["entry"], f["end"] - 1)}:
            if f["entry"] <= pc < f["end"]:
                pcs.append(pc)
                want.append(f)
    return pcs, want


def test_lookups_agree_with_function_table(fixture_rows, corpus_rows):
    paths = [(_label(r), r["path"]) for r in _present(fixture_rows)][:6]
    paths += [(r["name"], r["path"]) for r in _present(corpus_rows)]
    if not paths:
        pytest.skip("no binaries")
    problems = []
    for label, path in paths:
        fns = _run(path)["functions"]
        pcs, want = _sample_pcs(fns)
        outside = [fns[0]["entry"] - 1, fns[-1]["end"], fns[-1]["end"] + 0x1000]
        out = run_oracle(path, pcs=pcs + outside, funcs=False)
        looks = out["lookups"]
        if len(looks) != len(pcs) + len(outside):
            problems.append(f"{label}: {len(looks)} lookups for {len(pcs) + len(outside)} pcs")
            continue
        nofile = nentry = 0
        for lk, f, pc in zip(looks, want, pcs):
            if lk["pc"] != pc or lk["func"] != f["name"] or lk["entry"] != f["entry"]:
                problems.append(f"{label}: pc {pc:#x} -> {lk}, want {f['name']} at {f['entry']:#x}")
                break
            # A function's entry has a file:line; its last bytes are often
            # alignment padding that the pc tables do not cover (file "", line -1).
            if pc == f["entry"]:
                nentry += 1
                if not lk["file"] or lk["line"] <= 0:
                    nofile += 1
        if nofile > nentry // 20:
            problems.append(f"{label}: {nofile}/{nentry} function entries without file:line")
        for lk in looks[len(pcs):]:
            if lk["func"] is not None or lk["file"] is not None:
                problems.append(f"{label}: pc {lk['pc']:#x} outside every function -> {lk}")
    _report(problems)


# ----------------------------------------------------------------- relocations


_RELATIVE = {"EM_X86_64": 8, "EM_AARCH64": 1027, "EM_PPC64": 22, "EM_S390": 12}


def test_pie_moduledata_from_relocations(fixture_rows, tmp_path):
    """Zero the moduledata words that RELA RELATIVE relocations fill; the oracle must still get them.

    With -scan the oracle ignores symbols and .go.module, so it can only find
    moduledata through the relocation whose addend is the pclntab address, and
    (Go 1.26+, header textStart 0) only get the text base from moduledata.text
    read through its relocation.
    """
    pytest.importorskip("elftools")
    from elftools.elf.elffile import ELFFile
    from elftools.elf.relocation import RelocationSection

    rows = [r for r in _present(fixture_rows) if r.get("flagset") == "pie" and r.get("goos") == "linux"]
    if not rows:
        pytest.skip("no linux PIE fixture")
    problems = []
    checked = 0
    for row in rows:
        label = _label(row)
        orig = _run(row["path"])
        md = orig["moduledata"]
        if md is None:
            problems.append(f"{label}: no moduledata in the original")
            continue
        lo, hi = md["addr"], md["addr"] + 48 * orig["ptr_size"]
        patches = []
        with open(row["path"], "rb") as fh:
            elf = ELFFile(fh)
            rel_type = _RELATIVE.get(elf["e_machine"])
            if rel_type is None:
                continue
            secs = [s for s in elf.iter_sections() if s["sh_type"] not in ("SHT_NOBITS", "SHT_NULL")]
            for s in elf.iter_sections():
                if not isinstance(s, RelocationSection) or not s.is_RELA():
                    continue
                for r in s.iter_relocations():
                    if r["r_info_type"] == rel_type and lo <= r["r_offset"] < hi:
                        for sec in secs:
                            if sec["sh_addr"] <= r["r_offset"] < sec["sh_addr"] + sec["sh_size"]:
                                patches.append(sec["sh_offset"] + r["r_offset"] - sec["sh_addr"])
                                break
        if not patches:
            problems.append(f"{label}: no RELATIVE relocation in moduledata")
            continue
        patched = tmp_path / (Path(row["path"]).name + f".{checked}.zeroed")
        shutil.copyfile(row["path"], patched)
        with open(patched, "r+b") as fh:
            for off in patches:
                fh.seek(off)
                fh.write(b"\0" * orig["ptr_size"])
        checked += 1
        try:
            got = run_oracle(patched, funcs=True, scan=True)
        except OracleError as exc:
            problems.append(f"{label}: oracle failed on the zeroed copy: {exc}")
            continue
        if (got["moduledata"] or {}).get("addr") != md["addr"]:
            problems.append(f"{label}: moduledata not found through relocations: {got['moduledata']}")
        if got["pclntab"]["text_base"] != orig["pclntab"]["text_base"]:
            problems.append(f"{label}: text base {got['pclntab']['text_base']} != {orig['pclntab']['text_base']}")
        if got["functions"] != orig["functions"]:
            problems.append(f"{label}: functions differ on the zeroed copy")
    if not checked:
        pytest.skip("no PIE fixture with RELA relocations")
    _report(problems)


# ----------------------------------------------------------------- errors


def test_not_go_and_errors(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a binary\n")
    with pytest.raises(NotGoBinaryError) as ei:
        run_oracle(text)
    assert ei.value.returncode == 2 and ei.value.stderr.count("\n") == 1

    c_elf = shutil.which("ls") or "/bin/ls"
    if os.path.exists(c_elf) and open(c_elf, "rb").read(4) == b"\x7fELF":
        with pytest.raises(NotGoBinaryError):
            run_oracle(c_elf)

    with pytest.raises(OracleError) as ei:
        run_oracle(tmp_path / "missing")
    assert ei.value.returncode == 1 and not isinstance(ei.value, NotGoBinaryError)
    assert "panic" not in ei.value.stderr and ei.value.stderr.count("\n") == 1


def test_bad_pcs_input(fixture_rows, tmp_path):
    rows = _present(fixture_rows)
    if not rows:
        pytest.skip("no fixture was built")
    from tests.oracle.oracle import build_oracle

    proc = subprocess.run([str(build_oracle()), "-pcs", "-", rows[0]["path"]], input="0x10\nnothex\n",
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "line 2" in proc.stderr and not proc.stdout


# ----------------------------------------------------------------- go tool addr2line on sqlc


def test_sqlc_addr2line_is_wrong_and_oracle_is_right(corpus_rows):
    """On sqlc (stripped cgo, Go 1.26: no runtime.text symbol, header textStart 0,
    .text starts with C code) `go tool addr2line` takes .text's start as the text
    base and names the wrong functions. The Go functions sqlc exports in
    .dynsym (crosscall2, _cgo_panic, _cgo_topofstack), read with pyelftools,
    are named by the oracle at their exact addresses."""
    pytest.importorskip("elftools")
    from elftools.elf.elffile import ELFFile

    row = next((r for r in _present(corpus_rows) if r["name"] == "sqlc-1.31.1-linux-amd64"), None)
    if row is None:
        pytest.skip("sqlc not fetched")
    with open(row["path"], "rb") as fh:
        dynsym = ELFFile(fh).get_section_by_name(".dynsym")
        funcs = {s.name: s["st_value"] for s in dynsym.iter_symbols()
                 if s["st_info"]["type"] == "STT_FUNC" and s["st_shndx"] != "SHN_UNDEF"}
    assert funcs, "sqlc exports no functions in .dynsym"
    names = sorted(funcs)
    pcs = [funcs[n] for n in names]
    ours = run_oracle(row["path"], pcs=pcs, funcs=False)["lookups"]
    assert [lk["func"] for lk in ours] == names
    assert [lk["entry"] for lk in ours] == pcs

    goroot = oracle_goroot()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    env.update(GOROOT=str(goroot), GOTOOLCHAIN="local", GOPROXY="off", GOFLAGS="-mod=mod")
    proc = subprocess.run([str(goroot / "bin" / "go"), "tool", "addr2line", row["path"]],
                          input="".join(f"{pc:#x}\n" for pc in pcs), capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, f"go tool addr2line failed: {proc.stderr.strip()[:200]}"
    theirs = proc.stdout.splitlines()[0::2]
    assert len(theirs) == len(names)
    wrong = [(n, t) for n, t in zip(names, theirs) if n != t]
    assert wrong, "addr2line now agrees with the oracle on sqlc (fixed upstream?)"
