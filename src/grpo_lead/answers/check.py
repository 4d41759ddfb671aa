"""The checks: `verify_answer` (one completion against its reference, with the reason),
`check_answer`, `check_answers` (a batch over the worker pool) and `answers_equivalent` (two
extracted answers, for majority votes).

Extraction (`extraction`) and the fast path (`equivalence`) run in the calling process; what
they cannot decide goes to math-verify in the pool (`pool`) under the caller's time limit.
The rules and the design: docs/answer-checker.md.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from grpo_lead.answers.equivalence import false_equation, fast_equal
from grpo_lead.answers.extraction import extract_answer, normalize_reference, search_region
from grpo_lead.answers.letters import choice_answer, reference_letter
from grpo_lead.answers.pool import _default_workers, _run_math_verify, run_check, start_pool
from grpo_lead.answers.verdict import MAX_ANSWER_CHARS, MAX_INPUT_CHARS, Verdict

logger = logging.getLogger("grpo_lead.answers")  # the package's one logger, as in pool.py

__all__ = [
    "EXTRACTION_MODES",
    "answers_equivalent",
    "check_answer",
    "check_answers",
    "check_extraction",
    "verify_answer",
]


def _check_timeout(timeout: float) -> float:
    timeout = float(timeout)
    if not (timeout > 0 and math.isfinite(timeout)):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return timeout


EXTRACTION_MODES = ("strict", "lenient")


@dataclass(frozen=True)
class _Job:
    gold: str
    pred: str  # the extracted answer; with raw, the completion's answer region
    raw: bool = False  # math-verify extracts the answer itself (lenient mode)


def check_extraction(extraction: object) -> str:
    """``extraction`` when it is one of `EXTRACTION_MODES`; else a ValueError naming the field
    (the one check of the mode: the config, the rewards and eval call it)."""
    if extraction not in EXTRACTION_MODES:
        raise ValueError(f"extraction must be 'strict' or 'lenient', got {extraction!r}")
    return str(extraction)


def _check_mode(extraction: str) -> bool:
    """True for lenient; a clear error for anything but the two modes."""
    return check_extraction(extraction) == "lenient"


def _lenient_job(completion: str, gold: str) -> _Job | None:
    """math-verify's own extraction over the answer region (never inside an unclosed think)."""
    region, boxed_only = search_region(completion)
    return None if boxed_only or not region.strip() else _Job(gold, region, raw=True)


def _prepare(completion: str, reference: str, lenient: bool = False) -> Verdict | _Job:
    """Everything before math-verify: a final verdict, or the pair math-verify must judge."""
    if not isinstance(completion, str):
        raise TypeError(f"a completion must be a str, got {type(completion).__name__}")
    if not isinstance(reference, str):
        raise TypeError(f"a reference must be a str, got {type(reference).__name__}")
    if len(reference) > MAX_INPUT_CHARS:
        return Verdict(False, None, "too_long")
    gold = normalize_reference(reference)
    if not gold:
        logger.warning("empty reference answer: cannot check")
        return Verdict(False, None, "error")
    if len(gold) > MAX_ANSWER_CHARS:
        return Verdict(False, None, "too_long")
    letter = reference_letter(gold)
    if letter is not None:  # a multiple-choice reference: read a letter A-E (`letters`)
        pred = choice_answer(completion)
        if pred is None:
            return Verdict(False, None, "no_answer")
        return Verdict(pred == letter, pred, "match" if pred == letter else "mismatch")
    pred = extract_answer(completion)
    if pred is None:
        job = _lenient_job(completion, gold) if lenient else None
        return Verdict(False, None, "no_answer") if job is None else job
    if len(pred) > MAX_ANSWER_CHARS:
        return Verdict(False, pred, "too_long")
    if false_equation(pred):  # "1+4+3=13" is not 13: a false statement is a wrong answer
        return Verdict(False, pred, "mismatch")
    fast = fast_equal(gold, pred)
    if fast is not None:
        return Verdict(fast, pred, "match" if fast else "mismatch")
    return _Job(gold, pred)


def _finish(job: _Job, result: tuple[str, str | None]) -> Verdict:
    reason, extracted = result
    if not job.raw:
        return Verdict(reason == "match", job.pred, reason)
    if extracted is None and reason in ("match", "mismatch"):
        reason = "no_answer"  # math-verify found nothing either
    return Verdict(reason == "match", extracted, reason)


