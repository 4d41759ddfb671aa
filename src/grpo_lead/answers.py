"""Extract final answers from model output and decide whether they match a reference.

Pure with respect to the rest of grpo-lead: stdlib only at import (no torch, no trainer code);
math-verify is imported only inside the worker processes described below.

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
   ", which ...", " because ..."); "18 dollars" -> "18".
4. Nothing found: ``None``. ``verify_answer`` reports ``reason="no_answer"``, ``correct=False``.
   There is deliberately no "last number in the text" fallback: a completion that only restates
   the question's numbers must not score.

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
   different a mismatch, except a fraction against a decimal, which is left to math-verify (its
   rounding to 6 places decides whether 0.333333 is 1/3).
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

- Workers are plain subprocesses (``subprocess.Popen`` of this file run through ``runpy``):
  fork+exec, so a parent that holds torch threads is never forked into a live Python; the
  caller's ``__main__`` is never re-imported (``multiprocessing``'s spawn would re-run an
  unguarded training script); one overrunning worker can be killed alone (a
  ``ProcessPoolExecutor`` breaks as a whole when one worker dies).
- They start lazily on the first check that needs math-verify (about 0.5-1 s: Python, sympy,
  math-verify and a warm-up parse), are reused, and are at most
  ``max(min(4, os.cpu_count()), num_workers asked of check_answers)``. Each caller thread holds
  one worker for the duration of one check, so any thread can call, any number at once
  (callers beyond the pool size queue for a free worker).
- Inside a worker, math-verify runs in the worker's main thread with its own alarms off, and the
  whole check (both parses and the comparison) runs under one ``setitimer`` deadline: float
  seconds work. A per-job CPU-time ``RLIMIT_CPU`` and an address-space limit make even an
  orphaned worker stuck in C code (a big-integer power holds the GIL, so no signal handler
  runs) die on its own.
- The parent enforces the hard bound: it waits ``timeout + KILL_GRACE_S`` seconds for the
  answer and otherwise kills the worker (SIGKILL, reaped at once: no zombies) and starts a
  replacement in the background. The verdict is then ``reason="timeout"``. The timeout counts
  from the moment a ready worker gets the job: neither a worker's start-up nor the wait for a
  free worker (more concurrent callers than workers) is charged to it.
- Shutdown: ``atexit`` kills and reaps every worker; ``close_pool()`` does the same on demand
  (a later check starts a fresh pool). Workers also exit on EOF of their stdin, i.e. when the
  parent is gone. A process forked from the parent drops the inherited pool and starts its own.

Verdict reasons: ``match``, ``mismatch``, ``no_answer``, ``timeout``, ``too_long`` (reference
over ``MAX_INPUT_CHARS``, or reference answer / extracted answer over ``MAX_ANSWER_CHARS``),
``error`` (empty reference, worker crash or start failure).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import math
import os
import re
import select
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_ANSWER_CHARS",
    "MAX_INPUT_CHARS",
    "Verdict",
    "answers_equivalent",
    "canonical_answer",
    "check_answer",
    "check_answers",
    "close_pool",
    "extract_answer",
    "normalize_reference",
    "verify_answer",
]

MAX_INPUT_CHARS: int = 20_000
"""Completions are cut to their last this many characters; longer references are too_long."""
MAX_ANSWER_CHARS: int = 1_000
"""Extracted answers and normalised references longer than this are judged too_long."""
KILL_GRACE_S: float = 0.25
"""The parent kills a worker that has not answered ``timeout + KILL_GRACE_S`` after the job."""
_WORKER_BOOT_TIMEOUT_S = 60.0
_WORKER_MAX_JOBS = 5_000  # recycle a worker after this many jobs (bounds sympy cache growth)
_WORKER_MEMORY_BYTES = 3 * 1024**3  # RLIMIT_AS of a worker

REASONS = ("match", "mismatch", "no_answer", "timeout", "too_long", "error")


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one completion against one reference.

    ``extracted`` is the answer string found in the completion (None: none found); ``reason`` is
    one of ``REASONS``; ``correct`` is True exactly when ``reason == "match"``.
    """

    correct: bool
    extracted: str | None
    reason: str


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------

