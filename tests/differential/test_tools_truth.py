"""Every consequence cell gosym predicts, checked by running the real tool.

The bundled example program (wordstat) is built by three toolchains with the
flag sets default and -ldflags='-s -w' (and -w for go1.27.3; gosym.matrix's
cache, shared with tests/cli/test_matrix.py and test_predict.py), and each
default build is also stripped externally (`strip`, `objcopy --strip-debug`).
PE and Mach-O come from the fixture factory (its CI builds, and the go1.27.3
windows/amd64 and darwin/arm64 -s -w builds test_predict.py makes).  For each binary the table from
gosym.consequences is compared with what nm, binutils addr2line,
llvm-symbolizer, gdb, go tool addr2line, the program's own traceback (SIGQUIT)
and go version -m actually print.  The reference answer for "the right
function / file:line" is the pclntab's own (itself checked against Go's
debug/gosym in test_oracle.py).  Tools the machine lacks skip with a reason.

perf record/report runs too where the kernel lets it (else it skips, named in
the end-of-run block), gdb also stops in an inlined call (ptrace), the
runtime's own runtime.CallersFrames (multipkg `frames`) and go tool pprof on a
profile the program wrote (profload, go1.27.3 only) check the pclntab rows.
The build-ID symbol-server cell is checked with a real debuginfod
(tests/support/symstore.py) and debuginfod-find.  Not run here: delve (not
packaged for Debian); its row rests on the rules documented in
gosym/consequences.py.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time

import pytest

import gosym
from gosym import matrix as m
from gosym.consequences import consequences, expected
from gosym.toolchain import go_env
from tests.support import uncovered

TOOLCHAINS = ("1.27.3", "1.24.11", "1.21.13")
SETS = (("default", ()), ("-ldflags='-s -w'", ("-ldflags=-s -w",)))
# go1.27.3's -w is built by test_matrix.py's full default matrix anyway; on the
# others `objcopy --strip-debug` of the default build leaves what -w leaves.
SETS_1273 = SETS + (("-ldflags=-w", ("-ldflags=-w",)),)


_PACKAGE = {"nm": "binutils", "addr2line": "binutils", "llvm-symbolizer": "llvm", "llvm-nm": "llvm", "gdb": "gdb"}


def _tool(name):
    return uncovered.need(name, _PACKAGE[name], "real-tool checks of gosym's consequences")


@pytest.fixture(scope="module")
def elf_cases(tmp_path_factory):
    """(label, path, toolchain) for every ELF binary the cells are checked on."""
    tmp = tmp_path_factory.mktemp("truth")
    pkg = m.stage_example()
    tcs = []
    for v in TOOLCHAINS:
        try:
            tcs.append(m.resolve_toolchain(v))
        except m.MatrixError as e:   # pragma: no cover - no network, no cache
            pytest.skip(f"toolchain {v}: {e}")
    builds = []
    for tc in tcs:
        sets = SETS_1273 if tc.version == "go1.27.3" else SETS
        builds += m.run_builds(pkg, [tc], [m.FlagSet(lbl, a) for lbl, a in sets], None, jobs=2)
    cases = []
    for b in builds:
        assert b.path, b.error
        cases.append((f"{b.toolchain.version} {b.flags.label}", b.path, b.toolchain))
        if not b.flags.args:
            for tool, args in (("strip", ["strip", "-o"]), ("objcopy", ["objcopy", "--strip-debug"])):
                if not shutil.which(tool):
                    uncovered.lost(uncovered.missing(tool, "binutils"), "externally stripped consequence cases")
                    continue
                out = tmp / f"{b.toolchain.version}-{tool}"
                cmd = args + [str(out), b.path] if tool == "strip" else args + [b.path, str(out)]
                subprocess.run(cmd, check=True)
                cases.append((f"{b.toolchain.version} {' '.join(args)}", str(out), b.toolchain))
    return cases


@pytest.fixture(scope="module")
def foreign_rows(fixture_rows):
    """PE and Mach-O builds of multipkg: the CI subset's, and go1.27.3's -s -w ones."""
    from tests.fixtures.build import Spec, ensure_spec

    rows = [r for r in fixture_rows if r["program"] == "multipkg" and r["goos"] in ("windows", "darwin")
            and not r["error"]]
    for goos, goarch in (("windows", "amd64"), ("darwin", "arm64")):
        r = ensure_spec(Spec("multipkg", "1.27.3", goos, goarch, "sw"))
        if not r["error"] and r["path"] not in {x["path"] for x in rows}:
            rows.append(r)
    return rows


def _pcs(path):
    """main.main's entry and its file:line, and one pc inside an inlined call
    with the pclntab's frames there (innermost first)."""
    with gosym.open(path) as b:
        f = b.functions.get("main.main")
        pc = f.entry
        entry = b.lookup(pc)[0]
        inl = None
        for fn in b.functions:
            if not fn.name.startswith("main."):
                continue
            for row in fn.lines():
                frames = b.lookup(row.pc)
                if len(frames) >= 2:
                    inl = (row.pc, [fr.function for fr in frames])
                    break
            if inl:
                break
    return pc, (os.path.basename(entry.file), entry.line), inl


