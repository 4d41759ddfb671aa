"""Reward functions for TRL's `GRPOTrainer` (and `GRPOLeadTrainer`).

Each follows TRL's contract: called as ``f(prompts=..., completions=..., completion_ids=...,
**dataset_columns, trainer_state=..., log_extra=..., log_metric=...)``, returns one float (or
None: cannot score) per completion; completions are plain strings or conversations (a list of
messages whose last one is the assistant's). Unknown keyword arguments are ignored. The reference
answer is read from the ``answer`` column (``solution`` and the article's ``ground_truth`` work
too). Parametrised rewards are small picklable classes with a ``__name__``, as in TRL.

Which rewards are exact where:
- ``accuracy_reward``, ``format_reward``, ``reasoning_quality_reward``, ``grpo_lead_reward``,
  ``outcome_reward``: per completion, exact anywhere.
- ``difficulty_aware_reward`` and ``get_length_scaled_accuracy_reward(...)`` need a whole group
  (all G answers to a question) in one call. With a stock ``GRPOTrainer`` that holds on one
  process; across processes a group can be split and they become approximations. Inside
  ``GRPOLeadTrainer`` the group-level parts are computed on the gathered batch instead, exactly:
  give it ``accuracy_reward`` (or ``outcome_reward``) and set the LEAD options in its config.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from grpo_lead.advantages import lead_rewards
from grpo_lead.options import PAPER, LeadOptions
from grpo_lead.reasoning import (  # noqa: F401 - public names of this module too
    THINK_CLOSE,
    THINK_OPEN,
    has_degenerate_repetition,
    is_format_failure,
    prompt_opens_think,
    with_prompt_think,
)
from grpo_lead.reasoning import is_well_formed as _well_formed
from grpo_lead.reasoning import think_part as _think_part

__all__ = [
    "REWARDS",
    "REWARD_BUILDERS",
    "CHECKING_REWARDS",
    "OutcomeReward",
    "WithExtraction",
    "LengthScaledAccuracyReward",
    "accuracy_reward",
    "completion_text",
    "difficulty_aware_reward",
    "format_reward",
    "get_length_scaled_accuracy_reward",
    "get_reward",
    "grpo_lead_reward",
    "has_degenerate_repetition",
    "is_format_failure",
    "outcome_reward",
    "reasoning_quality_reward",
]

Completion = str | list[dict[str, Any]]


def completion_text(completion: Completion) -> str:
    """The text of a completion: a string as is, a conversation's last message content."""
    if isinstance(completion, str):
        return completion
    if completion and isinstance(completion[-1], dict):
        content = completion[-1].get("content", "")
        if isinstance(content, list):  # content blocks
            return "".join(b.get("text", "") for b in content if isinstance(b, dict))
        return content or ""
    raise TypeError(f"a completion must be a string or a list of messages, got {type(completion)}")


def _references(n: int, answer=None, solution=None, ground_truth=None, **_) -> list[str | None]:
    refs = next((col for col in (answer, solution, ground_truth) if col is not None), None)
    if refs is None:
        raise ValueError(
            "the reward needs the reference answers: the dataset has no 'answer' column "
            "(nor 'solution' / 'ground_truth')"
        )
    if len(refs) != n:
        raise ValueError(f"{len(refs)} reference answers for {n} completions")
    return [None if r is None else str(r) for r in refs]


def _correctness(completions: Sequence[Completion], kwargs: dict) -> list[bool | None]:
    from grpo_lead.answers import check_answers  # imported on use: math-verify loads sympy

    refs = _references(len(completions), **kwargs)
    texts = [completion_text(c) for c in completions]
    prompts = kwargs.get("prompts")
    if prompts is not None and len(prompts) == len(texts):
        # a text prompt that opens <think> (R1-Distill templates rendered as text): read the
        # completion as the model wrote it, inside the reasoning block
        texts = [
            with_prompt_think(t, prompt_opens_think=isinstance(p, str) and prompt_opens_think(p))
            for t, p in zip(texts, prompts, strict=True)
        ]
    todo = [i for i, r in enumerate(refs) if r is not None]
    extraction = kwargs.get("extraction", "strict")
    verdicts = check_answers(
        [texts[i] for i in todo], [refs[i] for i in todo], extraction=extraction
    )
    out: list[bool | None] = [None] * len(texts)
    for i, v in zip(todo, verdicts, strict=True):
        out[i] = v.correct
    return out


