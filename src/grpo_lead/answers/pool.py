"""The worker pool: math-verify in long-lived subprocesses, each check under a hard deadline.

See the package docstring ("Timeout design, and why"). The worker side is ``_worker.py``, run
as a plain file (``runpy``) so that a worker imports neither this package nor the caller's code.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import json
import logging
import math
import os
import select
import subprocess
import sys
import threading
import time

from grpo_lead.answers.verdict import REASONS

logger = logging.getLogger("grpo_lead.answers")

KILL_GRACE_S: float = 0.25
"""The parent kills a worker that has not answered ``timeout + KILL_GRACE_S`` after the job."""
_WORKER_BOOT_TIMEOUT_S = 60.0
_WORKER_MAX_JOBS = 5_000  # recycle a worker after this many jobs (bounds sympy cache growth)
_WORKER_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_worker.py")

_BOOT_CODE = (
    "import sys\n"
    "if sys.path and sys.path[0] == '': del sys.path[0]\n"
    "import runpy\n"
    "runpy.run_path(sys.argv[1], run_name='_grpo_lead_answers_worker')['_worker_main']()\n"
)


class _WorkerGone(Exception):
    """The worker died or closed its pipe; ``sent`` tells whether it had the job."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class _Worker:
    """One math-verify subprocess, used by one thread at a time."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT_CODE, _WORKER_FILE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
            start_new_session=True,  # a terminal's Ctrl-C goes to the parent, not the workers
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in_fd = self.proc.stdin.fileno()
        self._out_fd = self.proc.stdout.fileno()
        self._poll = select.poll()  # poll, not select: fds above 1024 in big processes
        self._poll.register(self._out_fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        self._buf = b""
        self.started = time.monotonic()
        self.ready = False
        self.jobs = 0

    def _read_line(self, deadline: float) -> bytes | None:
        """One line from the worker, None when the deadline passes first."""
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if not self._poll.poll(max(1, math.ceil(left * 1000))):
                continue
            chunk = os.read(self._out_fd, 65536)
            if not chunk:
                raise _WorkerGone("worker closed its output", sent=True)
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def wait_ready(self, deadline: float | None = None) -> bool | None:
        """Wait until the worker has imported math-verify, at most until ``deadline``: True
        when ready, False when the deadline came first (it goes on starting), None when it
        failed to start (``_WORKER_BOOT_TIMEOUT_S`` after it was started, at the latest)."""
        if self.ready:
            return True
        boot_deadline = self.started + _WORKER_BOOT_TIMEOUT_S
        try:
            line = self._read_line(min(boot_deadline, deadline or boot_deadline))
            if line is None and time.monotonic() < boot_deadline:
                return False
            self.ready = line is not None and json.loads(line).get("ready") is True
        except (_WorkerGone, OSError, ValueError):
            self.ready = False
        if not self.ready:
            code = self.proc.poll()
            if code is None:  # alive but slow: say so, not "failed (exit code None)"
                logger.error("an answer-checker worker did not start within %g s (an overloaded "
                             "machine?); it is replaced", _WORKER_BOOT_TIMEOUT_S)  # fmt: skip
            else:
                logger.error("an answer-checker worker failed to start (exit code %s)", code)
            return None
        return True

    def request(self, job: dict[str, object], timeout: float) -> tuple[str, str | None] | None:
        """The worker's (reason, extracted) for job, None if it did not answer in
        timeout + grace."""
        view = memoryview((json.dumps(job) + "\n").encode())
        try:
            while view:
                view = view[os.write(self._in_fd, view) :]
        except OSError as e:
            raise _WorkerGone("worker closed its input", sent=False) from e
        self.jobs += 1
        line = self._read_line(time.monotonic() + timeout + KILL_GRACE_S)
        if line is None:
            return None
        reply = json.loads(line)
        extracted = reply.get("x")
        return str(reply["r"]), (None if extracted is None else str(extracted))

    def kill(self, *, close_pipes: bool = True) -> None:
        """SIGKILL and reap (idempotent). Pipes stay open when another thread may be reading
        them (it sees EOF, then releases the worker, which closes them): closing an fd under a
        reader could hand it a reused fd number."""
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        if close_pipes:
            for f in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    f.close()  # type: ignore[union-attr]


class _Waiter:
    """A caller queued for a worker: granted a worker, START (a free slot: start one), CLOSED."""

    __slots__ = ("cond", "grant")

    def __init__(self, lock: threading.Lock) -> None:
        self.cond = threading.Condition(lock)
        self.grant: _Worker | str | None = None


START, CLOSED, TIMEOUT = "start", "closed", "timeout"


class _Pool:
    """Workers shared by every thread of this process, handed out in arrival order.

    A released worker goes straight to the longest-waiting caller (never back to the idle list
    while someone waits), so a thread that checks in a tight loop cannot take it again before
    the others: 8 threads on 2 workers each get their turn.
    """

    def __init__(self, max_workers: int) -> None:
        self.pid = os.getpid()
        self.max_workers = max_workers
        self.closed = False
        self._lock = threading.Lock()
        self._waiters: collections.deque[_Waiter] = collections.deque()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._live = 0  # workers started or starting; never above max_workers
        self.warned_starting = False  # `_timed_out_starting` has spoken for this pool

    def grow(self, n: int) -> None:
        with self._lock:
            if n > self.max_workers:
                self.max_workers = n
                self._grant_free_slots()
        self.prestart()

    def prestart(self) -> None:
        """Start every worker the pool may have and is not running yet, idle: they boot in
        parallel, in the background, before any check needs them."""
        with self._lock:
            k = 0 if self.closed else self.max_workers - self._live
            self._live += k
        for _ in range(k):
            w = self._start()
            if w is not None:
                with self._lock:
                    self._hand_over(w)

    def all_ready(self, n: int) -> bool:
        with self._lock:
            return len(self._all) >= n and all(w.ready for w in self._all)

    def starting(self) -> bool:
        """Whether a worker of the pool is still starting."""
        with self._lock:
            return any(not w.ready for w in self._all)

    def _grant_free_slots(self) -> None:  # lock held
        while self._waiters and self._live < self.max_workers:
            self._live += 1
            self._grant(self._waiters.popleft(), START)

    @staticmethod
    def _grant(waiter: _Waiter, grant: _Worker | str) -> None:  # lock held
        waiter.grant = grant
        waiter.cond.notify()

    def _hand_over(self, w: _Worker) -> None:  # lock held
        if self._waiters:
            self._grant(self._waiters.popleft(), w)
        else:
            self._idle.append(w)

    def _start(self) -> _Worker | None:
        """A new worker registered in the pool (its slot already counted), or None."""
        try:
            w = _Worker()
        except OSError:
            logger.exception("cannot start an answer-checker worker")
            w = None
        with self._lock:
            if w is not None and not self.closed:
                self._all.add(w)
                return w
            self._live -= 1
            self._grant_free_slots()
        if w is not None:
            w.kill()
        return None

    def acquire(self, deadline: float) -> _Worker | str:
        """A worker for this caller (first come, first served), else CLOSED, or TIMEOUT when
        the deadline passes in the queue."""
        with self._lock:
            if self.closed:
                return CLOSED
            grant: _Worker | str | None = None
            if self._waiters:
                pass  # others came first
            elif self._idle:  # a ready one first (another may still be starting), else the newest
                ready = [w for w in self._idle if w.ready and w.proc.poll() is None]
                grant = ready[-1] if ready else self._idle[-1]
                self._idle.remove(grant)
            elif self._live < self.max_workers:
                self._live += 1
                grant = START
            if grant is None:
                grant = self._wait(deadline)
        return (self._start() or CLOSED) if grant == START else grant

    def _wait(self, deadline: float) -> _Worker | str:  # lock held
        waiter = _Waiter(self._lock)
        self._waiters.append(waiter)
        while waiter.grant is None:
            left = deadline - time.monotonic()
            if left <= 0:
                self._waiters.remove(waiter)
                return TIMEOUT
            waiter.cond.wait(left)
        return waiter.grant

    def release(self, w: _Worker, *, healthy: bool, replace: bool = True) -> None:
        """Give w back; an unhealthy or worn-out one is killed and (if replace) replaced now,
        so the replacement starts up while other work goes on."""
        with self._lock:
            if healthy and w.jobs < _WORKER_MAX_JOBS and not self.closed:
                self._hand_over(w)
                return
            self._all.discard(w)
        w.kill()
        if replace and not self.closed:
            new = self._start()
            if new is not None:
                with self._lock:
                    self._hand_over(new)
            return
        with self._lock:
            self._live -= 1
            self._grant_free_slots()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            idle = list(self._idle)
            busy = [w for w in self._all if w not in idle]
            self._idle.clear()
            self._all.clear()
            while self._waiters:
                self._grant(self._waiters.popleft(), CLOSED)
        for w in idle:
            w.kill()
        for w in busy:
            w.kill(close_pipes=False)  # its thread sees EOF, reports "error", releases it


_POOL: _Pool | None = None
_POOL_LOCK = threading.Lock()
_EXITING = False


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _get_pool() -> _Pool | None:
    global _POOL
    with _POOL_LOCK:
        if _EXITING:
            return None
        if _POOL is None or _POOL.closed or _POOL.pid != os.getpid():
            _POOL = _Pool(_default_workers())
            _POOL.prestart()  # every worker boots at once, from the first check on
        return _POOL


def start_pool(num_workers: int | None = None) -> bool:
    """Start the worker pool (at least ``num_workers`` workers, default ``min(4, CPUs)``) and
    wait until every worker is ready (about 0.5-1 s once; nothing when it is). A caller that
    does this before it counts its limits (``check_answers`` does) gets every check judged
    from the first one on; without it a check's limit also bounds the wait for a worker that
    is still starting. False when a worker failed to start or the pool is closed."""
    pool = _get_pool()
    if pool is None:
        return False
    pool.grow(int(num_workers or 0))
    n = pool.max_workers  # all of them: an idle one still starting could be handed out
    if pool.all_ready(n):
        return True
    deadline = time.monotonic() + _WORKER_BOOT_TIMEOUT_S
    held = []
    for _ in range(n):
        w = pool.acquire(deadline)
        if not isinstance(w, _Worker):
            break
        held.append(w)
    ok = len(held) == n
    for w in held:  # all started before: their start-ups overlap
        ready = w.wait_ready() is True
        pool.release(w, healthy=ready, replace=False)
        ok = ok and ready
    return ok


def close_pool() -> None:
    """Kill and reap every worker now; the next check that needs one starts a fresh pool."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None and pool.pid == os.getpid():
        pool.close()


