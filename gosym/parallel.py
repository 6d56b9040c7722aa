"""One runner for many independent tasks: a local process pool, or a Dask cluster.

`run(func, items)` calls `func(item)` for every item and yields a
`TaskResult(item, value, error)` per item, in the order of `items`, so that
a local run and a cluster run of the same job give identical output.  A task
that raises becomes a result with `error` set (`"ValueError: bad input"`) and
`value` None; it never fails the run.

- Local (the default): `jobs` processes (None: one per CPU; 1: in this
  process, no pool).  A worker process that dies (killed, or crashed in C on
  hostile input) breaks the pool: a new pool is started and the tasks it was
  running are tried again, up to `retries` times each, then reported as
  errors.
- Dask (`scheduler="tcp://host:8786"`, or a `distributed.Client`): each item
  is one task.  A task that raises is an error row as above; a worker that
  dies has its tasks re-run elsewhere by the scheduler (its
  `distributed.scheduler.allowed-failures` setting bounds how often); a task
  that exhausts that becomes an error row too.  Workers need gosym installed
  (docs/fleet.md: the wheel) and `func` must be a module-level function.

At most `window` tasks are in flight at once (default: 4 per worker), so a
run over millions of items does not hold millions of futures.  Progress goes
to stderr only when stderr is a terminal (or `progress=True`); `progress`
may also be a callable `tick(done, total)`.

This module knows nothing of Go binaries: the survey (gosym.survey) and the
fleet bench are its users.
"""
from __future__ import annotations

import os
import sys
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, Iterable, Iterator, List, NamedTuple, Optional, Tuple, Union

__all__ = ["TaskResult", "run", "describe_error"]


class TaskResult(NamedTuple):
    """TaskResult is the outcome of one task: the item, the function's value
    (None on error) and the error as one line (None on success)."""

    item: Any              #: the item the task was given
    value: Any             #: what func(item) returned; None on error
    error: Optional[str]   #: the error as one line ("ValueError: bad input"), or None


