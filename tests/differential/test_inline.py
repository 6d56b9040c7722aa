"""Inlined frames against the Go runtime's own expansion.

The multipkg fixture, run as `multipkg frames`, calls runtime.Callers and
runtime.CallersFrames at known inlined call sites (nested and across
packages) and prints every frame.  For each physical pc, gosym's lookup must
return the same frames, innermost first, with the same function, file and
line.  Every linux fixture this machine can run is checked: natively
(amd64 and 386 on x86-64), and the other targets (arm64, arm, s390x, ppc64,
riscv64, ...) under qemu user-mode emulation when Debian's qemu-user-static
is installed (`.ci/run` installs it).
"""
import json
import platform
import shutil
import subprocess

import pytest

import gosym
from tests.support import uncovered

NATIVE = {"x86_64": {"amd64", "386"}, "aarch64": {"arm64"}}.get(platform.machine(), set())
# Other targets run under qemu user-mode emulation (Debian qemu-user-static)
# where it is installed.
QEMU = {"amd64": "x86_64", "386": "i386", "arm64": "aarch64", "arm": "arm", "s390x": "s390x",
        "ppc64": "ppc64", "ppc64le": "ppc64le", "riscv64": "riscv64", "mips64": "mips64",
        "mips64le": "mips64el", "loong64": "loongarch64"}


# The probe sites of tests/fixtures/src/multipkg/main.go (runFrames): site
# name -> the function that holds it; each inlines what its probe.Expect says.
SITE_FUNCS = {"crosspkg_method": "siteCrossPkg", "nested_crosspkg": "siteNested",
              "pointer_method": "sitePointer", "relay_two_pkgs": "siteRelay",
              "local_nested": "siteLocal"}


def launcher(goarch):
    """The command prefix that runs a linux/goarch program here, or None."""
    if goarch in NATIVE:
        return []
    exe = shutil.which(f"qemu-{QEMU.get(goarch, goarch)}-static")
    return [exe] if exe else None


def runnable(rows):
    return [r for r in rows if r["program"] == "multipkg" and r.get("path")
            and r["goos"] == "linux" and launcher(r["goarch"]) is not None]


def runtime_groups(path, goarch):
    """Yield (site, [frame dicts]) per physical frame: the inlined frames
    followed by the function they were inlined into."""
    out = subprocess.run(launcher(goarch) + [path, "frames"], capture_output=True, text=True,
                         timeout=120, check=True)
    for line in out.stdout.splitlines():
        d = json.loads(line)
        group = []
        for fr in d["frames"]:
            group.append(fr)
            if not fr["inlined"]:
                yield d, group
                group = []


def test_inlined_frames_match_the_runtime(fixture_rows):
    rows = runnable(fixture_rows)
    for r in fixture_rows:
        if r["program"] == "multipkg" and r.get("path") and r["goos"] == "linux" and r not in rows:
            uncovered.reduced("qemu user-mode emulation not installed (Debian qemu-user-static)",
                              f"linux/{r['goarch']} go{r['toolchain']} not run")
    if not rows:
        pytest.skip("no runnable multipkg fixture on this machine")
    checked = inlined = 0
    failures = []
    for r in rows:
        with gosym.open(r["path"]) as b:
            cols = b.functions.columns()
            by_name = {n: e for n, e in zip(cols.name, cols.entry)}
            sites_with_inlining = set()
            sites = {}
            site_groups = set()
            for d, group in runtime_groups(r["path"], r["goarch"]):
                sites[d["site"]] = d["expect_inlined"]
                outer = group[-1]
                # PIE: the runtime's addresses carry the load bias.
                bias = int(outer["entry"], 16) - by_name[outer["function"]]
                pc = int(group[0]["pc"], 16) - bias
                want = [(g["function"], g["file"], g["line"], g["inlined"]) for g in group]
                got = [(f.function, f.file, f.line, f.inlined) for f in b.lookup(pc)]
                checked += 1
                if len(group) > 1:
                    inlined += 1
                    sites_with_inlining.add(d["site"])
                    # The site's own frame group (the one holding the site
                    # function) inlines exactly what the program says it does.
                    if outer["function"] == "main." + SITE_FUNCS[d["site"]] and \
                            r["flagset"] != "nolinline":
                        site_groups.add(d["site"])
                        got_inl = [g["function"] for g in group[:-1]]
                        if got_inl != d["expect_inlined"]:
                            failures.append((r["toolchain"], r["goarch"], d["site"],
                                             "runtime inlined", got_inl, "want", d["expect_inlined"]))
                if got != want:
                    failures.append((r["toolchain"], r["goarch"], r["flagset"], d["site"], hex(pc), want, got))
            label = f"{r['toolchain']} {r['goarch']} {r['flagset']}"
            assert set(sites) == set(SITE_FUNCS), f"{label}: probe sites {sorted(sites)}"
            if r["flagset"] == "nolinline":
                assert not sites_with_inlining, f"{label}: inlining with -l?"
            else:
                # Every site the program marks as inlined must show it.
                assert sites_with_inlining == set(SITE_FUNCS), \
                    f"{label}: no inlined frames at {sorted(set(SITE_FUNCS) - sites_with_inlining)}"
                assert site_groups == set(SITE_FUNCS), \
                    f"{label}: no frame of the site function at {sorted(set(SITE_FUNCS) - site_groups)}"
    assert not failures, "\n".join(map(str, failures[:10]))
    assert checked > 50 and inlined > 10, (checked, inlined)


