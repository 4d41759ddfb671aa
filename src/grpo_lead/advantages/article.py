"""The article's simplified forms of LEAD (the Japanese article on the paper), kept as options: a linear length
penalty, a ``(1 + d)`` difficulty weight, population std and ``eps = 1e-8``."""

from __future__ import annotations

import torch
from torch import Tensor

from grpo_lead.advantages.groups import as_float, by_group, group_normalize, solve_rate

__all__ = [
    "LENGTH_COEF",
    "REF_LENGTH",
    "article_advantages",
    "article_rewards",
    "linear_difficulty_weight",
]

LENGTH_COEF = 0.1  # lambda of 1 - lambda * L / L_ref
REF_LENGTH = 200.0  # L_ref


def article_rewards(
    correct: Tensor,
    lengths: Tensor,
    *,
    correct_reward: float = 3.0,
    length_coef: float = LENGTH_COEF,
    ref_length: float = REF_LENGTH,
    incorrect_reward: float = -1.0,
    gamma: float = 1.0,
) -> Tensor:
    """The article's reward: correct ``3 - lambda * L / L_ref``, wrong ``-1 - gamma``.

    Needs no group: each row on its own. (N,) -> (N,).
    """
    c = correct.bool()
    good = correct_reward - length_coef * as_float(lengths) / ref_length
    return torch.where(c, good, torch.full_like(good, incorrect_reward - gamma))


def linear_difficulty_weight(advantages: Tensor, rho: Tensor, group_size: int) -> Tensor:
    """The article's weight: ``(1 + d) * A_i`` with ``d = 1 - rho``. (N,), (num_groups,) -> (N,)."""
    adv = by_group(advantages, group_size, "advantages")
    return (adv * (2.0 - as_float(rho)).reshape(-1, 1)).reshape(-1)


def article_advantages(
    rewards: Tensor, correct: Tensor, group_size: int, *, eps: float = 1e-8
) -> Tensor:
    """The article's advantage ``(1 + d) * (R - mean) / (std + 1e-8)``, population std, d = 1 - rho."""
    base = group_normalize(rewards, group_size, std="population", eps=eps)
    return linear_difficulty_weight(base, solve_rate(correct, group_size), group_size)
