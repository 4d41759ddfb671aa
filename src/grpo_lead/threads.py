"""How many CPU threads torch uses in `eval`, `train` and `serve` (`--threads`).

torch's default is one thread per core of the machine. Where the process may use fewer (a
container's CPU quota, a CPU affinity mask) or other jobs already load the cores, its threads
wait on each other: on a loaded 2-core machine one thread generated 5x faster than two (23.7 s
against 116 s for one eval batch of SmolLM2-135M). Without `--threads`:

1. `OMP_NUM_THREADS` set in the environment (torchrun sets 1 per process) is respected;
2. otherwise the CPUs this process may run on (`os.sched_getaffinity`), fewer where the cgroup's
   `cpu.max` quota is lower, less the load already on the machine (1-minute load average,
   rounded), at least 1 and at most `MAX_THREADS` (past it a CPU forward pass gains little).

The choice is logged once with its reasons, so a slow run says what it used.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

logger = logging.getLogger(__name__)

MAX_THREADS = 16
THREADS_HELP = (
    "torch CPU threads (default: the CPUs this process may use, less the load already on them; "
    "OMP_NUM_THREADS when set)"
)
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def cgroup_cpu_limit(path: Path = CGROUP_CPU_MAX) -> float | None:
    """The cgroup v2 CPU quota in CPUs ("200000 100000" -> 2.0), None when unlimited or unknown."""
    try:
        quota, period = path.read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def available_cpus() -> int:
    """CPUs this process may run on: its affinity mask, capped by a cgroup quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    limit = cgroup_cpu_limit()
    return max(1, min(cpus, math.ceil(limit))) if limit else cpus


def choose_threads(*, cpus: int, load: float | None, cap: int = MAX_THREADS) -> int:
    """Threads for `cpus` usable CPUs of which `load` (the load average) are already busy.

    >>> choose_threads(cpus=2, load=1.6)  # a loaded 2-core machine: 2 - 2 -> at least 1
    1
    >>> choose_threads(cpus=64, load=0.1)  # an idle large machine: capped
    16
    """
    busy = round(load) if load is not None else 0
    return max(1, min(cap, cpus - busy))


def threads_arg(text: str) -> int:
    """argparse type of `--threads`: an integer >= 1."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def set_torch_threads(threads: int | None, *, log: bool = True) -> int:
    """Set torch's intra-op threads: `threads` when given (>= 1), else the choice above.
    Returns the number in use; logs it with its reason unless `log` is False (eval logs the
    number with the model it loads, after every input check). Raises ValueError below 1."""
    import torch

    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        chosen, reason = threads, "--threads"
    elif os.environ.get("OMP_NUM_THREADS"):
        chosen, reason = torch.get_num_threads(), "OMP_NUM_THREADS; --threads sets it"
    else:
        cpus = available_cpus()
        try:
            load: float | None = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = None
        chosen = choose_threads(cpus=cpus, load=load)
        load_text = "unknown" if load is None else f"{load:.1f}"
        reason = f"{cpus} CPUs available, load {load_text}; --threads sets it"
    torch.set_num_threads(chosen)
    if log:
        logger.info("torch threads: %d (%s)", chosen, reason)
    return chosen