_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
# What may sit between two boxes that form one answer ("\boxed{6} or \boxed{7}", "$\boxed{1}$,
# $\boxed{2}$"): spaces, math delimiters, thin spaces, commas, "or"/"and" (also in \text{}).
_BOX_SEP_RE = re.compile(
    r"(?:\s|\$|\\[(),;:!]|\\q?quad|[,;&]|\\text\s*\{\s*(?:or|and|,)?\s*\}|\bor\b|\band\b)*"
)
_MAX_BOX_SEP_CHARS = 40
_BOX_TOKEN_RE = re.compile(r"[^\s${}]+")

_MARKER_RE = re.compile(
    r"(?:"
    r"####[ \t]*(?=[-+]?\\?\$?[ \t]*\.?\d)"  # GSM8K: #### 1,234
    r"|\*\*[ \t]*(?:final[ \t]+)?answer[ \t]*:?[ \t]*\*\*[ \t]*:?"  # **Answer:** X
    r"|\b(?:final[ \t]+)?answer[ \t]*:"  # Answer: X / Final answer: X
    r"|\banswer[ \t]+is\b[ \t]*:?"  # the (final) answer is X (not "isn't")
    r"|\bfinal[ \t]+answer[ \t]*\**[ \t]*(?=\n)"  # "### Final Answer" heading, X on next line
    r")",
    re.IGNORECASE,
)
# where the answer after a marker ends: a full stop, a line end, ", which ..." / " because ..."
_SENTENCE_END_RE = re.compile(
    r"\.(?=\s|$)|\n|,\s+(?!(?:and|or)\b)(?=[A-Za-z]{2,}\b)|(?<!\s)\s+(?:because|since|which)\b"
)
_NUMBER_THEN_WORDS_RE = re.compile(
    r"(\\?\$?[ \t]*[-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)[ \t]*(?:\\?%)?)[ \t]+[A-Za-z][A-Za-z \t]*"
)
_MAX_MARKER_ANSWER_CHARS = 2 * MAX_ANSWER_CHARS  # text read after a marker
_MAX_MARKERS_TRIED = 20  # the last markers whose answer may be empty before giving up
_MATH_OPENERS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))

_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"


def _cut(text: str) -> str:
    return text[-MAX_INPUT_CHARS:] if len(text) > MAX_INPUT_CHARS else text


def _region(text: str) -> tuple[str, bool]:
    """(text to search, boxed_only): after the last </think>; whole text if the think is open;
    then cut to its last MAX_INPUT_CHARS characters. The tags are looked for in the whole
    text: a long reasoning cut off mid-way has its <think> far before the last characters."""
    close = text.rfind(_THINK_CLOSE)
    if close >= 0:
        return _cut(text[close + len(_THINK_CLOSE) :]), False
    # truncated inside the reasoning: only a boxed answer counts
    return _cut(text), _THINK_OPEN in text


def _brace_end(text: str, open_pos: int, limit: int) -> int:
    """Index just past the brace matching text[open_pos] == '{' (before limit), or -1."""
    depth = 0
    i = open_pos
    while i < limit:
        c = text[i]
        if c == "\\":
            i += 2  # an escaped character (\{, \}) never opens or closes a group
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _box_at(text: str, end_of_cmd: int, limit: int) -> tuple[str, int] | None:
    """(content, end) of the box whose command ends at end_of_cmd, None if unterminated."""
    i = end_of_cmd
    while i < limit and text[i] in " \t":
        i += 1
    if i < limit and text[i] == "{":
        end = _brace_end(text, i, limit)
        return None if end < 0 else (text[i + 1 : end - 1], end)
    m = _BOX_TOKEN_RE.match(text, i, limit)  # "\boxed 5": one token
    if m is None or i == end_of_cmd:
        return None
    return m.group(0), m.end()


