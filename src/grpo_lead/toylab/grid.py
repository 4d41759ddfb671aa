"""Method tables of the toy benchmarks: a name -> the options of one RL run, in one place.

Every row of every grid is a `Method`: a `LeadOptions` built with `grpo_lead.options.preset`
(the LEAD math: length reward, explicit penalty, difficulty weight, normalisation, the soft
overlong window), TRL `GRPOConfig` options (clip-higher, masking of truncated answers) and extra
rewards by name (`grpo_lead.rewards.get_reward`: ``soft_overlong`` is TRL's DAPO punishment), and
the trainer that runs it. Two grids run through the same runner (`grpo_lead.ablation`):

1. ``paper`` (`PAPER_METHODS`): the paper's ablation steps, from plain GRPO up to GRPO-LEAD, and
   ``trl-length``, a length baseline built from TRL's options only, run by the stock
   ``trl.GRPOTrainer`` (the demo trains ``grpo`` and ``lead`` from here too);
2. ``length-methods`` (`LENGTH_METHODS`): the length-control methods of the field side by side
   (docs/length-methods.md), each at two or three values of its knob. All run on `GRPOLeadTrainer`, so each
   composes with LEAD's explicit penalty and difficulty weight (the ``+lead`` rows).

The toy's answers are 31-93 tokens at their floors (`task.level_floors`) under a 128-token limit,
so the knobs are set on that scale: budgets 48 / 64 / 96 tokens (48: the concise and medium
styles fit everywhere, the verbose one on no hard problem; 96: every style fits), ALP's beta so
that an easy problem's 50-token answer pays 0.15-0.5, the cosine reward's L_max at 96 / 128.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grpo_lead.options import LeadOptions, preset
from grpo_lead.toylab.settings import LabSettings

__all__ = [
    "GRIDS",
    "KINDS",
    "LENGTH_METHODS",
    "PAPER_METHODS",
    "TRAINERS",
    "TRL_BASELINE",
    "Method",
    "grid_methods",
    "run_options",
]

# The generation limit of every toy run (`LabSettings.max_completion_length`): the soft window's end
MAX_COMPLETION_LENGTH = LabSettings().max_completion_length
# DLER's and DAPO's clip-higher, and TRL's masking of truncated answers: with batch-level
# scaling (a LEAD option, `scale="batch"`), the paper grid's trl-length baseline
CLIP_HIGHER = {"epsilon_high": 0.28}
TRL_OPTIONS = {"mask_truncated_completions": True, **CLIP_HIGHER}
# What a method's length push depends on: a fixed token budget, the group's lengths, or the
# group's lengths and its solve rate (difficulty-aware); "none" = no length push.
KINDS = ("none", "budget", "relative", "difficulty-aware")
# "lead": `GRPOLeadTrainer` (every LEAD option); "trl": the stock `trl.GRPOTrainer`, which runs
# plain GRPO options only (its `scale_rewards` and the soft overlong window aside)
TRAINERS = ("lead", "trl")
TRL_BASELINE = "trl-length"  # the paper grid's row on the stock trainer
# DOT's knobs for groups of 8 and answers of tens of tokens (see the "dot" row)
DOT_SMALL_G: dict[str, Any] = {"dot": True, "dot_alpha": 1.4, "dot_margin": 2.0}


@dataclass(frozen=True)
class Method:
    """One row of a grid: LEAD options, TRL options, extra rewards, the trainer, and labels."""

    family: str  # the method (one colour in the pictures)
    knob: str  # its value, e.g. "alpha 0.05"
    kind: str  # one of KINDS
    options: LeadOptions
    trl: dict[str, Any] = field(default_factory=dict)
    rewards: tuple[str, ...] = ()
    trainer: str = "lead"  # one of TRAINERS

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.trainer not in TRAINERS:
            raise ValueError(f"trainer must be one of {TRAINERS}, got {self.trainer!r}")
        plain = self.options.replace(scale="group", soft_punish_cache=None)
        if self.trainer == "trl" and plain != preset("grpo"):
            raise ValueError(f"{self.label}: the stock TRL trainer runs plain GRPO options only")

    @property
    def label(self) -> str:
        return f"{self.family} ({self.knob})" if self.knob else self.family

    def config_kwargs(self) -> dict[str, Any]:
        """The run's config keyword arguments: `GRPOLeadConfig` ones (every LEAD option and the
        TRL options), or for the stock trainer `trl.GRPOConfig` ones."""
        if self.trainer == "trl":
            return {"scale_rewards": self.options.scale, **self.trl}
        from grpo_lead.configs import GRPOLeadConfig

        lead = GRPOLeadConfig.options_kwargs(self.options)
        clash = sorted(set(self.trl) & set(lead))
        if clash:  # a LEAD option lives in `options` only, so one place says what a run uses
            raise ValueError(f"{self.label}: {clash} are LEAD options: set them in its LeadOptions")
        return {**lead, **self.trl}


def _overlong(budget: int) -> dict[str, Any]:
    """LEAD options of DAPO's soft overlong punishment ramping from `budget` to the limit."""
    return {"scale": "batch", "soft_punish_cache": MAX_COMPLETION_LENGTH - budget}


