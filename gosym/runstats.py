"""Running the matrix's programs: `gosym matrix --run N`.

Each built program (of the host's target) runs N times with the given
arguments; the wall time of each run (fork to reap) and its peak resident
set (GNU time's %M, in KiB, else ru_maxrss from wait4) are kept, and the medians are
reported with their spread (max - min) and as ratios to the default build.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple


def _gnu_time() -> Optional[str]:
    for cand in ("/usr/bin/time", shutil.which("gtime")):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def run_once(path: str, args: Sequence[str]) -> Tuple[float, int, int]:
    """run_once runs a program and returns (wall seconds, peak RSS in KiB, exit status).

    A child forked from Python inherits Python's high-water mark in ru_maxrss
    (exec folds the old mm's peak in), so the peak comes from GNU time's %M
    when installed (it forks from a small process); otherwise from ru_maxrss,
    which is then an upper bound.  Wall time includes the fork/exec.
    """
    gtime = _gnu_time()
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as out:
        cmd = [gtime, "-f", "%M", "-o", out.name, path, *args] if gtime else [path, *args]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        rss = int(ru.ru_maxrss)
        if gtime:
            lines = [ln for ln in out.read().splitlines() if ln.strip().isdigit()]
            if lines:
                rss = int(lines[-1])
    return wall, rss, proc.returncode


def summarize(walls: List[float], rss: List[int]) -> Dict[str, Any]:
    """summarize gives medians, minima, maxima and spreads of N runs."""
    return {"n": len(walls), "wall_median": statistics.median(walls), "wall_min": min(walls),
            "wall_max": max(walls), "wall_spread": max(walls) - min(walls),
            "rss_median": int(statistics.median(rss)), "rss_min": min(rss), "rss_max": max(rss),
            "rss_spread": max(rss) - min(rss)}


def measure(builds, n: int, args: Sequence[str],
            progress: Optional[Callable[[str], None]] = None) -> None:
    """measure runs every built program of the host target n times and stores
    `extra["run"]` on each build, with ratios to its toolchain's default build."""
    base: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for b in builds:
        if b.path is None or b.target != b.toolchain.host:
            continue
        walls, rss, codes = [], [], set()
        for _ in range(n):
            w, r, code = run_once(b.path, args)
            walls.append(w)
            rss.append(r)
            codes.add(code)
        s = summarize(walls, rss)
        s["exit_codes"] = sorted(codes)
        b.extra["run"] = s
        if not b.flags.args:
            base.setdefault((b.toolchain.version, b.target), s)
        if progress:
            progress(f"ran {b.toolchain.version} {b.flags.label} x{n}: median "
                     f"{s['wall_median'] * 1000:.2f}ms, peak RSS {s['rss_median']} KiB")
    for b in builds:
        s = b.extra.get("run")
        d = base.get((b.toolchain.version, b.target))
        if s is not None and d is not None:
            s["wall_ratio"] = s["wall_median"] / d["wall_median"] if d["wall_median"] else None
            s["rss_ratio"] = s["rss_median"] / d["rss_median"] if d["rss_median"] else None