def _last_boxed_parts(region: str) -> list[str] | None:
    """The answers of the last group of adjacent boxes in region (see module docstring).

    None: the last box is unterminated (or there is none); []: its content is empty.
    Repeated answers in a group are kept once ("\\boxed{7} and \\boxed{7}" -> ["7"]).
    """
    starts = [(m.start(), m.end()) for m in _BOX_RE.finditer(region)]
    contents: list[str] = []
    limit = len(region)
    next_start = None
    for start, cmd_end in reversed(starts):
        box = _box_at(region, cmd_end, limit)
        if box is None:
            break  # unterminated (or, for an earlier box, one that encloses the later one)
        content, end = box
        if next_start is not None:
            sep = region[end:next_start]
            if len(sep) > _MAX_BOX_SEP_CHARS or not _BOX_SEP_RE.fullmatch(sep):
                break
        contents.append(content)
        next_start = start
        limit = start
    if not contents:
        return None
    parts: list[str] = []
    seen: set[str] = set()
    for c in reversed(contents):
        c = _clean_answer(_strip_inner_box(c))  # "\\boxed{\\boxed{5}}" -> "5"
        key = canonical_answer(c)
        if c and key not in seen:
            seen.add(key)
            parts.append(c)
    return parts


def _strip_inner_box(content: str) -> str:
    content = content.strip()
    m = _BOX_RE.match(content)
    if m is not None:
        box = _box_at(content, m.end(), len(content))
        if box is not None and box[1] == len(content):
            return box[0]
    return content


def _clean_answer(ans: str) -> str:
    """Strip spaces, surrounding markdown/math delimiters and a closing period."""
    ans = ans.strip()
    for _ in range(3):
        before = ans
        ans = ans.strip().strip("*").strip()
        for opener, closer in _MATH_OPENERS:
            if ans.startswith(opener) and ans.endswith(closer) and len(ans) >= 2 * len(opener):
                ans = ans[len(opener) : len(ans) - len(closer)]
        while ans and ans[-1] in " \t.,;:" and not ans.endswith(("\\,", "\\;", "\\:")):
            ans = ans[:-1]  # "\$18." / "5," / "x = 3;" (but not a LaTeX "\\,")
        if ans == before:
            break
    return ans.strip()


def _after_marker(region: str, pos: int) -> str:
    """The answer that follows a marker ending at pos (empty string if none)."""
    window = region[pos : pos + _MAX_MARKER_ANSWER_CHARS]  # bounds every regex below
    line_end = window.find("\n")
    rest = window[: line_end if line_end >= 0 else len(window)]
    rest = rest.lstrip(" \t*:}")
    if not rest.strip() and line_end >= 0:
        # "Answer:\n$$5$$" -> the next non-empty line
        for line in window[line_end + 1 :].split("\n", 3)[:3]:
            if line.strip():
                rest = line.strip()
                break
    rest = rest.strip()
    for opener, closer in _MATH_OPENERS:
        if rest.startswith(opener):
            close = rest.find(closer, len(opener))
            if close > 0:
                return _clean_answer(rest[len(opener) : close])
            break
    end = _SENTENCE_END_RE.search(rest)
    if end is not None:
        rest = rest[: end.start()]
    rest = _clean_answer(rest)
    m = _NUMBER_THEN_WORDS_RE.fullmatch(rest)
    if m is not None:  # "18 dollars" -> "18"
        rest = m.group(1).strip()
    return rest


def _last_marker_answer(region: str) -> str | None:
    ends = [m.end() for m in _MARKER_RE.finditer(region)]
    for pos in reversed(ends[-_MAX_MARKERS_TRIED:]):
        ans = _after_marker(region, pos)
        if ans:
            return ans
    return None


def _boxed_or_marker(text: str) -> tuple[list[str] | None, str | None]:
    """(boxed parts, marker answer) of a completion; at most one of them is set."""
    region, boxed_only = _region(text)
    if _BOX_RE.search(region):
        parts = _last_boxed_parts(region)
        if parts is None:
            return None, None  # the last box is cut off: no answer, nothing earlier instead
        if parts or boxed_only:
            return parts, None
        # an empty box (the instruction's "\\boxed{}" echoed): look for a marker instead
    if boxed_only:
        return None, None
    return None, _last_marker_answer(region)


def extract_answer(text: str) -> str | None:
    """The final answer of a completion, or None when it gives none (see module docstring).

    >>> extract_answer(r"so the area is $\\boxed{\\frac{1}{2}}$.")
    '\\\\frac{1}{2}'
    >>> extract_answer("<think>2+2=4</think>The answer is 4.")
    '4'
    >>> extract_answer(r"<think>so \\boxed{3}. But wait, let me re-check")  # cut off: box only
    '3'
    >>> extract_answer(r"It is \\boxed{6} or \\boxed{7}.")  # a hedge, judged as a set
    '6, 7'
    """
    if not isinstance(text, str):
        raise TypeError(f"extract_answer expects a str, got {type(text).__name__}")
    parts, marker = _boxed_or_marker(text)
    if parts:
        return ", ".join(parts)
    return marker