def describe_error(exc: BaseException) -> str:
    """describe_error renders an exception as the one-line error of a row:
    `TypeName: message` (the first line of the message)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _call(func: Callable[[Any], Any], item: Any) -> Tuple[Any, Optional[str]]:
    """Run one task where it executes (pool process or Dask worker); an
    exception becomes the error text, so the run goes on."""
    try:
        return func(item), None
    except Exception as e:  # noqa: BLE001 - every task failure is a row, by design
        return None, describe_error(e)


def _progress(progress: Union[bool, None, Callable[[int, int], None]]) -> Callable[[int, int], None]:
    if callable(progress):
        return progress
    enabled = sys.stderr.isatty() if progress is None else bool(progress)
    state = {"last": 0.0}

    def tick(done: int, total: int) -> None:
        if not enabled:
            return
        now = time.monotonic()
        if done < total and now - state["last"] < 0.2:
            return
        state["last"] = now
        width = 30
        fill = width * done // max(total, 1)
        sys.stderr.write(f"\rgosym: [{'#' * fill}{'.' * (width - fill)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()
    return tick


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1       # the CPUs this process may use
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def run(func: Callable[[Any], Any], items: Iterable[Any], *, jobs: Optional[int] = None,
        scheduler: Any = None, progress: Union[bool, None, Callable[[int, int], None]] = None,
        retries: int = 2, window: Optional[int] = None) -> Iterator[TaskResult]:
    """run calls func(item) for each item, locally or on a Dask cluster, and
    yields a TaskResult per item in the order of items.

    jobs: local processes (None: one per CPU this process may use; 1: no
    pool, this process).
    scheduler: a Dask scheduler address ("tcp://127.0.0.1:8786") or a
    `distributed.Client`; when given, jobs is ignored.  retries: how often a
    local task whose worker process died is tried again.  window: tasks in
    flight at once."""
    todo = list(items)
    tick = _progress(progress)
    total = len(todo)
    tick(0, total)
    if scheduler is not None:
        source = _run_dask(func, todo, scheduler, window)
    elif (jobs or _cpus()) <= 1 or total <= 1:
        source = (TaskResult(item, *_call(func, item)) for item in todo)
    else:
        source = _run_local(func, todo, jobs or _cpus(), retries, window)
    for done, res in enumerate(source, 1):
        tick(done, total)
        yield res


def _run_local(func: Callable[[Any], Any], todo: List[Any], jobs: int, retries: int,
               window: Optional[int]) -> Iterator[TaskResult]:
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    limit = window or 4 * jobs
    attempts = [0] * len(todo)
    pending: Deque[Tuple[int, Any]] = deque()   # (index, future), in input order
    nxt = 0
    pool = ProcessPoolExecutor(max_workers=jobs)

    def settled(f: Any) -> bool:
        return f.done() and not f.cancelled() and not isinstance(f.exception(), BrokenProcessPool)

    def restart() -> None:
        # A worker died and took the pool with it.  Finished tasks keep their
        # result; each unfinished one is re-run alone in a one-process pool
        # (up to `jobs` at a time), so the task that kills its process is
        # told from the ones that were merely running beside it: it alone
        # becomes an error row after `retries` more deaths.
        nonlocal pool, pending
        pool.shutdown(wait=False, cancel_futures=True)
        suspects = [j for j, f in pending if not settled(f)]
        done_now: Dict[int, Future] = {}
        while suspects:
            batch, suspects = suspects[:jobs], suspects[jobs:]
            solo = [(j, ProcessPoolExecutor(max_workers=1)) for j in batch]
            futs = [(j, p, p.submit(_call, func, todo[j])) for j, p in solo]
            for j, p, f in futs:
                try:
                    res = f.result()
                except BrokenProcessPool:
                    attempts[j] += 1
                    if attempts[j] <= retries:
                        suspects.append(j)
                        continue
                    res = (None, f"worker process died {attempts[j]} times running it")
                finally:
                    p.shutdown(wait=True)
                done_now[j] = Future()
                done_now[j].set_result(res)
        pending = deque((j, done_now.get(j, f)) for j, f in pending)
        pool = ProcessPoolExecutor(max_workers=jobs)

    try:
        while nxt < len(todo) or pending:
            try:
                while nxt < len(todo) and len(pending) < limit:
                    pending.append((nxt, pool.submit(_call, func, todo[nxt])))
                    nxt += 1
                i, fut = pending[0]
                value, err = fut.result()
            except BrokenProcessPool:
                restart()
                continue
            pending.popleft()
            yield TaskResult(todo[i], value, err)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(func: Callable[[Any], Any], todo: List[Any], scheduler: Any,
              window: Optional[int]) -> Iterator[TaskResult]:
    try:
        from distributed import Client
    except ImportError:
        from gosym.errors import UnsupportedError
        raise UnsupportedError("running on a Dask cluster needs dask.distributed: "
                               "pip install 'gosym[fleet]'") from None
    own = not isinstance(scheduler, Client)
    client = Client(scheduler, set_as_default=False) if own else scheduler

    def threads() -> int:      # workers may join or leave during the job
        return max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values()))

    try:
        limit = window or 4 * threads()
        pending: Deque[Tuple[int, Any]] = deque()
        nxt = yielded = 0
        while nxt < len(todo) or pending:
            if window is None and yielded % 64 == 63:
                limit = 4 * threads()
            while nxt < len(todo) and len(pending) < limit:
                pending.append((nxt, client.submit(_call, func, todo[nxt], pure=False)))
                nxt += 1
            i, fut = pending.popleft()
            try:
                value, err = fut.result()
            except Exception as e:  # noqa: BLE001 - KilledWorker and the like: a row, not a failed run
                value, err = None, describe_error(e)
            yielded += 1
            yield TaskResult(todo[i], value, err)
    finally:
        if own:
            client.close()
