"""GRPO-LEAD's group-level math as pure tensor functions (no trainer, no TRL imports).

Every function takes flat 1-D tensors of N = num_groups * G rows ordered group by group (the G
answers to one question are consecutive: the order TRL's `RepeatSampler` produces and the order
of the rewards TRL gathers across processes), and is vectorised over groups.

How this deviates from textbook GRPO (Zhang & Zuo, EMNLP 2025, arXiv 2504.09696; the reference
code is aeroplanepaper/GRPO-LEAD on verl 0.2; see shared LEAD.md):

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
G = 1 has std 0 and therefore advantage 0. The article's simplified forms (linear length
penalty, ``(1 + d)`` weight with population std and ``eps = 1e-8``) are separate functions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = [
    "DIFFICULTY_WEIGHTS",
    "LENGTH_REWARDS",
    "apply_difficulty_weight",
    "apply_outcome_overrides",
    "article_advantages",
    "article_rewards",
    "group_filter_mask",
    "group_normalize",
    "lead_advantages",
    "lead_rewards",
    "linear_difficulty_weight",
    "logistic_weight",
    "solve_rate",
]


def _f(x: Tensor) -> Tensor:
    """Floating view of x, keeping float64 inputs in float64 (bool/int become float32)."""
    return x if x.is_floating_point() else x.float()


def _groups(x: Tensor, group_size: int, name: str) -> Tensor:
    """Reshape a flat (N,) tensor to (N // G, G), with a clear error when N is not a multiple."""
    if group_size < 1:
        raise ValueError(f"group_size must be >= 1, got {group_size}")
    if x.dim() != 1:
        raise ValueError(f"{name} must be a flat 1-D tensor, got shape {tuple(x.shape)}")
    if x.numel() % group_size:
        raise ValueError(f"{name} has {x.numel()} rows, not a multiple of group_size={group_size}")
    return x.reshape(-1, group_size)


def solve_rate(correct: Tensor, group_size: int) -> Tensor:
    """The paper's ``rho_q``: fraction of correct answers in each group.

    Args:
        correct: (N,) bool or {0, 1} float, N = num_groups * G.
    Returns:
        (num_groups,) float in [0, 1].
    """
    return _groups(_f(correct), group_size, "correct").mean(dim=1)


def _group_std(x: Tensor, kind: str) -> Tensor:
    """(B, G) -> (B, 1) std; 'sample' divides by G - 1 and is 0 (not NaN) for G = 1."""
    if kind == "population" or x.shape[1] == 1:
        return x.std(dim=1, keepdim=True, correction=0)
    return x.std(dim=1, keepdim=True, correction=1)


def group_normalize(
    rewards: Tensor, group_size: int, *, std: str = "sample", eps: float = 1e-6
) -> Tensor:
    """GRPO's group-relative advantage ``(R_i - mean_q(R)) / (std_q(R) + eps)``.

    Args:
        rewards: (N,) float.
        std: "sample" (n - 1, reference code), "population" (n), or "none" (Dr. GRPO: no scaling).
    Returns:
        (N,) float; all zeros for a group whose rewards are all equal (and for G = 1).
    """
    if std not in ("sample", "population", "none"):
        raise ValueError(f"std must be 'sample', 'population' or 'none', got {std!r}")
    grouped = _groups(_f(rewards), group_size, "rewards")
    centred = grouped - grouped.mean(dim=1, keepdim=True)
    # A group of equal rewards has no signal: exactly 0, not mean-rounding noise / eps.
    flat = (grouped == grouped[:, :1]).all(dim=1, keepdim=True)
    centred = centred.masked_fill(flat, 0.0)
    if std != "none":
        centred = centred / (_group_std(grouped, std) + eps)
    return centred.reshape(-1)


def lead_rewards(
    correct: Tensor,
    lengths: Tensor,
    group_size: int,
    *,
    alpha: float = 0.05,
    incorrect_reward: float = -1.0,
    eps: float = 1e-6,
) -> Tensor:
    """The paper's length-dependent accuracy reward with its explicit penalty (mechanisms 1-2).

    ``R_i = exp(-alpha * z_i)`` for a correct answer, with ``z_i = (L_i - mu) / (sigma + eps)``
    over the group's correct answers only (sample std; ``sigma = 1`` with at most one correct
    answer), and ``R_i = incorrect_reward`` for a wrong one.

    Args:
        correct: (N,) bool or {0, 1}, N = num_groups * G, groups consecutive.
        lengths: (N,) completion lengths in tokens.
    Returns:
        (N,) float rewards.

    >>> lead_rewards(torch.tensor([1, 1, 0, 0]), torch.tensor([10.0, 20.0, 5.0, 5.0]), 4)
    tensor([ 1.0360,  0.9653, -1.0000, -1.0000])
    """
    c = _groups(correct.bool(), group_size, "correct")  # (B, G)
    length = _groups(_f(lengths), group_size, "lengths")  # (B, G)
    cf = c.to(length.dtype)
    n = cf.sum(dim=1, keepdim=True)  # (B, 1) correct answers per group
    mu = (length * cf).sum(dim=1, keepdim=True) / n.clamp(min=1)
    var = (((length - mu) * cf) ** 2).sum(dim=1, keepdim=True) / (n - 1).clamp(min=1)
    sigma = torch.where(n > 1, var.sqrt(), torch.ones_like(var))
    z = (length - mu) / (sigma + eps)
    rewards = torch.where(c, torch.exp(-alpha * z), torch.full_like(z, incorrect_reward))
    return rewards.reshape(-1)


def logistic_weight(
    x: Tensor, *, A: float = 0.4, B: float = 1.5, k: float = 10.0, x0: float = 0.75
) -> Tensor:
    """The paper's difficulty weight ``w(x) = A + (B - A) / (1 + exp(k * (x - x0)))``.

    Decreasing in x from about B (x = 0) to about A (x = 1); w(x0) = (A + B) / 2.
    """
    return A + (B - A) / (1.0 + torch.exp(k * (x - x0)))


def apply_difficulty_weight(
    advantages: Tensor,
    rho: Tensor,
    group_size: int,
    *,
    A: float = 0.4,
    B: float = 1.5,
    k: float = 10.0,
    x0: float = 0.75,
) -> Tensor:
    """Mechanism 3: ``A_i * w(rho)`` where ``A_i > 0``, else ``A_i * w(1 - rho)``.

    Args:
        advantages: (N,) group-normalised advantages.
        rho: (num_groups,) solve rates.
    Returns:
        (N,) reweighted advantages (zeros stay zero).
    """
    adv = _groups(advantages, group_size, "advantages")
    r = _f(rho).reshape(-1, 1)
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
    A: float = 0.4,
    B: float = 1.5,
    k: float = 10.0,
    x0: float = 0.75,
    eps: float = 1e-6,
) -> Tensor:
    """GRPO-LEAD advantage: sample-std group normalisation, then the asymmetric logistic weight.

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
    return apply_difficulty_weight(base, rho, group_size, A=A, B=B, k=k, x0=x0)


# ---- The article's simplified forms (seed document), kept as options -------------------------


def article_rewards(
    correct: Tensor,
    lengths: Tensor,
    *,
    correct_reward: float = 3.0,
    length_coef: float = 0.1,
    ref_length: float = 200.0,
    incorrect_reward: float = -1.0,
    gamma: float = 1.0,
) -> Tensor:
    """The article's reward: correct ``3 - lambda * L / L_ref``, wrong ``-1 - gamma``.

    Needs no group: each row on its own. (N,) -> (N,).
    """
    c = correct.bool()
    good = correct_reward - length_coef * _f(lengths) / ref_length
    return torch.where(c, good, torch.full_like(good, incorrect_reward - gamma))


def linear_difficulty_weight(advantages: Tensor, rho: Tensor, group_size: int) -> Tensor:
    """The article's weight: ``(1 + d) * A_i`` with ``d = 1 - rho``. (N,), (num_groups,) -> (N,)."""
    adv = _groups(advantages, group_size, "advantages")
    return (adv * (2.0 - _f(rho)).reshape(-1, 1)).reshape(-1)