# --------------------------------------------------------------------------------------------
# Multiple choice
# --------------------------------------------------------------------------------------------

_TEXT_WRAP_RE = re.compile(r"\\(?:text|textbf|textrm|textit|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")
_REF_LETTER_RE = re.compile(r"\(?([A-E])\)?")
_ANS_LETTER_RE = re.compile(r"(?:(?i:option|choice)\s*)?\(?([A-E])\)?(?=$|[\s.:,)])")
_OTHER_LETTER_RE = re.compile(r"(?<![A-Za-z\\])[A-E](?![A-Za-z])")
_END_LETTER_RE = re.compile(
    r"(?:(?:^|\s)\(?([A-E])\)|(?:^|\n)[ \t]*\**[ \t]*\(?([A-E])\)?[ \t]*\**)[ \t]*\.?\s*$"
)


def _unwrap_text(s: str) -> str:
    for _ in range(3):
        new = _TEXT_WRAP_RE.sub(r"\1", s)
        if new == s:
            break
        s = new
    return s


def _reference_letter(reference: str) -> str | None:
    """'C' for a multiple-choice reference ('C', '(C)', '\\text{(C)}', '$C$'), else None."""
    s = _unwrap_text(_clean_answer(reference)).replace(" ", "")
    m = _REF_LETTER_RE.fullmatch(s)
    return m.group(1) if m else None


def _answer_letter(ans: str) -> str | None:
    """The one choice an answer names ("(C) 12", "C:", "option C"), None for none or several."""
    s = _unwrap_text(_clean_answer(ans)).strip()
    m = _ANS_LETTER_RE.match(s)
    if m is None or _OTHER_LETTER_RE.search(s, m.end()):
        return None  # "A or B", "A, C": a hedge names no single choice
    return m.group(1)


def _extract_choice(text: str) -> str | None:
    """A letter A-E (or, failing that, whatever answer the completion gives)."""
    parts, marker = _boxed_or_marker(text)
    if parts:
        letters = {_answer_letter(p) for p in parts}
        if len(letters) == 1 and None not in letters:
            return letters.pop()
        return ", ".join(parts)
    if marker is not None:
        return _answer_letter(marker) or marker
    region, boxed_only = _region(text)
    if boxed_only or _BOX_RE.search(region):
        return None
    m = _END_LETTER_RE.search(region[-200:])
    return None if m is None else (m.group(1) or m.group(2))


# --------------------------------------------------------------------------------------------
# References and canonical strings
# --------------------------------------------------------------------------------------------

_GSM8K_RE = re.compile(r"####\s*(.+?)\s*$", re.DOTALL)


def normalize_reference(reference: str) -> str:
    """The answer part of a reference: GSM8K ``...#### 1,234`` -> ``1234``; a solution with
    ``\\boxed{5}`` -> ``5``; anything else stripped and otherwise unchanged.

    >>> normalize_reference("She pays 2 * 9 = <<2*9=18>>18 dollars.\\n#### 1,018")
    '1018'
    >>> normalize_reference(r"so it is $\\boxed{\\frac{1}{2}}$.")
    '\\\\frac{1}{2}'
    >>> normalize_reference(r"\\text{(C)}")
    '\\\\text{(C)}'
    """
    if not isinstance(reference, str):
        raise TypeError(f"a reference must be a str, got {type(reference).__name__}")
    ref = reference.strip()
    idx = ref.rfind("####")
    if idx >= 0:
        ans = ref[idx + 4 :].strip()
        if re.fullmatch(r"-?[\d,]*\.?\d+", ans):
            ans = ans.replace(",", "")
        return ans
    if _BOX_RE.search(ref):
        parts = _last_boxed_parts(ref)
        if parts:
            return ", ".join(parts)
    return ref


