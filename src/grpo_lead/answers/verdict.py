"""The verdict of a check and the size limits every part of the checker applies."""

from __future__ import annotations

from dataclasses import dataclass

MAX_INPUT_CHARS: int = 20_000
"""Completions are cut to their last this many characters; longer references are too_long."""
MAX_ANSWER_CHARS: int = 1_000
"""Extracted answers and normalised references longer than this are judged too_long."""

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