def accuracy_reward(completions: Sequence[Completion], **kwargs) -> list[float | None]:
    """1.0 if the completion's final answer equals the reference (through the answer checker),
    else 0.0; None where the row has no reference. ``extraction="lenient"`` (a keyword, or
    `WithExtraction`) reads unboxed answers too (`grpo_lead.answers`).

    >>> accuracy_reward(["<think>2+2</think> \\\\boxed{4}", "\\\\boxed{5}"], answer=["4", "4"])
    [1.0, 0.0]
    """
    return [None if c is None else float(c) for c in _correctness(completions, kwargs)]


def format_reward(completions: Sequence[Completion], **kwargs) -> list[float]:
    """1.0 for ``<think> reasoning </think> answer`` (the opening tag may sit in the prompt, as
    R1-style chat templates put it there), with non-empty reasoning, exactly one closing tag and
    a non-empty answer after it; else 0.0.

    >>> format_reward(["<think>a</think>\\\\boxed{1}", "no tags", "<think>a</think>"])
    [1.0, 0.0, 0.0]
    """
    return [1.0 if _well_formed(completion_text(c)) else 0.0 for c in completions]


_STEP_SPLIT = re.compile(r"(?:\n+|(?<=[.!?;])\s+)")


def reasoning_quality_reward(completions: Sequence[Completion], **kwargs) -> list[float]:
    """A reasoning-quality score in [0, 1]. The article names this reward but does not define it;
    ours rewards what a checkable reasoning trace needs, in equal parts:

    - 0.25: a non-empty reasoning section (``<think>``... or the text before the last box;
      without one the score is 0);
    - 0.25: at least two distinct reasoning steps (lines or sentences);
    - 0.25: no degenerate repetition (:func:`has_degenerate_repetition`);
    - 0.25: at most half the steps are verbatim repeats of an earlier step.

    >>> reasoning_quality_reward(["<think>2+2=4.\\nSo 4.</think>\\\\boxed{4}", ""])
    [1.0, 0.0]
    """
    out = []
    for c in completions:
        think = _think_part(completion_text(c)).strip()
        if not think:
            out.append(0.0)
            continue
        steps = [s.strip() for s in _STEP_SPLIT.split(think) if s.strip()]
        score = 0.25
        score += 0.25 if len(set(steps)) >= 2 else 0.0
        score += 0.0 if has_degenerate_repetition(think) else 0.25
        repeats = len(steps) - len(set(steps))
        score += 0.25 if repeats <= len(steps) / 2 else 0.0
        out.append(score)
    return out


def grpo_lead_reward(completions: Sequence[Completion], **kwargs) -> list[float | None]:
    """The article's ``grpo_lead_reward``, as written there, with a real checker: correct
    ``3.0 - 0.1 * len(text) / 200``; wrong ``-1.0 - 1.0``. Lengths in characters, as the
    article's code counts them.

    >>> grpo_lead_reward(["\\\\boxed{4}", "\\\\boxed{5}"], answer=["4", "4"])
    [2.9955, -2.0]
    """
    out: list[float | None] = []
    for c, ok in zip(completions, _correctness(completions, kwargs)):
        if ok is None:
            out.append(None)
        elif ok:
            out.append(3.0 - 0.1 * len(completion_text(c)) / 200)
        else:
            out.append(-2.0)
    return out


def _group_slices(prompts: Sequence[Any] | None, n: int) -> list[slice]:
    """Consecutive runs of equal prompts: the groups of a TRL batch (RepeatSampler order)."""
    if prompts is None:
        return [slice(0, n)]
    keys = [repr(p) for p in prompts]
    slices, start = [], 0
    for i in range(1, n + 1):
        if i == n or keys[i] != keys[start]:
            slices.append(slice(start, i))
            start = i
    return slices


def difficulty_aware_reward(
    completions: Sequence[Completion], prompts: Sequence[Any] | None = None, **kwargs
) -> list[float | None]:
    """The article's ``difficulty_aware_reward`` as written there: ``(1 + d) * (3.0 or -1.0)``
    with ``d = 1 - (correct in the group) / (group size)``. The article takes the whole call as
    one group; here groups are the consecutive runs of equal prompts (one group when ``prompts``
    is not given). Exact only when a call holds whole groups (see the module docstring).

    >>> difficulty_aware_reward(["\\\\boxed{4}", "\\\\boxed{5}"], answer=["4", "4"])
    [4.5, -1.5]
    """
    correct = _correctness(completions, kwargs)
    out: list[float | None] = [None] * len(correct)
    for sl in _group_slices(prompts, len(correct)):
        group = correct[sl]
        scored = [c for c in group if c is not None]
        if not scored:
            continue
        weight = 1.0 + (1.0 - sum(scored) / len(scored))
        for i, c in enumerate(group, start=sl.start):
            out[i] = None if c is None else weight * (3.0 if c else -1.0)
    return out


