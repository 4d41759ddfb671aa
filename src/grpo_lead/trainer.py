"""`GRPOLeadTrainer`: TRL's `GRPOTrainer` with GRPO-LEAD's group-level parts.

TRL 1.16 has no advantage hook (huggingface/trl #4525; PR #7298 proposes
`_transform_advantages`), so the trainer overrides the two narrowest private seams:

1. `_calculate_rewards` (called once per generation batch): calls TRL's, which returns the
   rewards of *all* processes (gathered, groups as G consecutive rows), and gathers alongside
   them each completion's token length and truncation flags.
2. `_generate_and_score_completions`: calls TRL's unchanged, then recomputes the advantages on
   the whole gathered batch with `lead_batch_advantages` (whole groups even when a group's
   answers are spread over processes) and puts this process's slice into the returned batch,
   before TRL's `_prepare_inputs` shuffles it. The completions table is fixed to show them.

No TRL code is copied. Both methods are private: the supported TRL range is pinned in
pyproject.toml, and tests/test_trainer.py fails when their signatures or the gathered layout
change under it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from accelerate.utils import gather
from torch import Tensor
from trl import GRPOTrainer

from grpo_lead.advantages import (
    DIFFICULTY_WEIGHTS,
    LENGTH_REWARDS,
    apply_outcome_overrides,
    group_filter_mask,
    group_normalize,
    solve_rate,
)
from grpo_lead.configs import GRPOLeadConfig
from grpo_lead.rewards import completion_text, has_degenerate_repetition, is_format_failure

logger = logging.getLogger(__name__)

__all__ = ["GRPOLeadTrainer", "LeadBatch", "lead_batch_advantages"]


@dataclass
class LeadBatch:
    """What LEAD computed for one gathered generation batch (N = all processes' completions)."""

    advantages: Tensor  # (N,) the advantages used in the loss
    rewards: Tensor  # (N,) total reward after LEAD shaping
    correct: Tensor  # (N,) bool
    solve_rate: Tensor  # (N // G,)
    keep: Tensor  # (N,) bool: rows the group filter keeps
    base_advantages: Tensor  # (N,) group-normalised, before the difficulty weight


def lead_batch_advantages(
    rewards_per_func: Tensor,
    *,
    reward_weights: Tensor,
    correct_index: int,
    lengths: Tensor,
    group_size: int,
    length_reward: str = "paper",
    difficulty_weight: str = "logistic",
    incorrect_reward: float = -1.0,
    alpha: float = 0.05,
    length_coef: float = 0.1,
    ref_length: float = 200.0,
    A: float = 0.4,
    B: float = 1.5,
    k: float = 10.0,
    x0: float = 0.75,
    eps: float = 1e-6,
    scale: str = "group",
    group_filter: bool = False,
    format_failure: Tensor | None = None,
    repetition: Tensor | None = None,
    format_failure_reward: float | None = None,
    repetition_reward: float = -2.0,
) -> LeadBatch:
    """LEAD advantages for a gathered batch with several reward functions.

    The correctness column (``> 0`` = correct; NaN = cannot score = wrong) is replaced by the
    LEAD reward (length term and explicit penalty); the other columns add with their weights
    (NaN counts 0); then group normalisation (sample std, or none for ``scale="none"``) and the
    difficulty weight. Rows of groups the filter drops get advantage 0.

    Args:
        rewards_per_func: (N, F) rewards of every reward function, N = num_groups * G.
        reward_weights: (F,) weights.
        lengths: (N,) completion lengths in tokens.
        format_failure, repetition: (N,) bool flags for the reference code's outcome classes,
            used when ``format_failure_reward`` is not None.
    """
    col = rewards_per_func[:, correct_index]
    correct = torch.nan_to_num(col, nan=0.0) > 0
    lead = LENGTH_REWARDS[length_reward](
        correct,
        lengths.to(torch.float32),
        group_size,
        incorrect_reward=incorrect_reward,
        alpha=alpha,
        length_coef=length_coef,
        ref_length=ref_length,
    )
    if format_failure_reward is not None and format_failure is not None:
        lead = apply_outcome_overrides(
            lead,
            format_failure=format_failure,
            repetition=repetition,
            format_failure_reward=format_failure_reward,
            repetition_reward=repetition_reward,
        )
    others = torch.nan_to_num(rewards_per_func, nan=0.0) * reward_weights.unsqueeze(0)
    others[:, correct_index] = 0.0
    rewards = others.sum(dim=1) + reward_weights[correct_index] * lead

    base = group_normalize(
        rewards, group_size, std="sample" if scale == "group" else "none", eps=eps
    )
    rho = solve_rate(correct, group_size)
    advantages = DIFFICULTY_WEIGHTS[difficulty_weight](base, rho, group_size, A=A, B=B, k=k, x0=x0)
    keep = torch.ones_like(correct)
    if group_filter:
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


class GRPOLeadTrainer(GRPOTrainer):
    """`trl.GRPOTrainer` whose advantages are GRPO-LEAD's (see the module docstring).

    Give it a correctness reward (``accuracy_reward`` or ``outcome_reward`` from
    `grpo_lead.rewards`, named by ``args.correctness_reward``) and a `GRPOLeadConfig`; everything
    else is TRL's: generation (transformers or vLLM), the clipped loss, LoRA through
    ``peft_config``, accelerate / DeepSpeed / FSDP, checkpoints and logging.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not isinstance(self.args, GRPOLeadConfig):
            raise TypeError(
                f"GRPOLeadTrainer needs a GRPOLeadConfig, got {type(self.args).__name__}"
            )
        names = list(self.reward_func_names)
        if self.args.correctness_reward not in names:
            raise ValueError(
                f"correctness_reward={self.args.correctness_reward!r} is not among the reward "
                f"functions {names}: add grpo_lead.rewards.accuracy_reward or set correctness_reward"
            )
        self._correct_index = names.index(self.args.correctness_reward)
        self._lead_flags: Tensor | None = None
        self.last_lead_batch: LeadBatch | None = None

    # -- seam 1: gather token lengths and outcome flags beside TRL's gathered rewards ----------
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(
            inputs, prompts, completions, completion_ids_list
        )
        texts = [completion_text(c) for c in completions]
        need_flags = self.args.format_failure_reward is not None
        local = torch.tensor(
            [
                [
                    float(len(ids)),
                    float(need_flags and is_format_failure(t)),
                    float(need_flags and is_format_failure(t) and has_degenerate_repetition(t)),
                ]
                for ids, t in zip(completion_ids_list, texts)
            ],
            dtype=torch.float32,
            device=self.accelerator.device,
        )
        self._lead_flags = gather(local)  # (N_all, 3), same row order as rewards_per_func
        if self._lead_flags.shape[0] != rewards_per_func.shape[0]:
            raise RuntimeError(
                "GRPOLeadTrainer: gathered lengths and rewards disagree "
                f"({self._lead_flags.shape[0]} vs {rewards_per_func.shape[0]} rows): TRL's layout changed"
            )
        self._lead_rewards_per_func = rewards_per_func
        return rewards_per_func

    # -- seam 2: replace the advantages of the batch TRL built ----------------------------------
    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        mode = "train" if self.model.training else "eval"
        group_size = self.num_generations if mode == "train" else self.num_generations_eval
        rpf, flags = self._lead_rewards_per_func, self._lead_flags
        a = self.args
        batch = lead_batch_advantages(
            rpf,
            reward_weights=self.reward_weights.to(rpf.device),
            correct_index=self._correct_index,
            lengths=flags[:, 0],
            group_size=group_size,
            length_reward=a.length_reward,
            difficulty_weight=a.difficulty_weight,
            incorrect_reward=a.incorrect_reward,
            alpha=a.alpha,
            length_coef=a.length_coef,
            ref_length=a.ref_length,
            A=a.weight_a,
            B=a.weight_b,
            k=a.weight_k,
            x0=a.weight_x0,
            eps=a.lead_eps,
            scale=a.scale_rewards,
            group_filter=a.group_filter,
            format_failure=flags[:, 1] > 0,
            repetition=flags[:, 2] > 0,
            format_failure_reward=a.format_failure_reward,
            repetition_reward=a.repetition_reward,
        )
        local_n = output["advantages"].shape[0]
        start = self.accelerator.process_index * local_n
        output["advantages"] = batch.advantages[start : start + local_n].to(output["advantages"])
        self.last_lead_batch = batch
        self._fix_logged_advantages(batch.advantages)
        self._log_lead_metrics(mode, batch, flags[:, 0], group_size)
        return output

    def _fix_logged_advantages(self, advantages: Tensor) -> None:
        logged = self._logs["advantages"]
        n = advantages.numel()
        for _ in range(min(n, len(logged))):
            logged.pop()
        logged.extend(advantages.tolist())

    def _log_lead_metrics(
        self, mode: str, batch: LeadBatch, lengths: Tensor, group_size: int
    ) -> None:
        m = self._metrics[mode]
        rho = batch.solve_rate
        m["lead/accuracy"].append(batch.correct.float().mean().item())
        for q in (0.1, 0.5, 0.9):
            m[f"lead/solve_rate_p{int(q * 100)}"].append(torch.quantile(rho, q).item())
        m["lead/frac_groups_all_correct"].append((rho == 1).float().mean().item())
        m["lead/frac_groups_all_wrong"].append((rho == 0).float().mean().item())
        kept_groups = batch.keep.reshape(-1, group_size)[:, 0]
        m["lead/frac_groups_dropped"].append(1.0 - kept_groups.float().mean().item())
        nz = batch.base_advantages.abs() > 1e-8
        weight = (batch.advantages[nz] / batch.base_advantages[nz]).abs()
        m["lead/mean_weight"].append(weight.mean().item() if weight.numel() else 0.0)
        for name, mask in (("correct", batch.correct), ("wrong", ~batch.correct)):
            value = lengths[mask].mean().item() if mask.any() else float("nan")
            m[f"lead/length_{name}"].append(value)
