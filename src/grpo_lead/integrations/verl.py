"""GRPO-LEAD in verl: the ``grpo_lead`` advantage estimator and a ``compute_score``.

Installing grpo-lead next to verl (``pip install -e ".[verl]"``) is enough: ``import verl``
loads every entry point of the group ``verl.plugins`` (ours: ``grpo_lead =
"grpo_lead.integrations.verl"``) in the driver and in each Ray worker, and importing this module
registers the estimator with ``verl.trainer.ppo.core_algos.register_adv_est``. Then::

    python -m verl.trainer.main_ppo algorithm.adv_estimator=grpo_lead \\
        reward.custom_reward_function.path=pkg://grpo_lead.integrations.verl \\
        reward.custom_reward_function.name=compute_score  ...

(recipes/verl/ has the paper's 7B run and a small one). How it maps verl's batch onto the same
pure functions `GRPOLeadTrainer` uses (`grpo_lead.advantages.lead_batch_advantages`):

1. Groups are the rows sharing a prompt uid (``index``), in any order and of any sizes; groups of
   one size go through the pure functions together, group by group.
2. The score of a row is the sum of its ``token_level_rewards`` (the reward manager puts it on
   the last response token); ``score > 0`` is correct, as in the paper's reference code. The
   length of a row is ``response_mask.sum(-1)`` (generated tokens; tool output is masked out).
3. The outcome classes travel in the score. `compute_score` returns the reference code's codes:
   1 correct, -1 wrong, 0 a format failure (``<think>`` never closed: truncated), -2 a format
   failure with degenerate repetition. With ``algorithm.lead.format_failure_reward`` set, the
   estimator reads the scores 0 and -2 as those classes and gives them ``format_failure_reward``
   and ``repetition_reward``; unset (the default, as in the TRL path) every score <= 0 is a wrong
   answer and earns ``incorrect_reward``. Only turn the classes on with this `compute_score`:
   another reward function's 0 would read as a format failure.
4. The advantage of a row is broadcast over its response tokens and masked, as verl's ``grpo``.

Options are read from the ``algorithm.lead`` section (Hydra: ``+algorithm.lead.alpha=0.05``):
the fields of `grpo_lead.options.LeadOptions` (`GRPOLeadConfig`'s names, but ``eps`` and ``scale``
for its ``lead_eps`` and ``scale_rewards``), with the paper's (``alpha`` 0.05, ``incorrect_reward`` -1, ``weight_a`` / ``weight_b`` / ``weight_k`` /
``weight_x0`` 0.4 / 1.5 / 10 / 0.75, ``eps`` 1e-6, ``group_filter`` False,
``format_failure_reward`` None = off, ``repetition_reward`` -2, ...). ``scale`` is "group"
("none" when verl's ``algorithm.norm_adv_by_std_in_grpo=False``; "batch" needs groups of one
size). An unknown key or a value out of range is an error naming it.

Where it differs from verl's ``grpo``: a group of one answer gets advantage 0 (verl's: the score
itself); the group std is the sample std plus ``eps`` (as verl's). The group filter zeroes the
advantages of dropped groups; their tokens still count in verl's loss normaliser (verl's
``algorithm.filter_groups`` removes groups from the batch instead). ``use_kl_in_reward`` is
refused: a KL penalty inside the reward would blur the correctness read from the score (the paper
trains without KL; a KL loss in the actor is fine).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor
from verl.trainer.ppo.core_algos import register_adv_est

from grpo_lead.advantages import LeadBatch, lead_batch_advantages
from grpo_lead.options import LeadOptions
from grpo_lead.rewards import OutcomeReward

__all__ = [
    "ESTIMATOR_NAME",
    "OUTCOME_CODES",
    "compute_grpo_lead_advantage",
    "compute_score",
    "lead_advantages_by_index",
    "lead_options",
]

ESTIMATOR_NAME = "grpo_lead"
# The scores `compute_score` returns for each outcome class (the reference code's rewards).
OUTCOME_CODES = {"correct": 1.0, "wrong": -1.0, "format_failure": 0.0, "repetition": -2.0}


# ---- The adapter: verl's `algorithm` section -> LeadOptions -> lead_batch_advantages ----------


def lead_options(config: Mapping[str, Any] | None) -> LeadOptions:
    """The `LeadOptions` of verl's ``algorithm`` config: its ``lead`` section.

    Missing keys keep the paper's defaults; ``norm_adv_by_std_in_grpo=False`` means
    ``scale="none"`` unless ``lead.scale`` is given. Raises ValueError naming the key for an
    unknown option, a value out of range or an unknown length reward / difficulty weight, and for
    ``use_kl_in_reward``.
    """
    if config is None:
        return LeadOptions()
    if config.get("use_kl_in_reward", False):
        raise ValueError(
            "adv_estimator=grpo_lead reads correctness from the score: set "
            "algorithm.use_kl_in_reward=False (a KL loss in the actor is fine)"
        )
    values = {str(k): v for k, v in (config.get("lead") or {}).items()}
    if "scale" not in values and not config.get("norm_adv_by_std_in_grpo", True):
        values["scale"] = "none"
    try:
        options = LeadOptions.from_mapping(values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"algorithm.lead: {exc}") from None
    if options.dot:
        raise ValueError(
            "algorithm.lead.dot: DOT cuts rollouts and scores the cut text again, which an "
            "advantage estimator cannot do (it sees scores, not the reward function): use the "
            "DOT authors' verl trainer (github U-rara/DOT, algorithm.length_truncation) with "
            "adv_estimator=grpo_lead, or GRPOLeadTrainer's dot option"
        )
    return options


def _lead_batch(
    scores: Tensor,
    lengths: Tensor,
    group_size: int,
    options: LeadOptions,
    format_failure: Tensor | None,
    repetition: Tensor | None,
) -> LeadBatch:
    """`lead_batch_advantages` on (N,) scores of consecutive groups of ``group_size`` rows."""
    return lead_batch_advantages(
        scores.unsqueeze(1),
        reward_weights=torch.ones(1, dtype=scores.dtype, device=scores.device),
        correct_index=0,
        lengths=lengths,
        group_size=group_size,
        options=options,
        format_failure=format_failure,
        repetition=repetition,
    )


# ---- verl's batch -> groups -> the pure functions -------------------------------------------


def _groups_by_size(index: np.ndarray) -> dict[int, list[np.ndarray]]:
    """Row numbers of each group (rows sharing a uid), keyed by group size, first-seen order."""
    rows: dict[Any, list[int]] = {}
    for row, uid in enumerate(index.tolist()):
        rows.setdefault(uid, []).append(row)
    by_size: dict[int, list[np.ndarray]] = defaultdict(list)
    for members in rows.values():
        by_size[len(members)].append(np.asarray(members))
    return by_size


def _outcome_flags(scores: Tensor, options: LeadOptions) -> tuple[Tensor | None, Tensor | None]:
    """(format_failure, repetition) decoded from `compute_score`'s codes; None when classes are off."""
    if options.format_failure_reward is None:
        return None, None
    repetition = scores == OUTCOME_CODES["repetition"]
    return (scores == OUTCOME_CODES["format_failure"]) | repetition, repetition