def verify_answer(
    completion: str, reference: str, *, timeout: float = 5.0, extraction: str = "strict"
) -> Verdict:
    """Extract the answer of completion and compare it with reference (docs/answer-checker.md).

    ``timeout`` (seconds, floats fine) bounds the whole check: extraction, the wait for a
    free worker and math-verify; past it the verdict is ``reason="timeout"``. Safe to call from
    any thread. On a fresh pool the limit also bounds the wait for a worker that is still
    starting (about 0.5-1 s once): call `start_pool()` first so that a short limit judges the
    first answers like the rest (`check_answers`, which the rewards use, does). ``extraction="lenient"``: where the paper's protocol finds no answer (no box,
    no marker, more than a bare answer), math-verify's own extraction over the text after
    ``</think>`` decides (its last expression), for models that never box their answers.

    >>> verify_answer(r"... so $\\boxed{\\dfrac{1}{2}}$", "0.5")
    Verdict(correct=True, extracted='\\\\dfrac{1}{2}', reason='match')
    """
    deadline = time.monotonic() + _check_timeout(timeout)
    prepared = _prepare(completion, reference, _check_mode(extraction))
    if isinstance(prepared, Verdict):
        return prepared
    return _finish(prepared, run_check(prepared.gold, prepared.pred, deadline, raw=prepared.raw))


def check_answer(
    completion: str, reference: str, *, timeout: float = 5.0, extraction: str = "strict"
) -> bool:
    """``verify_answer(completion, reference, ...).correct``.

    >>> check_answer("-5", "-5")  # a completion that is only an answer is that answer
    True
    >>> check_answer(r"Let me think. 2 + 3 = 5, so it is 5", "5")  # no box, no marker
    False
    """
    return verify_answer(completion, reference, timeout=timeout, extraction=extraction).correct


def _run_jobs(jobs: dict[_Job, float], num_workers: int) -> dict[_Job, tuple[str, str | None]]:
    """math-verify results for jobs (job -> its time budget in seconds), num_workers at a time
    (the calling thread is one of them); a job's budget starts when a thread picks it up.

    Plain daemon threads, not a ThreadPoolExecutor: at interpreter exit concurrent.futures
    joins its threads and would first run every queued check; these stop at once instead
    (the closed pool answers "error").
    """
    results: dict[_Job, tuple[str, str | None]] = {}
    if not jobs:
        return results
    start_pool(num_workers)  # workers' start-up before any limit counts
    todo = iter(jobs.items())
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                item = next(todo, None)
            if item is None:
                return
            job, budget = item
            results[job] = run_check(job.gold, job.pred, time.monotonic() + budget, raw=job.raw)

    helpers = [
        threading.Thread(target=work, name="grpo-lead-answer-check", daemon=True)
        for _ in range(min(num_workers, len(jobs)) - 1)
    ]
    for t in helpers:
        t.start()
    work()
    for t in helpers:
        t.join()
    return results


def check_answers(
    completions: Sequence[str],
    references: Sequence[str],
    *,
    timeout: float = 5.0,
    num_workers: int | None = None,
    extraction: str = "strict",
) -> list[Verdict]:
    """``verify_answer`` over pairs, the math-verify parts spread over ``num_workers`` workers.

    Extraction and the fast path run here; identical (reference, answer) pairs are sent to
    math-verify once. ``num_workers`` defaults to ``min(4, os.cpu_count())``. ``timeout`` bounds
    each pair (its extraction, wait and math-verify) from when a thread picks it up: the batch
    takes at most about ``ceil(pairs needing math-verify / num_workers) * timeout``.
    """
    if len(completions) != len(references):
        raise ValueError(
            f"check_answers needs one reference per completion, got {len(completions)} "
            f"completions and {len(references)} references"
        )
    timeout = _check_timeout(timeout)
    lenient = _check_mode(extraction)
    n = _default_workers() if num_workers is None else int(num_workers)
    if n < 1:
        raise ValueError(f"num_workers must be >= 1, got {num_workers!r}")
    prepared = []
    budgets: dict[_Job, float] = {}  # identical pairs go to math-verify once
    for c, r in zip(completions, references, strict=True):
        t0 = time.monotonic()
        p = _prepare(c, r, lenient)
        prepared.append(p)
        if isinstance(p, _Job):  # the pair's extraction counts against its time limit
            budgets[p] = min(budgets.get(p, timeout), timeout - (time.monotonic() - t0))
    results = _run_jobs(budgets, n)
    return [p if isinstance(p, Verdict) else _finish(p, results[p]) for p in prepared]


def answers_equivalent(a: str, b: str, *, timeout: float = 5.0) -> bool:
    """Whether two already-extracted answers are equivalent (for majority vote / cons@k).

    Same comparison as ``verify_answer`` with ``a`` in the reference's place; answers longer
    than ``MAX_ANSWER_CHARS`` are never equivalent.

    >>> answers_equivalent("1{,}000", "1000")
    True
    """
    if not isinstance(a, str) or not isinstance(b, str):
        raise TypeError("answers_equivalent expects two str")
    timeout = _check_timeout(timeout)
    a, b = a.strip(), b.strip()
    if not a or not b or len(a) > MAX_ANSWER_CHARS or len(b) > MAX_ANSWER_CHARS:
        return False
    la, lb = reference_letter(a), reference_letter(b)
    if la is not None or lb is not None:
        return la == lb
    fast = fast_equal(a, b)
    if fast is not None:
        return fast
    return _run_math_verify(a, b, time.monotonic() + timeout) == "match"