def _say(ok):
    return "yes" if ok else "no"


SEEN: dict = {}


def _check(label, rows, tool, cell, got, detail):
    SEEN.setdefault((tool, cell), set()).add(got)
    want = expected(rows, tool, cell)
    assert want == got, f"{label}: {tool} {cell}: gosym says {want}, the tool did {got}: {detail!r}"


def test_nm_addr2line_llvm_symbolizer(elf_cases):
    nm, a2l, llvm = _tool("nm"), _tool("addr2line"), _tool("llvm-symbolizer")
    seen = set()
    for label, path, _tc in elf_cases:
        rows = consequences(path)["tools"]
        pc, (fname, line), inl = _pcs(path)
        p = subprocess.run([nm, path], capture_output=True, text=True)
        _check(label, rows, "nm", "names", _say(re.search(r" T main\.main$", p.stdout, re.M)), p.stderr[-200:])

        out = subprocess.run([a2l, "-f", "-i", "-e", path, hex(pc)], capture_output=True, text=True).stdout
        lines = out.splitlines()
        _check(label, rows, "addr2line", "names", _say(lines and lines[0] == "main.main"), out)
        _check(label, rows, "addr2line", "file_line",
               _say(len(lines) > 1 and lines[1].endswith(f"/{fname}:{line}")), out)
        out = subprocess.run([llvm, f"--obj={path}", hex(pc)], capture_output=True, text=True).stdout
        lines = out.splitlines()
        _check(label, rows, "llvm-symbolizer", "names", _say(lines and lines[0] == "main.main"), out)
        _check(label, rows, "llvm-symbolizer", "file_line",
               _say(len(lines) > 1 and re.search(rf"/{re.escape(fname)}:{line}(:\d+)?$", lines[1])), out)
        if inl is not None:
            ipc, names = inl
            out = subprocess.run([llvm, f"--obj={path}", hex(ipc)], capture_output=True, text=True).stdout
            funcs = [ln for i, ln in enumerate(out.strip().split("\n")) if i % 2 == 0]
            _check(label, rows, "llvm-symbolizer", "inlined", _say(funcs == names), out)
            out = subprocess.run([a2l, "-f", "-i", "-e", path, hex(ipc)], capture_output=True, text=True).stdout
            funcs = [ln for i, ln in enumerate(out.strip().split("\n")) if i % 2 == 0]
            _check(label, rows, "addr2line", "inlined", _say(funcs == names), out)
        seen.add(label.split()[0])
    assert len(seen) == 3
    # Not a test that cannot fail: each cell was seen both working and not.
    for key in (("nm", "names"), ("addr2line", "names"), ("llvm-symbolizer", "names"),
                ("llvm-symbolizer", "file_line"), ("llvm-symbolizer", "inlined")):
        assert SEEN[key] == {"yes", "no"}, key


