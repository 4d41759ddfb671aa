"""Length rewards and difficulty weights by name, the choices `LeadOptions` names.

A registered function declares the `grpo_lead.options.LeadOptions` fields it reads as its
keyword-only parameters (and takes no ``**kwargs``); `LeadOptions` refuses a name that is not
registered, or whose function reads a parameter that is not one of its fields, so a misspelt
option is an error when the options are built, never silently ignored. This module sits below
`grpo_lead.options` (which imports its tables): it imports nothing of it (the `LeadOptionsLike`
protocol below names what it reads), and its callers pass the options they built
(tests/test_layers.py fails on an import cycle).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import torch
from torch import Tensor

from grpo_lead.advantages.article import article_rewards, linear_difficulty_weight
from grpo_lead.advantages.groups import as_float
from grpo_lead.advantages.length_methods import (
    alp_rewards,
    budget_rewards,
    cosine_rewards,
    kimi_rewards,
)
from grpo_lead.advantages.paper import lead_rewards, logistic_difficulty_weight


class LeadOptionsLike(Protocol):
    """What this module reads of `grpo_lead.options.LeadOptions` (a protocol, so that the module
    below the options imports nothing of them, not even for types)."""

    @property
    def length_reward(self) -> str: ...

    @property
    def difficulty_weight(self) -> str: ...

    def pick(self, names: tuple[str, ...]) -> dict[str, Any]: ...


__all__ = [
    "DIFFICULTY_WEIGHTS",
    "LENGTH_REWARDS",
    "difficulty_weighted_advantages",
    "length_shaped_rewards",
    "options_read",
    "register_difficulty_weight",
    "register_length_reward",
]

Registered = Callable[..., Tensor]
F = TypeVar("F", bound=Registered)
# fn(correct, lengths, group_size, *, <options>) -> (N,) rewards
LENGTH_REWARDS: dict[str, Registered] = {}
# fn(advantages, rho, group_size, *, <options>) -> (N,) advantages
DIFFICULTY_WEIGHTS: dict[str, Registered] = {}


def options_read(fn: Registered) -> tuple[str, ...]:
    """The options a registered function reads: its keyword-only parameters."""
    params = inspect.signature(fn).parameters.values()
    return tuple(p.name for p in params if p.kind is p.KEYWORD_ONLY)


def _register(table: dict[str, Registered], name: str, fn: F, positional: int) -> F:
    """Add fn under name; refuse a taken name, ``**kwargs`` and a wrong positional count."""
    if name in table:
        raise ValueError(f"{name!r} is already registered")
    params = list(inspect.signature(fn).parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in params):
        raise TypeError(f"{name!r}: a registered function declares its options, no **kwargs")
    if len([p for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]) != positional:
        raise TypeError(f"{name!r}: needs exactly {positional} positional parameters")
    table[name] = fn
    return fn


def register_length_reward(name: str) -> Callable[[F], F]:
    """Register ``fn(correct, lengths, group_size, *, <LeadOptions fields it reads>) -> (N,)``:
    the reward of every answer (the correctness reward replaced by its length-shaped form)."""
    return lambda fn: _register(LENGTH_REWARDS, name, fn, positional=3)


def register_difficulty_weight(name: str) -> Callable[[F], F]:
    """Register ``fn(advantages, rho, group_size, *, <LeadOptions fields it reads>) -> (N,)``:
    reweights group-normalised advantages (N,) by the groups' solve rates rho (num_groups,)."""
    return lambda fn: _register(DIFFICULTY_WEIGHTS, name, fn, positional=3)


def length_shaped_rewards(
    correct: Tensor, lengths: Tensor, group_size: int, options: LeadOptionsLike
) -> Tensor:
    """Every answer's reward under ``options.length_reward`` (mechanisms 1 and 2; the paper's:
    `grpo_lead.options.PAPER`). (N,) -> (N,)."""
    fn = LENGTH_REWARDS[options.length_reward]  # LeadOptions accepts registered names only
    return fn(correct, lengths, group_size, **options.pick(options_read(fn)))


