"""Extract final answers from model output and decide whether they match a reference.

Pure with respect to the rest of grpo-lead: stdlib only at import (no torch, no trainer code);
math-verify is imported only inside the worker processes described below.

Layout: ``extraction`` (what the answer is), ``equivalence`` (normal forms and the fast path),
``numeric`` (constants and expressions evaluated for the fast path), ``pool`` and ``_worker``
(math-verify in subprocesses under a deadline), ``verdict`` (the result
type and size limits); this module is the public API. ``<think>`` handling is
``grpo_lead.reasoning``'s.

What is extracted (``extract_answer``), in this order
-----------------------------------------------------
1. The *region* searched is the text after the last ``</think>`` when there is one (the
   reasoning before it is a draft; upstream DeepScaleR also scores the text after it). When the
   completion opens ``<think>`` and never closes it (truncated), only a boxed answer counts:
   step 3 is skipped. The tags are looked for in the whole text; the region is then cut to its
   last ``MAX_INPUT_CHARS`` characters (answers sit at the end; this bounds all the work).
2. The last ``\\boxed{...}`` / ``\\fbox{...}`` in the region, nested braces handled. Boxes that
   follow each other with nothing but connectors between them (spaces, ``$``, commas, "or",
   "and") form one answer: ``\\boxed{6} or \\boxed{7}`` is extracted as ``"6, 7"`` (a hedge,
   judged as the set {6, 7}: wrong for 7; a repeated answer counts once), while boxes separated
   by prose mean the model changed its mind and the last one wins. An unterminated last box
   (``\\boxed{12`` at the end of a truncated answer) is no answer at all: nothing earlier is
   taken instead. An empty last box (an echoed ``\\boxed{}`` instruction) falls through to 3.
3. Otherwise the last answer marker in the region: GSM8K's ``#### n``, ``**Answer:** X``,
   ``Answer: X`` / ``Final answer: X``, "the (final) answer is X", a "Final Answer" heading
   followed by the answer on the next line. X is the math span ``$...$`` / ``\\(...\\)`` /
   ``\\[...\\]`` right after the marker, else the rest of the sentence (up to a full stop,
   ", which ...", " because ..."); "18 dollars" -> "18". A sentence of prose gives its final
   expression: "Final Answer: The largest $n$ is 34." -> "34", "Final answer: 5 times 3 is
   15." -> "15" ("and"/"or" join a list and are not prose: "1, 2 and 3" stays). What follows
   a marker but is no answer is skipped for the marker before it: an (echoed) empty box ("The
   answer is \\boxed{}."), a fragment of words ending on one no sentence ends on ("The answer
   is: the", "Answer: we have": a completion cut off after its marker).
4. Otherwise a completion that is only an answer (one line of at most 80 characters with at
   most one word of prose: "-5", "$\\frac{10}{9}$", "18 dollars") is that answer.
5. Nothing found: ``None``. ``verify_answer`` reports ``reason="no_answer"``, ``correct=False``.
   There is deliberately no "last number in the text" fallback in the default (strict) mode:
   reasoning that only restates the question's numbers must not score. ``extraction="lenient"``
   lets math-verify's own extraction decide here instead (never inside an unclosed think).

Multiple choice: when the reference is a single letter A-E (``C``, ``(C)``, ``\\text{(C)}``),
``verify_answer`` extracts a letter instead: the boxed content (``\\boxed{C}``,
``\\boxed{\\text{(C)}}``, ``\\boxed{(C) 12}``), else a marker ("answer is (C)", "Answer: C"),
else a letter closing the text ("... C)" or a last line that is just the letter). An answer
naming several letters ("A or B", ``\\boxed{A} or \\boxed{B}``) names none. The letters are
compared directly.

How answers are compared (``verify_answer`` / ``answers_equivalent``)
--------------------------------------------------------------------
1. Fast path in the calling process, no math-verify (microseconds): a normalised string
   (``canonical_answer``: no spaces, ``$``, ``\\left``/``\\right``, thin spaces,
   ``\\dfrac``/``\\tfrac`` -> ``\\frac``, degree signs, a ``\\text{...}`` wrapper, thousands
   separators, leading zeros, trailing decimal zeros, a leading ``x=``) equal on both sides is a
   match. Two plain rationals (integers, decimals, ``\\frac{a}{b}``, ``a/b``, repeating decimals
   ``0.\\overline{3}``; ``p%`` counts as p and as p/100) are compared exactly: equal is a match,
   different a mismatch, except a fraction close to a decimal, which is left to math-verify (its
   rounding to 6 places decides whether 0.333333 is 1/3). Numerals with a base subscript
   (``52_8``) need the same base. Constants (``\\frac{\\sqrt{21}}{5}``, ``288\\pi``, tuples of
   them) and expressions in single-letter variables are evaluated (``numeric``): clearly
   different values are a mismatch, equal constants a match; a ``\\text{}`` word, a matrix or a
   list is never a number.
2. Everything else goes to math-verify: ``parse`` of ``\\boxed{answer}`` on both sides with
   ``LatexExtractionConfig`` (boxed priority 0) and ``ExprExtractionConfig``, then ``verify``
   with ``allow_set_relation_comp=True`` ("1 < x < 2" answers "(1, 2)"). math-verify only sees
   the extracted answer, never the whole completion. Nothing here evals model text; math-verify
   hands sympy's ``parse_expr`` only strings of digits and operators.

Timeout design, and why
-----------------------
math-verify bounds its work with ``signal.alarm``: that raises ``ValueError`` off the main
thread (TRL runs async reward functions in a daemon thread), accepts integer seconds only (a
float timeout makes it silently return False for valid input), and bounds each call separately.
So math-verify runs here in a small pool of long-lived worker processes instead:

- Workers are plain subprocesses (``subprocess.Popen`` of ``_worker.py`` run through ``runpy``):
  fork+exec, so a parent that holds torch threads is never forked into a live Python; the
  caller's ``__main__`` is never re-imported (``multiprocessing``'s spawn would re-run an
  unguarded training script); one overrunning worker can be killed alone (a
  ``ProcessPoolExecutor`` breaks as a whole when one worker dies).
- The pool starts on the first check that needs math-verify (or ``start_pool()``), all its
  workers at once, in parallel (about 1-2 s each: Python, sympy, math-verify and warm-up checks
  of each common kind of answer); they are reused, and are at most
  ``max(min(4, os.cpu_count()), num_workers asked of check_answers)``. Each caller thread holds
  one worker for the duration of one check, so any thread can call, any number at once.
  Callers beyond the pool size queue, and a released worker goes to the longest-waiting caller
  (first come, first served: a thread checking in a tight loop cannot starve the others).
- Inside a worker, math-verify runs in the worker's main thread with its own alarms off, and the
  whole check (both parses and the comparison) runs under one ``setitimer`` deadline: float
  seconds work. A per-job CPU-time ``RLIMIT_CPU`` and an address-space limit make even an
  orphaned worker stuck in C code (a big-integer power holds the GIL, so no signal handler
  runs) die on its own.
- The parent enforces the hard bound: it waits ``timeout + KILL_GRACE_S`` seconds for the
  answer and otherwise kills the worker (SIGKILL, reaped at once: no zombies) and starts a
  replacement in the background. The verdict is then ``reason="timeout"``.
- A check's time limit is a promise to the caller (the trainer), held from the first call: it
  counts from the call and covers extraction (linear in the input, which is cut to
  ``MAX_INPUT_CHARS``), the wait in the queue for a worker, the wait for a worker still
  starting, and math-verify. A worker not ready by then goes on starting for the next caller;
  the check is a ``timeout``. Workers' start-up is paid *before* limits count by
  ``start_pool()``, which ``check_answers`` calls first (once per pool: nothing when it is
  up), so a trainer's first batch is judged like the others; each pair's limit then starts
  when one of its threads picks the pair up.
- Shutdown: ``atexit`` kills and reaps every worker; ``close_pool()`` does the same on demand
  (a later check starts a fresh pool). Workers also exit on EOF of their stdin, i.e. when the
  parent is gone. A process forked from the parent drops the inherited pool and starts its own.

Verdict reasons: ``match``, ``mismatch``, ``no_answer``, ``timeout``, ``too_long`` (reference
over ``MAX_INPUT_CHARS``, or reference answer / extracted answer over ``MAX_ANSWER_CHARS``),
``error`` (empty reference, worker crash or start failure).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from grpo_lead.answers.equivalence import canonical_answer, false_equation, fast_equal
from grpo_lead.answers.extraction import (
    _extract_choice,
    _reference_letter,
    _region,
    extract_answer,
    normalize_reference,
)
from grpo_lead.answers.pool import (
    _default_workers,
    _run_math_verify,
    close_pool,
    run_check,
    start_pool,
)
from grpo_lead.answers.verdict import MAX_ANSWER_CHARS, MAX_INPUT_CHARS, REASONS, Verdict

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_ANSWER_CHARS",
    "EXTRACTION_MODES",
    "check_extraction",
    "MAX_INPUT_CHARS",
    "REASONS",
    "Verdict",
    "answers_equivalent",
    "canonical_answer",
    "check_answer",
    "check_answers",
    "close_pool",
    "extract_answer",
    "normalize_reference",
    "start_pool",
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
    region, boxed_only = _region(completion)
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
    letter = _reference_letter(gold)
    if letter is not None:
        pred = _extract_choice(completion)
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
    """Extract the answer of completion and compare it with reference (see module docstring).

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
    la, lb = _reference_letter(a), _reference_letter(b)
    if la is not None or lb is not None:
        return la == lb
    fast = fast_equal(a, b)
    if fast is not None:
        return fast
    return _run_math_verify(a, b, time.monotonic() + timeout) == "match"
