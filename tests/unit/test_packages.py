"""gosym cost --by and gosym diff --by (issue 16): Go's package naming, the
totals reconciling with section sizes read by pyelftools, the CLI's text,
JSON and CSV, the treemap layout, and diff by package."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gosym
from gosym.diff import diff_groups
from gosym.packages import GROUPINGS, NON_GO, PADDING, UNATTRIBUTED, by_group, module_of, package_of
from gosym.plot import squarify

PY = [sys.executable, "-m", "gosym"]


@pytest.mark.parametrize("name,package", [
    ("main.main", "main"),
    ("runtime.(*mheap).alloc", "runtime"),
    ("net/http.(*conn).serve.func1", "net/http"),                 # method closure
    ("fmt.Sprintf", "fmt"),
    ("slices.Sort[go.shape.[]int,go.shape.int]", "slices"),       # instantiation: dots in the brackets
    ("example.com/m/pkg.Map[go.shape.string,example.com/m/x.T]", "example.com/m/pkg"),
    ("example.com/m/pkg.(*List[go.shape.int]).Push", "example.com/m/pkg"),
    ("gopkg.in/yaml%2ev3.Unmarshal", "gopkg.in/yaml.v3"),          # the linker's escaped dot
    ("github.com/a/b.c/d.F", "github.com/a/b.c/d"),
    ("type:.eq.main.T", "type:"),
    ("type..eq.main.T", "type:"),                                 # before Go 1.20
    ("go:buildid", "go:"),
    ("go.buildid", "go:"),
    ("go.itab.*os.File,io.Writer", "go:"),
    ("go.uber.org/zap.New", "go.uber.org/zap"),                   # a module, not a go. symbol
    ("_rt0_amd64_linux", ""),
])
def test_package_of(name, package):
    assert package_of(name) == package


def test_module_of():
    mods = sorted(["example.com/m", "example.com/m/sub", "golang.org/x/sys"], key=len, reverse=True)
    assert module_of("example.com/m/sub/pkg", mods) == "example.com/m/sub"
    assert module_of("example.com/m/pkg", mods) == "example.com/m"
    assert module_of("example.com/mx", mods) == "(unknown module)"
    assert module_of("golang.org/x/sys/unix", mods) == "golang.org/x/sys"
    assert module_of("internal/abi", mods) == "std"
    assert module_of("main", mods, "example.com/m") == "example.com/m"
    assert module_of("type:", mods) == "type:"
    assert module_of("cmd/compile/internal/ssa", mods) == "cmd"
    assert module_of("cmd/vendor/golang.org/x/tools/go/analysis", mods) == "cmd"
    assert module_of("vendor/golang.org/x/net/dns/dnsmessage", mods) == "std"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=40),
       st.floats(10, 2000), st.floats(10, 2000))
def test_squarify_areas_and_bounds(values, w, h):
    values = sorted(values, reverse=True)
    rects = squarify([float(v) for v in values], 0.0, 0.0, w, h)
    total = sum(values)
    eps = 1e-6 * w * h
    for v, (x, y, rw, rh) in zip(values, rects):
        assert abs(rw * rh - v / total * w * h) <= eps + 1e-9 * v
        assert -1e-6 <= x and x + rw <= w + 1e-6 and -1e-6 <= y and y + rh <= h + 1e-6
    # No two cells overlap (their areas already sum to the box).
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            ox = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
            oy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
            assert ox <= 1e-6 or oy <= 1e-6


def _elf_sizes(path):
    """(.text size, .gopclntab size, .debug_line size after decompression or
    None) read with pyelftools."""
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as f:
        elf = ELFFile(f)
        text = elf.get_section_by_name(".text")["sh_size"]
        pcln = elf.get_section_by_name(".gopclntab")
        line = elf.get_section_by_name(".debug_line")
        return text, pcln["sh_size"] if pcln is not None else None, \
            len(line.data()) if line is not None else None


def _rows(fixture_rows, **want):
    return [r for r in fixture_rows if r.get("path") and all(r[k] == v for k, v in want.items())]


@pytest.mark.parametrize("by", GROUPINGS)
def test_totals_reconcile_with_pyelftools(fixture_rows, by):
    """Groups + padding + non-Go code = .text; groups + unattributed =
    .gopclntab; line programs = .debug_line: sizes from pyelftools."""
    pytest.importorskip("elftools")
    rows = _rows(fixture_rows, goos="linux")
    if by != "package":   # one of each kind of build is enough for the other groupings
        rows = [r for r in rows if r["goarch"] == "amd64" and r["toolchain"] == "1.27.3"][:3]
    for r in rows:
        text, pcln, line = _elf_sizes(r["path"])
        with gosym.open(r["path"]) as b:
            doc = by_group(b, by)
        g = doc["groups"]
        assert sum(x["code"] for x in g) == text == doc["totals"]["text"], r["path"]
        if pcln is not None:
            assert sum(x["pclntab"] for x in g) == pcln == doc["totals"]["pclntab"], r["path"]
        if line is None:
            assert doc["totals"]["dwarf_line"] is None and all(x["dwarf_line"] is None for x in g)
        else:
            assert sum(x["dwarf_line"] for x in g) == line == doc["totals"]["dwarf_line"], r["path"]
        assert sum(x["functions"] for x in g) == doc["totals"]["functions"]
        names = [x["name"] for x in g]
        assert len(names) == len(set(names))
        assert by != "package" or any(x["functions"] for x in g if x["name"] == "runtime")


def test_every_format_reconciles(fixture_rows):
    """Mach-O and PE too: the rows sum to the text section and the pclntab."""
    for r in _rows(fixture_rows, goarch="amd64"):
        with gosym.open(r["path"]) as b:
            doc = by_group(b, "package")
            secs = {s.name: s for s in b.container.sections}
            size = b.pclntab.size
        assert sum(x["code"] for x in doc["groups"]) == doc["totals"]["text"]
        sec = secs.get(doc["totals"]["text_section"])
        assert sec is not None and doc["totals"]["text"] == (sec.mem_size or sec.size), r["path"]
        assert sum(x["pclntab"] for x in doc["groups"]) == size


def test_cgo_code_is_its_own_group(fixture_rows):
    rows = _rows(fixture_rows, program="cgo", flagset="default")
    if not rows:
        pytest.skip("no cgo fixture in this subset")
    for r in rows:
        with gosym.open(r["path"]) as b:
            g = {x["name"]: x for x in by_group(b, "package")["groups"]}
        assert g[NON_GO]["code"] > 1000, r["path"]          # the C functions of the program
        assert g["main"]["functions"] > 0 and PADDING in g


def _fixture(fixture_rows, program="multipkg", toolchain="1.27.3", flagset="default"):
    rows = _rows(fixture_rows, program=program, toolchain=toolchain, goos="linux", goarch="amd64",
                 flagset=flagset)
    if not rows:
        pytest.skip(f"no {program} {toolchain} {flagset} fixture")
    return rows[0]["path"]


def test_cli_text_json_csv(fixture_rows):
    path = _fixture(fixture_rows)
    doc = json.loads(subprocess.run(PY + ["cost", "--by", "package", "--json", path], capture_output=True,
                                    text=True, check=True).stdout)
    with gosym.open(path) as b:
        assert doc == json.loads(json.dumps(by_group(b, "package")))
    text = subprocess.run(PY + ["cost", "--by", "package", "--top", "5", path], capture_output=True, text=True,
                          check=True).stdout
    body = text.splitlines()[4:]
    assert body[0].split()[0] == doc["groups"][0]["name"]
    total = body[-1].split()
    assert total[0] == "total" and int(total[1]) == doc["totals"]["text"]
    assert int(total[2]) == doc["totals"]["pclntab"]
    assert any(line.startswith(UNATTRIBUTED) for line in body)
    out = subprocess.run(PY + ["cost", "--by", "function", "--csv", path], capture_output=True, text=True,
                         check=True).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sum(int(r["code"]) for r in rows) == doc["totals"]["text"]
    assert any(r["group"].startswith("main.") for r in rows)
    bad = subprocess.run(PY + ["cost", "--by", "package", "/nonexistent"], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "/nonexistent" in bad.stderr


def test_diff_by_package(fixture_rows):
    """Between Go 1.21 and Go 1.27 builds of one program: packages new in the
    runtime appear as added, the rows' changes sum to the totals' changes, and
    the rows come sorted by the size of their change."""
    a = _fixture(fixture_rows, toolchain="1.21.13")
    b = _fixture(fixture_rows, toolchain="1.27.3")
    out = subprocess.run(PY + ["diff", "--by", "package", "--json", a, b], capture_output=True, text=True,
                         check=True).stdout
    d = json.loads(out)
    with gosym.open(a) as ba, gosym.open(b) as bb:
        da, db = by_group(ba, "package"), by_group(bb, "package")
    assert d == json.loads(json.dumps(diff_groups(da, db)))
    deltas = [abs(r["delta"]) for r in d["groups"]]
    assert deltas == sorted(deltas, reverse=True)
    assert sum(r["delta"] for r in d["groups"]) == sum(t["delta"] for t in d["totals"])
    new = {r["name"] for r in d["groups"] if r["status"] == "added"}
    assert "internal/runtime/maps" in new       # swiss maps came after Go 1.21
    assert "internal/runtime/maps" not in {g["name"] for g in da["groups"]}
    text = subprocess.run(PY + ["diff", "--by", "package", a, b], capture_output=True, text=True,
                          check=True).stdout
    assert d["groups"][0]["name"] in text.splitlines()[9]


def test_damaged_tables_give_an_error_or_exact_totals(fixture_rows):
    """Random bytes written over the pclntab's records and tables: by_group
    either raises a GosymError or still returns rows that sum exactly (no
    crash, no hang, no silent mismatch)."""
    import random

    path = _fixture(fixture_rows, program="tiny", toolchain="1.27.3")
    data = bytearray(open(path, "rb").read())
    with gosym.open(path) as b:
        info = b.pclntab
        start, size = info.offset, info.size
    rng = random.Random(16)
    errors = 0
    for _ in range(25):
        bad = bytearray(data)
        for _ in range(40):
            k = start + rng.randrange(8, size)
            bad[k] = rng.randrange(256)
        try:
            with gosym.open(bytes(bad)) as b:
                doc = by_group(b, "package")
        except gosym.GosymError:
            errors += 1
            continue
        assert sum(g["code"] for g in doc["groups"]) == doc["totals"]["text"]
        assert sum(g["pclntab"] for g in doc["groups"]) == doc["totals"]["pclntab"] == size
    assert errors < 25