def difficulty_weighted_advantages(
    advantages: Tensor, rho: Tensor, group_size: int, options: LeadOptionsLike
) -> Tensor:
    """``advantages`` reweighted under ``options.difficulty_weight`` (mechanism 3). (N,) -> (N,)."""
    fn = DIFFICULTY_WEIGHTS[options.difficulty_weight]
    return fn(advantages, rho, group_size, **options.pick(options_read(fn)))


# ---- The built-in choices: each maps its LeadOptions onto a pure function's arguments --------


@register_length_reward("paper")
def _paper_length(
    correct: Tensor,
    lengths: Tensor,
    group_size: int,
    *,
    incorrect_reward: float,
    alpha: float,
    eps: float,
    skip_length_term_below: float | None,
    length_term_min_solve_rate: float | None,
) -> Tensor:
    return lead_rewards(
        correct,
        lengths,
        group_size,
        alpha=alpha,
        incorrect_reward=incorrect_reward,
        eps=eps,
        skip_below=skip_length_term_below,
        min_solve_rate=length_term_min_solve_rate,
    )


@register_length_reward("linear")
def _linear_length(
    correct: Tensor,
    lengths: Tensor,
    group_size: int,
    *,
    incorrect_reward: float,
    length_coef: float,
    ref_length: float,
) -> Tensor:
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
def _no_length(
    correct: Tensor, lengths: Tensor, group_size: int, *, incorrect_reward: float
) -> Tensor:
    ones = torch.ones_like(as_float(lengths))
    return torch.where(correct.bool(), ones, ones * incorrect_reward)


@register_length_reward("budget")
def _budget_length(
    correct: Tensor,
    lengths: Tensor,
    group_size: int,
    *,
    incorrect_reward: float,
    length_budget: float,  # LeadOptions refuses "budget" without one
    budget_penalty_reward: float,
) -> Tensor:
    return budget_rewards(
        correct,
        lengths,
        budget=length_budget,
        incorrect_reward=incorrect_reward,
        over_budget_reward=budget_penalty_reward,
    )


@register_length_reward("kimi")
def _kimi_length(
    correct: Tensor,
    lengths: Tensor,
    group_size: int,
    *,
    incorrect_reward: float,
    kimi_weight: float,
) -> Tensor:
    return kimi_rewards(
        correct, lengths, group_size, weight=kimi_weight, incorrect_reward=incorrect_reward
    )


@register_length_reward("alp")
def _alp_length(
    correct: Tensor, lengths: Tensor, group_size: int, *, incorrect_reward: float, alp_beta: float
) -> Tensor:
    return alp_rewards(
        correct, lengths, group_size, beta=alp_beta, incorrect_reward=incorrect_reward
    )


@register_length_reward("cosine")
def _cosine_length(
    correct: Tensor, lengths: Tensor, group_size: int, *, cosine_max_len: float
) -> Tensor:
    return cosine_rewards(correct, lengths, max_len=cosine_max_len)


@register_difficulty_weight("logistic")
def _logistic(
    advantages: Tensor,
    rho: Tensor,
    group_size: int,
    *,
    weight_a: float,
    weight_b: float,
    weight_k: float,
    weight_x0: float,
) -> Tensor:
    return logistic_difficulty_weight(
        advantages, rho, group_size, A=weight_a, B=weight_b, k=weight_k, x0=weight_x0
    )


@register_difficulty_weight("linear")
def _one_plus_d(advantages: Tensor, rho: Tensor, group_size: int) -> Tensor:
    return linear_difficulty_weight(advantages, rho, group_size)


@register_difficulty_weight("none")
def _unweighted(advantages: Tensor, rho: Tensor, group_size: int) -> Tensor:
    return advantages
