"""The reference code's outcome classes (format failure, degenerate repetition) and its group
filter (``rejection_sample=True``)."""

from __future__ import annotations

import torch
from torch import Tensor

from grpo_lead.advantages.groups import as_float, by_group

__all__ = ["REPETITION_REWARD", "apply_outcome_overrides", "group_filter_mask"]

REPETITION_REWARD = -2.0  # a format failure with degenerate repetition (stage 2: -1.5)


def apply_outcome_overrides(
    rewards: Tensor,
    *,
    format_failure: Tensor | None = None,
    repetition: Tensor | None = None,
    format_failure_reward: float = 0.0,
    repetition_reward: float = REPETITION_REWARD,
) -> Tensor:
    """The reference code's outcome classes on top of any reward.

    A format failure (e.g. truncated: no closing ``</think>``) scores ``format_failure_reward``
    (0), and a format failure with degenerate repetition scores ``repetition_reward`` (-2;
    stage 2 of the paper uses -1.5). (N,) -> (N,).
    """
    out = as_float(rewards).clone()
    if format_failure is not None:
        failed = format_failure.bool()
        out = torch.where(failed, torch.full_like(out, format_failure_reward), out)
        if repetition is not None:
            repeated = failed & repetition.bool()
            out = torch.where(repeated, torch.full_like(out, repetition_reward), out)
    return out


def group_filter_mask(rewards: Tensor, group_size: int, *, atol: float = 1e-9) -> Tensor:
    """Which rows train under the reference code's rejection sampling (``rejection_sample=True``).

    A group is dropped when every reward is <= 0 (no correct answer to learn from), or when every
    reward is exactly 1 (all correct with no length signal). All-correct groups *with* a length
    signal still train. Returns (N,) bool, True = keep.
    """
    grouped = by_group(as_float(rewards), group_size, "rewards")
    all_nonpositive = (grouped <= 0).all(dim=1)
    all_one = ((grouped - 1.0).abs() <= atol).all(dim=1)
    keep = ~(all_nonpositive | all_one)
    return keep.repeat_interleave(group_size)