def _at_exit() -> None:
    global _EXITING
    with _POOL_LOCK:
        _EXITING = True
    close_pool()


def _after_fork_in_child() -> None:
    # The inherited pool's workers belong to the parent: forget them, never kill them.
    global _POOL, _POOL_LOCK
    _POOL = None
    _POOL_LOCK = threading.Lock()


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _run_math_verify(gold: str, pred: str, deadline: float, *, raw: bool = False) -> str:
    """'match' / 'mismatch' / 'timeout' / 'error' from a worker of the pool."""
    return run_check(gold, pred, deadline, raw=raw)[0]


def run_check(
    gold: str, pred: str, deadline: float, *, raw: bool = False
) -> tuple[str, str | None]:
    """(reason, extracted) from a worker: reason is 'match' / 'mismatch' / 'timeout' / 'error';
    extracted is math-verify's own extraction of ``pred`` when ``raw`` (``pred`` is then a
    completion's text, see ``_worker.py``), else None.

    ``deadline`` (``time.monotonic()``) bounds everything: the wait for a worker, for its
    start-up when it is still starting (the pool starts its workers when it is created; a
    worker not ready by the deadline goes on starting for the next caller and this check is
    a "timeout"), and the check. The limit is a promise to the caller (the trainer): it holds
    from the first call. ``start_pool`` pays the start-up before a limit counts.
    """
    pool = _get_pool()
    if pool is None:
        return "error", None  # interpreter shutting down
    for attempt in range(2):
        w = pool.acquire(deadline)
        if w == TIMEOUT:
            if pool.starting():
                _timed_out_starting(pool)
            return "timeout", None
        if not isinstance(w, _Worker):
            return "error", None
        ready = w.wait_ready(deadline)
        if ready is None:
            pool.release(w, healthy=False, replace=False)  # no start-up storm
            return "error", None
        if not ready:
            pool.release(w, healthy=True)  # it goes on starting, for the next caller
            _timed_out_starting(pool)
            return "timeout", None
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            pool.release(w, healthy=True)
            return "timeout", None
        try:
            reply = w.request({"gold": gold, "pred": pred, "timeout": timeout, "raw": raw}, timeout)
        except _WorkerGone as e:
            pool.release(w, healthy=False)
            if not e.sent and attempt == 0:
                continue  # died between jobs (killed from outside): retry on a fresh one
            logger.warning("an answer-checker worker died during a check")
            return "error", None
        except (OSError, ValueError, KeyError):
            logger.exception("answer-checker worker protocol error")
            pool.release(w, healthy=False)
            return "error", None
        if reply is None:
            logger.info("answer check timed out after %.2f s; worker replaced", timeout)
            pool.release(w, healthy=False)
            return "timeout", None
        pool.release(w, healthy=True)
        return reply if reply[0] in REASONS else ("error", None)
    return "error", None


def _timed_out_starting(pool: _Pool) -> None:
    """Say once per pool that a limit passed before the answer was looked at: the "timeout"
    is the workers' start-up (slow on a loaded machine), not the answer's."""
    with pool._lock:
        if pool.warned_starting:
            return
        pool.warned_starting = True
        first = min((w.started for w in pool._all), default=time.monotonic())
    waited = time.monotonic() - first
    logger.warning(
        "answer checks timed out while the checker's workers were still starting (%.1f s so "
        "far): those answers were not checked. Call grpo_lead.answers.start_pool() before "
        "limits count (check_answers and the rewards do), or give a longer timeout",
        waited,
    )
