"""The worker side of the pool: runs in a subprocess as a plain file (``runpy.run_path``).

Stdlib + math-verify only, no package imports: the worker must not import grpo_lead's
``__init__`` chain nor the caller's ``__main__``. The protocol is one JSON line each way:
``{"gold", "pred", "timeout", "raw"}`` in, ``{"r": reason, "x": extracted}`` out;
``{"ready": true}`` once at start. ``raw``: ``pred`` is a completion's text for math-verify's
own (lenient) extraction, and ``x`` the answer it extracted.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import sys
from typing import Any

_WORKER_MEMORY_BYTES = 3 * 1024**3  # RLIMIT_AS of a worker
_PARSE_CACHE_SIZE = 2048  # parsed answers kept (references repeat across a group)
# Checked once before the worker says it is ready: the first check of each kind of answer
# pays sympy's lazy imports and caches (0.2-1.5 s each: polynomials, intervals, trigonometry,
# relations), which would otherwise eat the first checks' time limits.
_WARM_UP = (
    ("\\frac{1}{2}", "0.5"),
    ("x^2+2x+1", "(x+1)^2"),
    ("(3,4]", "[3,4]"),
    ("\\frac{\\sqrt{21}}{5}", "\\sqrt{0.84}"),
    ("\\sin x", "\\cos x"),
    ("x \\in [1,2]", "1 \\le x \\le 2"),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "(1,2)"),
    ("2\\pi", "\\pi \\cdot 2"),
    ("y=2x+3", "2x+3"),
)


class _JobTimeout(BaseException):
    """Raised by the worker's interval timer; BaseException so library code cannot eat it."""


def _limit_resources() -> None:  # pragma: no cover - runs in the worker process
    import resource

    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > _WORKER_MEMORY_BYTES:
            resource.setrlimit(resource.RLIMIT_AS, (_WORKER_MEMORY_BYTES, hard))


class _Checker:  # pragma: no cover - runs in the worker process
    """math-verify's parse + verify, with the parses of recent answers kept: a reference is
    parsed once for all the completions of its group (G of them in training)."""

    def __init__(self) -> None:
        from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

        self._parse, self._verify = parse, verify
        self._boxed = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
        self._lenient = [LatexExtractionConfig(), ExprExtractionConfig()]
        self._cache: collections.OrderedDict[tuple[str, bool], list[Any]] = (
            collections.OrderedDict()
        )

    def parsed(self, text: str, *, raw: bool = False) -> list[Any]:
        """math-verify's parse of an extracted answer (boxed), or of raw text (its own lenient
        extraction: the last expression it finds)."""
        key = (text, raw)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        out: list[Any]
        if raw:
            out = self._parse(text, extraction_config=self._lenient, parsing_timeout=None)
        else:
            out = self._parse(
                "\\boxed{" + text + "}", extraction_config=self._boxed, parsing_timeout=None
            )
        self._cache[key] = out
        if len(self._cache) > _PARSE_CACHE_SIZE:
            self._cache.popitem(last=False)
        return out

    def check(self, gold: str, pred: str, *, raw: bool = False) -> tuple[str, str | None]:
        """(reason, the answer math-verify extracted when raw)."""
        g = self.parsed(gold)
        p = self.parsed(pred, raw=raw) if g else []
        extracted = str(p[-1]) if raw and p else None
        # allow_set_relation_comp: "1 < x < 2" answers the interval (1, 2) either way round
        ok = bool(g) and bool(p)
        ok = ok and bool(self._verify(g, p, timeout_seconds=None, allow_set_relation_comp=True))
        return ("match" if ok else "mismatch"), extracted


def _run_job(checker: _Checker, job: dict[str, Any], cpu_hard: int) -> tuple[str, str | None]:
    """One job under its deadline: an interval timer, and a CPU-time limit as backstop."""
    import resource
    import signal

    timeout = float(job["timeout"])
    used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    with contextlib.suppress(ValueError, OSError):
        # a backstop the kernel enforces even when C code holds the GIL
        resource.setrlimit(resource.RLIMIT_CPU, (int(used + timeout) + 5, cpu_hard))
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return checker.check(job["gold"], job["pred"], raw=bool(job.get("raw")))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _JobTimeout:
        return "timeout", None


def _worker_main() -> None:  # pragma: no cover - runs in the worker process
    import resource
    import signal

    proto = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # stray prints from libraries must not corrupt the protocol
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_resources()
    logging.basicConfig(level=logging.ERROR)
    for name in ("math_verify", "latex2sympy2_extended"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # timeouts log whole inputs

    def on_alarm(signum: int, frame: object) -> None:
        raise _JobTimeout

    signal.signal(signal.SIGALRM, on_alarm)
    checker = _Checker()
    for gold, pred in _WARM_UP:  # compiles math-verify's regexes, imports what sympy needs
        checker.check(gold, pred)
    proto.write(json.dumps({"ready": True, "pid": os.getpid()}).encode() + b"\n")
    cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    for line in iter(sys.stdin.buffer.readline, b""):  # EOF: the parent is gone
        try:
            result, extracted = _run_job(checker, json.loads(line), cpu_hard)
        except _JobTimeout:
            result, extracted = "timeout", None
        except Exception:  # a crash in sympy must not kill the worker
            result, extracted = "error", None
        proto.write(json.dumps({"r": result, "x": extracted}).encode() + b"\n")
