"""Which option a completion chooses, and whether it is the right one.

`check_choice(completion, options, answer)` returns an `answers.Verdict` (correct, extracted,
reason). Letters are read by `grpo_lead.answers.letters`, the reader the math checker uses for
a letter reference too (the span, the letter forms, case, hedges: its module docstring); this
module adds what only a multiple-choice question has, its options' texts and abstentions:

1. The span is `letters.answer_span`: the boxed / marker answer (`extract_answer`), else the
   last non-empty line after ``</think>``.
2. The span names an option by, in this order: its whole text equal to an option's text (case
   and spaces ignored: ``\\boxed{Metformin}``, ``\\boxed{yes}`` for PubMedQA); the letters
   `letters.read_letters` finds with the options' letters (``C``, ``(C)``, ``\\boxed{c}``,
   ``C. Metformin``, "the correct option is C"); in a boxed or marker span, an option's text
   inside it as whole words (the longest wins when one option's text holds another's). A
   closing line without box or marker never counts an option's text inside it: a line that
   merely mentions "9" among other words would otherwise choose the option "9" (a random model
   scored 4 of 256 that way).
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

from grpo_lead.answers import Verdict
from grpo_lead.answers.letters import MAX_SPAN_CHARS, answer_span, clean_span, read_letters
from grpo_lead.tasks.choice.data import letters

__all__ = ["CHOICE_REASONS", "check_choice", "choose", "is_abstention"]

CHOICE_REASONS = ("match", "mismatch", "multiple", "not_an_option", "abstain", "no_answer")

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
    span, marked = answer_span(completion)
    span = clean_span(span or "")[:MAX_SPAN_CHARS]
    if not span:
        return None, "no_answer", None
    named = _named_letters(span, options, marked=marked)
    if len(named) == 1:
        return named[0], "chosen", span
    if len(named) > 1:
        return None, "multiple", span
    if is_abstention(span):
        return None, "abstain", span
    return None, "not_an_option", span


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w%+\-/.]", " ", text.casefold()).split()).strip(" .")


def _named_letters(span: str, options: Sequence[str], *, marked: bool) -> list[str]:
    """The letters a span names (see the module docstring, point 2), in letter order;
    `marked`: a boxed / marker span, where an option's text inside the span counts too."""
    keys = letters(len(options))
    folded = _fold(span)
    exact = [k for k, opt in zip(keys, options, strict=True) if _fold(opt) == folded]
    if exact:
        return exact[:1]  # two options with the same text: the first
    named = read_letters(span, keys, marked=marked, cleaned=True)  # cleaned in `choose`
    if named or not marked:
        return named
    return _contained(folded, keys, options)


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