def _lengths(completions, completion_ids) -> list[int]:
    if completion_ids is not None:
        return [len(ids) for ids in completion_ids]
    return [len(completion_text(c)) for c in completions]


class LengthScaledAccuracyReward:
    """The paper's length-dependent accuracy reward for a stock ``GRPOTrainer``:
    ``exp(-alpha * z)`` for a correct answer, z standardising its token length among the correct
    answers of its group (sample std; 1 with at most one correct), ``incorrect_reward`` for a
    wrong one. Groups are runs of equal prompts; exact when a call holds whole groups.

    Same name and signature as TRL's proposed ``get_length_scaled_accuracy_reward`` (trl #6222),
    so users can switch either way. Lengths are token counts (``completion_ids``) when TRL gives
    them, else characters.
    """

    __name__ = "length_scaled_accuracy_reward"

    def __init__(
        self, alpha: float = PAPER.alpha, incorrect_reward: float = PAPER.incorrect_reward
    ):
        if alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {alpha}")
        self.alpha = alpha
        self.incorrect_reward = incorrect_reward

    def __call__(self, completions, prompts=None, completion_ids=None, **kwargs):
        correct = _correctness(completions, kwargs)
        lengths = _lengths(completions, completion_ids)
        out: list[float | None] = [None] * len(correct)
        for sl in _group_slices(prompts, len(correct)):
            c = torch.tensor([bool(x) for x in correct[sl]])
            r = lead_rewards(
                c,
                torch.tensor(lengths[sl], dtype=torch.float64),
                len(c),
                alpha=self.alpha,
                incorrect_reward=self.incorrect_reward,
            )
            for i, value in enumerate(r.tolist(), start=sl.start):
                out[i] = None if correct[i] is None else value
        return out


def get_length_scaled_accuracy_reward(
    alpha: float = PAPER.alpha, incorrect_reward: float = PAPER.incorrect_reward
) -> LengthScaledAccuracyReward:
    """Factory with the name TRL's open PR #6222 proposes (its default alpha is 0.5; ours is the
    paper's 0.05)."""
    return LengthScaledAccuracyReward(alpha=alpha, incorrect_reward=incorrect_reward)


class OutcomeReward:
    """The reference code's outcome classes: correct 1, wrong ``incorrect_reward`` (-1), a format
    failure (``<think>`` never closed, e.g. truncated) ``format_failure_reward`` (0), and a format
    failure with degenerate repetition ``repetition_reward`` (-2; the paper's stage 2: -1.5).
    Counts as correct where > 0, so ``GRPOLeadTrainer`` can use it as its correctness reward."""

    __name__ = "outcome_reward"

    def __init__(
        self,
        incorrect_reward: float = PAPER.incorrect_reward,
        format_failure_reward: float = 0.0,
        repetition_reward: float = PAPER.repetition_reward,
    ):
        self.incorrect_reward = incorrect_reward
        self.format_failure_reward = format_failure_reward
        self.repetition_reward = repetition_reward

    def __call__(self, completions, **kwargs):
        out: list[float | None] = []
        for c, ok in zip(completions, _correctness(completions, kwargs)):
            text = completion_text(c)
            if ok is None:
                out.append(None)
            elif is_format_failure(text):
                rep = has_degenerate_repetition(text)
                out.append(self.repetition_reward if rep else self.format_failure_reward)
            else:
                out.append(1.0 if ok else self.incorrect_reward)
        return out


outcome_reward = OutcomeReward()


def _length_scaled(o: LeadOptions, args: Any) -> Callable:
    return LengthScaledAccuracyReward(alpha=o.alpha, incorrect_reward=o.incorrect_reward)


def _outcome(o: LeadOptions, args: Any) -> Callable:
    failure = 0.0 if o.format_failure_reward is None else o.format_failure_reward
    return OutcomeReward(o.incorrect_reward, failure, o.repetition_reward)


