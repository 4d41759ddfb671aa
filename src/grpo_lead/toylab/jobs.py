"""Independent runs on a pool of workers, each handed back as it lands.

The toy grids (`grpo_lead.ablation`) and the real-model benchmark
(benchmarks/bench_real_compare.py) run the jobs their archive (`toylab.archive`) lacks through
`run_jobs`: `workers` at a time, each free worker taking the first job that is ready (a toy
run waits for its seed's warm-up; no core waits while any job is ready), and the caller's
`on_done(job, result)` called in this process as each job ends, where it saves the record and
prints its progress: an interrupted grid loses only the jobs that were running.

Workers are spawned processes (``processes=True``: the toy runs, torch in each, one thread a
job) or threads (jobs that start their own subprocess, as the real-model runs do). After a
failed job no new job starts; the jobs already running end (and are handed back), then the
first failure is raised.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from typing import Any, TypeVar

__all__ = ["run_jobs"]

J = TypeVar("J")
R = TypeVar("R")


def run_jobs(
    jobs: Sequence[J],
    work: Callable[[J], R],
    *,
    workers: int,
    processes: bool = False,
    ready: Callable[[J, list[J]], bool] | None = None,
    on_done: Callable[[J, R], Any] | None = None,
) -> None:
    """Run `work(job)` for every job, `workers` at a time, in order among the ready ones.

    `ready(job, finished)` says whether `job` may start once the jobs of `finished` have ended
    (default: always); `on_done(job, result)` is called here as each job ends. With
    ``processes=True``, `work` and the jobs must pickle (spawned processes)."""
    todo, finished = list(jobs), []
    failed: BaseException | None = None
    with _pool(workers, processes) as pool:
        running: dict[Future, J] = {}
        while todo or running:
            while failed is None and len(running) < workers:
                i = next(
                    (i for i, j in enumerate(todo) if ready is None or ready(j, finished)), None
                )
                if i is None:
                    break
                job = todo.pop(i)
                running[pool.submit(work, job)] = job
            if not running:
                break  # nothing running and nothing ready: a failure stopped the rest
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                job = running.pop(future)
                if future.exception() is not None:
                    failed = failed or future.exception()
                    continue
                finished.append(job)
                if on_done is not None:
                    on_done(job, future.result())
    if failed is not None:
        raise failed


def _pool(workers: int, processes: bool) -> Executor:
    if processes:
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    return ThreadPoolExecutor(workers)
