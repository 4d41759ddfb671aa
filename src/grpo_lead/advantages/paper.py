"""The paper's math: GRPO-LEAD's three mechanisms (Zhang & Zuo, EMNLP 2025, arXiv 2504.09696;
reference code: aeroplanepaper/GRPO-LEAD on verl 0.2), with the paper's constants.

How this deviates from textbook GRPO:

1. Length-dependent accuracy reward: among the *correct* answers of a group only,
   ``z_i = (L_i - mu) / (sigma + eps)`` and a correct answer earns ``exp(-alpha * z_i)``.
   ``sigma`` is the sample std (n - 1) of the correct answers' lengths and is set to 1 when the
   group has at most one correct answer (reference code), so a lone correct answer earns 1.
2. Explicit penalty: a wrong answer earns ``incorrect_reward`` (-1), whatever its group did.
3. Difficulty-aware reweighting: with ``rho`` the group's solve rate and the logistic
   ``w(x) = A + (B - A) / (1 + exp(k (x - x0)))``, the group-normalised advantage ``A_i`` becomes
   ``A_i * w(rho)`` when ``A_i > 0`` and ``A_i * w(1 - rho)`` otherwise: correct answers to hard
   questions are pushed up harder, wrong answers to easy questions are pushed down harder.

Conventions (named, because verl, TRL and open-instruct differ): group std is the *sample* std
(divides by G - 1, as the reference code and ``torch.std``), ``eps = 1e-6`` added to the std;
G = 1 has std 0 and therefore advantage 0. The constants below are the defaults of
`grpo_lead.options.LeadOptions` too (stated here, once).
"""

from __future__ import annotations

import torch
from torch import Tensor

from grpo_lead.advantages.groups import EPS, as_float, by_group, group_normalize, solve_rate

__all__ = [
    "ALPHA",
    "INCORRECT_REWARD",
    "MAX_EXPONENT",
    "WEIGHT_A",
    "WEIGHT_B",
    "WEIGHT_K",
    "WEIGHT_X0",
    "lead_advantages",
    "lead_rewards",
    "logistic_difficulty_weight",
    "logistic_weight",
]

ALPHA = 0.05  # alpha of exp(-alpha z)
INCORRECT_REWARD = -1.0  # the explicit penalty
WEIGHT_A, WEIGHT_B, WEIGHT_K, WEIGHT_X0 = 0.4, 1.5, 10.0, 0.75  # A, B, k, x0 of w(x)
MAX_EXPONENT = 40.0  # e^40 ~ 2.4e17: its square times G stays finite in float32


def lead_rewards(
    correct: Tensor,
    lengths: Tensor,
    group_size: int,
    *,
    alpha: float = ALPHA,
    incorrect_reward: float = INCORRECT_REWARD,
    eps: float = EPS,
    skip_below: float | None = None,
    min_solve_rate: float | None = None,
) -> Tensor:
    """The paper's length-dependent accuracy reward with its explicit penalty (mechanisms 1-2).

    ``R_i = exp(-alpha * z_i)`` for a correct answer, with ``z_i = (L_i - mu) / (sigma + eps)``
    over the group's correct answers only (sample std; ``sigma = 1`` with at most one correct
    answer), and ``R_i = incorrect_reward`` for a wrong one. ``skip_below`` (reference code:
    4000, off by default): a group whose 3 shortest answers (correct or not) average <= this many
    tokens gets no length term (z = 0, so R = 1 for its correct answers). ``min_solve_rate``
    (off by default; the ``lead-solved`` preset: 1.0): a group whose solve rate is below it gets no
    length term either, so only problems the model already solves are pushed shorter (DOT's idea,
    arXiv 2601.03969, kept smooth) and a hard problem keeps its long reasoning.

    Args:
        correct: (N,) bool or {0, 1}, N = num_groups * G, groups consecutive.
        lengths: (N,) completion lengths in tokens.
    Returns:
        (N,) float rewards.

    >>> lead_rewards(torch.tensor([1, 1, 0, 0]), torch.tensor([10.0, 20.0, 5.0, 5.0]), 4)
    tensor([ 1.0360,  0.9653, -1.0000, -1.0000])
    """
    c = by_group(correct.bool(), group_size, "correct")  # (B, G)
    length = by_group(as_float(lengths), group_size, "lengths")  # (B, G)
    cf = c.to(length.dtype)
    n = cf.sum(dim=1, keepdim=True)  # (B, 1) correct answers per group
    mu = (length * cf).sum(dim=1, keepdim=True) / n.clamp(min=1)
    var = (((length - mu) * cf) ** 2).sum(dim=1, keepdim=True) / (n - 1).clamp(min=1)
    sigma = torch.where(n > 1, var.sqrt(), torch.ones_like(var))
    z = (length - mu) / (sigma + eps)
    if skip_below is not None:
        z = z.masked_fill(_mean_of_shortest(length, 3) <= skip_below, 0.0)
    if min_solve_rate is not None:
        z = z.masked_fill(n / group_size < min_solve_rate - 1e-9, 0.0)
    # exp(-alpha z) stays finite for every finite input: the exponent is clipped to
    # +-MAX_EXPONENT (|alpha z| <= alpha * sqrt(G) in practice: 0.4 at the paper's 0.05, G = 64).
    exponent = (-alpha * z).clamp(-MAX_EXPONENT, MAX_EXPONENT)
    rewards = torch.where(c, torch.exp(exponent), torch.full_like(z, incorrect_reward))
    return rewards.reshape(-1)


