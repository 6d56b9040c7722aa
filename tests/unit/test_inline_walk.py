"""The inline walk follows the runtime's (runtime/symtabinl.go: no depth
limit, parent pc after parent pc), and never loses the physical frame when
a tree cannot be followed (issue 13, item 4).  Tables are written by
tests/support/pclnwriter.py from a model; expected_frames walks the model
the way the runtime walks the tree."""
import array
import warnings

import pytest

from gosym import GosymWarning, _native
from tests.support.pclnwriter import SynFunc, SynTable, build, expected_frames


def _open(t):
    tab = _native.Pclntab(t.image, t.table_off, len(t.data))
    if t.version >= 118:
        tab.text_base = t.text_start
    tab.set_inline(t.layout, t.gofunc, t.base_va + t.table_off, [(t.base_va, 0, len(t.image))])
    return tab


def _table(funcs, version=120):
    return build(SynTable(version, False, 8, 1, 0x401000, ["a.go", "b.go"], funcs, base_va=0x800000))


def _frames(fs):
    return [(f.function, f.file, f.line, f.inlined) for f in fs]


@pytest.mark.parametrize("version", [116, 120])
def test_a_chain_deeper_than_128_calls_is_followed(version):
    # 200 nested inlined calls: run k is in call k, whose call site is run
    # k + 1; run 200 is the function's own code.
    depth = 200
    runs = [(1, k % 2, 100 + k, k) for k in range(depth)] + [(1, 0, 10, -1)]
    inl = [(f"pkg.f{k}", k + 1, 50 + k) for k in range(depth)]
    t = _table([SynFunc("main.deep", runs, inl=inl, start_line=9), SynFunc("main.next", [(4, 0, 40)])],
               version)
    tab = _open(t)
    pc = t.entries[0]
    want = expected_frames(t, pc)
    assert len(want) == depth + 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _frames(tab.lookup(pc)) == want
        res = tab.symbolize(array.array("Q", [pc, pc + 7]))
    assert _frames(res.frames(0)) == want
    assert _frames(res.frames(1)) == expected_frames(t, pc + 7)
    assert res.partial == 0


def _cyclic():
    # Call 0's call site is run 0, which is inside call 0 itself: the
    # runtime's unwinder would never end; gosym answers the physical frame.
    f = SynFunc("main.cyc", [(4, 1, 30, 0), (2, 0, 11, -1)], inl=[("pkg.self", 0, 29)], start_line=9)
    # A call site past the function's end.
    g = SynFunc("main.out", [(4, 1, 60, 0), (2, 0, 12, -1)], inl=[("pkg.x", 2, 59)], start_line=9)
    return _table([f, g, SynFunc("main.next", [(4, 0, 40)])])


def test_a_cycle_gives_the_physical_frame_and_a_warning():
    t = _cyclic()
    tab = _open(t)
    for k, name, line in ((0, "main.cyc", 30), (1, "main.out", 60)):
        pc = t.entries[k] + 1
        with pytest.warns(GosymWarning, match="physical function"):
            got = _frames(tab.lookup(pc))
        # The physical function at the pc's own file:line, as debug/gosym
        # and go tool addr2line answer.
        assert got == [(name, "b.go", line, False)]
        with pytest.warns(GosymWarning, match="2 pcs"):
            res = tab.symbolize(array.array("Q", [pc, pc + 1, t.entries[2]]))
        assert res.partial == 2
        assert _frames(res.frames(0)) == got
        assert _frames(res.frames(2)) == [("main.next", "a.go", 40, False)]
        # The function's own code still expands normally.
        own = t.entries[k] + 4
        assert _frames(tab.lookup(own)) == expected_frames(t, own)


def test_partial_pcs_are_counted_over_threads():
    # Large enough for two threads; the batch is cut at function boundaries,
    # here after main.cyc, so that each thread has partial pcs to count.
    t = _cyclic()
    tab = _open(t)
    pcs = array.array("Q", [t.entries[0] + 1] * 45000 + [t.entries[1] + 1] * 40000 + [t.entries[2]] * 1000)
    with pytest.warns(GosymWarning):
        one = tab.symbolize(pcs, threads=1)
    with pytest.warns(GosymWarning):
        two = tab.symbolize(pcs, threads=2)
    assert one.partial == two.partial == 85000
    assert list(one.count) == list(two.count)
    assert _frames(two.frames(60000)) == [("main.out", "b.go", 60, False)]
