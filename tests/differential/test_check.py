"""`gosym check` against an independent computation.

Both sets of pcs the report covers are recomputed here, and the kinds are
counted with their own few lines of code; the counts must equal the
report's exactly:

- at every DWARF row start: the rows are pyelftools' (file paths resolved
  here from its file and directory tables), the pclntab's answer is the Go
  oracle's debug/gosym PCToLine;
- at every pclntab row start: the pclntab's answer is PCToLine's, DWARF's is
  the pyelftools row covering the pc (found here by bisection in each
  sequence).  The row-start pcs themselves come from gosym's line walk
  (debug/gosym has no row iterator); they are checked against PCToLine
  here: each lies in a function and answers differently from the row
  start before it in the same function.

A copy with one special opcode of one line program patched (line + 1 from
that row on) must be reported as line differences at that row.
"""
import bisect
import json
import os
import shutil
import subprocess
import sys

import pytest

elftools = pytest.importorskip("elftools")
from elftools.elf.elffile import ELFFile  # noqa: E402

import gosym  # noqa: E402
from gosym import _columns  # noqa: E402
from gosym.check import check, compare_pcs  # noqa: E402


def _fixture(rows, toolchain, flagset="default", program="multipkg"):
    return next(r for r in rows if r.get("path") and r["toolchain"] == toolchain
                and r["program"] == program and r["goos"] == "linux" and r["goarch"] == "amd64"
                and r["flagset"] == flagset)


def _s(v):
    return v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else v


def pyelf_rows(path):
    """({address: (file path, line)} of every row that starts to cover code,
    [sequences: (addresses, [(file path, line)], end address)]) from
    pyelftools; paths joined here [DWARF5 6.2.4 items 20-21; DWARF4 6.2.4
    items 11-12]."""
    out = {}
    seqs = []
    with open(path, "rb") as fh:
        info = ELFFile(fh).get_dwarf_info()
        for cu in info.iter_CUs():
            top = cu.get_top_DIE()
            lp = info.line_program_for_CU(cu)
            if lp is None:
                continue
            comp = _s(top.attributes["DW_AT_comp_dir"].value) if "DW_AT_comp_dir" in top.attributes else ""
            v = lp.header.version
            dirs = [_s(d) for d in lp["include_directory"]]
            files = lp["file_entry"]

            def path_of(k):
                i = k if v >= 5 else k - 1
                if not 0 <= i < len(files):
                    return None
                fe = files[i]
                name = _s(fe.name)
                if v >= 5:
                    d = dirs[fe.dir_index] if fe.dir_index < len(dirs) else ""
                    d = os.path.join(comp, d) if d and comp else (d or comp)
                else:
                    d = comp if fe.dir_index == 0 else os.path.join(comp, dirs[fe.dir_index - 1])
                return os.path.normpath(os.path.join(d, name)) if d else name

            states = [e.state for e in lp.get_entries() if e.state is not None]
            seq_addr, seq_pos = [], []
            for s, nxt in zip(states, states[1:]):
                if not s.end_sequence and nxt.address > s.address:
                    out[s.address] = (path_of(s.file), s.line)
            for s in states:
                if s.end_sequence:
                    if seq_addr and seq_addr[0] < s.address:
                        seqs.append((seq_addr, seq_pos, s.address))
                    seq_addr, seq_pos = [], []
                else:
                    seq_addr.append(s.address)
                    seq_pos.append((path_of(s.file), s.line))
    return out, seqs


def covering_row(seqs, pc):
    """(file path, line) of the DWARF row covering pc: the last row at or
    below pc in a sequence whose range holds it; None if no row does."""
    for addrs, pos, end in seqs:
        if addrs[0] <= pc < end:
            return pos[bisect.bisect_right(addrs, pc) - 1]
    return None


