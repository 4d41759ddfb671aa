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

With ``dot`` on (DOT, Dynamic Outlier Truncation, `grpo_lead.advantages.dot`), seam 1 also
decides the cuts on the gathered batch, scores the cut texts again through TRL's
``_calculate_rewards`` (every process calls it, as it gathers), and seam 2 ends the cut rows'
completion masks at their cut (the tokens before a cut attend only to earlier ones, so their
log-probabilities are the uncut sequence's) and recounts ``num_items_in_batch``.

No TRL code is copied. Both methods are private: the supported TRL range is pinned in
pyproject.toml, and tests/test_trainer.py fails when their signatures or the gathered layout
change under it.

Memory on CPU: TRL 1.16 computes log-probabilities through a tiled LM head (never the full
(tokens, vocabulary) logits), in tiles of up to 4,096 tokens x 32,768 vocabulary entries. On a
GPU a Triton kernel folds each tile in place; elsewhere torch ops do, and each makes a copy of
the tile: with a 49k vocabulary and 16 x 170 tokens that is about 0.35 GB a copy, several at once
in the forward and more in the backward. During `train` on such a device the tiles are cut to
`CPU_LOGPROB_TOKEN_CHUNK` tokens (the same values, in more, smaller products). And glibc keeps
freed activations of a few MB in its heap (its mmap threshold rises to 32 MB after the first big
free), so a process's memory grew by what it freed: on a CPU, `train` has allocations of 1 MiB or
more mapped and unmapped (`return_freed_memory`). With LoRA this was 2 GB of a forward.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
from collections.abc import Iterator

import torch
from accelerate.utils import gather
from torch import Tensor
from trl import GRPOTrainer

from grpo_lead.advantages import LeadBatch, lead_batch_advantages
from grpo_lead.advantages.dot import dot_cuts
from grpo_lead.configs import GRPOLeadConfig
from grpo_lead.hf import no_gc_deprecation_warning
from grpo_lead.reasoning import has_degenerate_repetition, is_format_failure, prompt_opens_think
from grpo_lead.rewards import completion_text

logger = logging.getLogger(__name__)

__all__ = ["GRPOLeadTrainer", "LeadBatch", "lead_batch_advantages"]

# From this size on, training without gradient checkpointing is warned about: SmolLM2-135M at
# 16 x 128 tokens needs about twice the memory without it (docs/benchmarks.md, "Memory").
CHECKPOINTING_PAYS_FROM_PARAMS = 50_000_000
# Token rows of a log-prob tile where TRL's kernel runs as torch ops (no Triton): 256 x 32,768
# fp32 is 34 MB a copy instead of up to 537 MB (docs/benchmarks.md, "Memory").
CPU_LOGPROB_TOKEN_CHUNK = 256


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
CPU_MMAP_THRESHOLD = 1 << 20  # bytes: allocations this large go back to the OS when freed


def return_freed_memory() -> bool:
    """Have glibc map allocations of `CPU_MMAP_THRESHOLD` bytes or more, so a freed tensor
    returns its memory to the OS (a fixed threshold: glibc's own rises to 32 MB and then keeps
    freed activations in its heap). Process-wide; True where it was set (Linux, glibc)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return bool(libc is not None and libc.mallopt(_M_MMAP_THRESHOLD, CPU_MMAP_THRESHOLD))
    except (OSError, AttributeError):  # not glibc (musl, macOS): leave the allocator alone
        return False


@contextlib.contextmanager
def small_logprob_tiles(device: torch.device) -> Iterator[None]:
    """TRL's tiled log-prob kernel with `CPU_LOGPROB_TOKEN_CHUNK`-token tiles while inside,
    on a device where it runs as torch ops (see the module docstring); unchanged on Triton
    devices. Read by TRL at each forward and backward, so `train` holds it for the whole run."""
    from trl.kernels import chunked_logprob

    if chunked_logprob._use_triton(device):
        yield
        return
    saved = chunked_logprob.TOKEN_CHUNK_SIZE
    chunked_logprob.TOKEN_CHUNK_SIZE = min(saved, CPU_LOGPROB_TOKEN_CHUNK)
    try:
        yield
    finally:
        chunked_logprob.TOKEN_CHUNK_SIZE = saved


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
        self._warn_without_checkpointing()
        self._lead_options = self.args.lead_options()
        self._template_opens_think: bool | None = None
        self._lead_flags: Tensor | None = None
        self._dot_keep: Tensor | None = None  # this process's kept lengths, when DOT cut any row
        self.last_lead_batch: LeadBatch | None = None

    def _warn_without_checkpointing(self) -> None:
        """Gradient checkpointing is TRL's default and pays on any real model: without it every
        layer's activations are kept for the backward, more memory than the weights, gradients
        and optimizer state together. Off is right only for the toy models."""
        if self.args.gradient_checkpointing:
            return
        n = sum(p.numel() for p in self.model.parameters())
        if n >= CHECKPOINTING_PAYS_FROM_PARAMS:
            logger.warning(
                "gradient_checkpointing is off for a %.0fM-parameter model: every layer's "
                "activations are kept for the backward (SmolLM2-135M, 16 x 128 tokens: about "
                "twice the peak memory, at about the same step time); set gradient_checkpointing: "
                "true (TRL's default) unless memory is plentiful",
                n / 1e6,
            )

    def train(self, *args, **kwargs):
        # TRL 1.16 calls transformers' deprecated gradient-checkpointing API around each
        # generation: nothing a user can change, so it is not shown.
        if self.accelerator.device.type == "cpu":
            return_freed_memory()
        with no_gc_deprecation_warning(), small_logprob_tiles(self.accelerator.device):
            return super().train(*args, **kwargs)

    # -- seam 1: gather token lengths and outcome flags beside TRL's gathered rewards ----------
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(
            inputs, prompts, completions, completion_ids_list
        )
        self._dot_keep = None
        if self._lead_options.dot:
            rewards_per_func, completions, completion_ids_list = self._dot_truncate(
                inputs, prompts, completions, completion_ids_list, rewards_per_func
            )
        need_flags = self.args.format_failure_reward is not None
        rows = [
            self._outcome_flags(ids, completion_text(c), p) if need_flags else (False, False)
            for ids, c, p in zip(completion_ids_list, completions, prompts, strict=True)
        ]
        local = torch.tensor(
            [
                [float(len(ids)), float(ff), float(rep)]
                for ids, (ff, rep) in zip(completion_ids_list, rows, strict=True)
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

    def _dot_truncate(self, inputs, prompts, completions, completion_ids_list, rewards_per_func):
        """DOT on one generation batch: the cuts are decided on the gathered batch (the same on
        every process), this process's cut rows are decoded again at their cut and every reward
        function scores the batch again (TRL's ``_calculate_rewards``, which gathers: called on
        every process whenever any row anywhere was cut). Returns the rewards, completions and
        ids the rest of the step uses; ``_dot_keep`` holds the kept lengths for the loss mask."""
        device = self.accelerator.device
        local = torch.tensor([float(len(ids)) for ids in completion_ids_list], device=device)
        lengths = gather(local).cpu()
        score = rewards_per_func[:, self._correct_index].detach().cpu()
        correct = torch.nan_to_num(score, nan=0.0) > 0
        o = self._lead_options
        group_size = self.num_generations if self.model.training else self.num_generations_eval
        cut = dot_cuts(correct, lengths, group_size, success_threshold=o.dot_success_threshold,
                       alpha=o.dot_alpha, margin=o.dot_margin)  # fmt: skip
        m = self._metrics["train" if self.model.training else "eval"]
        m["dot/frac_groups_eligible"].append(cut.eligible.float().mean().item())
        m["dot/frac_completions_cut"].append(cut.cut.float().mean().item())
        m["dot/tokens_cut"].append(float(cut.tokens_cut))
        if not cut.cut.any():
            m["dot/frac_cut_answers_broken"].append(float("nan"))
            return rewards_per_func, completions, completion_ids_list
        start = self.accelerator.process_index * len(completion_ids_list)
        keep = cut.lengths[start : start + len(completion_ids_list)]
        ids = [list(i)[: int(n)] for i, n in zip(completion_ids_list, keep, strict=True)]
        texts = [self.processing_class.decode(i, skip_special_tokens=True) for i in ids]
        completions = [
            [*c[:-1], {**c[-1], "content": t}] if isinstance(c, list) else t
            for c, t in zip(completions, texts, strict=True)
        ]
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, ids)
        after = torch.nan_to_num(rewards_per_func[:, self._correct_index].cpu(), nan=0.0) > 0
        broken = (cut.cut & correct & ~after).sum() / (cut.cut & correct).sum().clamp(min=1)
        m["dot/frac_cut_answers_broken"].append(broken.item())
        self._dot_keep = keep.to(device)
        return rewards_per_func, completions, ids

    def _end_masks_at_cuts(self, output: dict) -> None:
        """Each DOT-cut row's completion mask ends at its cut; ``num_items_in_batch`` recounted."""
        mask = output["completion_mask"]
        positions = torch.arange(mask.shape[1], device=mask.device).unsqueeze(0)
        output["completion_mask"] = mask * (positions < self._dot_keep.unsqueeze(1)).to(mask)
        self._recount_items(output)

    def _outcome_flags(self, ids, text: str, prompt) -> tuple[bool, bool]:
        """(format failure, degenerate repetition) of one completion, as the reference code
        classes it. Truncation is decided from what the trainer knows, not from the text: the
        completion ended without EOS (it hit max_completion_length). The reasoning block is
        judged from the prompt and the completion as the chat template builds them: R1-Distill
        templates open ``<think>`` in the prompt, so their completions hold only ``</think>``."""
        ended = [*self.eos_token_ids, self._tokenizer.pad_token_id]
        truncated = len(ids) == 0 or int(ids[-1]) not in ended
        opens = self._prompt_opens_think(prompt)
        failure = is_format_failure(text, prompt_opens_think=opens, truncated=truncated)
        return failure, failure and has_degenerate_repetition(text)

    def _prompt_opens_think(self, prompt) -> bool:
        """Whether the prompt the model saw ends inside ``<think>``: a text prompt is read as
        it is; for a conversation the chat template's generation prompt is rendered once."""
        if isinstance(prompt, str):
            return prompt_opens_think(prompt)
        if self._template_opens_think is None:
            probe = [{"role": "user", "content": "1+1?"}]
            try:
                rendered = self._tokenizer.apply_chat_template(
                    probe, add_generation_prompt=True, tokenize=False
                )
            except (ValueError, TypeError):  # no chat template
                rendered = ""
            self._template_opens_think = prompt_opens_think(rendered)
        return self._template_opens_think

    # -- seam 2: replace the advantages of the batch TRL built ----------------------------------
    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        if self._dot_keep is not None:
            self._end_masks_at_cuts(output)
        mode = "train" if self.model.training else "eval"
        group_size = self.num_generations if mode == "train" else self.num_generations_eval
        rpf, flags = self._lead_rewards_per_func, self._lead_flags
        batch = lead_batch_advantages(
            rpf,
            reward_weights=self.reward_weights.to(rpf.device),
            correct_index=self._correct_index,
            lengths=flags[:, 0],
            group_size=group_size,
            options=self._lead_options,
            format_failure=flags[:, 1] > 0,
            repetition=flags[:, 2] > 0,
        )
        local_n = output["advantages"].shape[0]
        start = self.accelerator.process_index * local_n
        output["advantages"] = batch.advantages[start : start + local_n].to(output["advantages"])
        if self._lead_options.group_filter:
            self._drop_filtered_rows(output, batch.keep[start : start + local_n])
        self.last_lead_batch = batch
        self._fix_logged_advantages(batch.advantages)
        self._log_lead_metrics(mode, batch, flags[:, 0], group_size)
        return output

    def _drop_filtered_rows(self, output: dict, keep: Tensor) -> None:
        """Take the rows of dropped groups out of the loss: their completion mask becomes 0 (as
        TRL does for ``mask_truncated_completions``) and ``num_items_in_batch``, the token-mean
        loss's normaliser, is recounted, so a step does not shrink by the dropped share."""
        mask = output["completion_mask"] * keep.to(output["completion_mask"]).unsqueeze(1)
        output["completion_mask"] = mask
        self._recount_items(output)

    def _recount_items(self, output: dict) -> None:
        """``num_items_in_batch`` (the token-mean loss's normaliser) from the completion mask
        (times the tool mask where there is one), over all processes, as TRL counts it."""
        loss_mask = output["completion_mask"]
        if "tool_mask" in output:
            loss_mask = loss_mask * output["tool_mask"]
        output["num_items_in_batch"] = self.accelerator.gather(loss_mask.sum()).sum()

    def _fix_logged_advantages(self, advantages: Tensor) -> None:
        logged = self._logs["advantages"]
        n = advantages.numel()
        for _ in range(min(n, len(logged))):
            logged.pop()
        logged.extend(advantages.tolist())

    def _log_lead_metrics(
        self, mode: str, batch: LeadBatch, lengths: Tensor, group_size: int
    ) -> None:
        """The ``lead/*`` metrics of one generation batch. An undefined mean (no nonzero
        advantage, no correct answer) is NaN, as TRL's own per-batch metrics: TRL's ``log``
        averages the defined values of its logging window and logs None when there are none.
        TRL's ``reward`` stays what the reward functions returned (0/1 accuracy with
        ``accuracy_reward``); ``lead/reward`` is the reward LEAD's advantages normalise."""
        m = self._metrics[mode]
        rho = batch.solve_rate
        m["lead/reward"].append(torch.nanmean(batch.rewards).item())
        m["lead/reward_std"].append(
            batch.rewards.std().item() if batch.rewards.numel() > 1 else 0.0
        )
        m["lead/accuracy"].append(batch.correct.float().mean().item())
        for q in (0.1, 0.5, 0.9):
            m[f"lead/solve_rate_p{int(q * 100)}"].append(torch.quantile(rho, q).item())
        m["lead/frac_groups_all_correct"].append((rho == 1).float().mean().item())
        m["lead/frac_groups_all_wrong"].append((rho == 0).float().mean().item())
        kept_groups = batch.keep.reshape(-1, group_size)[:, 0]
        m["lead/frac_groups_dropped"].append(1.0 - kept_groups.float().mean().item())
        nz = batch.base_advantages.abs() > 1e-8
        weight = (batch.advantages[nz] / batch.base_advantages[nz]).abs()
        m["lead/mean_weight"].append(weight.mean().item() if weight.numel() else float("nan"))
        for name, mask in (("correct", batch.correct), ("wrong", ~batch.correct)):
            value = lengths[mask].mean().item() if mask.any() else float("nan")
            m[f"lead/length_{name}"].append(value)
