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

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from grpo_lead.options import PAPER, LeadOptions, lead_option_names

__all__ = [
    "DIFFICULTY_WEIGHTS",
    "LENGTH_REWARDS",
    "LeadBatch",
    "alp_rewards",
    "budget_rewards",
    "cosine_rewards",
    "difficulty_weighted",
    "kimi_rewards",
    "lead_batch_advantages",
    "length_shaped_rewards",
    "register_difficulty_weight",
    "register_length_reward",
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
    rewards: Tensor, group_size: int, *, std: str = "sample", eps: float = PAPER.eps
) -> Tensor:
    """GRPO's group-relative advantage ``(R_i - mean_q(R)) / (std_q(R) + eps)``.

    Args:
        rewards: (N,) float.
        std: "sample" (n - 1, reference code), "population" (n), "batch" (the sample std of the
            whole batch's rewards, one number: DLER's batch-wise normalisation, TRL's
            ``scale_rewards="batch"``), or "none" (Dr. GRPO: no scaling).
    Returns:
        (N,) float; all zeros for a group whose rewards are all equal (and for G = 1).
    """
    if std not in ("sample", "population", "batch", "none"):
        raise ValueError(f"std must be 'sample', 'population', 'batch' or 'none', got {std!r}")
    grouped = _groups(_f(rewards), group_size, "rewards")
    centred = grouped - grouped.mean(dim=1, keepdim=True)
    # A group of equal rewards has no signal: exactly 0, not mean-rounding noise / eps.
    flat = (grouped == grouped[:, :1]).all(dim=1, keepdim=True)
    centred = centred.masked_fill(flat, 0.0)
    if std == "batch":
        batch_std = grouped.std() if grouped.numel() > 1 else grouped.new_zeros(())
        centred = centred / (batch_std + eps)
    elif std != "none":
        centred = centred / (_group_std(grouped, std) + eps)
    return centred.reshape(-1)


def lead_rewards(
    correct: Tensor,
    lengths: Tensor,
    group_size: int,
    *,
    alpha: float = PAPER.alpha,
    incorrect_reward: float = PAPER.incorrect_reward,
    eps: float = PAPER.eps,
    skip_below: float | None = None,
) -> Tensor:
    """The paper's length-dependent accuracy reward with its explicit penalty (mechanisms 1-2).

    ``R_i = exp(-alpha * z_i)`` for a correct answer, with ``z_i = (L_i - mu) / (sigma + eps)``
    over the group's correct answers only (sample std; ``sigma = 1`` with at most one correct
    answer), and ``R_i = incorrect_reward`` for a wrong one. ``skip_below`` (reference code:
    4000, off by default): a group whose 3 shortest answers (correct or not) average <= this many
    tokens gets no length term (z = 0, so R = 1 for its correct answers).

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
    if skip_below is not None:
        z = z.masked_fill(_mean_of_shortest(length, 3) <= skip_below, 0.0)
    # exp(-alpha z) stays finite for every finite input: the exponent is clipped to
    # +-MAX_EXPONENT (|alpha z| <= alpha * sqrt(G) in practice: 0.4 at the paper's 0.05, G = 64).
    exponent = (-alpha * z).clamp(-MAX_EXPONENT, MAX_EXPONENT)
    rewards = torch.where(c, torch.exp(exponent), torch.full_like(z, incorrect_reward))
    return rewards.reshape(-1)


MAX_EXPONENT = 40.0  # e^40 ~ 2.4e17: its square times G stays finite in float32


def _mean_of_shortest(length: Tensor, n: int) -> Tensor:
    """(B, G) -> (B, 1): mean of each group's n shortest lengths (inf when G < n, as the
    reference code's running minima stay inf: such a group is never gated)."""
    if length.shape[1] < n:
        return torch.full_like(length[:, :1], float("inf"))
    return length.topk(n, dim=1, largest=False).values.mean(dim=1, keepdim=True)