def test_gdb_break_by_name_and_types(elf_cases):
    gdb = _tool("gdb")
    for label, path, _tc in elf_cases:
        rows = consequences(path)["tools"]
        _, (fname, line), _ = _pcs(path)
        p = subprocess.run([gdb, "-nx", "-batch", "-iex", "set auto-load python-scripts off", "-ex", "break main.main",
                            "-ex", r"info types ^runtime\.g$", path],
                           capture_output=True, text=True, timeout=300)
        out = p.stdout + p.stderr
        _check(label, rows, "gdb", "names", _say("Breakpoint 1 at 0x" in out), out[-300:])
        _check(label, rows, "gdb", "file_line", _say(re.search(rf"file .*{re.escape(fname)}, line {line}\.", out)),
               out[-300:])
        _check(label, rows, "gdb", "types", _say(re.search(r"^\s+runtime\.g;$", out, re.M)), out[-300:])
    for cell in ("names", "file_line", "types"):
        assert SEEN[("gdb", cell)] == {"yes", "no"}, cell


def _go(tc, *args, **kw):
    """Run the toolchain's go command offline (gosym.toolchain's environment)."""
    return subprocess.run([tc.go, *args], capture_output=True, text=True, env=go_env(tc.root), timeout=600, **kw)


def test_go_tool_addr2line_and_go_version(elf_cases, foreign_rows):
    cases = list(elf_cases)
    tcs = {tc.version: tc for _, _, tc in elf_cases}
    # PE and Mach-O from the fixture factory, default and stripped where built.
    for r in foreign_rows:
        if f"go{r['toolchain']}" in tcs and r["flagset"] in ("default", "sw"):
            cases.append((f"{r['toolchain']} {r['goos']}/{r['goarch']} {r['flagset']}", r["path"],
                          tcs[f"go{r['toolchain']}"]))
    formats = set()
    for label, path, tc in cases:
        rows = consequences(path)["tools"]
        pc, (fname, line), _ = _pcs(path)
        p = _go(tc, "tool", "addr2line", path, input=hex(pc) + "\n")
        lines = p.stdout.splitlines()
        _check(label, rows, "go-addr2line", "names", _say(p.returncode == 0 and lines[:1] == ["main.main"]),
               p.stdout + p.stderr)
        _check(label, rows, "go-addr2line", "file_line",
               _say(len(lines) > 1 and lines[1].endswith(f"{fname}:{line}")), p.stdout + p.stderr)
        v = _go(tc, "version", "-m", path)
        _check(label, rows, "go-version", "works", _say(v.returncode == 0 and "\tpath\t" in v.stdout),
               v.stdout + v.stderr)
        with gosym.open(path) as b:
            formats.add(b.format)
    assert formats >= {"ELF", "PE", "Mach-O"}, formats
    assert SEEN[("go-addr2line", "names")] == {"yes", "no"}   # no: the PE built with -s


def test_llvm_tools_on_pe_and_macho(foreign_rows):
    llvm, nm = _tool("llvm-symbolizer"), _tool("llvm-nm")
    n = 0
    for r in foreign_rows:
        path, label = r["path"], f"{r['toolchain']} {r['goos']}/{r['goarch']} {r['flagset']}"
        rows = consequences(path)["tools"]
        pc, (fname, line), _ = _pcs(path)
        p = subprocess.run([nm, path], capture_output=True, text=True)
        _check(label, rows, "nm", "names", _say(re.search(r" [Tt] _?main\.main$", p.stdout, re.M)), p.stderr[-200:])
        out = subprocess.run([llvm, f"--obj={path}", hex(pc)], capture_output=True, text=True).stdout
        lines = out.splitlines()
        _check(label, rows, "llvm-symbolizer", "names", _say(lines and lines[0] in ("main.main", "_main.main")),
               out)
        _check(label, rows, "llvm-symbolizer", "file_line",
               _say(len(lines) > 1 and re.search(rf"{re.escape(fname)}:{line}(:\d+)?$", lines[1])), out)
        n += 1
    assert n >= 3
    assert SEEN[("nm", "names")] >= {"yes", "no"}   # the -s -w PE and Mach-O have no symbols