def article_advantages(
    rewards: Tensor, correct: Tensor, group_size: int, *, eps: float = 1e-8
) -> Tensor:
    """The article's advantage ``(1 + d) * (R - mean) / (std + 1e-8)``, population std, d = 1 - rho."""
    base = group_normalize(rewards, group_size, std="population", eps=eps)
    return linear_difficulty_weight(base, solve_rate(correct, group_size), group_size)


# ---- The reference code's outcome classes and group filter -----------------------------------


def apply_outcome_overrides(
    rewards: Tensor,
    *,
    format_failure: Tensor | None = None,
    repetition: Tensor | None = None,
    format_failure_reward: float = 0.0,
    repetition_reward: float = -2.0,
) -> Tensor:
    """The reference code's outcome classes on top of any reward.

    A format failure (e.g. truncated: no closing ``</think>``) scores ``format_failure_reward``
    (0), and a format failure with degenerate repetition scores ``repetition_reward`` (-2;
    stage 2 of the paper uses -1.5). (N,) -> (N,).
    """
    out = _f(rewards).clone()
    if format_failure is not None:
        ff = format_failure.bool()
        out = torch.where(ff, torch.full_like(out, format_failure_reward), out)
        if repetition is not None:
            rep = ff & repetition.bool()
            out = torch.where(rep, torch.full_like(out, repetition_reward), out)
    return out


