"""Groups of answers as tensors: the shape convention, the solve rate and GRPO's normalisation.

Every function of this package takes flat 1-D tensors of N = num_groups * G rows ordered group by
group (the G answers to one question are consecutive: the order TRL's `RepeatSampler` produces
and the order of the rewards TRL gathers across processes), and is vectorised over groups.
"""

from __future__ import annotations

from torch import Tensor

__all__ = ["EPS", "as_float", "by_group", "group_normalize", "solve_rate"]

EPS = 1e-6  # added to the group std (the reference code's, as verl's)


def as_float(x: Tensor) -> Tensor:
    """Floating view of x, keeping float64 inputs in float64 (bool/int become float32)."""
    return x if x.is_floating_point() else x.float()


def by_group(x: Tensor, group_size: int, name: str) -> Tensor:
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
    return by_group(as_float(correct), group_size, "correct").mean(dim=1)


def _group_std(x: Tensor, kind: str) -> Tensor:
    """(B, G) -> (B, 1) std; 'sample' divides by G - 1 and is 0 (not NaN) for G = 1."""
    if kind == "population" or x.shape[1] == 1:
        return x.std(dim=1, keepdim=True, correction=0)
    return x.std(dim=1, keepdim=True, correction=1)


def group_normalize(
    rewards: Tensor, group_size: int, *, std: str = "sample", eps: float = EPS
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
    grouped = by_group(as_float(rewards), group_size, "rewards")
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