def kind_of(o, d):
    """The kind of comparison of the oracle's PCToLine answer o with the
    DWARF answer d ((file, line) or None), as `gosym check` names them."""
    if o["func"] is None:
        return "outside"
    if not o["line"] or o["line"] <= 0:
        return "no_pclntab_line" if d is not None and d[1] > 0 else "neither"
    if d is None:
        return "no_dwarf_row"
    dfile, dline = d
    if dline == 0:
        return "dwarf_line_0"
    if (o["file"], o["line"]) == (dfile, dline):
        return "agree"
    if o["file"] == dfile:
        return "line"
    return "file" if o["line"] == dline else "file_and_line"


def _count(kinds):
    counts = {}
    for k in kinds:
        counts[k] = counts.get(k, 0) + 1
    return counts


def independent_counts(path, oracle):
    """Kind counts at DWARF row starts and at pclntab row starts, from
    pyelftools and the oracle: (at_dwarf_rows, at_pclntab_rows)."""
    starts, seqs = pyelf_rows(path)
    pcs = sorted(starts)
    looked = oracle(path, pcs=pcs, funcs=False)["lookups"]
    assert [o["pc"] for o in looked] == pcs
    at_dwarf = _count(kind_of(o, starts[pc]) for pc, o in zip(pcs, looked))

    with gosym.open(path) as b:
        ppc = list(b._tab.line_table()[0])
    plooked = oracle(path, pcs=ppc, funcs=False)["lookups"]
    assert [o["pc"] for o in plooked] == ppc
    seqs.sort(key=lambda s: s[0][0])
    prev = None
    for o in plooked:
        # Every row start is in a function, and PCToLine answers there
        # differently than at the previous row start of the same function
        # (a row boundary where neither file nor line changes would be made up).
        assert o["func"] is not None, hex(o["pc"])
        if prev is not None and prev["func"] == o["func"]:
            assert (prev["file"], prev["line"]) != (o["file"], o["line"]), (hex(prev["pc"]), hex(o["pc"]))
        prev = o
    at_pcln = _count(kind_of(o, covering_row(seqs, o["pc"])) for o in plooked)
    return at_dwarf, at_pcln


@pytest.mark.parametrize("toolchain", ["1.27.3", "1.24.11", "1.21.13"])
def test_counts_equal_independent_computation(fixture_rows, oracle, toolchain):
    path = _fixture(fixture_rows, toolchain)["path"]
    with gosym.open(path) as b:
        rep = check(b)
    want_d, want_p = independent_counts(path, oracle)
    got_d = {k: v for k, v in rep["at_dwarf_rows"]["kinds"].items() if v}
    assert got_d == want_d, (toolchain, got_d, want_d)
    assert rep["at_dwarf_rows"]["pcs"] == sum(want_d.values())
    got_p = {k: v for k, v in rep["at_pclntab_rows"]["kinds"].items() if v}
    assert got_p == want_p, (toolchain, got_p, want_p)
    assert rep["at_pclntab_rows"]["pcs"] == sum(want_p.values())
    assert rep["compared"] == sum(v for k, v in want_d.items() if k != "outside") + \
        sum(v for k, v in want_p.items() if k != "outside")
    # The Go toolchain writes the same positions in both tables, nearly always.
    assert rep["agreement"] > 99.0, rep["agreement"]
    assert rep["at_pclntab_rows"]["compared"] > 10000


