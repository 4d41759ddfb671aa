"""DOT, Dynamic Outlier Truncation (Wu et al., "Anti-Length Shift", arXiv 2601.03969): the
cut positions of one gathered batch, as the authors' ``apply_length_truncation`` decides them
(github U-rara/DOT, ``projects/dot/length_truncation.py``; tests/test_dot.py runs it verbatim).

Only in a group whose success rate is at least ``success_threshold`` (the paper: 1.0, every
answer right) and that holds a right answer, over all of the group's completion lengths L:

    T = int(mean(L) + alpha * stdev(L))      (sample std, 0 for a group of one)

and a completion with ``L - T >= m`` is cut at T: its loss mask ends at T (the cut tokens get no
gradient) and its reward is computed again on the cut text (`GRPOLeadTrainer` does both). The
margin ``m`` is a number of tokens, or a value in (0, 1) a fraction of L, at least 16 tokens.

The group size matters: no completion of a group of G can lie more than (G - 1) / sqrt(G) sample
stds above its group's mean (2.47 at G = 8, 5.3 at the paper's G = 32), so alpha must be below
that bound for DOT to fire at all (`max_z`).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import torch
from torch import Tensor

from grpo_lead.advantages.groups import by_group

__all__ = [
    "DOT_ALPHA",
    "DOT_MARGIN",
    "DOT_SUCCESS_THRESHOLD",
    "DotCut",
    "dot_cuts",
    "dot_margin_tokens",
    "max_z",
]

# The authors' defaults (projects/dot/config/dot_trainer.yaml), for their G = 32
DOT_SUCCESS_THRESHOLD = 1.0
DOT_ALPHA = 3.0
DOT_MARGIN = 32.0
_MIN_FRACTION_MARGIN = 16  # tokens: the floor of a fractional margin


def max_z(group_size: int) -> float:
    """The most sample stds one completion of a group of `group_size` can lie above the group's
    mean: (G - 1) / sqrt(G). DOT never cuts with an alpha at or above it."""
    return (group_size - 1) / math.sqrt(group_size)


def dot_margin_tokens(length: int, margin: float) -> int:
    """The margin m for a completion of `length` tokens: ``int(m)`` tokens, or for m in (0, 1)
    ``max(int(length * m), 16)``."""
    if 0 < margin < 1:
        return max(int(length * margin), _MIN_FRACTION_MARGIN)
    return int(margin)


@dataclass(frozen=True)
class DotCut:
    """DOT's decision on one batch of N completions in groups of G."""

    lengths: Tensor  # (N,) long: the length each completion keeps (its own where not cut)
    cut: Tensor  # (N,) bool: cut at its group's threshold
    eligible: Tensor  # (N // G,) bool: groups at the success threshold, with a right answer
    threshold: Tensor  # (N // G,) float: T of each eligible group (NaN elsewhere)
    tokens_cut: int  # tokens the cuts removed, over the batch


def dot_cuts(
    correct: Tensor,
    lengths: Tensor,
    group_size: int,
    *,
    success_threshold: float = DOT_SUCCESS_THRESHOLD,
    alpha: float = DOT_ALPHA,
    margin: float = DOT_MARGIN,
) -> DotCut:
    """Where DOT cuts a batch: `correct` (N,) bool, `lengths` (N,) token counts, groups of
    `group_size` consecutive rows. The statistics are Python's (`statistics.mean`, `.stdev`,
    `int()`), as the authors' code computes them, so a threshold on an integer boundary is the
    same to the token. A completion is right where its correctness reward is > 0 (theirs: a
    reward of exactly 1, the same for a 0/1 reward)."""
    ok = by_group(correct.bool(), group_size, "correct")
    length = by_group(lengths.to(torch.long), group_size, "lengths")
    kept = length.clone()
    eligible = torch.zeros(ok.shape[0], dtype=torch.bool)
    threshold = torch.full((ok.shape[0],), float("nan"), dtype=torch.float64)
    for g in range(ok.shape[0]):
        rate = ok[g].sum().item() / group_size
        if rate < success_threshold or not ok[g].any():
            continue
        ls = [int(x) for x in length[g].tolist()]
        std = statistics.stdev(ls) if len(ls) > 1 else 0
        t = int(statistics.mean(ls) + alpha * std)
        eligible[g], threshold[g] = True, t
        for i, n in enumerate(ls):
            if t < n and n - t >= dot_margin_tokens(n, margin):
                kept[g, i] = t
    before, kept = length.reshape(-1), kept.reshape(-1)
    return DotCut(
        lengths=kept,
        cut=kept < before,
        eligible=eligible,
        threshold=threshold,
        tokens_cut=int((before - kept).sum()),
    )
