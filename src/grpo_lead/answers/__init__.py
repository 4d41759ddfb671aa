"""Extract final answers from model output and decide whether they match a reference.

Pure with respect to the rest of grpo-lead: stdlib only at import (no torch, no trainer code);
math-verify runs only in worker processes, under the caller's time limit. The package hands on
the public names of its modules: `extraction` (what the answer is), `letters` (the one reader
of multiple-choice letters, for letter references and for `tasks.choice`), `equivalence` (normal
forms and the fast path), `numeric` (values for the fast path), `check` (the checks), `pool` and
`_worker` (math-verify in subprocesses), `verdict` (the result type and the size limits). What
is extracted, how answers are compared and why the timeouts work as they do:
docs/answer-checker.md.
"""

from __future__ import annotations

from grpo_lead.answers.check import (
    EXTRACTION_MODES,
    answers_equivalent,
    check_answer,
    check_answers,
    check_extraction,
    verify_answer,
)
from grpo_lead.answers.equivalence import canonical_answer
from grpo_lead.answers.extraction import extract_answer, normalize_reference
from grpo_lead.answers.pool import close_pool, start_pool
from grpo_lead.answers.verdict import MAX_ANSWER_CHARS, MAX_INPUT_CHARS, REASONS, Verdict

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