def _cosine(o: LeadOptions, args: Any) -> Callable:
    from trl.rewards import get_cosine_scaled_reward

    return get_cosine_scaled_reward(max_len=int(o.cosine_max_len))


def _soft_overlong(o: LeadOptions, args: Any) -> Callable:
    from trl.rewards import get_soft_overlong_punishment

    max_len = getattr(args, "max_completion_length", None) or 256
    cache = o.soft_punish_window(max_len)
    return get_soft_overlong_punishment(max_completion_len=max_len, soft_punish_cache=cache)


# Rewards by the names recipes use (`reward_funcs: [accuracy, format]`): plain functions, or
# builders that take the run's LEAD options and training config (as open-r1 builds its
# parametrised rewards from its script arguments), so a recipe's values reach them.
REWARDS: dict[str, Callable[..., list[float | None]]] = {
    "accuracy": accuracy_reward,
    "format": format_reward,
    "reasoning_quality": reasoning_quality_reward,
    "grpo_lead": grpo_lead_reward,
    "difficulty_aware": difficulty_aware_reward,
}
REWARD_BUILDERS: dict[str, Callable[[LeadOptions, Any], Callable]] = {
    "length_scaled_accuracy": _length_scaled,
    "outcome": _outcome,
    "cosine": _cosine,  # TRL's get_cosine_scaled_reward
    "soft_overlong": _soft_overlong,  # TRL's get_soft_overlong_punishment (DAPO)
}


# the rewards that check answers: they take ``extraction`` ("strict" / "lenient")
CHECKING_REWARDS = frozenset(
    {"accuracy", "grpo_lead", "difficulty_aware", "length_scaled_accuracy", "outcome"}
)


class WithExtraction:
    """A reward that checks answers, with the answer checker in another extraction mode
    (``grpo_lead.answers``: "strict" or "lenient"); same ``__name__``, so ``correctness_reward``
    and TRL's logged names are unchanged.

    >>> WithExtraction(accuracy_reward, "lenient")(["2 times 3 equals 6."], answer=["6"])
    [1.0]
    """

    def __init__(self, reward: Callable[..., list[float | None]], extraction: str):
        from grpo_lead.answers import check_extraction

        self.reward, self.extraction = reward, check_extraction(extraction)
        self.__name__ = getattr(reward, "__name__", type(reward).__name__)

    def __call__(self, completions, **kwargs):
        return self.reward(completions, **{**kwargs, "extraction": self.extraction})


def _options_of(args: Any) -> LeadOptions:
    """The LEAD options of a config or a `LeadOptions` (None, or a config without: the paper's)."""
    if isinstance(args, LeadOptions):
        return args
    if args is not None and hasattr(args, "lead_options"):
        return args.lead_options()
    return PAPER


def get_reward(
    name: str,
    args: Any = None,
    *,
    rewards: Mapping[str, Callable] | None = None,
    options: LeadOptions | None = None,
) -> Callable[..., list[float | None]]:
    """A reward function by its recipe name; a clear error lists the known names.

    ``rewards``: the task's table of plain rewards (`grpo_lead.tasks`: multiple choice looks
    up `grpo_lead.tasks.choice.rewards.REWARDS`); default `REWARDS`, math's.

    ``args``: the run's `GRPOLeadConfig` (or a `LeadOptions`): parametrised rewards
    (``length_scaled_accuracy``, ``outcome``, ``cosine``, ``soft_overlong``) take their values
    from it (alpha, incorrect_reward, format_failure_reward, repetition_reward, cosine_max_len,
    max_completion_length, soft_punish_cache); None = the paper's defaults. ``options``: the
    LEAD options to use instead of the config's (for a stock `trl.GRPOConfig`, which has none).
    The rewards that check answers follow ``args.extraction`` where it is not "strict"
    (`WithExtraction`).
    """
    table = REWARDS if rewards is None else rewards
    if name in table:
        reward = table[name]
    elif name in REWARD_BUILDERS:
        reward = REWARD_BUILDERS[name](options or _options_of(args), args)
    else:
        known = ", ".join(sorted([*table, *REWARD_BUILDERS]))
        raise ValueError(f"unknown reward {name!r}; known: {known}")
    extraction = getattr(args, "extraction", "strict")
    math = table is REWARDS or name in REWARD_BUILDERS  # a task's own table checks its own way
    if name in CHECKING_REWARDS and math and extraction != "strict":
        return WithExtraction(reward, extraction)
    return reward
