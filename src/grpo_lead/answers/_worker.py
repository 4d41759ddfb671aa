"""The worker side of the pool: runs in a subprocess as a plain file (``runpy.run_path``).

Stdlib + math-verify only, no package imports: the worker must not import grpo_lead's
``__init__`` chain nor the caller's ``__main__``. The protocol is one JSON line each way:
``{"gold", "pred", "timeout"}`` in, ``{"r": reason}`` out; ``{"ready": true}`` once at start.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys

_WORKER_MEMORY_BYTES = 3 * 1024**3  # RLIMIT_AS of a worker


class _JobTimeout(BaseException):
    """Raised by the worker's interval timer; BaseException so library code cannot eat it."""


def _worker_main() -> None:  # pragma: no cover - runs in the worker process
    import resource
    import signal

    proto = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # stray prints from libraries must not corrupt the protocol
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > _WORKER_MEMORY_BYTES:
            resource.setrlimit(resource.RLIMIT_AS, (_WORKER_MEMORY_BYTES, hard))

    logging.basicConfig(level=logging.ERROR)
    for name in ("math_verify", "latex2sympy2_extended"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # timeouts log whole inputs
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    configs = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]

    def equal(gold: str, pred: str) -> bool:
        g = parse("\\boxed{" + gold + "}", extraction_config=configs, parsing_timeout=None)
        if not g:
            return False
        p = parse("\\boxed{" + pred + "}", extraction_config=configs, parsing_timeout=None)
        # allow_set_relation_comp: "1 < x < 2" answers the interval (1, 2) either way round
        return bool(p) and bool(verify(g, p, timeout_seconds=None, allow_set_relation_comp=True))

    def on_alarm(signum, frame):
        raise _JobTimeout

    signal.signal(signal.SIGALRM, on_alarm)
    equal("\\frac{1}{2}", "0.5")  # warm-up: compiles math-verify's regexes, loads sympy paths
    proto.write(json.dumps({"ready": True, "pid": os.getpid()}).encode() + b"\n")

    cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            return  # the parent is gone
        try:
            job = json.loads(line)
            timeout = float(job["timeout"])
            used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
            with contextlib.suppress(ValueError, OSError):
                # a backstop the kernel enforces even when C code holds the GIL
                resource.setrlimit(resource.RLIMIT_CPU, (int(used + timeout) + 5, cpu_hard))
            try:
                signal.setitimer(signal.ITIMER_REAL, timeout)
                try:
                    result = "match" if equal(job["gold"], job["pred"]) else "mismatch"
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except _JobTimeout:
                result = "timeout"
        except _JobTimeout:
            result = "timeout"
        except Exception:  # a crash in sympy must not kill the worker
            result = "error"
        proto.write(json.dumps({"r": result}).encode() + b"\n")
