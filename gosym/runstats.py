"""Running the matrix's programs: `gosym matrix --run N`.

Each built program (of the host's target) runs N times with the given
arguments; the wall time of each run (fork to reap) and its peak resident
set (GNU time's %M, in KiB, else ru_maxrss from wait4) are kept, and the medians are
reported with their spread (max - min) and as ratios to the default build.

The builds' runs are interleaved (round r runs every program once, in an
order shuffled per round) so that a slow minute of the machine falls on all
of them alike, and the ratio of medians to the default build gets a 95 %
bootstrap interval (resampling each build's runs; fixed seed).  A ratio is a
difference only when its interval excludes 1.0; otherwise the report says
"no measurable difference".
"""
from __future__ import annotations

import os
import random
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


def ratio_interval(a: Sequence[float], b: Sequence[float], resamples: int = 2000,
                   seed: int = 1) -> Tuple[float, float, float]:
    """ratio_interval gives (median(a)/median(b), low, high): a 95 % percentile-bootstrap
    interval of the ratio of medians, each sample resampled with replacement."""
    rng = random.Random(seed)
    point = statistics.median(a) / statistics.median(b)
    ratios = []
    for _ in range(resamples):
        ma = statistics.median(rng.choices(a, k=len(a)))
        mb = statistics.median(rng.choices(b, k=len(b)))
        ratios.append(ma / mb if mb else float("inf"))
    ratios.sort()
    return point, ratios[int(0.025 * resamples)], ratios[min(resamples - 1, int(0.975 * resamples))]


def judge(low: float, high: float) -> str:
    """judge words a ratio interval: "no measurable difference" unless it excludes 1.0."""
    if low <= 1.0 <= high:
        return "no measurable difference"
    return "slower" if low > 1.0 else "faster"


def measure(builds, n: int, args: Sequence[str],
            progress: Optional[Callable[[str], None]] = None) -> None:
    """measure runs every built program of the host target n times, interleaved,
    and stores `extra["run"]` on each build, with ratios to its toolchain's
    default build and their intervals (`wall_ratio_low`/`_high`, `wall_verdict`)."""
    base: Dict[Tuple[str, str], Dict[str, Any]] = {}
    runnable = [b for b in builds if b.path is not None and b.target == b.toolchain.host]
    samples: Dict[int, Tuple[List[float], List[int], set]] = {id(b): ([], [], set()) for b in runnable}
    order = list(runnable)
    rng = random.Random(0)
    for _ in range(n):
        rng.shuffle(order)
        for b in order:
            w, r, code = run_once(b.path, args)
            samples[id(b)][0].append(w)
            samples[id(b)][1].append(r)
            samples[id(b)][2].add(code)
    for b in runnable:
        walls, rss, codes = samples[id(b)]
        s = summarize(walls, rss)
        s["walls"] = walls
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
            if d["wall_median"] and s is not d:
                _, lo, hi = ratio_interval(s["walls"], d["walls"])
                s["wall_ratio_low"], s["wall_ratio_high"] = lo, hi
                s["wall_verdict"] = judge(lo, hi)
            elif s is d:
                s["wall_ratio_low"] = s["wall_ratio_high"] = 1.0
                s["wall_verdict"] = "baseline"