def group_filter_mask(rewards: Tensor, group_size: int, *, atol: float = 1e-9) -> Tensor:
    """Which rows train under the reference code's rejection sampling (``rejection_sample=True``).

    A group is dropped when every reward is <= 0 (no correct answer to learn from), or when every
    reward is exactly 1 (all correct with no length signal). All-correct groups *with* a length
    signal still train. Returns (N,) bool, True = keep.
    """
    grouped = _groups(_f(rewards), group_size, "rewards")
    all_nonpositive = (grouped <= 0).all(dim=1)
    all_one = ((grouped - 1.0).abs() <= atol).all(dim=1)
    keep = ~(all_nonpositive | all_one)
    return keep.repeat_interleave(group_size)


# ---- Registries by name (the config names these; duplicates are refused) ---------------------

LengthRewardFn = Callable[..., Tensor]
AdvantageFn = Callable[..., Tensor]
LENGTH_REWARDS: dict[str, LengthRewardFn] = {}
DIFFICULTY_WEIGHTS: dict[str, AdvantageFn] = {}


def _register(table: dict, name: str, fn: Callable) -> None:
    if name in table:
        raise ValueError(f"{name!r} is already registered")
    table[name] = fn


def register_length_reward(name: str):
    """Register ``fn(correct, lengths, group_size, *, incorrect_reward, **options) -> (N,)``."""

    def deco(fn):
        _register(LENGTH_REWARDS, name, fn)
        return fn

    return deco


def register_difficulty_weight(name: str):
    """Register ``fn(advantages, rho, group_size, **options) -> (N,)``: reweights group-normalised
    advantages (N,) by the groups' solve rates rho (num_groups,)."""

    def deco(fn):
        _register(DIFFICULTY_WEIGHTS, name, fn)
        return fn

    return deco


@register_length_reward("paper")
def _paper_length(correct, lengths, group_size, *, incorrect_reward, alpha=0.05, **_):
    return lead_rewards(
        correct, lengths, group_size, alpha=alpha, incorrect_reward=incorrect_reward
    )


@register_length_reward("linear")
def _linear_length(
    correct, lengths, group_size, *, incorrect_reward, length_coef=0.1, ref_length=200.0, **_
):
    # The article's length term on a correct reward of 1, so it composes with incorrect_reward.
    return article_rewards(
        correct,
        lengths,
        correct_reward=1.0,
        length_coef=length_coef,
        ref_length=ref_length,
        incorrect_reward=incorrect_reward,
        gamma=0.0,
    )


@register_length_reward("none")
def _no_length(correct, lengths, group_size, *, incorrect_reward, **_):
    ones = torch.ones_like(_f(lengths))
    return torch.where(correct.bool(), ones, ones * incorrect_reward)


@register_difficulty_weight("logistic")
def _logistic(advantages, rho, group_size, *, A=0.4, B=1.5, k=10.0, x0=0.75, **_):
    return apply_difficulty_weight(advantages, rho, group_size, A=A, B=B, k=k, x0=x0)


@register_difficulty_weight("linear")
def _one_plus_d(advantages, rho, group_size, **_):
    return linear_difficulty_weight(advantages, rho, group_size)


@register_difficulty_weight("none")
def _unweighted(advantages, rho, group_size, **_):
    return advantages
