"""Return-address mode (issue 13, item 3) against its definition in the Go
runtime: runtime.Frames.Next finds the function containing a return address
pc, then reports the position of pc - 1 unless pc is the function's entry
(runtime/symtab.go: `if pc > entry { pc-- }`).  The reference for each pc is
the instruction-address answer at the pc the runtime's rule names, so the
three entry points (lookup, symbolize, lookup_many) and the CLI are checked
against one rule.  The runtime's own frames for Callers' pcs are compared in
tests/differential/test_runtime_frames.py."""
import array
import random

import gosym
from gosym.cli.lookup import answer_batch


def _binaries(fixture_rows):
    return [r["path"] for r in fixture_rows if r.get("path") and r["program"] == "multipkg"
            and r["flagset"] == "default"][:4]


def _sample(b, rng, per=3):
    """Entries, ends and random pcs of a sample of functions: (pc, call pc)."""
    cols = b.functions.columns()
    out = []
    for k in rng.sample(range(len(cols.entry)), min(400, len(cols.entry))):
        entry, end = cols.entry[k], cols.end[k]
        out.append((entry, entry))
        if end - entry > 1:
            out.append((end - 1, end - 2))
            for _ in range(per):
                pc = rng.randrange(entry + 1, end)
                out.append((pc, pc - 1))
    return out


def test_return_addresses_report_pc_minus_one(fixture_rows):
    rng = random.Random(13)
    paths = _binaries(fixture_rows)
    assert paths
    for path in paths:
        with gosym.open(path) as b:
            pairs = _sample(b, rng)
            pcs = array.array("Q", [p for p, _ in pairs])
            calls = array.array("Q", [c for _, c in pairs])
            want = b.symbolize(calls)
            got = b.symbolize(pcs, return_addresses=True)
            got_mt = b.symbolize(pcs, threads=2, return_addresses=True)
            for k, (pc, call) in enumerate(pairs):
                w = want.frames(k)
                assert w, hex(call)
                assert got.frames(k) == w, (path, hex(pc))
                assert got_mt.frames(k) == w, (path, hex(pc))
                assert b.lookup(pc, return_address=True) == w, (path, hex(pc))
                assert b._tab.frames(pc, return_address=True) == w
            lw = b.lookup_many(calls)
            lg = b.lookup_many(pcs, return_addresses=True)
            assert list(lg.func) == list(lw.func)
            assert list(lg.line) == list(lw.line)
            assert list(lg.file_offset) == list(lw.file_offset)


def test_return_address_at_a_function_end_stays_in_it(fixture_rows):
    # The return address of a call that is its function's last instruction
    # is the next function's entry: the runtime answers with that function
    # (findfunc(pc), and pc == entry is not decremented).
    path = _binaries(fixture_rows)[0]
    with gosym.open(path) as b:
        cols = b.functions.columns()
        nxt = cols.entry[1]
        assert b.lookup(nxt, return_address=True) == b.lookup(nxt)
        assert b.lookup(nxt, return_address=True)[-1].function == cols.name[1]


def test_cli_return_addresses(fixture_rows):
    path = _binaries(fixture_rows)[0]
    with gosym.open(path) as b:
        cols = b.functions.columns()
        pcs = [cols.entry[k] + 5 for k in range(0, len(cols.entry), 97) if cols.end[k] - cols.entry[k] > 6]
        lines = [hex(p) for p in pcs]
        for style in ("gnu", "json"):
            got = answer_batch(b, lines, style, True, 0, path, "auto", {"return_addresses": True})
            want = answer_batch(b, [hex(p - 1) for p in pcs], style, True, 0, path, "auto")
            if style == "json":
                # The Address field echoes the input.
                got = got.replace('"Address"', "")
                want = want.replace('"Address"', "")
                got = [ln.split(",", 1)[1] for ln in got.splitlines()]
                want = [ln.split(",", 1)[1] for ln in want.splitlines()]
            assert got == want
