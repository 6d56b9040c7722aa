"""`gosym cost --html` and `--treemap` (issue 16): the page is one file that
needs no network, and a real headless Chromium (Debian's `chromium`) loads it
with no console message, shows the biggest package in the rendered DOM and
paints a screenshot of the asked size with the treemap's colours in it."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import gosym
from gosym import plot
from gosym.cost import cost
from gosym.packages import by_group
from tests.support import uncovered

PY = [sys.executable, "-m", "gosym"]
RUNTIME_BLUE = (0x48, 0x78, 0xA8)   # plot.cell_color of the first (biggest) cell


def _fixture(fixture_rows, flagset):
    rows = [r for r in fixture_rows if r.get("path") and r["program"] == "multipkg" and
            r["toolchain"] == "1.27.3" and r["goos"] == "linux" and r["goarch"] == "amd64" and
            r["flagset"] == flagset]
    if not rows:
        pytest.skip(f"no multipkg 1.27.3 linux/amd64 {flagset} fixture in this subset")
    return rows[0]["path"]


@pytest.fixture(scope="module")
def report(fixture_rows, tmp_path_factory):
    """(html path, the by-package document, matrix given) for the default build,
    with a matrix report made of the default and -s -w builds."""
    pytest.importorskip("matplotlib")
    tmp = tmp_path_factory.mktemp("report")
    path = _fixture(fixture_rows, "default")
    matrix = {"package": "fixture/multipkg", "builds": [
        {"toolchain": "1.27.3", "label": label, "rejected": None, "cost": cost(_fixture(fixture_rows, fs))}
        for label, fs in (("(none)", "default"), ("-ldflags='-s -w'", "sw"))]}
    (tmp / "m.json").write_text(json.dumps(matrix))
    out = tmp / "report.html"
    subprocess.run(PY + ["cost", "--html", str(out), "--matrix", str(tmp / "m.json"), path], check=True)
    with gosym.open(path) as b:
        doc = by_group(b, "package")
    return out, doc


def _chromium(tmp_path, *args, timeout=120):
    exe = uncovered.need("chromium", "chromium", "the HTML report in a real browser")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--log-level=0",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--disable-background-networking", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _console(stderr: str):
    return [line for line in stderr.splitlines() if re.search(r":CONSOLE[:(]", line)]


def test_page_is_self_contained(report):
    out, doc = report
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script|<link|<iframe|<img|@import|url\(\s*[\"']?(?!#)", page, re.I)
    # Attributes that load something: none (xmlns and metadata URIs load nothing).
    assert not re.search(r"\s(src|href|xlink:href)\s*=\s*[\"'](?!#)", page, re.I)
    assert page.count("<svg") == 2                 # the treemap and the matrix chart
    assert f">{doc['groups'][0]['name']}<" in page


def test_headless_chromium_renders_it(report, tmp_path):
    out, doc = report
    # The console check can fail: a page with a console message and an
    # exception shows both through the same flags.
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>console.error('gosym-probe'); nosuch();</script>")
    probe = _chromium(tmp_path, "--dump-dom", bad.as_uri())
    assert probe.returncode == 0, probe.stderr[-2000:]
    got = _console(probe.stderr)
    assert any("gosym-probe" in line for line in got) and any("nosuch" in line for line in got), \
        probe.stderr[-3000:]

    r = _chromium(tmp_path, "--dump-dom", out.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    assert _console(r.stderr) == [], _console(r.stderr)
    biggest = doc["groups"][0]["name"]
    assert biggest == "runtime"
    dom = r.stdout
    m = re.search(r'<div id="treemap">(.*?)</div>', dom, re.S)
    assert m and f">{biggest}</text>" in m.group(1)
    assert '<rect id="cell0"' in m.group(1)

    shot = tmp_path / "shot.png"
    r = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1000", "--hide-scrollbars",
                  out.as_uri())
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    assert _console(r.stderr) == []
    from PIL import Image

    img = Image.open(shot).convert("RGB")
    assert img.size == (1280, 1000)
    colors = img.getcolors(maxcolors=1 << 20)
    assert colors is not None
    total = img.size[0] * img.size[1]
    white = sum(n for n, c in colors if c == (255, 255, 255))
    assert white < 0.9 * total, "the screenshot is blank"
    blue = sum(n for n, c in colors if all(abs(a - b) <= 3 for a, b in zip(c, RUNTIME_BLUE)))
    assert blue > 0.05 * total, "the treemap's biggest cell is not painted"


def test_treemap_png(report, tmp_path):
    out, doc = report
    png = tmp_path / "t.png"
    fig = plot.plot_treemap(doc, str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cells = [p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("cell")]
    shown = plot.treemap_cells(doc)
    assert len(cells) == len(shown)
    # Areas proportional to bytes: the biggest cell's share of the plot is its share of the bytes.
    area = [c.get_width() * c.get_height() for c in cells]
    total = sum(c["bytes"] for c in shown)
    assert abs(area[0] / sum(area) - shown[0]["bytes"] / total) < 1e-9
    with pytest.raises(ValueError):
        plot.plot_treemap(doc, str(tmp_path / "t.jpg"))


def test_bad_matrix_and_treemap_names_are_one_line(fixture_rows, tmp_path):
    """A --matrix file that is not a `gosym matrix --json` report, and a
    --treemap name that is neither .svg nor .png: one line naming the file,
    exit status 1, no traceback."""
    path = _fixture(fixture_rows, "default")
    cases = {"notjson.json": "not JSON", "empty.json": "no list of builds",
             "short.json": "not a `gosym matrix --json` report (KeyError"}
    (tmp_path / "notjson.json").write_text("hello")
    (tmp_path / "empty.json").write_text("{}")
    (tmp_path / "short.json").write_text('{"builds": [{"label": "x"}]}')
    for name, says in cases.items():
        r = subprocess.run(PY + ["cost", "--html", str(tmp_path / "r.html"), "--matrix", str(tmp_path / name), path],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 1 and r.stderr.startswith(f"gosym: {tmp_path / name}: ") and says in r.stderr, r.stderr
        assert "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1
    r = subprocess.run(PY + ["cost", "--treemap", str(tmp_path / "t.gif"), path], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 1 and r.stderr == f"gosym: {tmp_path / 't.gif'}: --treemap writes .svg or .png\n"
