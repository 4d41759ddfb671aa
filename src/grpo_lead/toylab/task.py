"""A synthetic math task on which GRPO-LEAD's effect shows on a laptop CPU.

Problems are sums of 2-5 small operands ("What is 3+4+2+5+1?"); the difficulty level is the
number of operands minus one (1-4). Warm-up traces are written in the paper's format,
``<think> ... </think>\\n\\boxed{N}``, in one of three styles (concise, medium, verbose), and some
traces carry a *slip* (one running sum off by 1-2, carried to a wrong answer), more often at
higher levels, so that a tiny model warmed up on them is imperfect and wordy -- the state a
distilled reasoning model starts GRPO-LEAD from.

What the verbose words are is the switch `verbosity` (see shared FINDINGS.md for why it exists):

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
   on the hardest level for length (measured in FINDINGS.md).

Prompts are built by `grpo_lead.data.build_prompt` (the code real models use) with a short
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

from grpo_lead.data import build_prompt

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
    "slip_rate",
]

LEVELS = (1, 2, 3, 4)
RL_PROBLEMS_SEED_OFFSET = 1000  # a run's RL problems: seed + 1000 (its warm-up traces: seed)
STYLES = ("concise", "medium", "verbose")
VERBOSITIES = ("redundant", "useful")
# Share of each style in the warm-up traces: wordy on average, as distilled reasoning models.
STYLE_WEIGHTS = {"concise": 0.25, "medium": 0.25, "verbose": 0.5}
OPERAND_RANGE = (1, 5)
# Probability that a warm-up trace carries a slip, by level (FINDINGS.md: 5/15/30/45%): it caps
# the warm-up model near 70% and leaves the hard levels with mixed groups of right and wrong.
_SLIP_RATES = {1: 0.05, 2: 0.15, 3: 0.30, 4: 0.45}
MAX_LEVEL = 6


def slip_rate(level: int) -> float:
    """Probability that a warm-up trace of this level carries a slip."""
    _check_level(level)
    return _SLIP_RATES.get(level, 0.5)


def _check_level(level: int) -> None:
    if not isinstance(level, int) or not 1 <= level <= MAX_LEVEL:
        raise ValueError(f"level must be an integer in 1..{MAX_LEVEL}, got {level!r}")


def make_problems(
    n: int, *, seed: int, levels: Sequence[int] = LEVELS, suffix: str = TOY_PROMPT_SUFFIX
) -> list[dict[str, Any]]:
    """`n` problems, levels cycled in the given order (balanced), operands drawn from `seed`.

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
    rng = random.Random(f"problems-{seed}")
    lo, hi = OPERAND_RANGE
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
        slip = rng.random() < slip_rate(problem["level"])
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
    else:
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
) -> list[dict[str, Any]]:
    """`n` warm-up examples in TRL's prompt-completion format, with their style and slip.

    Problems come from ``make_problems(n, seed=seed, levels=levels)``; styles are drawn with
    `style_weights` (default `STYLE_WEIGHTS`) and slips with `slip_rate(level)`, from `seed`.
    """
    weights = dict(STYLE_WEIGHTS if style_weights is None else style_weights)
    unknown = set(weights) - set(STYLES)
    if unknown:
        raise ValueError(f"unknown styles in style_weights: {sorted(unknown)}; use {STYLES}")
    styles = list(weights)
    rng = random.Random(f"traces-{seed}-{verbosity}")
    rows = []
    for problem in make_problems(n, seed=seed, levels=levels):
        style = rng.choices(styles, weights=[weights[s] for s in styles])[0]
        slip = rng.random() < slip_rate(problem["level"])
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
