"""`LeadOptions`: every option of GRPO-LEAD's group-level math, with the paper's defaults, once.

The paper's and the article's numbers are constants of the modules that hold their formulas
(`grpo_lead.advantages.paper`, `.article`, ...): the pure functions and the fields here both
take their defaults from them, so each is written once. The trainer builds a `LeadOptions`
from its `GRPOLeadConfig` in one place (`GRPOLeadConfig.lead_options`), verl's estimator builds
one from its ``algorithm`` section, and the named presets below are the only place where a
setting such as plain GRPO is spelt out (the toy lab's tables, `toylab.grid`, build on them).
Values are validated on construction: every float must be finite and inside a sensible range,
so a typo such as ``--alpha inf`` or ``--incorrect_reward nan`` stops the run at once instead
of training a model into NaN.

The LEAD options are checked here, in one place: `length_reward` and `difficulty_weight` must
name registered functions (`grpo_lead.advantages.registry`, imported from below), and each
registered function declares the options it reads as keyword-only parameters named like the
fields here, so a name that is not a field is refused when options choosing it are built, and
`LeadOptions.from_mapping` refuses unknown keys: a misspelt option is an error, never silently
ignored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from grpo_lead.advantages import article, paper
from grpo_lead.advantages.dot import DOT_ALPHA, DOT_MARGIN, DOT_SUCCESS_THRESHOLD
from grpo_lead.advantages.groups import EPS
from grpo_lead.advantages.length_methods import KIMI_WEIGHT
from grpo_lead.advantages.outcomes import REPETITION_REWARD
from grpo_lead.advantages.registry import (
    DIFFICULTY_WEIGHTS,
    LENGTH_REWARDS,
    Registered,
    options_read,
)

__all__ = ["PAPER", "PRESETS", "LeadOptions", "lead_option_names", "preset"]

# (low, high) inclusive bounds for the float options; None = unbounded on that side.
_RANGES: dict[str, tuple[float | None, float | None]] = {
    "alpha": (0.0, 10.0),
    "length_coef": (0.0, 100.0),
    "ref_length": (1e-9, None),
    "incorrect_reward": (-100.0, 0.0),
    "weight_a": (1e-9, 100.0),
    "weight_b": (1e-9, 100.0),
    "weight_k": (1e-9, 1000.0),
    "weight_x0": (0.0, 1.0),
    "eps": (1e-12, 1.0),
    "format_failure_reward": (-100.0, 1.0),
    "repetition_reward": (-100.0, 1.0),
    "skip_length_term_below": (0.0, None),
    "length_budget": (1.0, None),
    "budget_penalty_reward": (-100.0, 1.0),
    "kimi_weight": (0.0, 100.0),
    "alp_beta": (0.0, 100.0),
    "cosine_max_len": (1.0, None),
    "soft_punish_cache": (1.0, None),
    "length_term_min_solve_rate": (0.0, 1.0),
    "dot_success_threshold": (0.0, 1.0),
    "dot_alpha": (0.0, 10.0),
    "dot_margin": (0.0, None),
}
SCALES = ("group", "batch", "none")


@dataclass(frozen=True)
class LeadOptions:
    """GRPO-LEAD's options (defaults: the paper, arXiv 2504.09696, and its reference code).

    Mechanism 1, the length term of a correct answer's reward (``length_reward``, a name in
    `grpo_lead.advantages.LENGTH_REWARDS`): ``alpha`` of exp(-alpha z) (paper 0.05);
    ``length_coef`` / ``ref_length``: the article's linear ``1 - lambda L / L_ref`` (0.1, 200);
    ``skip_length_term_below``: the reference code's gate, no length term in a group whose 3
    shortest answers average <= this many tokens (its runs: 4000; None = off, the paper's text);
    ``length_term_min_solve_rate``: no length term in a group solved less often than this (the
    ``lead-solved`` preset: 1.0, only all-correct groups; None = off, the paper);
    ``length_budget`` / ``budget_penalty_reward``: a correct answer longer than the budget earns
    the penalty (DLER's truncation penalty); ``kimi_weight``, ``alp_beta``, ``cosine_max_len``:
    the knobs of the Kimi 1.5, ALP and cosine length rewards; ``soft_punish_cache``: L_cache of
    the ``soft_overlong`` reward (TRL's DAPO soft overlong punishment, which ramps from
    ``max_completion_length - L_cache``; None = a fifth of it, see `soft_punish_window`).
    Mechanism 2: ``incorrect_reward`` (paper -1; 0 = plain GRPO).
    DOT, Dynamic Outlier Truncation (arXiv 2601.03969; `grpo_lead.advantages.dot`): ``dot``
    turns it on; in groups solved at least ``dot_success_threshold`` of the time (1.0), a
    completion ``dot_margin`` tokens (or, in (0, 1), that share of it) beyond
    ``int(mean + dot_alpha * stdev)`` of its group's lengths is cut there and scored again
    (`GRPOLeadTrainer`). The authors' alpha 3 and margin 32 are for G = 32 and answers of
    thousands of tokens; at G = 8 alpha must be below 2.47 (`dot.max_z`) to cut at all.
    Mechanism 3 (``difficulty_weight``, a name in `DIFFICULTY_WEIGHTS`): the logistic
    ``w(x) = A + (B - A) / (1 + exp(k (x - x0)))`` with ``weight_a`` = A (0.4), ``weight_b`` = B
    (1.5), ``weight_k`` = k (10), ``weight_x0`` = x0 (0.75).
    Normalisation: ``scale`` "group" (sample std of the group, + ``eps`` 1e-6), "batch" (group
    mean, std of the whole batch: DLER) or "none" (Dr. GRPO).
    Reference code's classes: ``format_failure_reward`` (0 there; None = off) and
    ``repetition_reward`` (-2; stage 2: -1.5); ``group_filter``: its rejection sampling.
    """

    length_reward: str = "paper"
    alpha: float = paper.ALPHA
    length_coef: float = article.LENGTH_COEF
    ref_length: float = article.REF_LENGTH
    skip_length_term_below: float | None = None
    length_budget: float | None = None
    budget_penalty_reward: float = 0.0
    kimi_weight: float = KIMI_WEIGHT
    alp_beta: float = 0.001
    cosine_max_len: float = 1000.0
    soft_punish_cache: int | None = None
    length_term_min_solve_rate: float | None = None
    incorrect_reward: float = paper.INCORRECT_REWARD
    difficulty_weight: str = "logistic"
    weight_a: float = paper.WEIGHT_A
    weight_b: float = paper.WEIGHT_B
    weight_k: float = paper.WEIGHT_K
    weight_x0: float = paper.WEIGHT_X0
    eps: float = EPS
    scale: str = "group"
    group_filter: bool = False
    format_failure_reward: float | None = None
    repetition_reward: float = REPETITION_REWARD
    dot: bool = False
    dot_success_threshold: float = DOT_SUCCESS_THRESHOLD
    dot_alpha: float = DOT_ALPHA
    dot_margin: float = DOT_MARGIN

    def __post_init__(self) -> None:
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            if value is None and name in _OPTIONAL:
                continue
            _check_float(name, value, low, high)
        if self.weight_a > self.weight_b:
            raise ValueError(
                f"weight_a must be <= weight_b, got weight_a={self.weight_a}, weight_b={self.weight_b}"
            )
        if self.length_reward == "budget" and self.length_budget is None:
            raise ValueError("length_reward='budget' needs length_budget (tokens)")
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {list(SCALES)}, got {self.scale!r}")
        if self.soft_punish_cache is not None and not isinstance(self.soft_punish_cache, int):
            raise ValueError(
                f"soft_punish_cache must be a whole number of tokens, got {self.soft_punish_cache!r}"
            )
        _check_registered("length_reward", self.length_reward, LENGTH_REWARDS)
        _check_registered("difficulty_weight", self.difficulty_weight, DIFFICULTY_WEIGHTS)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> LeadOptions:
        """Options from a dict (a recipe, verl's ``algorithm`` section); unknown keys are an error."""
        unknown = sorted(set(values) - set(lead_option_names()))
        if unknown:
            raise ValueError(
                f"unknown LEAD option(s) {unknown}; known: {', '.join(lead_option_names())}"
            )
        return cls(**dict(values))

    def pick(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The named options as keyword arguments (what a registered function declares)."""
        return {n: getattr(self, n) for n in names}

    def replace(self, **changes: Any) -> LeadOptions:
        return replace(self, **changes)

    def soft_punish_window(self, max_completion_length: int) -> int:
        """L_cache of the ``soft_overlong`` reward: ``soft_punish_cache``, or when None a fifth of
        ``max_completion_length`` (at least 1; DAPO: 4096 of 20480)."""
        if self.soft_punish_cache is not None:
            return self.soft_punish_cache
        return max(1, max_completion_length // 5)

    @property
    def is_plain_grpo(self) -> bool:
        """Every LEAD mechanism off: a 0/1 reward, group normalisation, no weight, no filter."""
        return (
            self.length_reward == "none"
            and self.incorrect_reward == 0.0
            and self.difficulty_weight == "none"
            and not self.group_filter
            and self.format_failure_reward is None
            and not self.dot
        )


_OPTIONAL = {
    "skip_length_term_below",
    "length_term_min_solve_rate",
    "length_budget",
    "format_failure_reward",
    "soft_punish_cache",
}


def _check_registered(field: str, name: str, table: dict[str, Registered]) -> None:
    """``name`` is registered in ``table`` and its function reads LeadOptions fields only."""
    if name not in table:
        raise ValueError(f"{field} must be one of {sorted(table)}, got {name!r}")
    unknown = sorted(set(options_read(table[name])) - set(lead_option_names()))
    if unknown:
        raise ValueError(f"{field} {name!r} reads {unknown}, which are not LeadOptions fields")


def _check_float(name: str, value: Any, low: float | None, high: float | None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got {value}")


def lead_option_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(LeadOptions))


PAPER = LeadOptions()
PRESETS: dict[str, LeadOptions] = {
    # GRPO-LEAD as in the paper: exp(-alpha z), -1 for wrong answers, the logistic weight.
    "lead": PAPER,
    # Plain GRPO: a 0/1 correctness reward, group normalisation, nothing else.
    "grpo": LeadOptions(length_reward="none", incorrect_reward=0.0, difficulty_weight="none"),
    # The article's simplified form: 1 - 0.1 L / 200, -1 for wrong, (1 + d) * A.
    "article": LeadOptions(length_reward="linear", difficulty_weight="linear"),
    # DLER (arXiv 2510.15110): truncation at a budget, batch-wise normalisation, dynamic
    # sampling (here: the group filter). Its clip-higher is TRL's epsilon_high (toylab.grid.CLIP_HIGHER).
    "dler": LeadOptions(
        length_reward="budget",
        length_budget=4000.0,
        scale="batch",
        group_filter=True,
        difficulty_weight="none",
        incorrect_reward=0.0,
    ),
    # GRPO-LEAD concise where the model is sure: the paper's options, with the length term only in
    # groups it solves every time (DOT's idea, kept smooth): a hard problem keeps its long
    # reasoning (benchmarks/bench_real_compare.py --task steps measures it).
    "lead-solved": LeadOptions(length_term_min_solve_rate=1.0),
    # GRPO-LEAD with DOT's truncation in place of its length term: the -1 and the difficulty
    # weight of the paper; only groups solved every time are pushed shorter, and only their
    # outliers (mean + 1.4 stds of the group's lengths, 2 tokens of margin: DOT's alpha 3 at
    # G = 32 scaled to the G = 8 of our recipes, see `grpo_lead.advantages.dot.max_z`).
    "lead-dot": LeadOptions(length_reward="none", dot=True, dot_alpha=1.4, dot_margin=2.0),
    # The reference code's training run: its outcome classes, its group filter and length gate.
    "reference": LeadOptions(
        format_failure_reward=0.0, group_filter=True, skip_length_term_below=4000.0
    ),
}


def preset(name: str, **overrides: Any) -> LeadOptions:
    """A named preset, optionally with some options changed; a clear error lists the names."""
    try:
        base = PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}") from None
    return base.replace(**overrides) if overrides else base
