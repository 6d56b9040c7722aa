"""`gosym matrix`, `gosym diff` and the chart, on the bundled example program
built by the go1.27.3 toolchain the fixtures use (cached by content, so only
a cold cache pays for the builds)."""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from gosym import matrix as m
from gosym.cost import cost
from gosym.diff import diff

GO = "1.27.3"
PY = [sys.executable, "-m", "gosym"]
SETS = [("default", ()), ("-ldflags='-s -w'", ("-ldflags=-s -w",)), ("-trimpath", ("-trimpath",)),
        ("-gcflags='-l -s'", ("-gcflags=-l -s",)), ("-ldflags=-l", ("-ldflags=-l",))]


@pytest.fixture(scope="module")
def built():
    tc = m.resolve_toolchain(GO)
    pkg = m.stage_example()
    builds = m.run_builds(pkg, [tc], [m.FlagSet(lbl, a) for lbl, a in SETS], None, jobs=3)
    return builds, m.report(builds, "example")


def _row(rep, label):
    return next(r for r in rep["builds"] if r["label"] == label)


def test_rejected_popular_flags_show_the_toolchains_error(built):
    builds, rep = built
    gc, ld = _row(rep, "-gcflags='-l -s'"), _row(rep, "-ldflags=-l")
    assert gc["rejected"] == "rejected by go1.27.3: flag provided but not defined: -s"
    assert ld["rejected"] == "rejected by go1.27.3: flag provided but not defined: -l"
    for r in (gc, ld):
        assert r["path"] is None and r["cost"] is None and "flag provided but not defined" in r["error"]
    # Rejections are cached too: a second run finds them without building.
    again = m.run_builds(m.stage_example(), [builds[0].toolchain],
                         [m.FlagSet("-ldflags=-l", ("-ldflags=-l",))], None)
    assert again[0].cached and again[0].rejected == ld["rejected"]
    assert (m.matrix_dir() / again[0].key / "build.json").is_file()


def test_strip_keeps_the_pclntab(built):
    _, rep = built
    r = _row(rep, "-ldflags='-s -w'")
    assert {"symbols", "dwarf_lines", "dwarf_types"} <= set(r["lost"])
    s = r["survives"]
    assert not s["symbols"] and not s["dwarf_lines"] and not s["dwarf_types"]
    assert s["function_names"] and s["file_line"] and s["inlined_frames"]
    assert r["cost"]["symtab_size"] == 0 and r["cost"]["dwarf_size"] == 0
    t = _row(rep, "-trimpath")
    assert t["gained"] == ["paths_trimmed"] and t["lost"] == []
    d = _row(rep, "default")
    assert d["lost"] == d["gained"] == [] and d["size_ratio"] == 1.0


def test_size_ratios_match_the_files(built):
    _, rep = built
    d = _row(rep, "default")
    for r in rep["builds"]:
        if r["path"] is None:
            assert r["size_ratio"] is None
            continue
        assert r["file_size"] == os.path.getsize(r["path"])
        assert r["size_ratio"] == pytest.approx(os.path.getsize(r["path"]) / os.path.getsize(d["path"]),
                                                rel=1e-12)
        assert r["mapped_ratio"] == pytest.approx(r["mapped_bytes"] / d["mapped_bytes"], rel=1e-12)
        assert r["mapped_bytes"] + r["unmapped_bytes"] == r["file_size"]
    assert _row(rep, "-ldflags='-s -w'")["size_ratio"] < 0.8


