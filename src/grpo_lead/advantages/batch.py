"""One gathered generation batch with several reward functions: what the trainers call
(`GRPOLeadTrainer` and verl's ``grpo_lead`` estimator alike)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from grpo_lead.advantages.groups import group_normalize, solve_rate
from grpo_lead.advantages.outcomes import apply_outcome_overrides, group_filter_mask
from grpo_lead.advantages.registry import (
    difficulty_weighted_advantages,
    length_shaped_rewards,
)

if TYPE_CHECKING:
    from grpo_lead.options import LeadOptions

__all__ = ["LeadBatch", "lead_batch_advantages"]

# LeadOptions.scale -> group_normalize's std
_STD_OF_SCALE = {"group": "sample", "batch": "batch", "none": "none"}


@dataclass
class LeadBatch:
    """What LEAD computed for one gathered generation batch (N = all processes' completions)."""

    advantages: Tensor  # (N,) the advantages used in the loss
    rewards: Tensor  # (N,) total reward after LEAD shaping
    correct: Tensor  # (N,) bool: the one outcome decision (a format failure is never correct)
    solve_rate: Tensor  # (N // G,)
    keep: Tensor  # (N,) bool: rows the group filter keeps (dropped rows leave the loss)
    base_advantages: Tensor  # (N,) group-normalised, before the difficulty weight


def _replace_column(
    rewards_per_func: Tensor, reward_weights: Tensor, index: int, column: Tensor
) -> Tensor:
    """(N, F) -> (N,): the weighted sum of the reward functions (NaN counts 0), with column
    ``index`` replaced by ``column``."""
    others = torch.nan_to_num(rewards_per_func, nan=0.0) * reward_weights.unsqueeze(0)
    others[:, index] = 0.0
    return others.sum(dim=1) + reward_weights[index] * column


def _lead_column(
    score: Tensor,
    lengths: Tensor,
    group_size: int,
    options: LeadOptions,
    format_failure: Tensor | None,
    repetition: Tensor | None,
) -> tuple[Tensor, Tensor]:
    """(correct, reward) of each row from its correctness score (N,): the outcome decided once
    (> 0, NaN = cannot score = wrong; never a format failure with the classes on), then the
    length-shaped reward and the classes' rewards."""
    correct = torch.nan_to_num(score, nan=0.0) > 0
    failure_reward = options.format_failure_reward
    if failure_reward is not None and format_failure is not None:
        correct = correct & ~format_failure.bool()
    reward = length_shaped_rewards(correct, lengths.to(torch.float32), group_size, options)
    if failure_reward is not None and format_failure is not None:
        reward = apply_outcome_overrides(
            reward,
            format_failure=format_failure,
            repetition=repetition,
            format_failure_reward=failure_reward,
            repetition_reward=options.repetition_reward,
        )
    return correct, reward


def lead_batch_advantages(
    rewards_per_func: Tensor,
    *,
    reward_weights: Tensor,
    correct_index: int,
    lengths: Tensor,
    group_size: int,
    options: LeadOptions,
    format_failure: Tensor | None = None,
    repetition: Tensor | None = None,
) -> LeadBatch:
    """LEAD advantages for a gathered batch with several reward functions, under every
    `LeadOptions` choice: what `GRPOLeadTrainer` and verl's estimator call. (The paper's fixed
    path alone is `grpo_lead.advantages.lead_advantages`; under the paper's options this equals
    it.)

    Each completion's outcome is decided once: correct where the correctness column is > 0
    (NaN = cannot score = wrong) and, with the reference code's classes on
    (``options.format_failure_reward`` not None), it is not a format failure. That decision feeds
    the reward, the solve rate and the length statistics alike. The correctness column is then
    replaced by the length-shaped reward (``options.length_reward``, with the explicit penalty),
    format failures get their class rewards, the other columns add with their weights (NaN
    counts 0); then normalisation (``options.scale``) and the difficulty weight. Rows of groups
    the filter drops get advantage 0 (and ``keep`` False, so the trainer can take them out of the
    loss).

    Args:
        rewards_per_func: (N, F) rewards of every reward function, N = num_groups * G.
        reward_weights: (F,) weights.
        lengths: (N,) completion lengths in tokens.
        options: the LEAD options (the paper's: `grpo_lead.options.PAPER`).
        format_failure, repetition: (N,) bool flags for the reference code's outcome classes.
    """
    correct, lead = _lead_column(
        rewards_per_func[:, correct_index], lengths, group_size, options, format_failure, repetition
    )
    rewards = _replace_column(rewards_per_func, reward_weights, correct_index, lead)
    base = group_normalize(rewards, group_size, std=_STD_OF_SCALE[options.scale], eps=options.eps)
    rho = solve_rate(correct, group_size)
    advantages = difficulty_weighted_advantages(base, rho, group_size, options)
    keep = torch.ones_like(correct)
    if options.group_filter:
        keep = group_filter_mask(rewards, group_size)
        advantages = advantages * keep
    return LeadBatch(
        advantages=advantages,
        rewards=rewards,
        correct=correct,
        solve_rate=rho,
        keep=keep,
        base_advantages=base,
    )
