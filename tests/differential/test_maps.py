"""gosym.maps: /proc/PID/maps parsing and the load bias.

Hand-written maps text for the edge cases; then a real PIE process (the
profload fixture's `pcs` mode prints the runtime's own frames for a stack
with an inlined call and waits): its /proc/PID/maps gives the bias, and
gosym must name the frames as the runtime did, through the API and through
`gosym lookup --pid` / `--maps`.
"""
import json
import subprocess
import sys

import pytest

import gosym
from gosym.container import Container, Segment
from gosym.maps import MapsEntry, bias_from_maps, find_mapping, load_bias, parse_maps
from tests.support import profload

MAPS = """\
00400000-004cf000 r-xp 00000000 fe:00 1234                               /opt/app/bin/server
004cf000-005d0000 r--p 000cf000 fe:00 1234                               /opt/app/bin/server
005d0000-005fd000 rw-p 001d0000 fe:00 1234                               /opt/app/bin/server
005fd000-0063e000 rw-p 00000000 00:00 0
c000000000-c004000000 rw-p 00000000 00:00 0
7f0000000000-7f0000001000 r--p 00000000 fe:00 77                         /tmp/my dir/lib with spaces.so
7f0000001000-7f0000005000 r-xp 00001000 fe:00 77                         /tmp/my dir/lib with spaces.so
7f0000100000-7f0000200000 r-xp 00002000 fe:00 88                         /tmp/gone.so (deleted)
7ffc342a2000-7ffc342c3000 rw-p 00000000 00:00 0                          [stack]
7ffc34343000-7ffc34345000 r-xp 00000000 00:00 0                          [vdso]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
not a maps line
00400000-zz r-xp 00000000 fe:00 1 /bad/range
"""


def test_parse_maps_edge_cases():
    es = parse_maps(MAPS)
    assert len(es) == 11                      # the two bad lines are skipped
    assert es[0] == MapsEntry(0x400000, 0x4cf000, "r-xp", 0, "fe:00", 1234, "/opt/app/bin/server")
    assert es[3].path == "" and es[3].inode == 0
    assert es[5].path == es[6].path == "/tmp/my dir/lib with spaces.so"
    assert es[7].path == "/tmp/gone.so" and es[7].deleted and not es[6].deleted
    assert es[9].path == "[vdso]" and es[10].start == 0xffffffffff600000
    assert parse_maps(MAPS.encode()) == es
    assert parse_maps("") == [] and parse_maps(b"\xff\xfe garbage\n") == []


def test_find_mapping():
    # By address: the mapping holding it, first byte in, end out.
    assert find_mapping(MAPS, 0x400000).perms == "r-xp"
    assert find_mapping(MAPS, 0x4cf000).offset == 0xcf000
    assert find_mapping(MAPS, 0x7f0000001234).path == "/tmp/my dir/lib with spaces.so"
    assert find_mapping(MAPS, 0x7f0000150000).path == "/tmp/gone.so"
    # Outside every mapping, and inside one of another file.
    assert find_mapping(MAPS, 0x1000) is None
    assert find_mapping(MAPS, 0x7f0000005000) is None
    assert find_mapping(MAPS, 0x400100, path="/tmp/gone.so") is None
    # By path: several mappings of one file, the executable one is chosen.
    assert find_mapping(MAPS, path="/tmp/my dir/lib with spaces.so").offset == 0x1000
    assert find_mapping(MAPS, path="/opt/app/bin/server").start == 0x400000
    assert find_mapping(MAPS, path="/tmp/gone.so").start == 0x7f0000100000
    assert find_mapping(MAPS, path="/nowhere") is None
    assert find_mapping(parse_maps(MAPS), 0xc000000010).path == ""


def _container(segs, fmt="ELF"):
    c = Container(buf=b"", format=fmt, arch="amd64", byte_order="little", ptr_size=8)
    c.segments = [Segment(f"LOAD{i}", addr, size, off, size, *fl) for i, (addr, off, size, *fl) in enumerate(segs)]
    return c