def lead_advantages_by_index(
    scores: Tensor, lengths: Tensor, index: Any, options: LeadOptions
) -> Tensor:
    """LEAD advantages of rows grouped by ``index``, in any order and of any sizes.

    Args:
        scores: (N,) float, one score per row (> 0 = correct).
        lengths: (N,) response lengths in tokens.
        index: (N,) the prompt uid of each row (verl's ``non_tensor_batch["uid"]``).
        options: LEAD options (`lead_options`).
    Returns:
        (N,) float32 advantages, row i's from the group of ``index[i]``.
    """
    index = np.asarray(index)
    if index.shape != (scores.shape[0],):
        raise ValueError(
            f"index has shape {index.shape}, expected ({scores.shape[0]},): one uid per row"
        )
    scores, lengths = scores.float(), lengths.float()
    out = torch.zeros_like(scores)
    by_size = _groups_by_size(index)
    if options.scale == "batch" and len(by_size) > 1:
        raise ValueError(
            f"algorithm.lead.scale=batch needs groups of one size, got sizes {sorted(by_size)}"
        )
    for size, groups in by_size.items():
        rows = torch.as_tensor(np.concatenate(groups), device=scores.device)
        format_failure, repetition = _outcome_flags(scores[rows], options)
        batch = _lead_batch(scores[rows], lengths[rows], size, options, format_failure, repetition)
        out[rows] = batch.advantages.to(out.dtype)
    return out


@register_adv_est(ESTIMATOR_NAME)
def compute_grpo_lead_advantage(
    token_level_rewards: Tensor,
    response_mask: Tensor,
    index: np.ndarray | None = None,
    config: Mapping[str, Any] | None = None,
    **_: Any,
) -> tuple[Tensor, Tensor]:
    """verl's ``grpo_lead`` estimator (see the module docstring).

    Args:
        token_level_rewards: (bs, response_length); a row's score is its sum.
        response_mask: (bs, response_length), 1 on generated tokens.
        index: (bs,) prompt uid of each row.
        config: verl's ``algorithm`` section; LEAD options under ``lead``.
    Returns:
        (advantages, returns), both (bs, response_length): the row's advantage on its response
        tokens, 0 elsewhere.
    """
    if index is None:
        raise ValueError("adv_estimator=grpo_lead needs the prompt uid of each row (index)")
    options = lead_options(config)
    with torch.no_grad():
        scores = token_level_rewards.sum(dim=-1)
        lengths = response_mask.sum(dim=-1)
        scalars = lead_advantages_by_index(scores, lengths, index, options)
        advantages = scalars.to(token_level_rewards.dtype).unsqueeze(-1) * response_mask
    return advantages, advantages


# ---- Reward: the answer checker and the reference code's outcome classes --------------------

_OUTCOME_REWARD = OutcomeReward(
    incorrect_reward=OUTCOME_CODES["wrong"],
    format_failure_reward=OUTCOME_CODES["format_failure"],
    repetition_reward=OUTCOME_CODES["repetition"],
)


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
    **_: Any,
) -> dict[str, Any]:
    """verl's ``custom_reward_function`` backed by grpo-lead's answer checker.

    Returns ``{"score": code, "acc": 1.0 | 0.0, "pred": extracted answer or ""}``: ``score`` is
    an `OUTCOME_CODES` value (1 correct, -1 wrong, 0 format failure, -2 format failure with
    repetition), ``acc`` is ``score > 0`` (verl logs it), ``pred`` feeds verl's maj@N
    validation metrics. Any ``data_source`` is scored as a math answer.

    >>> compute_score("math", "<think>2+2</think> \\\\boxed{4}", "4")["score"]
    1.0
    """
    from grpo_lead.answers import extract_answer  # math-verify loads sympy: on first use

    if ground_truth is None or str(ground_truth).strip() == "":
        raise ValueError(
            f"compute_score: no reward_model.ground_truth for a row of data_source {data_source!r}"
        )
    text = solution_str or ""
    score = _OUTCOME_REWARD([text], answer=[str(ground_truth)])[0]
    return {"score": float(score), "acc": float(score > 0), "pred": extract_answer(text) or ""}
