"""The evaluation's boundary error."""

from __future__ import annotations


class EvalError(Exception):
    """A run that cannot go on (bad settings, unavailable backend, a foreign output folder);
    the message is one line saying what to change."""
