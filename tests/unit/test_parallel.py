"""gosym.parallel.run: the one runner, locally and on Dask.

- Results come back in input order with the value the function returns
  (checked against calling it directly), for 1 process, a pool and a
  LocalCluster: the three give identical results.
- A task that raises is an error row (`TypeName: message`), the others are
  done.
- A local worker process that dies (SIGKILL, as a crash in C would) is
  replaced and its task tried again: killed once, the run still gives every
  value; killed every time, that item alone is an error row after the retries.
- Progress: a callable gets (done, total) up to (n, n); nothing is printed on
  stderr when it is not a terminal.
The real multi-process cluster (scheduler + two workers, one killed mid-job)
is in tests/differential/test_survey.py.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from gosym.parallel import TaskResult, describe_error, run


def square_or_fail(x: int) -> int:
    if x % 7 == 3:
        raise ValueError(f"no {x}\nsecond line")
    return x * x


def die_once(arg) -> int:
    """Kills its own process the first time it sees item 5 (a marker file
    says it happened), so a retry succeeds."""
    marker, x = arg
    if x == 5 and not os.path.exists(marker):
        Path(marker).write_text("died")
        os.kill(os.getpid(), signal.SIGKILL)
    return x + 100


def die_always(x: int) -> int:
    if x == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def expected(items):
    out = []
    for x in items:
        try:
            out.append(TaskResult(x, square_or_fail(x), None))
        except ValueError as e:
            out.append(TaskResult(x, None, describe_error(e)))
    return out


ITEMS = list(range(40))


def test_error_text_is_one_line():
    assert describe_error(ValueError("a\nb")) == "ValueError: a"
    assert describe_error(KeyError()) == "KeyError"


@pytest.mark.parametrize("jobs", [1, 2])
def test_local_order_values_and_error_rows(jobs):
    got = list(run(square_or_fail, ITEMS, jobs=jobs, progress=False, window=3))
    assert got == expected(ITEMS)
    errors = [r for r in got if r.error]
    assert len(errors) == 6 and errors[0].error == "ValueError: no 3"


def test_progress_callable_and_no_tty_output(capfd):
    ticks = []
    list(run(square_or_fail, ITEMS[:5], jobs=1, progress=lambda d, t: ticks.append((d, t))))
    assert ticks[0] == (0, 5) and ticks[-1] == (5, 5)
    list(run(square_or_fail, ITEMS[:5], jobs=2))          # auto: stderr is not a terminal here
    assert capfd.readouterr().err == ""


def test_dead_local_worker_is_replaced_and_its_task_retried(tmp_path):
    marker = str(tmp_path / "died")
    items = [(marker, x) for x in range(12)]
    got = list(run(die_once, items, jobs=2, progress=False))
    assert os.path.exists(marker)                          # a worker really died
    assert [r.value for r in got] == [x + 100 for x in range(12)]
    assert all(r.error is None for r in got)


def test_task_that_always_kills_its_worker_is_an_error_row():
    got = list(run(die_always, list(range(6)), jobs=2, progress=False, retries=1))
    assert [r.item for r in got] == list(range(6))
    bad = [r for r in got if r.error]
    assert [r.item for r in bad] == [2] and "worker process died" in bad[0].error
    assert [r.value for r in got if not r.error] == [0, 1, 3, 4, 5]


def test_local_cluster_gives_the_same_rows():
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed "
                                      "(pip install 'gosym[fleet]')")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        by_client = list(run(square_or_fail, ITEMS, scheduler=client, progress=False))
        by_address = list(run(square_or_fail, ITEMS[:8], scheduler=cluster.scheduler_address,
                              progress=False))
    assert by_client == expected(ITEMS)
    assert by_address == expected(ITEMS[:8])
