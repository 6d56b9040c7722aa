"""Round trip: tables written by tests/support/pclnwriter.py from a random model decode
to exactly that model, in every format, byte order, pointer size and quantum."""
import random

import pytest
from hypothesis import given, strategies as st

from gosym import FormatError, _native
from tests.support.pclnwriter import SynFunc, SynTable, build, expected

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz./()*[]_0123456789", min_size=1, max_size=40)


@st.composite
def tables(draw):
    version = draw(st.sampled_from([12, 116, 118, 120]))
    ptr = draw(st.sampled_from([4, 8]))
    quantum = draw(st.sampled_from([1, 2, 4]))
    files = draw(st.lists(st.text(alphabet="abc/._-xyz", min_size=1, max_size=20),
                          min_size=1, max_size=6, unique=True))
    nfunc = draw(st.integers(min_value=1, max_value=25))
    funcs = []
    for k in range(nfunc):
        runs = draw(st.lists(st.tuples(st.integers(1, 300), st.integers(0, len(files) - 1),
                                       st.integers(1, 100000)), min_size=1, max_size=12))
        funcs.append(SynFunc(name=draw(NAMES) + f"#{k}", runs=runs,
                             start_line=draw(st.integers(0, 50000)),
                             args=draw(st.integers(0, 512)),
                             pad_quanta=draw(st.integers(0, 8))))
    text_start = draw(st.integers(0, 2**31)) * quantum
    if ptr == 4:
        text_start %= 2**30
    return build(SynTable(version=version, big_endian=draw(st.booleans()), ptr_size=ptr,
                          quantum=quantum, text_start=text_start, files=files, funcs=funcs))


def open_table(t: SynTable) -> _native.Pclntab:
    tab = _native.Pclntab(t.data, 0, len(t.data))
    if t.version >= 118:
        tab.text_base = t.text_start
    return tab


@given(tables(), st.randoms(use_true_random=False))
def test_round_trip(t, rnd):
    tab = open_table(t)
    assert tab.version == t.version
    assert tab.ptr_size == t.ptr_size and tab.quantum == t.quantum
    assert tab.big_endian == t.big_endian
    assert tab.nfunc == len(t.funcs)
    tab.check_sorted()

    entry, end, names, start_line = tab.columns()
    assert list(entry) == t.entries
    assert list(end) == t.entries[1:] + [t.end]
    assert names == [f.name for f in t.funcs]
    if t.version >= 120:
        assert list(start_line) == [f.start_line for f in t.funcs]
    else:
        assert set(start_line) == {0}

    # Lookups at run boundaries, run interiors, padding and outside.
    pcs = [t.entries[0] - 1, t.end, t.end + 5]
    for k, f in enumerate(t.funcs):
        pc = t.entries[k]
        for length, _f, _l in f.runs:
            pcs += [pc, pc + length * t.quantum - 1, pc + rnd.randrange(length * t.quantum)]
            pc += length * t.quantum
        if f.pad_quanta:
            pcs.append(pc)
    pcs = [p for p in pcs if p >= 0]
    for pc in pcs:
        want = expected(t, pc)
        got = tab.lookup(pc)
        if want is None:
            assert got == [] and tab.find(pc) == -1
        else:
            assert len(got) == 1
            fr = got[0]
            assert (fr.function, fr.file, fr.line) == want, hex(pc)

    # The batch path agrees with the single lookups.
    import array
    idx, lines, foffs = tab.lookup_many(array.array("Q", pcs))
    for k, pc in enumerate(pcs):
        want = expected(t, pc)
        if want is None:
            assert idx[k] == -1
        else:
            assert t.funcs[idx[k]].name == want[0]
            assert (tab.file_name(foffs[k]), lines[k]) == want[1:]

    # Each function's line table is its model's runs, merged where equal.
    for k, f in enumerate(t.funcs):
        rows_pc, rows_file, rows_line, end_pc = tab.lines(k)
        model = []
        pc = t.entries[k]
        for length, fidx, line in f.runs:
            key = (t.files[fidx], line)
            if not model or model[-1][1:] != key:
                model.append((pc,) + key)
            pc += length * t.quantum
        assert list(zip(rows_pc, rows_file, rows_line)) == model
        assert end_pc == pc
        rec = tab.func(k)
        assert rec["args"] == f.args
        assert rec["file"] == t.files[f.runs[0][1]]


