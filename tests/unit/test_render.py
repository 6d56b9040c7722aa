"""The one writer of the lookup text styles (csrc/render.c) on frames given
as strings (gosym._native.render_strings, behind MergedSymbolized.render_text):
the same answers as on a pclntab batch, and bad columns refused, not read."""
from array import array

import pytest

import gosym
from gosym import _native


def _fixture(fixture_rows, program="multipkg"):
    for r in fixture_rows:
        if (r["program"], r["toolchain"], r["goos"], r["goarch"], r["flagset"]) == \
                (program, "1.27.3", "linux", "amd64", "default") and r.get("path"):
            return r["path"]
    pytest.skip(f"no {program} go1.27.3 linux/amd64 fixture")


@pytest.mark.parametrize("style", ["go", "gnu", "llvm"])
@pytest.mark.parametrize("inline", [True, False])
def test_strings_render_as_the_pclntab_batch(fixture_rows, style, inline):
    """A pclntab batch written from its table's strings (render_text) and
    from the same frames as Python strings (render_strings) is the same text."""
    with gosym.open(_fixture(fixture_rows)) as b:
        cols = b.functions.columns()
        pcs = array("Q", [e + 1 for e in cols.entry[::7]] + [0x10])
        res = b.symbolize(pcs, source="pclntab")
        want = res.render_text(style, inline, None)
        valid = bytes([1] * (len(pcs) - 1) + [0])
        want_v = res.render_text(style, inline, valid)
        zeros = [0] * res.nframes
        got = _native.render_strings(res.names(), res.files(), res.first, res.count, res.line,
                                     zeros, style, inline, None)
        got_v = _native.render_strings(res.names(), res.files(), res.first, res.count, res.line,
                                       zeros, style, inline, valid)
    assert want is not None and want[0] == got[0] and list(want[1]) == list(got[1])
    assert want_v is not None and want_v[0] == got_v[0]
    assert sum(c > 0 for c in res.count) > 10


def test_llvm_prints_columns_and_misses():
    text, ends = _native.render_strings(["f", "", "g"], ["a.c", "", "b.go"], [0, 2, 3], [2, 1, 0],
                                        [7, -1, 3], [5, 0, 0], "llvm", True, None)
    assert text.decode() == "f\na.c:7:5\n??\n??:0:0\n\ng\nb.go:3:0\n\n??\n??:0:0\n\n"
    assert list(ends) == [len(b"f\na.c:7:5\n??\n??:0:0\n\n"), len(b"f\na.c:7:5\n??\n??:0:0\n\ng\nb.go:3:0\n\n"),
                          len(text)]
    text, _ = _native.render_strings(["inner", "outer"], ["x.go", "y.go"], [0], [2], [1, 2], [0, 0],
                                     "go", True, None)
    assert text.decode() == "outer\nx.go:1\n"       # physical function, innermost position


@pytest.mark.parametrize("first,count", [([5], [1]), ([0], [3]), ([2**40], [1])])
def test_frames_past_the_columns_are_refused(first, count):
    with pytest.raises(ValueError):
        _native.render_strings(["a", "b"], ["x", "y"], first, count, [1, 2], [0, 0], "gnu", True, None)


def test_unknown_style_and_lengths():
    with pytest.raises(ValueError, match="style"):
        _native.render_strings([], [], [], [], [], [], "json", True, None)
    with pytest.raises(ValueError):
        _native.render_strings(["a"], [], [0], [1], [1], [0], "gnu", True, None)
