"""Multiple-choice letters: the one reader of the letter a completion chooses.

Two callers read letters with these rules: the math checker when the reference is a letter
(``"(C)"``, AMC problems; the letters A-E, no option texts; `check`) and the multiple-choice
task (its options' letters, with their texts on top; `grpo_lead.tasks.choice.checker`).

1. The span: the boxed / marker answer (`extraction.extract_answer`; several boxes joined by
   ", "), "marked"; else the last non-empty line of the answer region, unmarked. A region that
   holds a box gives no closing line (its last box is cut off or empty: no answer), nor does a
   reasoning cut off inside ``<think>``.
2. Cleaning: ``\\text{}``-like wrappers, ``**``, ``$...$``, quotes, backticks and a closing
   ``.,;:`` are dropped (`clean_span`).
3. Forms, in this order (`read_letters`): a letter alone (``C``, ``(C)``, ``C.``, ``C)``,
   ``option C``, ``Answer: C``); a list of letters (``A or B``, ``A, C``, ``(A)/(C)``); a letter
   that opens the span with a delimiter and the option's text or value after it (``C. Aspirin``,
   ``(C) 12``, ``C: foo``, ``C 12``: a value without words, so that ``A 45-year-old man`` is
   prose), with the letters joined to it (``C. Aspirin or D. Insulin``); the last "option /
   choice / answer (is) C" in the span; a closing ``(C)`` (``It must be (C).``, not the ``D)``
   of ``(not D)``).
4. Case: a letter is upper case; a lower-case one counts only in a marked span, alone, in a
   list or after "option" (``\\boxed{c}``, ``Answer: c``): a closing line ``d`` is no answer,
   and ``e. coli`` opens no choice.
5. Hedges: every letter a span names counts; one letter is a choice, two or more are none (the
   same letter twice is one: ``\\boxed{A} and \\boxed{(A)}``). A letter outside the keys names
   nothing (``F``; ``E`` of four options).
"""

from __future__ import annotations

import re

from grpo_lead.answers import extraction  # the module: its patterns are not this module's
from grpo_lead.answers.equivalence import clean_answer, unwrap_text

__all__ = [
    "MATH_LETTERS",
    "MAX_SPAN_CHARS",
    "answer_span",
    "choice_answer",
    "clean_span",
    "read_letters",
    "reference_letter",
]

MATH_LETTERS = "ABCDE"  # the math checker's choices (AMC: five options, no texts)
MAX_SPAN_CHARS = 1_000  # a span is read in its first MAX_SPAN_CHARS characters
MAX_CLEAN_ROUNDS = 4  # wrappers inside wrappers: `clean_span` unwraps until nothing changes

# Every pattern is linear in its input: two runs of spaces are always split by a required
# character (tests/test_answers.py runs each on 1 MB of adversarial text).
_MARKER_WORDS = r"(?:option|choice|answer)"
# C / (C) / C. / C) / option C / Answer: C
_LONE_RE = re.compile(rf"(?:{_MARKER_WORDS}(?:\s*:)?\s*)?\(?([A-Z])\)?[.:)]?", re.IGNORECASE)
# A or B / A, C / (A)/(C)
_LIST_RE = re.compile(
    r"\(?[A-Z]\)?(?:\s*(?:,|;|/|&|\bor\b|\band\b)\s*\(?[A-Z]\)?)+\.?", re.IGNORECASE
)
_LIST_LETTER_RE = re.compile(r"\b[A-Z]\b", re.IGNORECASE)
# C. Aspirin / (C) 12 / C: foo / option C) x; or a letter and a value: C 12, C \frac{1}{2}
_LEADING_RE = re.compile(
    r"(?:(?:option|choice)\s+)?(?:\(([A-Z])\)|([A-Z])[.:)]|([A-Z])\s+(?=[-+]?\d|\\|\$))\s*(.*)",
    re.DOTALL,
)
# another letter joined to the first: "C. Aspirin or D. Insulin", "(A), (B)"
_JOINED_RE = re.compile(r"(?:\bor\b|\band\b|,|/)\s*(?:option\s+)?\(?([A-Z])\)?(?=$|[\s.:,)])")
# "The correct option is C", "choice: C", "the answer is (C)"
_OPTION_MARKER_RE = re.compile(
    rf"\b{_MARKER_WORDS}(?:\s+is)?(?:\s*:\s*|\s+)\(?([A-Z])\)?(?=$|[\s.,:;)!])", re.IGNORECASE
)
# a letter in parentheses closing the span: "It must be (C)", "... the only one left is C)"
_CLOSING_RE = re.compile(r"(?:^|\s)(\()?([A-Z])\)$", re.IGNORECASE)