@given(tables(), st.data())
def test_truncated_tables_raise_or_answer(t, data):
    """Any prefix of a valid table opens with FormatError or decodes without crashing."""
    cut = data.draw(st.integers(0, len(t.data) - 1))
    buf = t.data[:cut]
    try:
        tab = _native.Pclntab(buf, 0, len(buf)) if buf else None
    except FormatError:
        return
    if tab is None:
        return
    try:
        tab.check_sorted()
        tab.columns()
    except FormatError:
        pass
    for pc in t.entries[:5]:
        try:
            tab.lookup(pc)  # a miss is [], malformed data raises FormatError
        except FormatError:
            pass


def test_unknown_magic_and_bad_header():
    t = build(SynTable(120, False, 8, 1, 0x1000, ["a.go"], [SynFunc("f", [(4, 0, 3)])]))
    bad = bytearray(t.data)
    bad[0] ^= 0xFF
    with pytest.raises(FormatError, match="magic"):
        _native.Pclntab(bytes(bad), 0, len(bad))
    bad = bytearray(t.data)
    bad[7] = 3
    with pytest.raises(FormatError, match="pointer size"):
        _native.Pclntab(bytes(bad), 0, len(bad))
    bad = bytearray(t.data)
    bad[8:16] = (10**9).to_bytes(8, "little")  # nfunc far past the table
    with pytest.raises(FormatError, match="function count"):
        _native.Pclntab(bytes(bad), 0, len(bad))


def test_unsorted_function_table_is_rejected():
    t = build(SynTable(116, False, 8, 1, 0x1000, ["a.go"],
                       [SynFunc("f", [(4, 0, 3)]), SynFunc("g", [(4, 0, 5)])]))
    tab = _native.Pclntab(t.data, 0, len(t.data))
    tab.check_sorted()
    bad = bytearray(t.data)
    ft = tab.layout["functab"]
    bad[ft:ft + 8] = (0x9000).to_bytes(8, "little")  # first entry above the second
    with pytest.raises(FormatError, match="not sorted"):
        _native.Pclntab(bytes(bad), 0, len(bad)).check_sorted()


def test_random_seeded_smoke():
    rnd = random.Random(7)
    funcs = [SynFunc(f"pkg.f{k}", [(rnd.randint(1, 9), 0, rnd.randint(1, 999))]) for k in range(50)]
    t = build(SynTable(120, True, 4, 4, 0x10000, ["x.go"], funcs))
    tab = open_table(t)
    assert tab.lookup(t.entries[10])[0].function == "pkg.f10"


# ------------------------------------------------------------ inline trees

@st.composite
def inline_tables(draw):
    """Tables whose functions have inline trees: each run is in one inlined
    call (or the function's own code); call k's parent run is in the own
    code or in a call before k, so every walk ends."""
    version = draw(st.sampled_from([12, 116, 118, 120]))   # 12: Go 1.13-1.15 here
    ptr = draw(st.sampled_from([4, 8]))
    quantum = draw(st.sampled_from([1, 2, 4]))
    files = draw(st.lists(st.text(alphabet="abc/._-xyz", min_size=1, max_size=20),
                          min_size=1, max_size=5, unique=True))
    funcs = []
    for k in range(draw(st.integers(min_value=1, max_value=12))):
        nrun = draw(st.integers(1, 10))
        ncall = draw(st.integers(0, 5))
        # Call index of each run; run 0 is the function's own code.
        inl = [-1] + [draw(st.integers(-1, ncall - 1)) for _ in range(nrun - 1)]
        calls = []
        for c in range(ncall):
            parents = [j for j in range(nrun) if inl[j] < c]
            calls.append((draw(NAMES) + f"@{k}.{c}", draw(st.sampled_from(parents)),
                          draw(st.integers(0, 50000))))
        runs = [(draw(st.integers(1, 60)), draw(st.integers(0, len(files) - 1)),
                 draw(st.integers(1, 100000)), inl[j]) for j in range(nrun)]
        funcs.append(SynFunc(name=draw(NAMES) + f"#{k}", runs=runs, inl=calls,
                             start_line=draw(st.integers(0, 50000)),
                             pad_quanta=draw(st.integers(0, 3))))
    text_start = draw(st.integers(0, 2**28)) * quantum
    base = draw(st.integers(1, 2**20)) * 16 + (0x10000000 if ptr == 4 else 2**33)
    return build(SynTable(version=version, big_endian=draw(st.booleans()), ptr_size=ptr,
                          quantum=quantum, text_start=text_start, files=files, funcs=funcs,
                          base_va=base))