def _mean_of_shortest(length: Tensor, n: int) -> Tensor:
    """(B, G) -> (B, 1): mean of each group's n shortest lengths (inf when G < n, as the
    reference code's running minima stay inf: such a group is never gated)."""
    if length.shape[1] < n:
        return torch.full_like(length[:, :1], float("inf"))
    return length.topk(n, dim=1, largest=False).values.mean(dim=1, keepdim=True)


def logistic_weight(
    x: Tensor,
    *,
    A: float = WEIGHT_A,
    B: float = WEIGHT_B,
    k: float = WEIGHT_K,
    x0: float = WEIGHT_X0,
) -> Tensor:
    """The paper's difficulty weight ``w(x) = A + (B - A) / (1 + exp(k * (x - x0)))``.

    Decreasing in x from about B (x = 0) to about A (x = 1); w(x0) = (A + B) / 2.
    """
    return A + (B - A) / (1.0 + torch.exp(k * (x - x0)))


def logistic_difficulty_weight(
    advantages: Tensor,
    rho: Tensor,
    group_size: int,
    *,
    A: float = WEIGHT_A,
    B: float = WEIGHT_B,
    k: float = WEIGHT_K,
    x0: float = WEIGHT_X0,
) -> Tensor:
    """Mechanism 3: ``A_i * w(rho)`` where ``A_i > 0``, else ``A_i * w(1 - rho)``.

    Args:
        advantages: (N,) group-normalised advantages.
        rho: (num_groups,) solve rates.
    Returns:
        (N,) reweighted advantages (zeros stay zero).
    """
    adv = by_group(advantages, group_size, "advantages")
    r = as_float(rho).reshape(-1, 1)
    if r.shape[0] != adv.shape[0]:
        raise ValueError(f"rho has {r.shape[0]} groups, advantages have {adv.shape[0]}")
    w_pos = logistic_weight(r, A=A, B=B, k=k, x0=x0)
    w_neg = logistic_weight(1.0 - r, A=A, B=B, k=k, x0=x0)
    return torch.where(adv > 0, adv * w_pos, adv * w_neg).reshape(-1)


def lead_advantages(
    rewards: Tensor,
    correct: Tensor,
    group_size: int,
    *,
    A: float = WEIGHT_A,
    B: float = WEIGHT_B,
    k: float = WEIGHT_K,
    x0: float = WEIGHT_X0,
    eps: float = EPS,
) -> Tensor:
    """The paper's GRPO-LEAD advantage, a fixed path: sample-std group normalisation, then the
    asymmetric logistic weight. The trainers do not call this: they call
    `grpo_lead.advantages.lead_batch_advantages`, which runs every `LeadOptions` choice (length
    reward, normalisation, weight, outcome classes, group filter) and equals this function
    under the paper's options.

    Args:
        rewards: (N,) rewards, e.g. from :func:`lead_rewards`.
        correct: (N,) bool or {0, 1}: gives the solve rate ``rho`` of each group.
    Returns:
        (N,) advantages; zero in every group whose rewards are all equal.

    >>> lead_advantages(torch.tensor([1.0, -1.0]), torch.tensor([1, 0]), 2)
    tensor([ 1.0017, -1.0017])
    """
    base = group_normalize(rewards, group_size, std="sample", eps=eps)
    rho = solve_rate(correct, group_size)
    return logistic_difficulty_weight(base, rho, group_size, A=A, B=B, k=k, x0=x0)