_SPACING_RE = re.compile(r"\\[,;:! ]|\\q?quad(?![A-Za-z])|\\displaystyle|~")
_LEFT_RIGHT_RE = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])")
_DEGREE_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|°|\\degree(?![A-Za-z])")
_THOUSANDS_RE = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_LEADING_VAR_RE = re.compile(r"[A-Za-z]=([^=<>]+)")
_DECIMAL_RE = re.compile(r"([-+]?)(\d*)(?:\.(\d*))?")


def _canonical_number(s: str) -> str:
    m = _DECIMAL_RE.fullmatch(s)
    if m is None or not (m.group(2) or m.group(3)):
        return s
    sign, whole, frac = m.group(1), m.group(2).lstrip("0") or "0", (m.group(3) or "").rstrip("0")
    out = f"{whole}.{frac}" if frac else whole
    return out if sign != "-" or out == "0" else "-" + out


def canonical_answer(answer: str) -> str:
    """A cheap normal form of an extracted answer: equal forms are equivalent answers.

    Not a full equivalence (that is math-verify's job): use it as a fast path and as a grouping
    key before ``answers_equivalent``.

    >>> canonical_answer(r"\\$1{,}000.50") == canonical_answer("1000.5")
    True
    >>> canonical_answer(r"x = \\dfrac{1}{2}")
    '\\\\frac{1}{2}'
    """
    s = _clean_answer(answer)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = _LEFT_RIGHT_RE.sub("", s)
    s = _SPACING_RE.sub(" ", s)
    s = _DEGREE_RE.sub("", s)
    s = s.replace("{,}", ",").replace("\\$", "").replace("$", "")
    m = _TEXT_WRAP_RE.fullmatch(s.strip())
    if m is not None:
        s = m.group(1)
    s = re.sub(r"\s+", "", s).rstrip(".")
    m = _LEADING_VAR_RE.fullmatch(s)
    if m is not None:
        s = m.group(1)
    if _THOUSANDS_RE.fullmatch(s):
        s = s.replace(",", "")
    return _canonical_number(s)


_FRAC_RE = re.compile(r"(-?)\\frac\{(\d+)\}\{(\d+)\}|(-?)\\frac(\d)(\d)|(-?\d+)/(\d+)")
_PLAIN_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")


_REPEATING_RE = re.compile(r"(-?)(\d*)\.(\d*)\\overline\{(\d+)\}")


def _as_rational(canon: str) -> tuple[Fraction, str] | None:
    """(value, kind) of a canonical integer / decimal / fraction / repeating decimal
    (``0.\\overline{3}``); kind is 'int', 'dec' or 'frac' (exact, may not terminate)."""
    if len(canon) > 40:
        return None  # keep clear of Python's int-digit limit; math-verify decides
    if _PLAIN_NUMBER_RE.fullmatch(canon):
        return Fraction(canon), ("dec" if "." in canon else "int")
    m = _REPEATING_RE.fullmatch(canon)
    if m is not None:
        sign, whole, fixed, rep = m.groups()
        value = Fraction(int(whole or "0")) + Fraction(int(fixed or "0"), 10 ** len(fixed))
        value += Fraction(int(rep), 10 ** len(fixed) * (10 ** len(rep) - 1))
        return (-value if sign else value), "frac"
    m = _FRAC_RE.fullmatch(canon)
    if m is None:
        return None
    if m.group(2) is not None:
        sign, num, den = m.group(1), m.group(2), m.group(3)
    elif m.group(5) is not None:
        sign, num, den = m.group(4), m.group(5), m.group(6)
    else:
        sign, num, den = "", m.group(7), m.group(8)
    if int(den) == 0:
        return None
    value = Fraction(int(num), int(den))
    return (-value if sign == "-" else value), "frac"


_PERCENT_RE = re.compile(r"(.*?)\\?%")


def _fast_equal(a: str, b: str) -> bool | None:
    """True / False when the fast path can decide, None when math-verify must.

    A percentage p% equals both p and p/100 (GSM8K references drop the sign; models write
    0.25 for 25%), as in math-verify.
    """
    ca, cb = canonical_answer(a), canonical_answer(b)
    if ca and ca == cb:
        return True
    pa, pb = _PERCENT_RE.fullmatch(ca), _PERCENT_RE.fullmatch(cb)
    ra = _as_rational(pa.group(1) if pa else ca)
    rb = _as_rational(pb.group(1) if pb else cb)
    if ra is None or rb is None:
        return None
    va, vb = {ra[0]}, {rb[0]}
    if pa is not None and pb is None:
        va.add(ra[0] / 100)
    if pb is not None and pa is None:
        vb.add(rb[0] / 100)
    if va & vb:
        return True
    if {ra[1], rb[1]} == {"frac", "dec"}:
        return None  # 1/3 vs 0.333333: math-verify's rounding decides
    return False