def _open_inline(t: SynTable) -> _native.Pclntab:
    tab = _native.Pclntab(t.image, t.table_off, len(t.data))
    if t.version >= 118:
        tab.text_base = t.text_start
    tab.set_inline(t.layout, t.gofunc, t.base_va + t.table_off, [(t.base_va, 0, len(t.image))])
    return tab


@given(inline_tables(), st.randoms(use_true_random=False))
def test_inline_round_trip(t, rnd):
    """gosym's inlined frames (lookup and batch symbolize) equal the model's,
    in every format with inline trees, byte order and pointer size."""
    import array

    from tests.support.pclnwriter import expected_frames

    tab = _open_inline(t)
    pcs = [t.entries[0] - 1, t.end]
    for k, f in enumerate(t.funcs):
        pc = t.entries[k]
        for r in f.runs:
            pcs += [pc, pc + r[0] * t.quantum - 1, pc + rnd.randrange(r[0] * t.quantum)]
            pc += r[0] * t.quantum
        if f.pad_quanta:
            pcs.append(pc)
    pcs = [p for p in pcs if p >= 0]
    sym = tab.symbolize(array.array("Q", pcs))
    for k, pc in enumerate(pcs):
        want = expected_frames(t, pc)
        got = [(f.function, f.file, f.line, f.inlined) for f in tab.lookup(pc)]
        assert got == want, hex(pc)
        got = [(f.function, f.file, f.line, f.inlined) for f in sym.frames(k)]
        assert got == want, ("symbolize", hex(pc))
    if t.has_inline:
        assert tab.inline_layout == (16 if t.version >= 120 else 20)


def test_inline_writer_covers_every_format():
    """The writer's inline trees are exercised in all four formats (a fixed
    example, so a strategy change cannot silently drop one)."""
    from tests.support.pclnwriter import expected_frames, inline_example

    f, g = inline_example()
    for version in (12, 116, 118, 120):
        for big in (False, True):
            for ptr in (4, 8):
                t = build(SynTable(version, big, ptr, 1, 0x401000, ["a.go", "b.go"], [f, g],
                                   base_va=0x800000))
                tab = _open_inline(t)
                pc = t.entries[0] + 4 + 2 + 1          # inside pkg.leaf
                want = [("pkg.leaf", "b.go", 30, True), ("pkg.mid", "b.go", 20, True),
                        ("main.outer", "a.go", 10, False)]
                assert expected_frames(t, pc) == want
                got = [(x.function, x.file, x.line, x.inlined) for x in tab.lookup(pc)]
                assert got == want, (version, big, ptr)


def _answers(tab, pcs):
    out = []
    for pc in pcs:
        try:
            out.append([(f.function, f.file, f.line) for f in tab.lookup(pc)])
        except FormatError as e:
            out.append(("FormatError", str(e)))
    return out


def test_function_search_buckets_answer_as_the_binary_search():
    """After 4,096 lookups the single lookup finds functions through buckets
    over the text (csrc/lookup.c gs_lookup_find): the answers stay the
    model's, and on a table whose entries do not ascend (where the buckets
    are not used) the same as before the switch."""
    rnd = random.Random(11)
    funcs = [SynFunc(f"pkg.f{k}", [(rnd.randint(1, 40), 0, rnd.randint(1, 999)) for _ in range(3)],
                     pad_quanta=rnd.randint(0, 3)) for k in range(300)]
    t = build(SynTable(120, False, 8, 1, 0x400000, ["x.go"], funcs))
    pcs = [rnd.randrange(t.entries[0] - 16, t.end + 16) for _ in range(2500)]
    tab = open_table(t)
    before = _answers(tab, pcs) + _answers(tab, pcs)      # 5,000 lookups: past the switch
    after = _answers(tab, pcs)
    assert before[:len(pcs)] == after
    for pc, got in zip(pcs, after):
        want = expected(t, pc)
        assert (got[-1][0], got[0][1], got[0][2]) == want if want else got == [], hex(pc)
    # Entries that do not ascend (two functions' entries swapped in the functab).
    bad = bytearray(t.data)
    ft = tab.layout["functab"]
    a, b = bad[ft + 8 * 40:ft + 8 * 41], bad[ft + 8 * 41:ft + 8 * 42]
    bad[ft + 8 * 40:ft + 8 * 41], bad[ft + 8 * 41:ft + 8 * 42] = b, a
    tab2 = _native.Pclntab(bytes(bad), 0, len(bad))
    tab2.text_base = t.text_start
    with pytest.raises(FormatError, match="not sorted"):
        tab2.check_sorted()
    first = _answers(tab2, pcs)
    _answers(tab2, pcs)
    assert _answers(tab2, pcs) == first
