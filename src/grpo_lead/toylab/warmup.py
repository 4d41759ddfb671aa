"""Supervised warm-up of the tiny model on the toy task's traces (a plain PyTorch loop).

GRPO-LEAD starts from a model that already reasons in the paper's format and is right some of
the time (the paper starts from DeepSeek-R1-Distill models; its 14B run first fine-tunes on
QwQ-32B solutions). For the toy this is a few hundred steps of next-token prediction on
`task.make_sft_dataset` traces:

1. The loss is on the completion tokens only (prompt positions are masked with -100), summed
   over tokens and divided by the batch's completion tokens.
2. AdamW (weight decay 0.01), lr warm-up for the first 5% of steps then cosine to 10%, gradient
   clipping at 1.0: a plain loop rather than `transformers.Trainer`, as fast here (measured:
   Trainer 0.136 s/step at batch 32) and with nothing hidden.
3. Sequences are right-padded for training, so the causal mask alone keeps real tokens from
   seeing padding and the forward pass takes no padding mask; generation (TRL, `demo`) pads
   on the left. The model uses rotary position embeddings, so the offset that left padding
   adds does not matter.

The model and tokenizer are saved with `save_pretrained` in one folder, which TRL, the
evaluation code and `grpo-lead serve` load like any hub model.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from grpo_lead.toylab.files import write_jsonl
from grpo_lead.toylab.model import build_model, build_tokenizer
from grpo_lead.toylab.settings import LabSettings
from grpo_lead.toylab.task import RL_PROBLEMS_SEED_OFFSET, make_problems, make_sft_dataset

logger = logging.getLogger(__name__)

__all__ = ["encode_examples", "prepare", "warmup"]


def encode_examples(tokenizer, examples: Sequence[dict[str, Any]]) -> list[tuple[list[int], int]]:
    """Token ids of ``prompt + completion + EOS`` and the prompt's length, per example.

    The prompt is tokenized exactly as TRL tokenizes a plain-text prompt (`tokenizer(text)`).
    """
    encoded = []
    for ex in examples:
        prompt_ids = tokenizer(ex["prompt"])["input_ids"]
        completion_ids = tokenizer(ex["completion"], add_special_tokens=False)["input_ids"]
        encoded.append((prompt_ids + completion_ids + [tokenizer.eos_token_id], len(prompt_ids)))
    return encoded


def _collate(batch: list[tuple[list[int], int]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded input ids (B, T), attention mask (B, T) and labels (B, T), -100 off-target."""
    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    for row, (ids, prompt_len) in enumerate(batch):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention_mask[row, : len(ids)] = 1
        labels[row, prompt_len : len(ids)] = torch.tensor(ids[prompt_len:])
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def _lr_factor(step: int, total: int, warmup_steps: int, floor: float = 0.1) -> float:
    """Linear warm-up to 1, then cosine down to `floor`."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total - warmup_steps)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def warmup(
    examples: Sequence[dict[str, Any]],
    out_dir: str | Path,
    *,
    steps: int = 800,
    batch_size: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
    model_kwargs: dict[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train a fresh tiny model on prompt-completion `examples`; save it under `out_dir`.

    Batches are drawn at random (with replacement across epochs) from `examples` with `seed`.
    Returns a summary: the folder, the number of parameters, the final (smoothed) loss, seconds.
    """
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {steps} and {batch_size}")
    if not examples:
        raise ValueError("warm-up needs at least one example")
    out_dir = Path(out_dir)
    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    model = build_model(tokenizer, seed=seed, **(model_kwargs or {}))
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.train()
    encoded = encode_examples(tokenizer, examples)
    start = time.perf_counter()
    smoothed = _train(model, encoded, tokenizer.pad_token_id, steps, batch_size, lr, seed, progress)
    seconds = time.perf_counter() - start
    model.eval()
    # transformers 5 does not save the padding side that `build_tokenizer` sets: store it, so
    # that generation from the saved folder pads on the left.
    tokenizer.init_kwargs["padding_side"] = "left"
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    n_params = sum(p.numel() for p in model.parameters())
    logger.info(
        "warm-up: %d steps in %.1f s, loss %.3f, saved to %s", steps, seconds, smoothed, out_dir
    )
    return {
        "model_dir": str(out_dir),
        "steps": steps,
        "batch_size": batch_size,
        "parameters": n_params,
        "final_loss": smoothed,
        "seconds": seconds,
    }


def _train(
    model, encoded, pad_id: int, steps: int, batch_size: int, lr: float, seed: int, progress
):
    """The loop: random batches (each example once per epoch), AdamW, clipping; returns the
    smoothed final loss."""
    from tqdm.auto import tqdm

    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup_steps = max(1, steps // 20)
    rng = random.Random(f"warmup-{seed}")
    order: list[int] = []
    smoothed = None
    bar = tqdm(range(steps), desc="warm-up (SFT)", disable=not progress, dynamic_ncols=True)
    for step in bar:
        if len(order) < batch_size:
            fresh = list(range(len(encoded)))
            rng.shuffle(fresh)
            order.extend(fresh)
        batch = [encoded[i] for i in order[:batch_size]]
        del order[:batch_size]
        inputs = _collate(batch, pad_id)
        # Right padding: a real token attends only to earlier (real) tokens under the causal
        # mask alone, and padded positions carry no loss, so the padding mask changes nothing
        # but the attention kernel (causal SDPA without a built mask is faster).
        del inputs["attention_mask"]
        for group in optimizer.param_groups:
            group["lr"] = lr * _lr_factor(step, steps, warmup_steps)
        loss = model(**inputs).loss  # mean over the batch's completion tokens
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        smoothed = loss.item() if smoothed is None else 0.95 * smoothed + 0.05 * loss.item()
        if step % 10 == 0 or step == steps - 1:
            bar.set_postfix(loss=f"{smoothed:.3f}")
    return smoothed


def prepare(
    settings: LabSettings,
    *,
    seed: int,
    model_dir: str | Path,
    problems_path: str | Path,
    sft_path: str | Path | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """The task files and the warm-up model of one seed, which every RL method starts from.

    Writes the RL problems (`settings.rl_problems` of them, seed ``seed + 1000``) to
    `problems_path`, the warm-up traces to `sft_path` when given, and trains the warm-up model
    into `model_dir`; returns `warmup`'s summary.
    """
    sft = make_sft_dataset(settings.sft_examples, seed=seed, verbosity=settings.verbosity)
    if sft_path is not None:
        write_jsonl(sft_path, sft)
    problems = make_problems(settings.rl_problems, seed=seed + RL_PROBLEMS_SEED_OFFSET)
    write_jsonl(problems_path, problems)
    return warmup(
        sft,
        model_dir,
        steps=settings.warmup_steps,
        batch_size=settings.warmup_batch_size,
        lr=settings.warmup_lr,
        seed=seed,
        model_kwargs=dict(settings.model_kwargs),
        progress=progress,
    )