def test_runtime_traceback_after_stripping(elf_cases):
    """The program's own traceback (SIGQUIT) names main.main with its file:line in every build."""
    for label, path, _tc in elf_cases:
        rows = consequences(path)["tools"]
        proc = subprocess.Popen([path, "-sleep", "20s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            proc.stdout.readline()   # the report is printed before the sleep
            time.sleep(0.05)
            proc.send_signal(signal.SIGQUIT)
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
        _check(label, rows, "runtime", "names", _say("main.main()" in err), err[-400:])
        _check(label, rows, "runtime", "file_line", _say(re.search(r"\t\S*/main\.go:\d+", err)), err[-400:])


def test_perf_report_names(elf_cases, tmp_path):
    """perf record / perf report, with no build-ID cache (a private HOME, `perf record -N`): perf
    names the program's own samples only from a symbol table (a cache holding an unstripped
    twin with the same GNU build ID would name them too: that is the symbol-server row)."""
    perf = uncovered.need("perf", "linux-perf", "perf's symbol lookup against the consequences")
    text = tmp_path / "words.txt"
    text.write_text("the quick brown fox jumps over the lazy dog, again and again\n" * 40000)
    env = dict(os.environ, HOME=str(tmp_path))
    # perf takes ~1.5 s to start: the go builds only (the external strips repeat -s -w and -w).
    for label, path, _tc in [c for c in elf_cases if "strip" not in c[0]]:
        rows = consequences(path)["tools"]
        data = tmp_path / "perf.data"
        rec = subprocess.run([perf, "record", "-N", "-q", "--no-bpf-event", "--no-buildid", "--synth=no", "-e", "cpu-clock", "-F", "10000", "-o", str(data), "--",
                              path, "-top", "3", str(text)], capture_output=True, text=True, env=env, timeout=300)
        if rec.returncode != 0 or not data.exists():
            uncovered.skip("perf record not permitted here (perf_event_paranoid or a container)",
                           "perf's symbol lookup against the consequences")
        rep = subprocess.run([perf, "report", "-i", str(data), "--stdio", "--sort", "dso,sym"],
                             capture_output=True, text=True, env=env, timeout=300).stdout
        mine = [ln.split("[.]", 1)[1].strip() for ln in rep.splitlines()
                if "[.]" in ln and os.path.basename(path) in ln.split("[.]")[0]]
        assert mine, (label, rep[-500:])
        named = [s for s in mine if not s.startswith("0x")]
        _check(label, rows, "perf", "names", _say(len(named) > len(mine) // 2), mine[:5])
    assert SEEN[("perf", "names")] == {"yes", "no"}


def test_runtime_inlined_frames(fixture_rows, tmp_path):
    """The runtime's own runtime.CallersFrames (the multipkg fixture's `frames` mode) shows
    inlined frames exactly where gosym says the runtime cell is yes — after -s -w and an
    external strip too — and none where it says n/a (-gcflags=all=-l: nothing inlined)."""
    import json

    rows = [r for r in fixture_rows if r["program"] == "multipkg" and r["goos"] == "linux"
            and r["goarch"] == "amd64" and not r["error"] and r["flagset"] in ("default", "sw", "nolinline")]
    cases = [(f"{r['toolchain']} {r['flagset']}", r["path"]) for r in rows]
    if shutil.which("strip"):
        for r in rows:
            if r["flagset"] == "default":
                out = tmp_path / f"{r['toolchain']}-strip"
                subprocess.run(["strip", "-o", str(out), r["path"]], check=True)
                cases.append((f"{r['toolchain']} strip", str(out)))
    versions = set()
    for label, path in cases:
        table = consequences(path)["tools"]
        p = subprocess.run([path, "frames"], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, (label, p.stderr[-300:])
        sites = [json.loads(ln) for ln in p.stdout.splitlines() if ln.startswith("{")]
        inlined = {f["function"] for s in sites for f in s["frames"] if f["inlined"]}
        expect = {fn for s in sites for fn in s["expect_inlined"]}
        want = expected(table, "runtime", "inlined")
        got = "yes" if inlined and expect <= inlined else ("n/a" if not inlined else "no")
        assert want == got, (label, want, sorted(inlined)[:5])
        SEEN.setdefault(("runtime", "inlined"), set()).add(got)
        versions.add(label.split()[0])
    assert len(versions) >= 3 and SEEN[("runtime", "inlined")] >= {"yes", "n/a"}


def test_gdb_inlined_frames(fixture_rows, tmp_path):
    """gdb stops in an inlined call and shows it as its own frame over the caller only with
    DWARF: checked where gosym says yes (default builds of three toolchains) and no (-s -w;
    objcopy --strip-debug, which keeps the symbol table)."""
    gdb = _tool("gdb")
    rows = {(r["toolchain"], r["flagset"]): r["path"] for r in fixture_rows if r["program"] == "multipkg"
            and r["goos"] == "linux" and r["goarch"] == "amd64" and not r["error"]}
    cases = [(f"{v} {fs}", rows[(v, fs)]) for v, fs in (("1.27.3", "default"), ("1.24.11", "default"),
                                                        ("1.21.13", "default"), ("1.27.3", "sw")) if (v, fs) in rows]
    if shutil.which("objcopy") and ("1.27.3", "default") in rows:
        out = tmp_path / "strip-debug"
        subprocess.run(["objcopy", "--strip-debug", rows[("1.27.3", "default")], str(out)], check=True)
        cases.append(("1.27.3 objcopy --strip-debug", str(out)))
    for label, path in cases:
        table = consequences(path)["tools"]
        p = subprocess.run([gdb, "-nx", "-batch", "-iex", "set auto-load python-scripts off",
                            "-ex", "break fixture/multipkg/geom.Point.Trace", "-ex", "run frames > /dev/null",
                            "-ex", "bt 2", path], capture_output=True, text=True, timeout=300)
        out = p.stdout + p.stderr
        if "ptrace" in out and "not permitted" in out:
            uncovered.skip("ptrace not permitted here", "gdb's inlined frames against the consequences")
        got = _say(re.search(r"^#0\s+fixture/multipkg/geom\.Point\.Trace \(", out, re.M)
                   and re.search(r"^#1\s+main\.siteCrossPkg ", out, re.M))
        _check(label, table, "gdb", "inlined", got, out[-400:])
    assert SEEN[("gdb", "inlined")] == {"yes", "no"}


def test_go_tool_pprof_on_the_programs_profile(tmp_path):
    """go tool pprof on a runtime/pprof CPU profile the program wrote itself (the profload
    fixture, go1.27.3 — the only toolchain it is built with — and its `strip` copy): names,
    file:line and inlined frames are in the profile, from the pclntab, as gosym says."""
    from tests.support import profload

    binary = profload.build("default")
    cases = [("1.27.3 profload", binary)]
    if shutil.which("strip"):
        out = tmp_path / "profload-strip"
        subprocess.run(["strip", "-o", str(out), binary], check=True)
        cases.append(("1.27.3 profload strip", str(out)))
    tc = m.resolve_toolchain(profload.TOOLCHAIN)
    for label, path in cases:
        table = consequences(path)["tools"]
        prof = tmp_path / "cpu.pb.gz"
        r = subprocess.run([path, "profile", str(prof), "300"], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        raw = _go(tc, "tool", "pprof", "-raw", "-symbolize=none", str(prof)).stdout
        locs = raw.split("Locations", 1)[-1].split("Mappings", 1)[0]
        _check(label, table, "go-pprof", "names", _say(re.search(r" main\.main ", locs)), locs[:300])
        _check(label, table, "go-pprof", "file_line", _say(re.search(r"/main\.go:\d+", locs)), locs[:300])
        # An inlined frame is a continuation line (no address) under a location.
        _check(label, table, "go-pprof", "inlined", _say(re.search(r"\n {8,}main\.\S+ \S+:\d+", locs)), locs[:300])


def test_symbol_server_finds_by_gnu_build_id(elf_cases, tmp_path):
    """The "symbol-server" cell against a real debuginfod: every binary the
    cell says "yes" for (a GNU build ID: Go 1.24+ links one by default) is
    served by its GNU build ID (`debuginfod-find executable ID` brings back a
    file with that ID); every one it says "no" for (Go 1.21.13, no GNU note:
    debuginfod indexes GNU build IDs only) was scanned by the same server and
    is indexed under no build ID (its database, and a query by the hex of the
    Go build ID, which the server rejects)."""
    import sqlite3

    from gosym.container.notes import read_build_ids
    from tests.support.symstore import debuginfod

    find = uncovered.need("debuginfod-find", "debuginfod", "symbol-server consequence checks")
    served = tmp_path / "served"
    served.mkdir()
    yes, no = {}, []
    for i, (label, path, _tc) in enumerate(elf_cases):
        rows = consequences(path)["tools"]
        cell = expected(rows, "symbol-server", "works")
        with gosym.open(path) as b:
            ids = read_build_ids(b.container)
        copy = served / f"case{i}"
        shutil.copyfile(path, copy)
        os.chmod(copy, 0o755)
        if cell == "yes":
            assert ids.gnu, f"{label}: the cell says yes without a GNU build ID"
            yes.setdefault(ids.gnu, []).append((label, str(copy)))
        else:
            assert cell == "no", f"{label}: symbol-server {cell}"
            no.append((label, str(copy), ids))
    assert yes and no, f"want both kinds among the cases: yes {list(yes)}, no {[n[0] for n in no]}"
    work = tmp_path / "work"
    work.mkdir()
    with debuginfod(str(served), list(yes), str(work)) as url:
        env = dict(os.environ, DEBUGINFOD_URLS=url, DEBUGINFOD_CACHE_PATH=str(work / "cache"))
        for gid, cases in yes.items():
            r = subprocess.run([find, "executable", gid], capture_output=True, text=True, timeout=60, env=env)
            _check(cases[0][0], [{"tool": "symbol-server", "works": "yes"}], "symbol-server", "works",
                   _say(r.returncode == 0), r.stderr)
            with gosym.open(r.stdout.strip()) as got:
                assert read_build_ids(got.container).gnu == gid
        # the scan has seen every file before the "no" answers count
        db = sqlite3.connect(str(next(work.glob("debuginfod-*.sqlite"))))
        names = [t for (t,) in db.execute("select name from sqlite_master where type in ('table','view')")]
        scanned_t = next(t for t in names if t.endswith("_file_mtime_scanned"))
        files_t = next(t for t in names if t.endswith("_files"))
        fde = next(t for t in names if t.endswith("_f_de"))
        deadline = time.monotonic() + 60
        while True:
            scanned = {n for (n,) in db.execute(f"select f.name from {scanned_t} s join {files_t} f on f.id = s.file")}
            if all(p in scanned for _, p, _ in no) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        indexed = {n for (n,) in db.execute(f"select f.name from {fde} d join {files_t} f on f.id = d.file")}
        assert {p for cases in yes.values() for _, p in cases} <= indexed, "the index query finds nothing"
        print(f"symbol server: {sum(map(len, yes.values()))} found by GNU build ID, {len(no)} not indexed")
        for label, p, ids in no:
            assert p in scanned, f"{label}: debuginfod never scanned {p}"
            got = "yes" if p in indexed else "no"
            if ids.go:
                q = subprocess.run([find, "executable", ids.go.encode().hex()], capture_output=True, text=True,
                                   timeout=60, env=env)
                got = "yes" if q.returncode == 0 else got
            _check(label, consequences(p)["tools"], "symbol-server", "works", got, f"{p} indexed: {p in indexed}")