def logistic_weight(
    x: Tensor,
    *,
    A: float = PAPER.weight_a,
    B: float = PAPER.weight_b,
    k: float = PAPER.weight_k,
    x0: float = PAPER.weight_x0,
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
    A: float = PAPER.weight_a,
    B: float = PAPER.weight_b,
    k: float = PAPER.weight_k,
    x0: float = PAPER.weight_x0,
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
    A: float = PAPER.weight_a,
    B: float = PAPER.weight_b,
    k: float = PAPER.weight_k,
    x0: float = PAPER.weight_x0,
    eps: float = PAPER.eps,
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


# ---- Length-control methods of the field (issue: length methods side by side) ----------------


def budget_rewards(
    correct: Tensor,
    lengths: Tensor,
    *,
    budget: float,
    incorrect_reward: float = PAPER.incorrect_reward,
    over_budget_reward: float = 0.0,
) -> Tensor:
    """DLER's truncation penalty (arXiv 2510.15110): a correct answer earns 1 within the token
    budget and ``over_budget_reward`` (0) beyond it; a wrong one ``incorrect_reward``.
    Per row, no group. (N,) -> (N,).

    >>> budget_rewards(torch.tensor([1, 1, 0]), torch.tensor([10.0, 30.0, 5.0]), budget=20)
    tensor([ 1.,  0., -1.])
    """
    length = _f(lengths)
    good = torch.where(
        length <= budget, torch.ones_like(length), torch.full_like(length, over_budget_reward)
    )
    return torch.where(correct.bool(), good, torch.full_like(length, incorrect_reward))


def kimi_rewards(
    correct: Tensor,
    lengths: Tensor,
    group_size: int,
    *,
    weight: float = 1.0,
    incorrect_reward: float = PAPER.incorrect_reward,
) -> Tensor:
    """Kimi k1.5's length reward (arXiv 2501.12599, section 2.3.3) added to the accuracy reward:
    ``lam = 0.5 - (L - L_min) / (L_max - L_min)`` over the group's answers (lam = 0 when all have
    one length); a correct answer earns ``1 + weight * lam``, a wrong one
    ``incorrect_reward + weight * min(0, lam)``. (N,) -> (N,).

    >>> kimi_rewards(torch.tensor([1, 1, 0, 0]), torch.tensor([10.0, 20.0, 30.0, 10.0]), 4)
    tensor([ 1.5000,  1.0000, -1.5000, -1.0000])
    """
    c = _groups(correct.bool(), group_size, "correct")
    length = _groups(_f(lengths), group_size, "lengths")
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
    incorrect_reward: float = PAPER.incorrect_reward,
) -> Tensor:
    """ALP, adaptive length penalty (arXiv 2506.05256): ``1{correct} - beta * N * max(rho, 1/K)``
    with N the answer's tokens, rho its group's solve rate and K = G: easy problems (high rho)
    pay the full per-token price, the hardest (rho <= 1/K) a K-th of it. The penalty applies to
    every answer; a wrong one starts from ``incorrect_reward``. (N,) -> (N,).

    >>> alp_rewards(torch.tensor([1, 1, 1, 0]), torch.tensor([10.0, 20.0, 10.0, 10.0]), 4, beta=0.01)
    tensor([ 0.9250,  0.8500,  0.9250, -1.0750])
    """
    c = _groups(correct.bool(), group_size, "correct")
    length = _groups(_f(lengths), group_size, "lengths")
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
    progress = (_f(lengths) / max_len).clamp(max=1.0)
    cosine = torch.cos(progress * math.pi)
    lo = torch.where(correct.bool(), min_value_correct, max_value_wrong).to(cosine)
    hi = torch.where(correct.bool(), max_value_correct, min_value_wrong).to(cosine)
    return lo + 0.5 * (hi - lo) * (1.0 + cosine)


# ---- Registries by name: each function declares the LeadOptions it reads ----------------------

LengthRewardFn = Callable[..., Tensor]
AdvantageFn = Callable[..., Tensor]
LENGTH_REWARDS: dict[str, LengthRewardFn] = {}
DIFFICULTY_WEIGHTS: dict[str, AdvantageFn] = {}
_READS: dict[Callable, tuple[str, ...]] = {}


def _register(table: dict, name: str, fn: Callable, positional: int) -> Callable:
    """Add fn under name. Its keyword-only parameters are the LeadOptions it reads: each must be
    a field of `LeadOptions` (a misspelt one is refused here), and it takes no ``**kwargs``."""
    if name in table:
        raise ValueError(f"{name!r} is already registered")
    params = list(inspect.signature(fn).parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in params):
        raise TypeError(f"{name!r}: a registered function declares its options, no **kwargs")
    if len([p for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]) != positional:
        raise TypeError(f"{name!r}: needs exactly {positional} positional parameters")
    reads = tuple(p.name for p in params if p.kind is p.KEYWORD_ONLY)
    unknown = sorted(set(reads) - set(lead_option_names()))
    if unknown:
        raise TypeError(f"{name!r} reads {unknown}, which are not LeadOptions fields")
    table[name] = fn
    _READS[fn] = reads
    return fn


def register_length_reward(name: str):
    """Register ``fn(correct, lengths, group_size, *, <LeadOptions fields it reads>) -> (N,)``:
    the reward of every answer (the correctness reward replaced by its length-shaped form)."""
    return lambda fn: _register(LENGTH_REWARDS, name, fn, positional=3)


def register_difficulty_weight(name: str):
    """Register ``fn(advantages, rho, group_size, *, <LeadOptions fields it reads>) -> (N,)``:
    reweights group-normalised advantages (N,) by the groups' solve rates rho (num_groups,)."""
    return lambda fn: _register(DIFFICULTY_WEIGHTS, name, fn, positional=3)