def test_diff_deltas_are_the_difference_of_costs(built):
    _, rep = built
    a, b = _row(rep, "default")["path"], _row(rep, "-ldflags='-s -w'")["path"]
    ca, cb, d = cost(a), cost(b), diff(a, b)
    totals = {r["name"]: r for r in d["totals"]}
    for k in ("file_size", "mapped_bytes", "unmapped_bytes", "symtab_size", "dwarf_size"):
        assert totals[k]["delta"] == cb[k] - ca[k], k
    assert totals["file_size"]["delta"] < 0
    sa = {s["name"]: s["size"] for s in ca["sections"]}
    sb = {s["name"]: s["size"] for s in cb["sections"]}
    for r in d["sections"]:
        assert r["delta"] == sb.get(r["name"], 0) - sa.get(r["name"], 0), r
    assert {r["name"] for r in d["sections"]} == set(sa) | set(sb)
    for r in d["pclntab_tables"]:
        assert r["delta"] == cb["pclntab"]["tables"][r["name"]] - ca["pclntab"]["tables"][r["name"]]
    assert {"symbols", "dwarf_lines"} <= set(d["lost"]) and d["gained"] == []
    out = subprocess.run(PY + ["diff", "--json", a, b], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == d
    txt = subprocess.run(PY + ["diff", a, b], capture_output=True, text=True, check=True).stdout
    assert ".debug_info" in txt and "-symbols" in txt


def test_categories_sum_to_the_file(built):
    from gosym.plot import categorize

    _, rep = built
    for r in rep["builds"]:
        if r["cost"]:
            cats = categorize(r["cost"])
            assert sum(v[0] for v in cats.values()) == r["mapped_bytes"]
            assert sum(v[1] for v in cats.values()) == r["unmapped_bytes"]
            assert cats["text"][0] > 0 and cats["pclntab: names"][0] == r["cost"]["pclntab"]["tables"]["funcnames"]
    sw = categorize(_row(rep, "-ldflags='-s -w'")["cost"])
    assert sw["DWARF"] == (0, 0) and sw["symtab"] == (0, 0)


def test_categories_match_independent_readings(built):
    """The sums above hold by construction; the parts are checked here
    against readings that do not call gosym: pyelftools' PT_LOAD segments
    for mapped bytes, its section headers for DWARF and symbol tables, and
    tests/support/pclnwalk.py's Python walk of the pclntab for its four groups."""
    from elftools.elf.elffile import ELFFile

    from gosym.plot import categorize
    from tests.support.pclnwalk import walk
    from tests.cli.test_cost import _pclntab_section

    _, rep = built
    checked = 0
    for r in rep["builds"]:
        if not r["cost"]:
            continue
        with open(r["path"], "rb") as f:
            elf = ELFFile(f)
            loads = sorted((s["p_offset"], s["p_offset"] + s["p_filesz"]) for s in elf.iter_segments()
                           if s["p_type"] == "PT_LOAD" and s["p_filesz"])
            secs = {s.name: s["sh_size"] for s in elf.iter_sections() if s["sh_type"] != "SHT_NOBITS"}
        assert r["mapped_bytes"] == sum(b - a for a, b in _page_union(loads, 1)), r["label"]
        cats = categorize(r["cost"])
        dwarf = sum(n for name, n in secs.items() if name.startswith((".debug_", ".zdebug_")))
        assert sum(cats["DWARF"]) == dwarf, r["label"]
        assert sum(cats["symtab"]) == sum(secs.get(n, 0) for n in (".symtab", ".strtab", ".dynsym", ".dynstr"))
        data, big, gofunc = _pclntab_section(r["path"])
        w = walk(data, big, gofunc)
        pcvalue = w["pcsp"] + w["pcfile"] + w["pcln"] + sum(v for k, v in w.items() if k.startswith("pcdata"))
        assert sum(cats["pclntab: names"]) == w["funcnames"]
        assert sum(cats["pclntab: func tables"]) == sum(w[k] for k in ("header", "functab", "func_records",
                                                                       "cutab", "filetab"))
        assert sum(cats["pclntab: pc-value"]) == pcvalue
        if gofunc is None:   # no symbol table (-s) to place go:func.* by: the two together
            assert sum(cats["pclntab: funcdata"]) + sum(cats["pclntab: other"]) == w["other"]
        else:
            assert sum(cats["pclntab: funcdata"]) == w["funcdata"] > 0, r["label"]
            assert sum(cats["pclntab: other"]) == w["other"]
            checked += 1
    assert checked >= 2
    assert categorize(_row(rep, "default")["cost"])["DWARF"][1] > 0


def test_chart_has_a_bar_group_per_build(built, tmp_path):
    pytest.importorskip("matplotlib")
    from gosym.plot import plot_matrix

    _, rep = built
    ok = [i for i, r in enumerate(rep["builds"]) if r["cost"]]
    png = tmp_path / "m.png"
    fig = plot_matrix(rep, str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    groups = {p.get_gid().split("-")[0] for p in fig.axes[0].patches if p.get_gid()}
    assert groups == {f"build{i}" for i in ok}
    svg = tmp_path / "m.svg"
    plot_matrix(rep, str(svg))
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    ids = [e.get("id") for e in root.iter() if (e.get("id") or "").startswith("build")]
    assert {i.split("-")[0] for i in ids} == {f"build{i}" for i in ok}
    # Both bars of the -s -w build: mapped stacks, nothing unmapped but "other".
    sw = ok[[rep["builds"][i]["label"] for i in ok].index("-ldflags='-s -w'")]
    assert not any(i.startswith(f"build{sw}-unmapped-DWARF") for i in ids)
    assert any(i.startswith(f"build{ok[0]}-unmapped-DWARF") for i in ids)


def test_chart_without_matplotlib_says_how_to_get_it(built, monkeypatch, tmp_path):
    from gosym.plot import plot_matrix

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"gosym\[plot\]"):
        plot_matrix(built[1], str(tmp_path / "x.png"))


def test_cli_json_schema_and_progress():
    p = subprocess.run(PY + ["matrix", "--go", GO, "--only", "--flags=-ldflags='-s -w'",
                             "--flags=-ldflags=-l", "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["package"] and [r["label"] for r in rep["builds"]] == ["default", "-ldflags='-s -w'",
                                                                      "-ldflags=-l"]
    for r in rep["builds"]:
        assert set(r) >= {"toolchain", "target", "label", "flags", "path", "rejected", "error", "file_size",
                          "mapped_bytes", "unmapped_bytes", "size_ratio", "mapped_ratio", "lost", "gained",
                          "survives", "cost"}
        assert r["toolchain"] == "go1.27.3" and r["target"] == "linux/amd64"
    assert rep["builds"][1]["flags"] == ["-ldflags=-s -w"]
    assert rep["builds"][2]["rejected"].startswith("rejected by go1.27.3: ")
    assert set(rep["builds"][0]["cost"]) >= {"file_size", "sections", "pclntab", "survives"}
    progress = [ln for ln in p.stderr.splitlines() if ln.startswith("[")]
    assert len(progress) == 3 and all("go1.27.3 linux/amd64" in ln for ln in progress)


def test_full_default_matrix_csv_md():
    """The whole default list, once: every flag set is a row, none dropped."""
    p = subprocess.run(PY + ["matrix", "--go", GO, "--jobs", "4", "--quiet", "--csv"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 1 + len(m.DEFAULT_FLAGSETS)
    rejected = [ln for ln in lines if "rejected by go1.27.3" in ln]
    assert len(rejected) == 2
    assert any("-gcflags='-l -s'" in ln and "not defined: -s" in ln for ln in rejected)
    assert any("-ldflags=-l" in ln and "not defined: -l" in ln for ln in rejected)
    md = subprocess.run(PY + ["matrix", "--go", GO, "--quiet", "--md"], capture_output=True, text=True)
    assert md.returncode == 0 and md.stdout.count("\n") == 2 + len(m.DEFAULT_FLAGSETS)
    txt = subprocess.run(PY + ["matrix", "--go", GO, "--quiet"], capture_output=True, text=True).stdout
    assert "(baseline)" in txt and "-inlined_frames" in txt


def test_bad_toolchain_is_one_line():
    p = subprocess.run(PY + ["matrix", "--go", "/nonexistent/go"], capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr.startswith("gosym: matrix: /nonexistent/go")


def _page_union(ranges, page):
    out = []
    for a, b in sorted((a // page * page, -(-b // page) * page) for a, b in ranges):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/PID/maps is Linux's")
def test_mapped_bytes_agree_with_proc_maps(built):
    """The loader maps exactly the PT_LOAD file ranges `cost` counts (page-rounded)."""
    import time

    from elftools.elf.elffile import ELFFile

    _, rep = built
    page = os.sysconf("SC_PAGE_SIZE")
    for label in ("default", "-ldflags='-s -w'"):
        r = _row(rep, label)
        with open(r["path"], "rb") as f:
            loads = [(s["p_offset"], s["p_offset"] + s["p_filesz"]) for s in ELFFile(f).iter_segments()
                     if s["p_type"] == "PT_LOAD" and s["p_filesz"]]
        exact = sum(b - a for a, b in _page_union(loads, 1))
        assert exact == r["mapped_bytes"], label
        proc = subprocess.Popen([r["path"], "-sleep", "5s"], stdout=subprocess.DEVNULL)
        try:
            real = os.path.realpath(r["path"])
            seen = []
            for _ in range(200):   # until the runtime is up and the maps are complete
                with open(f"/proc/{proc.pid}/maps") as f:
                    maps = f.read().splitlines()
                seen = []
                for ln in maps:
                    parts = ln.split(None, 5)
                    if len(parts) == 6 and parts[5] == real:
                        lo, hi = (int(x, 16) for x in parts[0].split("-"))
                        off = int(parts[2], 16)
                        seen.append((off, min(off + hi - lo, r["file_size"])))
                if seen:
                    break
                time.sleep(0.01)
        finally:
            proc.kill()
            proc.wait()
        file_bytes = sum(b - a for a, b in _page_union(seen, page))
        expect = sum(min(b, -(-r["file_size"] // page) * page) - a for a, b in _page_union(loads, page))
        assert file_bytes == expect, (label, seen, loads)
        assert 0 <= file_bytes - r["mapped_bytes"] < 2 * page * len(loads)


def test_run_reports_medians_and_ratios(built):
    from gosym.runstats import _gnu_time, measure

    builds, _ = built
    ok = [b for b in builds if b.path]
    measure(ok, 3, [])
    base = next(b for b in ok if not b.flags.args).extra["run"]
    assert base["wall_ratio"] == 1.0 and base["rss_ratio"] == 1.0
    for b in ok:
        s = b.extra.pop("run")
        assert s["n"] == 3 and s["exit_codes"] == [0]
        assert s["wall_min"] <= s["wall_median"] <= s["wall_max"] and s["wall_median"] < 5
        assert s["wall_spread"] == pytest.approx(s["wall_max"] - s["wall_min"])
        # A Go program this small peaks at a few MiB, not at the parent's size.
        if _gnu_time():   # else ru_maxrss, which carries the parent's peak
            assert 500 < s["rss_median"] < 64 * 1024, s
        assert s["wall_ratio"] == pytest.approx(s["wall_median"] / base["wall_median"])
        assert s["wall_ratio_low"] <= s["wall_ratio_high"] and s["wall_verdict"] in (
            "baseline", "no measurable difference", "slower", "faster")


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise():
    import io

    from gosym.matrix import progress_printer

    class Tty(io.StringIO):
        def isatty(self):
            return True

    plain, tty = io.StringIO(), Tty()
    for stream in (plain, tty):
        say = progress_printer(False, stream)
        say("[1/2] go1.27.3 linux/amd64 default: ok (1.0s)")
        say("[2/2] go1.27.3 linux/amd64 -ldflags=-s: ok (1.0s)")
    assert plain.getvalue().count("\n") == 2 and "\r" not in plain.getvalue()
    out = tty.getvalue()
    assert out.count("\r") == 2 and out.endswith("\n") and out.count("\n") == 1
    assert "[##########----------] 1/2" in out and "[####################] 2/2" in out
    quiet = io.StringIO()
    progress_printer(True, quiet)("[1/1] x")
    assert quiet.getvalue() == ""


def test_verdict_says_what_each_flag_set_saves_and_breaks(built):
    _, rep = built
    lines = m.verdict(rep)
    sw = next(ln for ln in lines if "-ldflags='-s -w':" in ln)
    r = _row(rep, "-ldflags='-s -w'")
    assert f"file {(r['size_ratio'] - 1) * 100:+.1f}%" in sw and "mapped memory" in sw
    assert "nm (names)" in sw and "llvm-symbolizer (names, file:line, inlined)" in sw
    assert "go-addr2line" not in sw and "runtime" not in sw   # the pclntab survives every flag
    assert "start-up" not in sw                               # not measured in this report
    assert any("-gcflags='-l -s': does not exist — -s is not a compiler flag" in ln for ln in lines)
    assert any("-ldflags=-l: does not exist — -l is not a linker flag" in ln for ln in lines)
    assert not any(ln.startswith("go1.27.3 default:") for ln in lines)
    assert "verdict:" in m.render_text(rep)


def test_ratio_interval_says_no_difference_unless_it_excludes_one():
    import random

    from gosym.runstats import judge, ratio_interval

    rng = random.Random(7)
    a = [0.010 + rng.random() * 0.008 for _ in range(30)]
    b = [0.010 + rng.random() * 0.008 for _ in range(30)]
    point, lo, hi = ratio_interval(a, b)
    assert lo <= point <= hi and judge(lo, hi) == "no measurable difference"
    slow = [x * 2 for x in a]
    _, lo, hi = ratio_interval(slow, b)
    assert lo > 1.0 and judge(lo, hi) == "slower"
    # One outlier run (the 17.6 ms next to 6.6 ms) does not make a difference.
    noisy = b[:-1] + [b[-1] * 10]
    _, lo, hi = ratio_interval(noisy, b)
    assert judge(lo, hi) == "no measurable difference"


def test_chart_legend_covers_no_bar(built, tmp_path):
    pytest.importorskip("matplotlib")
    from gosym.plot import plot_matrix

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    _, rep = built
    # The case: the biggest build last, where an in-axes legend would sit on it.
    ok = sorted((r for r in rep["builds"] if r["cost"]), key=lambda r: r["file_size"])
    fig = plot_matrix(dict(rep, builds=ok + ok[-1:]), str(tmp_path / "m.png"))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(renderer)
    bars = [p.get_window_extent(renderer) for p in ax.patches if p.get_gid()]
    assert bars and not any(legend.overlaps(b) for b in bars)
