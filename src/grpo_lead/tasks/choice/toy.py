"""The toy sums posed as multiple choice, so the multiple-choice path trains and evaluates on a
CPU: "What is 3+4+2?" with four candidate totals, one of them right.

`make_choice_toy(rows, seed=...)` takes the toy task's rows (``question``, ``answer``, and
optionally ``level``: `grpo_lead.toylab.task.make_problems` gives them) and returns rows in the
layout of `grpo_lead.tasks.choice.load_choices`: the distractors are the total plus or minus 1, 2 or
3 (off-by-a-little sums are the slips a tiny model makes), never below zero; the right total
sits at a seeded random letter. The level becomes the ``step`` group field ("level 2").
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any

from grpo_lead.tasks.choice.data import letters

__all__ = ["make_choice_toy"]

OFFSETS = (-3, -2, -1, 1, 2, 3)


def make_choice_toy(
    rows: Iterable[Mapping[str, Any]], *, seed: int, num_options: int = 4
) -> list[dict[str, Any]]:
    """Multiple-choice rows from toy (question, answer) rows; deterministic in `seed`.

    >>> make_choice_toy([{"question": "What is 1+2?", "answer": "3"}], seed=0)[0]["options"]
    ['0', '1', '3', '5']
    """
    if not 2 <= num_options <= len(OFFSETS) + 1:
        raise ValueError(f"num_options must be in 2..{len(OFFSETS) + 1}, got {num_options}")
    rng = random.Random(f"choice-toy-{seed}")
    out = []
    for index, row in enumerate(rows):
        total = int(row["answer"])
        candidates = [total + d for d in OFFSETS if total + d >= 0]
        if len(candidates) < num_options - 1:
            raise ValueError(f"row {index + 1}: total {total} leaves too few distractors")
        options = sorted([total, *rng.sample(candidates, num_options - 1)])
        answer = letters(num_options)[options.index(total)]
        level = row.get("level")
        out.append(
            {
                "id": str(row.get("id", index)),
                "question": row["question"],
                "context": None,
                "options": [str(o) for o in options],
                "answer": answer,
                "answer_text": str(total),
                "subject": None,
                "step": None if level is None else f"level {level}",
                "type": "sum",
            }
        )
    return out
