"""Rewards for multiple-choice sets: the article's three (format, accuracy, reasoning quality)
and an optional abstention bonus, in TRL's contract (see `grpo_lead.rewards`).

- ``choice_accuracy_reward``: 1.0 when the completion chooses the row's answer letter (through
  `grpo_lead.tasks.choice.checker.check_choice`, which also accepts the option's text), else 0.0;
  None where the row has no answer. It reads the options from the ``options`` column.
  ``GRPOLeadTrainer`` uses it as its correctness reward (``correctness_reward:
  choice_accuracy_reward``): LEAD's length term, explicit penalty and difficulty weight then
  apply as for math.
- ``format_reward`` and ``reasoning_quality_reward``: `grpo_lead.rewards`'s, unchanged.
- ``abstain_reward``: 1.0 for an answer that declines ("I don't know"), else 0.0. Scaled by its
  ``reward_weights`` entry b it puts an abstention between wrong and right: with LEAD a wrong
  answer earns ``incorrect_reward`` (-1), an abstention ``incorrect_reward + b``, a right one
  about 1 (b = 0.5: -0.5); with plain 0/1 accuracy, 0, b and 1.

`REWARDS` is the task's reward table (`grpo_lead.tasks`): math's `grpo_lead.rewards.REWARDS`
plus `CHOICE_REWARDS` under the names recipes use (``choice_accuracy``, ``abstain``); a name in
both is refused at import. Math's table is left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grpo_lead import rewards as _math
from grpo_lead.answers import Verdict
from grpo_lead.rewards import completion_text, format_reward, reasoning_quality_reward
from grpo_lead.tasks.choice.checker import check_choice

__all__ = [
    "CHOICE_REWARDS",
    "REWARDS",
    "abstain_reward",
    "choice_accuracy_reward",
    "choice_verdicts",
    "format_reward",
    "reasoning_quality_reward",
]


def choice_verdicts(
    completions: Sequence[Any],
    options: Sequence[Sequence[str]] | None,
    answer: Sequence[Any] | None,
) -> list[Verdict | None]:
    """One verdict per completion (None where the row has no answer)."""
    if options is None or answer is None:
        raise ValueError(
            "multiple-choice rewards need the 'options' and 'answer' columns of the dataset "
            "(load it with grpo_lead.tasks.choice.load_choices)"
        )
    if not len(completions) == len(options) == len(answer):
        raise ValueError(
            f"{len(completions)} completions, {len(options)} option lists, {len(answer)} answers"
        )
    return [
        None if ref is None else check_choice(completion_text(c), list(opts), str(ref))
        for c, opts, ref in zip(completions, options, answer, strict=True)
    ]


def choice_accuracy_reward(
    completions: Sequence[Any], options=None, answer=None, **kwargs
) -> list[float | None]:
    """1.0 when the chosen option is the answer, else 0.0 (None: no reference).

    >>> choice_accuracy_reward(["\\\\boxed{B}", "4", "A or B"], options=[["3", "4"]] * 3,
    ...                        answer=["B", "B", "B"])
    [1.0, 1.0, 0.0]
    """
    return [
        None if v is None else float(v.correct)
        for v in choice_verdicts(completions, options, answer)
    ]


def abstain_reward(completions: Sequence[Any], options=None, answer=None, **kwargs) -> list[float]:
    """1.0 for an abstention ("I don't know" as the answer), else 0.0: weight it to set the
    abstention's place between wrong and right (module docstring).

    >>> abstain_reward(["\\\\boxed{I don't know}", "\\\\boxed{A}"], options=[["3", "4"]] * 2,
    ...                answer=["B", "B"])
    [1.0, 0.0]
    """
    verdicts = choice_verdicts(completions, options, answer)
    return [float(v is not None and v.reason == "abstain") for v in verdicts]


CHOICE_REWARDS = {
    "choice_accuracy": choice_accuracy_reward,
    "abstain": abstain_reward,
}


def _task_table() -> dict:
    """Math's rewards and the multiple-choice ones, in a new dict (math's is not touched)."""
    clash = sorted(set(CHOICE_REWARDS) & {*_math.REWARDS, *_math.REWARD_BUILDERS})
    if clash:
        raise ValueError(f"reward names {clash} are already taken by grpo_lead.rewards")
    return {**_math.REWARDS, **CHOICE_REWARDS}


REWARDS = _task_table()
