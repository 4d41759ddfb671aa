"""The other length-control methods of the field, beside LEAD's (docs/length-methods.md: side
by side): DLER's truncation at a budget, Kimi 1.5's group min-max, ALP's difficulty-aware
per-token price and the cosine length reward, each as its paper (or TRL) writes it."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from grpo_lead.advantages.groups import as_float, by_group
from grpo_lead.advantages.paper import INCORRECT_REWARD

__all__ = ["KIMI_WEIGHT", "alp_rewards", "budget_rewards", "cosine_rewards", "kimi_rewards"]

KIMI_WEIGHT = 1.0  # weight of Kimi 1.5's length reward beside the accuracy reward


def budget_rewards(
    correct: Tensor,
    lengths: Tensor,
    *,
    budget: float,
    incorrect_reward: float = INCORRECT_REWARD,
    over_budget_reward: float = 0.0,
) -> Tensor:
    """DLER's truncation penalty (arXiv 2510.15110): a correct answer earns 1 within the token
    budget and ``over_budget_reward`` (0) beyond it; a wrong one ``incorrect_reward``.
    Per row, no group. (N,) -> (N,).

    >>> budget_rewards(torch.tensor([1, 1, 0]), torch.tensor([10.0, 30.0, 5.0]), budget=20)
    tensor([ 1.,  0., -1.])
    """
    length = as_float(lengths)
    good = torch.where(
        length <= budget, torch.ones_like(length), torch.full_like(length, over_budget_reward)
    )
    return torch.where(correct.bool(), good, torch.full_like(length, incorrect_reward))


def kimi_rewards(
    correct: Tensor,
    lengths: Tensor,
    group_size: int,
    *,
    weight: float = KIMI_WEIGHT,
    incorrect_reward: float = INCORRECT_REWARD,
) -> Tensor:
    """Kimi k1.5's length reward (arXiv 2501.12599, section 2.3.3) added to the accuracy reward:
    ``lam = 0.5 - (L - L_min) / (L_max - L_min)`` over the group's answers (lam = 0 when all have
    one length); a correct answer earns ``1 + weight * lam``, a wrong one
    ``incorrect_reward + weight * min(0, lam)``. (N,) -> (N,).

    >>> kimi_rewards(torch.tensor([1, 1, 0, 0]), torch.tensor([10.0, 20.0, 30.0, 10.0]), 4)
    tensor([ 1.5000,  1.0000, -1.5000, -1.0000])
    """
    c = by_group(correct.bool(), group_size, "correct")
    length = by_group(as_float(lengths), group_size, "lengths")
    lo, hi = length.min(dim=1, keepdim=True).values, length.max(dim=1, keepdim=True).values
    span = hi - lo
    lam = torch.where(
        span > 0, 0.5 - (length - lo) / span.clamp(min=1e-12), torch.zeros_like(length)
    )
    good = 1.0 + weight * lam
    bad = incorrect_reward + weight * lam.clamp(max=0.0)
    return torch.where(c, good, bad).reshape(-1)


def alp_rewards(
    correct: Tensor,
    lengths: Tensor,
    group_size: int,
    *,
    beta: float,
    incorrect_reward: float = INCORRECT_REWARD,
) -> Tensor:
    """ALP, adaptive length penalty (arXiv 2506.05256): ``1{correct} - beta * N * max(rho, 1/K)``
    with N the answer's tokens, rho its group's solve rate and K = G: easy problems (high rho)
    pay the full per-token price, the hardest (rho <= 1/K) a K-th of it. The penalty applies to
    every answer; a wrong one starts from ``incorrect_reward``. (N,) -> (N,).

    >>> alp_rewards(torch.tensor([1, 1, 1, 0]), torch.tensor([10.0, 20.0, 10.0, 10.0]), 4, beta=0.01)
    tensor([ 0.9250,  0.8500,  0.9250, -1.0750])
    """
    c = by_group(correct.bool(), group_size, "correct")
    length = by_group(as_float(lengths), group_size, "lengths")
    rho = c.to(length.dtype).mean(dim=1, keepdim=True)
    price = beta * length * rho.clamp(min=1.0 / group_size)
    base = torch.where(c, torch.ones_like(length), torch.full_like(length, incorrect_reward))
    return (base - price).reshape(-1)


def cosine_rewards(
    correct: Tensor,
    lengths: Tensor,
    *,
    max_len: float,
    min_value_wrong: float = -1.0,
    max_value_wrong: float = -0.5,
    min_value_correct: float = 0.5,
    max_value_correct: float = 1.0,
) -> Tensor:
    """The cosine length reward (Yeo et al., arXiv 2502.03373, App. C.1) exactly as TRL's
    ``trl.rewards.get_cosine_scaled_reward`` computes it (tests compare the two on the same
    completions), with the correctness given instead of re-checked:
    ``v_min + (v_max - v_min) (1 + cos(pi * min(L / L_max, 1))) / 2``, bounds (0.5, 1) for a
    correct answer (shorter earns more) and (-0.5, -1) for a wrong one (shorter costs more).
    Per row. (N,) -> (N,).
    """
    progress = (as_float(lengths) / max_len).clamp(max=1.0)
    cosine = torch.cos(progress * math.pi)
    lo = torch.where(correct.bool(), min_value_correct, max_value_wrong).to(cosine)
    hi = torch.where(correct.bool(), max_value_correct, min_value_wrong).to(cosine)
    return lo + 0.5 * (hi - lo) * (1.0 + cosine)