def test_inline_trees_found_on_every_format(fixture_rows, corpus_rows):
    """Binaries from Go 1.13 on carry inline trees that gosym can locate:
    some function must have one, and expanding at every pc of such a
    function gives frames whose last one is that function."""
    paths = [r["path"] for r in fixture_rows
             if r.get("path") and r["program"] == "multipkg" and r["flagset"] != "nolinline"]
    paths += [r["path"] for r in corpus_rows if r.get("path")]
    for path in paths:
        with gosym.open(path) as b:
            assert b.inline_layout in (16, 20), path
            fs = b.functions
            with_tree = [i for i in range(0, len(fs), max(1, len(fs) // 400))
                         if b._tab.inline_tree_offset(i)]
            assert with_tree, f"{path}: no inline tree found"
            f = fs[with_tree[0]]
            saw_inlined = False
            for pc in range(f.entry, f.end):
                # wrappers=True: the whole tree (a wrapper's physical frame
                # is hidden by default, as the runtime hides it).
                frames = b.lookup(pc, wrappers=True)
                if not frames:
                    continue
                assert frames[-1].function == f.name and not frames[-1].inlined
                assert all(fr.inlined for fr in frames[:-1])
                saw_inlined |= len(frames) > 1
            assert saw_inlined, f"{path}: {f.name} has a tree but no pc expands"


def test_batch_symbolize_equals_single_lookups(corpus_rows, fixture_rows):
    """symbolize() (sorted C walk with a per-function parent cache) gives,
    pc for pc, the frames of lookup(), on every binary, for random pcs,
    every pc of some functions, misses and duplicates."""
    import array
    import random

    paths = [r["path"] for r in corpus_rows if r.get("path")]
    paths += [r["path"] for r in fixture_rows if r.get("path") and r["program"] == "multipkg"][:6]
    for path in paths:
        with gosym.open(path) as b:
            cols = b.functions.columns()
            rnd = random.Random(len(path))
            pcs = [rnd.randrange(cols.entry[0], cols.end[-1]) for _ in range(1500)]
            i = rnd.randrange(len(cols.entry))
            pcs += list(range(cols.entry[i], min(cols.end[i], cols.entry[i] + 400)))
            pcs += [0, cols.entry[0] - 1, cols.end[-1], 2**64 - 1, pcs[0], pcs[0]]
            res = b.symbolize(array.array("Q", pcs))
            assert len(res) == len(pcs)
            for k, pc in enumerate(pcs):
                assert res.frames(k) == b.lookup(pc), (path, hex(pc))
            # bias shifts addresses back to link addresses.
            shifted = b.symbolize([p + 0x10000 for p in pcs[:50]], bias=0x10000)
            assert [shifted.frames(k) for k in range(50)] == [res.frames(k) for k in range(50)]


def test_threaded_symbolize_equals_one_thread(corpus_rows):
    """Large batches are cut over several threads and their frames joined;
    the columns must equal the one-thread answer exactly (which the test
    above ties to lookup()): same counts, and first indexes shifted right
    for every share after the first."""
    import array
    import random

    names = ("sqlc-1.31.1-linux-amd64", "go1.21.13-compile-linux-386", "ec-2.3.5-go1.13-linux-ppc64")
    paths = [r["path"] for r in corpus_rows if r.get("path") and r["name"] in names]
    assert paths
    for path in paths:
        with gosym.open(path) as b:
            cols = b.functions.columns()
            rnd = random.Random(11)
            lo = cols.entry[len(cols.entry) // 3]
            pcs = array.array("Q", [rnd.randrange(lo, lo + 400_000) for _ in range(150_000)])
            pcs.extend([0, 2**64 - 1, cols.end[-1]])
            one = b.symbolize(pcs, threads=1)
            for threads in (2, 3, 0):
                many = b.symbolize(pcs, threads=threads)
                assert many.count == one.count and many.nframes == one.nframes, (path, threads)
                for k in range(0, len(pcs), 101):
                    assert many.frames(k) == one.frames(k), (path, threads, hex(pcs[k]))
                by_pc = sorted(range(len(pcs)), key=pcs.__getitem__)
                assert [many.frames(k) for k in by_pc[:2000:7]] == [one.frames(k) for k in by_pc[:2000:7]]
