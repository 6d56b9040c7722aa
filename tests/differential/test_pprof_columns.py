"""The C paths of `gosym pprof` against their slow models.

symbolize_profile dedupes the Functions and strings it adds in C
(gosym._profile.Additions, copying names and files straight from the
pclntab) and maps sample location ids to locations by a direct table or a
sorted array (split_chains).  Here the written profile is read back with
protobuf and every location's frames are compared with the Frame objects
of Binary.symbolize (the Python path) on a real binary; the Function and
string tables must hold no duplicates; and split_chains answers the same
for dense and sparse location ids.
"""
import array
import random

import pytest

import gosym
from gosym import _profile, pprof
from tests.support import profload
from tests.support.pprofcmp import make_profile


@pytest.fixture(scope="module")
def binary():
    return profload.build("default")


def test_filled_frames_equal_the_python_frames(binary):
    data = make_profile(binary, 3000, seed=7)
    for wrappers in (False, True):
        out, summary = pprof.symbolize_profile(data, binary, wrappers=wrappers)
        prof = pprof.parse_profile(out)
        st = [s.decode("utf-8", "replace") for s in prof.string_table]
        funcs = {f.id: f for f in prof.function}
        keys = [(f.name, f.system_name, f.filename, f.start_line) for f in prof.function]
        assert len(set(keys)) == len(keys), "a Function was added twice"
        assert len(set(prof.string_table)) == len(prof.string_table), "a string was added twice"
        assert summary.functions_added == len(prof.function)
        locs = [loc for loc in prof.location if loc.mapping_id == 1]
        with gosym.open(binary) as b:
            res = b.symbolize(array.array("Q", [loc.address for loc in locs]), wrappers=wrappers)
            checked = 0
            for k, loc in enumerate(locs):
                want = [(f.function, f.file, f.start_line, f.line) for f in res.frames(k)]
                got = [(st[funcs[ln.function_id].name], st[funcs[ln.function_id].filename],
                        funcs[ln.function_id].start_line, ln.line) for ln in loc.line]
                if not want:
                    continue       # a symbol-table answer or none
                assert got == want, hex(loc.address)
                checked += 1
        assert checked > 2500


def test_additions_reuse_existing_entries():
    cls = pprof.profile_class()
    prof = cls()
    prof.string_table.extend([b"", b"main.f", b"a.go", b"main.f", b"\xff"])
    prof.function.add(id=7, name=1, system_name=1, filename=2, start_line=3)
    prof.function.add(id=9, name=3, system_name=3, filename=2, start_line=3)   # the same key, later
    prof.mapping.add(id=1)
    prof.location.add(id=1, mapping_id=1, address=0x10)
    cols = _profile.decode_profile(prof.SerializeToString())
    add = _profile.Additions(cols)
    assert add.function("main.f", "a.go", 3) == 7           # the first of equal Functions
    assert add.nfunctions == 0 and add.nstrings == 0
    assert add.function("main.f", "a.go", 4) == 10          # new ids count up from the largest
    assert add.function("main.g", "", 0) == 11
    assert add.function("main.g", "", 0) == 11
    assert add.function("\udcff", "", 0) == 12              # surrogateescape: the raw byte, an existing string
    assert (add.nfunctions, add.nstrings) == (3, 1)         # only "main.g" is new


def _split(ids, samples):
    """split_chains on two locations A (frames inl, f) and B (frame f) with
    the given location ids and samples (lists of location ids)."""
    cls = pprof.profile_class()
    prof = cls()
    prof.string_table.append(b"")
    prof.mapping.add(id=1)
    for i in ids:
        prof.location.add(id=i, mapping_id=1, address=0x1000 + i)
    for s in samples:
        prof.sample.add(location_id=s, value=[1])
    cols = _profile.decode_profile(prof.SerializeToString())
    idx = array.array("I", range(len(ids)))
    first, count = array.array("I", [0, 2]), array.array("H", [2, 1])
    func = array.array("i", [5, 5, 5])
    name_off = array.array("i", [100, 200, 200])
    line = array.array("i", [10, 20, 20])
    return list(_profile.split_chains(cols, idx, first, count, func, name_off, line))


@pytest.mark.parametrize("ids", [(1, 2), (2, 1), (5, 1 << 40), (1 << 50, 3)])
def test_split_chains_dense_and_sparse_ids(ids):
    a, b = ids
    assert _split(ids, [[a, b]]) == [1, 0]                 # A continues in B: cut after A's inlined frame
    assert _split(ids, [[b, a]]) == [0, 0]
    assert _split(ids, [[a], [b]]) == [0, 0]               # no sample with two locations
    assert _split(ids, [[a, 12345, b]]) == [0, 0]          # an unknown id between them
    rng = random.Random(1)
    assert _split(ids, [[rng.choice(ids) for _ in range(3)] for _ in range(5)]) in ([0, 0], [1, 0])