def clean_span(span: str) -> str:
    """The span without wrappers: ``**\\text{(C)}.**`` -> ``(C)`` (`clean_answer`, then
    ``\\text{}``-like wrappers, quotes and backticks; again while that changes it, for
    wrappers inside wrappers, at most `MAX_CLEAN_ROUNDS` times)."""
    for _ in range(MAX_CLEAN_ROUNDS):
        cleaned = unwrap_text(clean_answer(span)).strip("`\"' ")
        if cleaned == span:
            break
        span = cleaned
    return span


def answer_span(completion: str) -> tuple[str | None, bool]:
    """(span, marked): the boxed / marker answer, marked; else the last non-empty line of the
    answer region, unmarked; (None, False) when there is neither. Uncleaned."""
    found = extraction.extract_answer(completion)
    if found is not None:
        return found, True
    region, boxed_only = extraction.search_region(completion)
    if boxed_only or extraction.BOX_RE.search(region):
        return None, False  # cut off inside <think>, or a cut-off / empty last box
    tail = region.rstrip()
    line = tail[tail.rfind("\n") + 1 :].strip()
    return (line or None), False


def reference_letter(reference: str) -> str | None:
    """'C' for a multiple-choice reference of the math checker ('C', '(C)', '\\text{(C)}',
    '$C$'): a letter A-E alone, upper case (a reference 'c' is a variable), else None."""
    lone = _LONE_RE.fullmatch(clean_span(reference).replace(" ", ""))
    return _letter(lone.group(1), MATH_LETTERS, marked=False) if lone else None


def choice_answer(completion: str) -> str | None:
    """The math checker's reading of a completion whose reference is a letter: the one letter
    A-E it names; else its boxed / marker answer, or its closing line when that names several
    letters (a hedge: wrong, not missing); None when it gives no answer.

    >>> choice_answer(r"so \\boxed{\\textbf{(C)}\\ 12}"), choice_answer("Answer: A or B")
    ('C', 'A or B')
    """
    span, marked = answer_span(completion)
    if span is None:
        return None
    named = read_letters(span, marked=marked)
    if len(named) == 1:
        return named[0]
    return span if marked or named else None


def _letter(char: str, keys: str, marked: bool) -> str | None:
    """The case rule: upper case anywhere, lower case only in a marked span."""
    if not (char.isupper() or marked):
        return None
    char = char.upper()
    return char if char in keys else None


def read_letters(
    span: str, keys: str = MATH_LETTERS, *, marked: bool, cleaned: bool = False
) -> list[str]:
    """The letters of ``keys`` that a span names, sorted (see the module docstring, point 3);
    one is a choice, two or more a hedge, none no letter.

    >>> read_letters(r"\\text{(C)}", marked=True), read_letters("C. Aspirin", marked=False)
    (['C'], ['C'])
    >>> read_letters("A or C", marked=True), read_letters("A 45-year-old man", marked=True)
    (['A', 'C'], [])
    """
    if not cleaned:  # `cleaned`: the caller's span is already `clean_span(...)[:MAX_SPAN_CHARS]`
        span = clean_span(span)[:MAX_SPAN_CHARS]
    lone = _LONE_RE.fullmatch(span)
    if lone:
        letter = _letter(lone.group(1), keys, marked)
        return [letter] if letter else []
    if _LIST_RE.fullmatch(span):
        found = (_letter(m.group(0), keys, marked) for m in _LIST_LETTER_RE.finditer(span))
        return sorted({c for c in found if c})
    leading = _LEADING_RE.fullmatch(span)
    if leading:
        first, rest = leading.group(1) or leading.group(2) or leading.group(3), leading.group(4)
        if first in keys and (
            leading.group(3) is None or not extraction.PROSE_WORD_RE.search(rest)
        ):
            named = {first} | {m.group(1) for m in _JOINED_RE.finditer(rest)}
            return sorted(named & set(keys))
    markers = list(_OPTION_MARKER_RE.finditer(span))
    if markers:  # the last one: "option A is wrong, so the answer is C"
        letter = _letter(markers[-1].group(1), keys, marked)
        return [letter] if letter else []
    closing = _CLOSING_RE.search(span)
    if closing and (closing.group(1) or _closes_nothing(span[: closing.start(2)])):
        letter = _letter(closing.group(2), keys, marked)
        return [letter] if letter else []
    return []


def _closes_nothing(before: str) -> bool:
    """Whether a ")" after ``before`` closes no parenthesis: "C)" labels a choice, the ")" of
    "(not D)" ends an aside."""
    return before.count("(") <= before.count(")")