# --------------------------------------------------------------------------------------------
# Worker processes
# --------------------------------------------------------------------------------------------

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
            [sys.executable, "-c", _BOOT_CODE, os.path.abspath(__file__)],
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

    def wait_ready(self) -> bool:
        """Block until the worker has imported math-verify (not charged to any check)."""
        if self.ready:
            return True
        try:
            line = self._read_line(time.monotonic() + _WORKER_BOOT_TIMEOUT_S)
            self.ready = line is not None and json.loads(line).get("ready") is True
        except (_WorkerGone, OSError, ValueError):
            self.ready = False
        if not self.ready:
            logger.error(
                "an answer-checker worker failed to start (exit code %s)", self.proc.poll()
            )
        return self.ready

    def request(self, job: dict, timeout: float) -> str | None:
        """The worker's result for job, None if it did not answer in timeout + grace."""
        view = memoryview((json.dumps(job) + "\n").encode())
        try:
            while view:
                view = view[os.write(self._in_fd, view) :]
        except OSError as e:
            raise _WorkerGone("worker closed its input", sent=False) from e
        self.jobs += 1
        line = self._read_line(time.monotonic() + timeout + KILL_GRACE_S)
        return None if line is None else str(json.loads(line)["r"])

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


class _Pool:
    """Workers shared by every thread of this process (see the module docstring)."""

    def __init__(self, max_workers: int) -> None:
        self.pid = os.getpid()
        self.max_workers = max_workers
        self.closed = False
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._live = 0  # workers started or starting; never above max_workers

    def grow(self, n: int) -> None:
        with self._cond:
            if n > self.max_workers:
                self.max_workers = n
                self._cond.notify_all()

    def _start(self) -> _Worker | None:
        """A new worker registered in the pool (its slot already counted), or None."""
        try:
            w = _Worker()
        except OSError:
            logger.exception("cannot start an answer-checker worker")
            w = None
        with self._cond:
            if w is not None and not self.closed:
                self._all.add(w)
                return w
            self._live -= 1
            self._cond.notify()
        if w is not None:
            w.kill()
        return None

    def acquire(self) -> _Worker | None:
        """An idle worker, a new one if the pool may grow, else wait; None once closed."""
        with self._cond:
            while True:
                if self.closed:
                    return None
                if self._idle:
                    return self._idle.pop()
                if self._live < self.max_workers:
                    self._live += 1
                    break
                self._cond.wait()
        return self._start()

    def release(self, w: _Worker, *, healthy: bool, replace: bool = True) -> None:
        """Give w back; an unhealthy or worn-out one is killed and (if replace) replaced now,
        so the replacement starts up while other work goes on."""
        with self._cond:
            if healthy and w.jobs < _WORKER_MAX_JOBS and not self.closed:
                self._idle.append(w)
                self._cond.notify()
                return
            self._all.discard(w)
        w.kill()
        if replace and not self.closed:
            new = self._start()
            if new is not None:
                with self._cond:
                    self._idle.append(new)
                    self._cond.notify()
            return
        with self._cond:
            self._live -= 1
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            idle = list(self._idle)
            busy = [w for w in self._all if w not in idle]
            self._idle.clear()
            self._all.clear()
            self._cond.notify_all()
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
        return _POOL


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


