"""Which option a completion chooses, and whether it is the right one.

`check_choice(completion, options, answer)` returns an `answers.Verdict` (correct, extracted,
reason). How the choice is read:

1. The answer span is what `grpo_lead.answers.extract_answer` finds (the last ``\\boxed{}``,
   else the last marker: "Answer: C", "the answer is (C)"; after ``</think>`` when there is
   one). Without one, the last non-empty line of the text after ``</think>`` is the span
   ("C." or "(C) Metformin" closing the completion).
2. The span names an option by, in this order: its whole text equal to an option's text (case
   and spaces ignored: ``\\boxed{Metformin}``, ``\\boxed{yes}`` for PubMedQA); a letter alone
   (``C``, ``(C)``, ``C.``, ``\\text{C}``, ``option C``; a lower-case ``c`` in a box or after a
   marker); a letter
   opening the span with a delimiter (``C. Metformin``, ``(C) Metformin``, ``C: ...``); in a
   boxed or marker span, an option's text inside it as whole words (the longest wins when one
   option's text holds another's); "the correct option is C". A closing line without box or
   marker never counts an option's text inside it: a line that merely mentions "9" among other
   words would otherwise choose the option "9" (a random model scored 4 of 256 that way).
3. A span that names two options or more ("A or B", ``\\boxed{A} or \\boxed{B}``, "yes or no")
   is wrong: reason ``multiple``. A letter that is no option ("E" of four) is ``not_an_option``.
4. An abstention ("I don't know", "cannot be determined") is reason ``abstain``; it is never
   correct; the rewards and the evaluation may treat it apart from a wrong answer.

``extracted`` is the chosen letter (majority votes count letters), None for ``multiple``,
``abstain`` and ``no_answer``, and the raw span for ``not_an_option``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from grpo_lead.answers import Verdict, extract_answer
from grpo_lead.reasoning import answer_region
from grpo_lead.tasks.choice.data import letters

__all__ = ["CHOICE_REASONS", "check_choice", "choose", "is_abstention"]

CHOICE_REASONS = ("match", "mismatch", "multiple", "not_an_option", "abstain", "no_answer")
MAX_SPAN_CHARS = 1_000

_WRAP_RE = re.compile(r"\\(?:text|textbf|textrm|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")
_LONE_LETTER_RE = re.compile(r"(?:(?:option|choice|answer)\s*)?\(?([A-Z])\)?[.:)]?", re.IGNORECASE)
_LETTER_LIST_RE = re.compile(
    r"\(?[A-Z]\)?(?:\s*(?:,|;|/|&|\bor\b|\band\b)\s*\(?[A-Z]\)?)+\.?", re.IGNORECASE
)
# "C. Metformin", "(C) Metformin", "C: ..." (upper case only: "A 45-year-old" is no letter)
_LEADING_LETTER_RE = re.compile(
    r"(?:(?:option|choice)\s+)?(?:\(([A-Z])\)|([A-Z])[.:)])\s*(.*)", re.DOTALL
)
# another letter joined to the first: "C. Metformin or D. Insulin", "(A), (B)"
_JOINED_LETTER_RE = re.compile(
    r"(?:\bor\b|\band\b|,|/)\s*(?:option\s+)?\(?([A-Z])\)?(?=$|[\s.:,)])"
)
# a closing line that names the option in words: "The correct option is B."
_OPTION_MARKER_RE = re.compile(
    r"\b(?:option|choice|answer)\s+(?:is\s+)?:?\s*\(?([A-Z])\)?(?=$|[\s.,:;)!])", re.IGNORECASE
)
_ABSTAIN_RE = re.compile(
    r"\b(?:i\s+(?:do\s*n[o']?t|don’t|cannot|can't)\s+(?:know|tell|say)|cannot\s+be\s+determined"
    r"|(?:can ?not|can't|unable\s+to)\s+(?:determine|answer|tell)|unknown|not\s+sure|abstain)\b",
    re.IGNORECASE,
)


def is_abstention(span: str) -> bool:
    """True for an answer that declines to choose ("I don't know", "cannot be determined")."""
    return _ABSTAIN_RE.search(span) is not None


def check_choice(completion: str, options: Sequence[str], answer: str) -> Verdict:
    """The verdict on one completion; `answer` is the correct letter.

    >>> check_choice("<think>...</think> \\\\boxed{B}", ["3", "4"], "B").correct
    True
    >>> check_choice("So the answer is 4.", ["3", "4"], "B").correct  # the option's text
    True
    >>> check_choice("\\\\boxed{A} or \\\\boxed{B}", ["3", "4"], "B").reason
    'multiple'
    """
    if answer not in letters(len(options)):
        raise ValueError(f"answer {answer!r} is not among the letters {letters(len(options))}")
    letter, reason, span = choose(completion, options)
    if letter is None:
        return Verdict(False, span if reason == "not_an_option" else None, reason)
    ok = letter == answer
    return Verdict(ok, letter, "match" if ok else "mismatch")


def choose(completion: str, options: Sequence[str]) -> tuple[str | None, str, str | None]:
    """(letter or None, reason, answer span) of a completion: reason is "chosen" with a
    letter, else one of multiple / not_an_option / abstain / no_answer."""
    if not isinstance(completion, str):
        raise TypeError(f"a completion must be a str, got {type(completion).__name__}")
    span, marked = _span(completion)
    span = _clean(span or "")[:MAX_SPAN_CHARS]
    if not span:
        return None, "no_answer", None
    named = _named_letters(span, options, contained=marked)
    if len(named) == 1:
        return named[0], "chosen", span
    if len(named) > 1:
        return None, "multiple", span
    if is_abstention(span):
        return None, "abstain", span
    return None, "not_an_option", span


def _span(completion: str) -> tuple[str | None, bool]:
    """(span, True) for the boxed / marker answer, else (the last non-empty line after
    </think>, False)."""
    found = extract_answer(completion)
    if found is not None:
        return found, True
    tail, boxed_only = answer_region(completion)
    if boxed_only:
        return None, False  # truncated inside the reasoning: only a boxed answer counts
    lines = [line.strip() for line in tail.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else None), False


def _clean(span: str) -> str:
    for _ in range(3):
        span = _WRAP_RE.sub(r"\1", span)
    return span.strip().strip("*$`\"' ").strip()


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w%+\-/.]", " ", text.casefold()).split()).strip(" .")


def _named_letters(span: str, options: Sequence[str], *, contained: bool) -> list[str]:
    """The letters a span names (see the module docstring, point 2), in letter order;
    `contained`: also an option's text inside the span (boxed / marker spans only)."""
    keys = letters(len(options))
    folded = _fold(span)
    exact = [k for k, opt in zip(keys, options, strict=True) if _fold(opt) == folded]
    if exact:
        return exact[:1]  # two options with the same text: the first
    lone = _LONE_LETTER_RE.fullmatch(span)
    if lone and (contained or lone.group(1).isupper()):  # a closing line "d" is no answer
        letter = lone.group(1).upper()
        return [letter] if letter in keys else []
    if _LETTER_LIST_RE.fullmatch(span):
        return sorted({c.upper() for c in re.findall(r"\b[A-Za-z]\b", span) if c.upper() in keys})
    leading = _LEADING_LETTER_RE.fullmatch(span)
    if leading and (leading.group(1) or leading.group(2)) in keys:
        named = {leading.group(1) or leading.group(2)}
        named |= {m.group(1) for m in _JOINED_LETTER_RE.finditer(leading.group(3))}
        return sorted(named & set(keys))
    found = _contained(folded, keys, options) if contained else []
    if found:
        return found
    marked = [m.group(1).upper() for m in _OPTION_MARKER_RE.finditer(span)]
    return [marked[-1]] if marked and marked[-1] in keys else []


def _contained(folded: str, keys: str, options: Sequence[str]) -> list[str]:
    """Options whose text occurs in the span as whole words; an option whose text lies inside
    another found option's text is dropped ("aspirin" in "aspirin and heparin")."""
    found = []
    for key, opt in zip(keys, options, strict=True):
        text = _fold(opt)
        if text and re.search(rf"(?<!\w){re.escape(text)}(?!\w)", folded):
            found.append((key, text))
    kept = [k for k, t in found if not any(t != u and t in u for _, u in found)]
    return sorted(set(kept))