def test_pclntab_row_starts_sample_against_oracle(fixture_rows, oracle):
    """At pclntab row starts, the pclntab side is what debug/gosym says."""
    path = _fixture(fixture_rows, "1.27.3")["path"]
    with gosym.open(path) as b:
        pc, foff, line, func, bad = b._tab.line_table()
        assert bad == 0
        step = max(1, len(pc) // 1500)
        sample = [pc[i] for i in range(0, len(pc), step)]
        want = oracle(path, pcs=sample, funcs=False)["lookups"]
        for i, o in zip(range(0, len(pc), step), want):
            assert (b.file_name(foff[i]), line[i]) == (o["file"], o["line"]), hex(pc[i])


def _patch_one_special_opcode(data: bytearray, line_off: int, h: dict):
    """Walk the first program from its first opcode; at the 20th special
    opcode whose line advance can grow by one without changing the address
    advance, add 1 to it.  Returns the opcode's file offset."""
    p = line_off + h["program_offset"] - h["offset"]
    end = line_off + h["end"] - h["offset"]
    base, lrange = h["opcode_base"], h["line_range"]
    lens = [0] + h["standard_opcode_lengths"]
    seen = 0

    def uleb(p):
        while data[p] & 0x80:
            p += 1
        return p + 1

    while p < end:
        op = data[p]
        if op >= base:
            if (op - base) % lrange < lrange - 1 and op + 1 <= 255:
                seen += 1
                if seen == 20:
                    data[p] = op + 1
                    return p
            p += 1
        elif op == 0:
            q = uleb(p + 1)
            n = 0
            shift = 0
            for k in range(p + 1, q):
                n |= (data[k] & 0x7F) << shift
                shift += 7
            p = q + n
        elif op == 9:        # DW_LNS_fixed_advance_pc: a uhalf
            p += 3
        else:
            p += 1
            for _ in range(lens[op]):
                p = uleb(p)
    raise AssertionError("no special opcode to patch")


def test_corrupted_copy_is_reported(fixture_rows, tmp_path):
    path = _fixture(fixture_rows, "1.27.3", flagset="nocompressdwarf")["path"]
    data = bytearray(open(path, "rb").read())
    with gosym.open(path) as b:
        d = b.dwarf
        assert d is not None and d.section("line").compression == "none"
        line_off = d.section("line").offset
        off0 = d.line_offsets()[0]
        h = d._line_section().header(off0)
        before = check(b)
        rows_before = d.line_rows()
    at = _patch_one_special_opcode(data, line_off + off0, h)
    bad = tmp_path / "patched"
    bad.write_bytes(bytes(data))
    with gosym.open(bad) as b:
        d = b.dwarf
        rows = d.line_rows()
        changed = [i for i in range(len(rows)) if rows.line[i] != rows_before.line[i]]
        assert changed, "the patch changed no row"
        first = changed[0]
        assert rows.line[first] == rows_before.line[first] + 1
        after = check(b)
        # The first changed row is reported as a line difference.
        k = compare_pcs(b, [rows.address[first]])[0]
        assert k in (_columns.CMP_LINE, _columns.CMP_OUTSIDE), (hex(at), k)
    kb, ka = before["at_dwarf_rows"]["kinds"], after["at_dwarf_rows"]["kinds"]
    assert ka["line"] > kb["line"], (kb, ka)
    assert after["agreement"] < before["agreement"]
    ex = after["at_dwarf_rows"]["examples"]["line"]
    assert any(e["dwarf"]["line"] == e["pclntab"]["line"] + 1 for e in ex), ex


def test_cli_text_json_and_errors(fixture_rows, tmp_path):
    path = _fixture(fixture_rows, "1.27.3")["path"]
    run = [sys.executable, "-m", "gosym", "check"]
    p = subprocess.run(run + ["--json", "--progress", path], capture_output=True, text=True, check=True)
    rep = json.loads(p.stdout)
    assert rep["agreement"] > 99.0 and "gosym: check:" in p.stderr
    t = subprocess.run(run + [path], capture_output=True, text=True, check=True).stdout
    assert f"agreement:  {rep['agreement']}%" in t
    assert subprocess.run(run + ["--min-agreement", "100.1", path], capture_output=True).returncode == 3
    # No DWARF: one line, status 1.
    w = next(r for r in fixture_rows if r.get("path") and r["flagset"] == "w")["path"]
    p = subprocess.run(run + [w], capture_output=True, text=True)
    assert p.returncode == 1 and len(p.stderr.splitlines()) == 1 and "no DWARF" in p.stderr
    if shutil.which("strip"):
        s = tmp_path / "s"
        shutil.copy(path, s)
        subprocess.run(["strip", "--strip-debug", str(s)], check=True)
        p = subprocess.run(run + [str(s)], capture_output=True, text=True)
        assert p.returncode == 1 and "try --debug-file" in p.stderr