def _run_math_verify(gold: str, pred: str, timeout: float) -> str:
    """'match' / 'mismatch' / 'timeout' / 'error' from a worker of the pool."""
    pool = _get_pool()
    if pool is None:
        return "error"  # interpreter shutting down
    for attempt in range(2):
        w = pool.acquire()
        if w is None:
            return "error"
        if not w.wait_ready():
            pool.release(w, healthy=False, replace=False)  # no start-up storm
            return "error"
        try:
            result = w.request({"gold": gold, "pred": pred, "timeout": timeout}, timeout)
        except _WorkerGone as e:
            pool.release(w, healthy=False)
            if not e.sent and attempt == 0:
                continue  # died between jobs (killed from outside): retry on a fresh one
            logger.warning("an answer-checker worker died during a check")
            return "error"
        except (OSError, ValueError, KeyError):
            logger.exception("answer-checker worker protocol error")
            pool.release(w, healthy=False)
            return "error"
        if result is None:
            logger.info("answer check timed out after %.2f s; worker replaced", timeout)
            pool.release(w, healthy=False)
            return "timeout"
        pool.release(w, healthy=True)
        return result if result in REASONS else "error"
    return "error"


# --------------------------------------------------------------------------------------------
# Worker side (runs in the subprocess, started through runpy; never imported by callers' code)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Public checking API
# --------------------------------------------------------------------------------------------


def _check_timeout(timeout: float) -> float:
    timeout = float(timeout)
    if not (timeout > 0 and math.isfinite(timeout)):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return timeout


@dataclass(frozen=True)
class _Job:
    gold: str
    pred: str


def _prepare(completion: str, reference: str) -> Verdict | _Job:
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
        return Verdict(False, None, "no_answer")
    if len(pred) > MAX_ANSWER_CHARS:
        return Verdict(False, pred, "too_long")
    fast = _fast_equal(gold, pred)
    if fast is not None:
        return Verdict(fast, pred, "match" if fast else "mismatch")
    return _Job(gold, pred)


def _finish(job: _Job, result: str) -> Verdict:
    return Verdict(result == "match", job.pred, result)


def verify_answer(completion: str, reference: str, *, timeout: float = 5.0) -> Verdict:
    """Extract the answer of completion and compare it with reference (see module docstring).

    ``timeout`` (seconds, floats fine) bounds the math-verify part; past it the verdict is
    ``reason="timeout"``. Safe to call from any thread.

    >>> verify_answer(r"... so $\\boxed{\\dfrac{1}{2}}$", "0.5")
    Verdict(correct=True, extracted='\\\\dfrac{1}{2}', reason='match')
    """
    timeout = _check_timeout(timeout)
    prepared = _prepare(completion, reference)
    if isinstance(prepared, Verdict):
        return prepared
    return _finish(prepared, _run_math_verify(prepared.gold, prepared.pred, timeout))


def check_answer(completion: str, reference: str, *, timeout: float = 5.0) -> bool:
    """``verify_answer(completion, reference, timeout=timeout).correct``."""
    return verify_answer(completion, reference, timeout=timeout).correct


def _run_jobs(jobs: list[_Job], timeout: float, num_workers: int) -> dict[_Job, str]:
    """math-verify results for jobs, num_workers at a time (the calling thread is one of them).

    Plain daemon threads, not a ThreadPoolExecutor: at interpreter exit concurrent.futures
    joins its threads and would first run every queued check; these stop at once instead
    (the closed pool answers "error").
    """
    results: dict[_Job, str] = {}
    if not jobs:
        return results
    if num_workers > 1:
        pool = _get_pool()
        if pool is not None:
            pool.grow(num_workers)
    todo = iter(jobs)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                job = next(todo, None)
            if job is None:
                return
            results[job] = _run_math_verify(job.gold, job.pred, timeout)

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
) -> list[Verdict]:
    """``verify_answer`` over pairs, the math-verify parts spread over ``num_workers`` workers.

    Extraction and the fast path run here; identical (reference, answer) pairs are sent to
    math-verify once. ``num_workers`` defaults to ``min(4, os.cpu_count())``.
    """
    if len(completions) != len(references):
        raise ValueError(
            f"check_answers needs one reference per completion, got {len(completions)} "
            f"completions and {len(references)} references"
        )
    timeout = _check_timeout(timeout)
    n = _default_workers() if num_workers is None else int(num_workers)
    if n < 1:
        raise ValueError(f"num_workers must be >= 1, got {num_workers!r}")
    prepared = [_prepare(c, r) for c, r in zip(completions, references)]
    jobs = list(dict.fromkeys(p for p in prepared if isinstance(p, _Job)))
    results = _run_jobs(jobs, timeout, n)
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
    fast = _fast_equal(a, b)
    if fast is not None:
        return fast
    return _run_math_verify(a, b, timeout) == "match"
