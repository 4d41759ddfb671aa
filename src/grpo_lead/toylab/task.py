"""A synthetic math task on which GRPO-LEAD's effect shows on a laptop CPU.

Problems are sums of 2-5 small operands ("What is 3+4+2+5+1?"); the difficulty level is the
number of operands minus one (1-4). Warm-up traces are written in the paper's format,
``<think> ... </think>\\n\\boxed{N}``, in one of three styles (concise, medium, verbose), and some
traces carry a *slip* (one running sum off by 1-2, carried to a wrong answer), more often at
higher levels, so that a tiny model warmed up on them is imperfect and wordy -- the state a
distilled reasoning model starts GRPO-LEAD from.

What the verbose words are is the switch `verbosity` (docs/benchmarks.md and
docs/length-methods.md measure what it changes):

1. ``"redundant"`` (default): every style starts with the running sums (``3+4=7,7+2=9,...``),
   the computation a tiny model needs to get a long sum right, so the total is fixed before
   any extra word. The medium and verbose styles then add words that never change the answer:
   a restatement of the question with the total, a re-check that always agrees with it (also
   after a slip). This is the verbosity the paper targets: LEAD's push to short correct answers
   can drop these words without dropping a useful step. (An earlier version put a filler line,
   "Let me add.", *before* the sums; there LEAD cost 6.5 points of level-4 accuracy against
   GRPO over 3 seeds, and a seed-0 ablation traced it to the length reward, not the difficulty
   weight: see benchmarks/bench_demo.py's notes.)
2. ``"useful"``: the length is useful computation. The concise style writes the total at once
   (the model must add 2-5 numbers in one go), the medium style writes the running sums, the
   verbose style also names each operand it adds. A push to short answers then trades accuracy
   on the hardest level for length (measured in docs/benchmarks.md and docs/length-methods.md).
3. ``"mixed"``: the right length depends on the difficulty. The concise style writes the total
   at once, the medium style the running sums, the verbose style names each operand it adds
   (the useful switch's styles). On the easy levels (1-2) every style is written as reliably,
   so the extra words are redundant; on the hard levels (3-4) a writer who adds 4-5 numbers at
   once slips far more often than one who writes the steps (`slip_rate(level, style,
   verbosity)`: at level 4, 80% concise, 60% medium, 45% verbose), so the words are the
   computation that gets the answer right. The best policy is short on easy problems and long
   on hard ones; `level_floors` gives each level's floor (the shortest style that keeps the
   level's accuracy).

Prompts are built by `grpo_lead.tasks.math.data.build_prompt` (the code real models use) with a short
suffix, ``TOY_PROMPT_SUFFIX = "\\nAnswer in \\boxed{}."``, rather than the paper's 72-character
``LEAD_PROMPT_SUFFIX``: for a character-level model the suffix is a constant that carries no
information, and the full one made every warm-up sequence ~50 tokens longer (0.29 s instead of
~0.2 s a step on 2 cores), which the 5-minute budget cannot absorb. ``make_problems(...,
suffix=LEAD_PROMPT_SUFFIX)`` gives the paper's prompt.

Everything is generated from an explicit seed (`random.Random`): same seed, same problems and
traces, on every platform.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from grpo_lead.tasks.math.data import build_prompt

TOY_PROMPT_SUFFIX = "\nAnswer in \\boxed{}."

__all__ = [
    "LEVELS",
    "STYLES",
    "STYLE_WEIGHTS",
    "TOY_PROMPT_SUFFIX",
    "VERBOSITIES",
    "make_problems",
    "make_sft_dataset",
    "make_trace",
    "level_floors",
    "slip_rate",
    "trace_tokens",
]

LEVELS = (1, 2, 3, 4)
RL_PROBLEMS_SEED_OFFSET = 1000  # a run's RL problems: seed + 1000 (its warm-up traces: seed)
STYLES = ("concise", "medium", "verbose")
VERBOSITIES = ("redundant", "useful", "mixed")
# Share of each style in the warm-up traces: wordy on average, as distilled reasoning models.
STYLE_WEIGHTS = {"concise": 0.25, "medium": 0.25, "verbose": 0.5}
OPERAND_RANGE = (1, 5)
# Probability that a warm-up trace carries a slip, by level (5/15/30/45%): it caps
# the warm-up model near 70% and leaves the hard levels with mixed groups of right and wrong.
_SLIP_RATES = {1: 0.05, 2: 0.15, 3: 0.30, 4: 0.45}
# The mixed switch: extra slip of the shorter styles on the hard levels (>= 3), where adding the
# operands at once (concise) or without naming them (medium) is what a tiny writer gets wrong.
_MIXED_EXTRA_SLIP = {"concise": 0.35, "medium": 0.15, "verbose": 0.0}
MIXED_HARD_FROM = 3
MAX_LEVEL = 6


def slip_rate(level: int, style: str | None = None, verbosity: str = "redundant") -> float:
    """Probability that a warm-up trace of this level (and, on the mixed switch, this style)
    carries a slip. On the redundant and useful switches the style does not matter."""
    _check_level(level)
    base = _SLIP_RATES.get(level, 0.5)
    if verbosity != "mixed" or level < MIXED_HARD_FROM:
        return base
    if style not in _MIXED_EXTRA_SLIP:
        raise ValueError(f"the mixed switch needs a style in {STYLES}, got {style!r}")
    return min(0.95, base + _MIXED_EXTRA_SLIP[style])


def _check_level(level: int) -> None:
    if not isinstance(level, int) or not 1 <= level <= MAX_LEVEL:
        raise ValueError(f"level must be an integer in 1..{MAX_LEVEL}, got {level!r}")


def make_problems(
    n: int,
    *,
    seed: int,
    levels: Sequence[int] = LEVELS,
    suffix: str = TOY_PROMPT_SUFFIX,
    operand_range: tuple[int, int] = OPERAND_RANGE,
) -> list[dict[str, Any]]:
    """`n` problems, levels cycled in the given order (balanced), operands drawn from `seed`
    in `operand_range` (inclusive; the toy's 1-5 by default).

    Each problem is a dict: ``question`` ("What is 3+4+2?"), ``prompt`` (``build_prompt(question,
    suffix=suffix)``), ``answer`` (the sum as a string, the column `rewards.accuracy_reward` reads),
    ``level`` (operands - 1) and ``operands``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    levels = tuple(levels)
    if not levels:
        raise ValueError("levels must not be empty")
    for level in levels:
        _check_level(level)
    lo, hi = operand_range
    if not 0 <= lo <= hi:
        raise ValueError(
            f"operand_range must be (low, high) with 0 <= low <= high, got {operand_range}"
        )
    rng = random.Random(f"problems-{seed}")
    problems = []
    for i in range(n):
        level = levels[i % len(levels)]
        operands = [rng.randint(lo, hi) for _ in range(level + 1)]
        question = f"What is {'+'.join(map(str, operands))}?"
        problems.append(
            {
                "question": question,
                "prompt": build_prompt(question, suffix=suffix),
                "answer": str(sum(operands)),
                "level": level,
                "operands": operands,
            }
        )
    return problems


def _running_sums(operands: Sequence[int], slip_at: int | None, rng: random.Random) -> list[int]:
    """Partial sums after each addition; a slip adds +-1 or +-2 at step `slip_at`, carried on."""
    sums, total = [], operands[0]
    for step, x in enumerate(operands[1:]):
        total += x
        if step == slip_at:
            options = [d for d in (-2, -1, 1, 2) if total + d > 0]
            total += rng.choice(options)
        sums.append(total)
    return sums


def make_trace(
    problem: dict[str, Any],
    *,
    style: str,
    rng: random.Random,
    verbosity: str = "redundant",
    slip: bool | None = None,
) -> str:
    """One warm-up completion for `problem`: ``<think>...</think>\\n\\boxed{N}``.

    `slip=None` draws a slip with probability `slip_rate(level)` from `rng`; True/False force it.
    A slipped trace ends in a wrong answer (one running sum off by 1-2, carried on).
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    if verbosity not in VERBOSITIES:
        raise ValueError(f"verbosity must be one of {VERBOSITIES}, got {verbosity!r}")
    operands = [int(x) for x in problem["operands"]]
    if slip is None:
        slip = rng.random() < slip_rate(problem["level"], style, verbosity)
    slip_at = rng.randrange(len(operands) - 1) if slip else None
    sums = _running_sums(operands, slip_at, rng)
    total = sums[-1]
    steps = ",".join(f"{a}+{x}={s}" for a, x, s in zip([operands[0], *sums], operands[1:], sums))
    expr = "+".join(map(str, operands))
    if verbosity == "redundant":
        # The running sums come first in every style: the total is fixed before any extra word.
        lines = {
            "concise": [steps],
            "medium": [steps, f"So the answer is {total}."],
            "verbose": [steps, f"So {expr}={total}.", f"Let me check: {total}. Yes."],
        }[style]
    else:  # useful and mixed: the styles differ in how much computation they write
        named = ",".join(f"add {x}: {s}" for x, s in zip(operands[1:], sums))
        lines = {
            "concise": [f"{expr}={total}"],
            "medium": [steps],
            "verbose": [f"Start at {operands[0]},{named}.", f"So {expr}={total}."],
        }[style]
    think = "\n".join(lines)
    return f"<think>{think}</think>\n\\boxed{{{total}}}"


def make_sft_dataset(
    n: int,
    *,
    seed: int,
    levels: Sequence[int] = LEVELS,
    verbosity: str = "redundant",
    style_weights: dict[str, float] | None = None,
    operand_range: tuple[int, int] = OPERAND_RANGE,
    slips: bool = True,
) -> list[dict[str, Any]]:
    """`n` warm-up examples in TRL's prompt-completion format, with their style and slip.

    Problems come from ``make_problems(n, seed=seed, levels=levels, operand_range=...)``; styles
    are drawn with `style_weights` (default `STYLE_WEIGHTS`) and slips with `slip_rate(level)`,
    from `seed`. ``slips=False`` writes every trace right (the draws are made all the same, so
    the styles are those of ``slips=True``): for a pretrained model, whose own arithmetic is what
    makes the one-shot total fail on long sums (benchmarks/bench_real_compare.py's steps task).
    """
    weights = dict(STYLE_WEIGHTS if style_weights is None else style_weights)
    unknown = set(weights) - set(STYLES)
    if unknown:
        raise ValueError(f"unknown styles in style_weights: {sorted(unknown)}; use {STYLES}")
    styles = list(weights)
    rng = random.Random(f"traces-{seed}-{verbosity}")
    rows = []
    for problem in make_problems(n, seed=seed, levels=levels, operand_range=operand_range):
        style = rng.choices(styles, weights=[weights[s] for s in styles])[0]
        slip = rng.random() < slip_rate(problem["level"], style, verbosity) and slips
        completion = make_trace(problem, style=style, rng=rng, verbosity=verbosity, slip=slip)
        rows.append(
            {
                "prompt": problem["prompt"],
                "completion": completion,
                "answer": problem["answer"],
                "level": problem["level"],
                "style": style,
                "slipped": slip,
            }
        )
    return rows


def trace_tokens(completion: str) -> int:
    """Tokens of a completion for the toy's character-level tokenizer, EOS included (one token a
    character: `toylab.model.build_tokenizer`; tests check the two agree)."""
    return len(completion) + 1


def level_floors(
    verbosity: str, *, n: int = 2000, seed: int = 12345, levels: Sequence[int] = LEVELS
) -> dict[int, dict[str, Any]]:
    """Each level's floor: the length of the shortest style that keeps the level's accuracy.

    Over `n` problems (levels cycled, `seed`: by default the held-out set of
    `toylab.evaluate`), every style's traces are written without slips (`make_trace`) and
    measured in tokens, EOS included; a style's accuracy is its traces' rate of right answers,
    ``1 - slip_rate(level, style, verbosity)``. The floor of a level is the shortest style whose
    accuracy equals the best style's. Returns ``{level: {"floor_style", "floor_tokens",
    "tokens": {style: mean}, "accuracy": {style: rate}}}``.
    """
    if verbosity not in VERBOSITIES:
        raise ValueError(f"verbosity must be one of {VERBOSITIES}, got {verbosity!r}")
    rng = random.Random(f"floors-{seed}")
    problems = make_problems(n, seed=seed, levels=levels)
    out: dict[int, dict[str, Any]] = {}
    for level in levels:
        at = [p for p in problems if p["level"] == level]
        tokens = {
            style: sum(
                trace_tokens(make_trace(p, style=style, rng=rng, verbosity=verbosity, slip=False))
                for p in at
            )
            / len(at)
            for style in STYLES
        }
        accuracy = {style: 1 - slip_rate(level, style, verbosity) for style in STYLES}
        best = max(accuracy.values())
        keeping = [st for st in STYLES if accuracy[st] >= best - 1e-12]
        floor = min(keeping, key=lambda st: tokens[st])
        out[level] = {
            "floor_style": floor,
            "floor_tokens": tokens[floor],
            "tokens": tokens,
            "accuracy": accuracy,
        }
    return out
