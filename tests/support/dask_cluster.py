"""A real Dask cluster for tests: one `dask scheduler` and N `dask worker`
processes on 127.0.0.1, on free ports, with this checkout on their
PYTHONPATH; stopped on leaving the context, also when the test fails.

Workers run without a nanny (`--no-nanny`), so killing a worker's process
(`cluster.kill_worker(i)`) is a worker lost for good, as when a machine dies:
the scheduler must re-run its tasks elsewhere.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List

ROOT = Path(__file__).resolve().parents[2]


def missing() -> str:
    """missing returns why a real cluster cannot run here ("" when it can)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return "dask.distributed is not installed (pip install 'gosym[fleet]')"
    return ""


class Cluster:
    """Cluster is a running scheduler (address) and its worker processes."""

    def __init__(self, address: str, workers: List[subprocess.Popen]) -> None:
        self.address = address
        self.workers = workers

    def kill_worker(self, i: int) -> None:
        """kill_worker sends SIGKILL to worker i (no goodbye to the scheduler)."""
        self.workers[i].kill()
        self.workers[i].wait(10)


def _cmd(tool: str) -> List[str]:
    return [sys.executable, "-m", f"distributed.cli.dask_{tool}"]


@contextlib.contextmanager
def dask_cluster(tmp: Path, n_workers: int = 2, timeout: float = 90) -> Iterator[Cluster]:
    """dask_cluster starts a scheduler and n_workers single-threaded workers
    and yields a Cluster once they are all connected."""
    from distributed import Client

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               DASK_DISTRIBUTED__WORKER__DAEMON="False")
    sfile = tmp / "scheduler.json"
    logs = []
    procs: List[subprocess.Popen] = []

    def start(cmd: List[str], name: str) -> subprocess.Popen:
        log = open(tmp / f"{name}.log", "w")
        logs.append(log)
        p = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
        procs.append(p)
        return p

    try:
        start(_cmd("scheduler") + ["--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                   "--scheduler-file", str(sfile)], "scheduler")
        deadline = time.monotonic() + timeout
        while not (sfile.exists() and sfile.stat().st_size):
            if procs[0].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dask scheduler did not start:\n" + (tmp / "scheduler.log").read_text())
            time.sleep(0.1)
        address = json.loads(sfile.read_text())["address"]
        workers = [start(_cmd("worker") + [address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                           "--host", "127.0.0.1", "--local-directory", str(tmp / f"w{i}")],
                         f"worker{i}") for i in range(n_workers)]
        with Client(address, timeout=timeout) as c:
            c.wait_for_workers(n_workers, timeout=timeout)
        yield Cluster(address, workers)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        for log in logs:
            log.close()