def test_load_bias_from_segments():
    # Non-PIE Go: text linked at 0x400000 from offset 0; mapped in place.
    go = _container([(0x400000, 0, 0xcedd0), (0x4cf000, 0xcf000, 0x100678)])
    assert load_bias(go, 0x400000, 0) == 0
    assert load_bias(go, 0x4cf000, 0xcf000) == 0
    # The same segments loaded elsewhere (Go's internal-linking PIE links at 0x400000 too).
    assert load_bias(go, 0x5613f09fc000, 0) == 0x5613f09fc000 - 0x400000
    assert load_bias(go, 0x5613f0acb000, 0xcf000) == 0x5613f09fc000 - 0x400000
    # An external-linker PIE: segments at offsets that are not page aligned;
    # each mapping starts at the page below its segment, and the RW
    # segment's first page also holds the end of the RX one (a different
    # vaddr - offset delta, so picking by containment alone would be wrong).
    c = _container([(0, 0, 0x1a0c, 4), (0x2a3b0, 0x2a3b0, 0x5000, 5), (0x303c0, 0x2f3c0, 0x100, 6)])
    bias = 0x7f0000000000
    assert load_bias(c, bias, 0, "r--p") == bias
    assert load_bias(c, bias + 0x2a000, 0x2a000, "r-xp") == bias
    assert load_bias(c, bias + 0x2a000, 0x2a000) == bias
    assert load_bias(c, bias + 0x30000, 0x2f000, "rw-p") == bias
    assert load_bias(c, bias + 0x30000, 0x2f000) == bias          # by first page, without perms
    assert load_bias(c, bias + 0x2c000, 0x2c000, "r-xp") == bias  # a mapping that starts mid-segment
    assert load_bias(c, 0x1000, 0x900000) is None                # offset in no segment
    # PE: the image is mapped from its headers at the image base.
    pe = _container([(0x140001000, 0x400, 0x1000)], fmt="PE")
    pe.image_base = 0x140000000
    assert load_bias(pe, 0x7ff600000000, 0) == 0x7ff600000000 - 0x140000000


def _groups(frames):
    """The runtime's frames, split into physical frames (inlined ones first)."""
    group = []
    for fr in frames:
        group.append(fr)
        if not fr["inlined"]:
            yield group
            group = []


@pytest.mark.parametrize("flagset", ["pie", "default"])
def test_bias_from_live_process(flagset, tmp_path):
    """A running process's maps give the bias that makes gosym name its pcs
    as the runtime does (PIE: a random load address; non-PIE: bias 0)."""
    path = profload.build(flagset)
    p = subprocess.Popen([path, "pcs"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        maps = open(f"/proc/{p.pid}/maps").read()
        frames = json.loads(line)["frames"]
        with gosym.open(path) as b:
            entry, bias = bias_from_maps(b, maps)
            assert entry.executable and entry.offset == 0
            if flagset == "pie":
                assert bias != 0 and bias % 0x1000 == 0
            else:
                assert bias == 0
            groups = list(_groups(frames))
            assert any(len(g) > 1 for g in groups), "no inlined call in the runtime's stack"
            pcs = [g[0]["pc"] for g in groups]
            res = b.symbolize(pcs, bias=bias)
            for k, g in enumerate(groups):
                want = [(f["function"], f["file"], f["line"], f["inlined"]) for f in g]
                assert [(f.function, f.file, f.line, f.inlined) for f in res.frames(k)] == want
            # The address form: the mapping holding a pc gives the same bias.
            e2, b2 = bias_from_maps(b, maps, address=pcs[0])
            assert (e2, b2) == (entry, bias)
        # The CLI: --pid reads the live maps, --maps a saved copy.
        saved = tmp_path / "maps"
        saved.write_text(maps)
        want = "".join(f"{f['function']}\n{f['file']}:{f['line']}\n" for f in frames)
        for how in (["--pid", str(p.pid)], ["--maps", str(saved)]):
            out = subprocess.run([sys.executable, "-m", "gosym", "lookup", *how, path]
                                 + [hex(pc) for pc in pcs], capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, out.stderr
            assert out.stdout == want
    finally:
        p.stdin.close()
        p.wait(timeout=30)


def test_lookup_maps_errors(tmp_path):
    """A binary that is not in the maps, or an unreadable maps file: one line, exit 1."""
    path = profload.build("pie")
    other = tmp_path / "maps"
    other.write_text(MAPS)
    for how, text in ((["--maps", str(other)], "is not mapped"),
                      (["--maps", str(tmp_path / "absent")], "No such file"),
                      (["--pid", "999999999"], "No such file")):
        r = subprocess.run([sys.executable, "-m", "gosym", "lookup", *how, path, "0x1"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr.startswith("gosym: ") and r.stderr.count("\n") == 1 and text in r.stderr, r.stderr
    r = subprocess.run([sys.executable, "-m", "gosym", "lookup", "--pid", "1", "--bias", "0x10", path],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "not allowed with" in r.stderr