def _paper_methods() -> dict[str, Method]:
    """The paper's ablation steps (each adds one mechanism to the one before) and TRL's."""
    grpo = preset("grpo")
    length = grpo.replace(length_reward="paper")
    return {
        "grpo": Method("GRPO", "", "none", grpo),
        "+length": Method("+ length reward", "", "relative", length),
        "+difficulty": Method(
            "+ difficulty weight",
            "",
            "difficulty-aware",
            length.replace(difficulty_weight="logistic"),
        ),
        "lead": Method("GRPO-LEAD", "", "difficulty-aware", preset("lead")),
        "lead-no-difficulty": Method(
            "GRPO-LEAD w/o weight", "", "relative", preset("lead", difficulty_weight="none")
        ),
        TRL_BASELINE: Method(
            "TRL's options",
            "from 32",
            "budget",
            grpo.replace(**_overlong(32)),
            TRL_OPTIONS,
            ("soft_overlong",),
            trainer="trl",
        ),  # fmt: skip
    }


def _solved_group_rows(grpo: LeadOptions) -> dict[str, Method]:
    """The methods that push only the groups the model already solves."""
    return {
        # DOT (arXiv 2601.03969) on GRPO's 0/1 reward, as its authors train it. Their alpha 3 is
        # for G = 32; at G = 8 no answer lies above 2.47 stds (`advantages.dot.max_z`), so alpha
        # is theirs scaled by that bound (3 x 2.47 / 5.30 = 1.4), and the margin, 32 tokens of
        # answers of thousands, is 2 tokens of answers of 20-90.
        "dot": Method("DOT", "alpha 1.4, m 2", "difficulty-aware", grpo.replace(**DOT_SMALL_G)),
        # The grpo-lead preset: the paper's LEAD with its length term in all-correct groups only
        "lead-solved": Method(
            "GRPO-LEAD solved", "length term at rho = 1", "difficulty-aware", preset("lead-solved")
        ),
        # The grpo-lead preset after lead-solved: LEAD's -1 and weight, DOT's cut for length
        "lead-dot": Method(
            "GRPO-LEAD DOT", "alpha 1.4, m 2", "difficulty-aware", preset("lead-dot")
        ),
    }


def _methods() -> dict[str, Method]:
    grpo = preset("grpo")
    m: dict[str, Method] = {"grpo": Method("GRPO", "", "none", grpo)}
    for a in (0.05, 0.2):
        m[f"lead-a{a:g}"] = Method(
            "LEAD", f"alpha {a:g}", "difficulty-aware", preset("lead", alpha=a)
        )
        m[f"lead-nodw-a{a:g}"] = Method(
            "LEAD w/o weight", f"alpha {a:g}", "relative",
            preset("lead", alpha=a, difficulty_weight="none"),
        )  # fmt: skip
    for b in (0.003, 0.01):
        m[f"alp-{b:g}"] = Method(
            "ALP", f"beta {b:g}", "difficulty-aware", grpo.replace(length_reward="alp", alp_beta=b)
        )
    for w in (0.5, 1.0):
        m[f"kimi-{w:g}"] = Method(
            "Kimi 1.5", f"weight {w:g}", "relative",
            grpo.replace(length_reward="kimi", kimi_weight=w),
        )  # fmt: skip
    for c in (0.25, 0.5):
        m[f"linear-{c:g}"] = Method(
            "linear (article)", f"lambda {c:g}, L_ref 64", "relative",
            preset("article", length_coef=c, ref_length=64.0),
        )  # fmt: skip
    for L in (96, MAX_COMPLETION_LENGTH):
        m[f"cosine-{L}"] = Method(
            "cosine", f"L_max {L}", "relative",
            grpo.replace(length_reward="cosine", cosine_max_len=float(L)),
        )  # fmt: skip
    for B in (48, 64, 96):
        m[f"dler-{B}"] = Method(
            "DLER", f"budget {B}", "budget", preset("dler", length_budget=float(B)), CLIP_HIGHER
        )
        m[f"overlong-{B}"] = Method(
            "DAPO soft overlong", f"from {B}", "budget", grpo.replace(**_overlong(B)),
            TRL_OPTIONS, ("soft_overlong",),
        )  # fmt: skip
    m.update(_solved_group_rows(grpo))
    # Composed with LEAD's explicit penalty (-1) and difficulty weight
    lead = {"incorrect_reward": -1.0, "difficulty_weight": "logistic"}
    m["alp-0.01+lead"] = Method(
        "ALP + LEAD", "beta 0.01", "difficulty-aware",
        grpo.replace(length_reward="alp", alp_beta=0.01, **lead),
    )  # fmt: skip
    m["dler-64+lead"] = Method(
        "DLER + LEAD", "budget 64", "budget",
        preset("dler", length_budget=64.0, **lead), CLIP_HIGHER,
    )  # fmt: skip
    m["overlong-64+lead"] = Method(
        "soft overlong + LEAD", "from 64", "budget", preset("lead", **_overlong(64)), TRL_OPTIONS,
        ("soft_overlong",),
    )  # fmt: skip
    return m


PAPER_METHODS: dict[str, Method] = _paper_methods()
LENGTH_METHODS: dict[str, Method] = _methods()
# The grids `grpo-lead ablation --grid` runs (names without the warm-up row).
_TABLES = {"paper": PAPER_METHODS, "length-methods": LENGTH_METHODS}
GRIDS = tuple(_TABLES)


def grid_methods(grid: str) -> tuple[str, ...]:
    """The RL methods of a grid: its row names (the warm-up row not included)."""
    if grid not in _TABLES:
        raise ValueError(f"unknown grid {grid!r}; choose one of {list(GRIDS)}")
    return tuple(_TABLES[grid])


def run_options(grid: str, name: str) -> dict[str, Any]:
    """`train_method` keyword arguments of method `name` in `grid`: its `Method` row."""
    if name not in grid_methods(grid):
        raise ValueError(f"unknown method {name!r} in grid {grid!r}")
    return {"method": _TABLES[grid][name]}