def _lookup(table: dict, kind: str, name: str) -> Callable:
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}; known: {', '.join(sorted(table))}") from None


def length_shaped_rewards(
    correct: Tensor, lengths: Tensor, group_size: int, options: LeadOptions = PAPER
) -> Tensor:
    """Every answer's reward under ``options.length_reward`` (mechanisms 1 and 2). (N,) -> (N,)."""
    fn = _lookup(LENGTH_REWARDS, "length_reward", options.length_reward)
    return fn(correct, lengths, group_size, **options.pick(_READS[fn]))


def difficulty_weighted(
    advantages: Tensor, rho: Tensor, group_size: int, options: LeadOptions = PAPER
) -> Tensor:
    """``advantages`` reweighted under ``options.difficulty_weight`` (mechanism 3). (N,) -> (N,)."""
    fn = _lookup(DIFFICULTY_WEIGHTS, "difficulty_weight", options.difficulty_weight)
    return fn(advantages, rho, group_size, **options.pick(_READS[fn]))


@register_length_reward("paper")
def _paper_length(
    correct, lengths, group_size, *, incorrect_reward, alpha, eps, skip_length_term_below
):
    return lead_rewards(
        correct,
        lengths,
        group_size,
        alpha=alpha,
        incorrect_reward=incorrect_reward,
        eps=eps,
        skip_below=skip_length_term_below,
    )


@register_length_reward("linear")
def _linear_length(correct, lengths, group_size, *, incorrect_reward, length_coef, ref_length):
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
def _no_length(correct, lengths, group_size, *, incorrect_reward):
    ones = torch.ones_like(_f(lengths))
    return torch.where(correct.bool(), ones, ones * incorrect_reward)


@register_length_reward("budget")
def _budget_length(
    correct, lengths, group_size, *, incorrect_reward, length_budget, budget_penalty_reward
):
    return budget_rewards(
        correct,
        lengths,
        budget=length_budget,  # LeadOptions refuses "budget" without one
        incorrect_reward=incorrect_reward,
        over_budget_reward=budget_penalty_reward,
    )


@register_length_reward("kimi")
def _kimi_length(correct, lengths, group_size, *, incorrect_reward, kimi_weight):
    return kimi_rewards(
        correct, lengths, group_size, weight=kimi_weight, incorrect_reward=incorrect_reward
    )


@register_length_reward("alp")
def _alp_length(correct, lengths, group_size, *, incorrect_reward, alp_beta):
    return alp_rewards(
        correct, lengths, group_size, beta=alp_beta, incorrect_reward=incorrect_reward
    )


@register_length_reward("cosine")
def _cosine_length(correct, lengths, group_size, *, cosine_max_len):
    return cosine_rewards(correct, lengths, max_len=cosine_max_len)


@register_difficulty_weight("logistic")
def _logistic(advantages, rho, group_size, *, weight_a, weight_b, weight_k, weight_x0):
    return apply_difficulty_weight(
        advantages, rho, group_size, A=weight_a, B=weight_b, k=weight_k, x0=weight_x0
    )


@register_difficulty_weight("linear")
def _one_plus_d(advantages, rho, group_size):
    return linear_difficulty_weight(advantages, rho, group_size)


@register_difficulty_weight("none")
def _unweighted(advantages, rho, group_size):
    return advantages


# ---- One gathered batch, several reward functions: what the trainers call ----------------------

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


def lead_batch_advantages(
    rewards_per_func: Tensor,
    *,
    reward_weights: Tensor,
    correct_index: int,
    lengths: Tensor,
    group_size: int,
    options: LeadOptions = PAPER,
    format_failure: Tensor | None = None,
    repetition: Tensor | None = None,
) -> LeadBatch:
    """LEAD advantages for a gathered batch with several reward functions.

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
        format_failure, repetition: (N,) bool flags for the reference code's outcome classes.
    """
    col = rewards_per_func[:, correct_index]
    correct = torch.nan_to_num(col, nan=0.0) > 0
    classes_on = options.format_failure_reward is not None and format_failure is not None
    if classes_on:
        correct = correct & ~format_failure.bool()
    lead = length_shaped_rewards(correct, lengths.to(torch.float32), group_size, options)
    if classes_on:
        lead = apply_outcome_overrides(
            lead,
            format_failure=format_failure,
            repetition=repetition,
            format_failure_reward=options.format_failure_reward,
            repetition_reward=options.repetition_reward,
        )
    rewards = _replace_column(rewards_per_func, reward_weights, correct_index, lead)
    std = _STD_OF_SCALE[options.scale]
    base = group_normalize(rewards, group_size, std=std, eps=options.eps)
    rho = solve_rate(correct, group_size)
    advantages = difficulty_weighted(base, rho, group_size, options)
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
