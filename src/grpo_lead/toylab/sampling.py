"""Sampling for small models on CPU: finished rows leave the batch.

`model.generate` decodes every row of a batch until the longest one ends: with the toy task's
answers (mean ~55 tokens, the longest ~95) most of a batch's decoding steps run rows that
already ended, and each step pays transformers' per-step machinery (logits processors,
stopping criteria, cache bookkeeping), which at this model size costs more than the model.
`sample` is the plain loop: one forward per step over the rows still running, a multinomial
draw at the temperature, rows that drew an EOS dropped from the batch and its KV cache.

It covers the protocol the toy lab samples with (temperature only: top-p 1, top-k off, no
min-p, no repetition penalty); `install` routes a model's `generate` through it when a call
asks for exactly that and leaves any other call to transformers.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

logger = logging.getLogger(__name__)

__all__ = ["install", "plain_sampling", "sample"]


@torch.no_grad()
def sample(
    model,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    *,
    max_new_tokens: int,
    temperature: float,
    eos_token_ids: list[int],
    pad_token_id: int,
) -> torch.Tensor:
    """Prompt + sampled completion ids, (B, P + T) with T the longest completion; a row ends
    at its first EOS (kept) and is padded with `pad_token_id` after it.

    `input_ids` / `attention_mask` (B, P) are left-padded; positions count real tokens only, as
    in `generate`.
    """
    from transformers import DynamicCache

    batch, width = input_ids.shape
    out = torch.full((batch, max_new_tokens), pad_token_id, dtype=input_ids.dtype)
    eos = torch.tensor(eos_token_ids, dtype=input_ids.dtype)
    rows = torch.arange(batch)  # (A,) the rows still running
    mask = attention_mask
    positions = (mask.cumsum(-1) - 1).clamp(min=0)  # (B, P)
    cache = DynamicCache(config=model.config)
    step_ids = input_ids
    used = 0
    for t in range(max_new_tokens):
        logits = model(
            input_ids=step_ids,
            attention_mask=mask,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        ).logits[:, -1, :]  # (A, V)
        probs = torch.softmax(logits.float() / temperature, dim=-1)
        token = torch.multinomial(probs, 1).squeeze(1)  # (A,)
        out[rows, t] = token
        used = t + 1
        running = ~torch.isin(token, eos)
        if not running.all():
            keep = running.nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            rows, token, mask = rows[keep], token[keep], mask[keep]
            positions = positions[keep]
            cache.batch_select_indices(keep)
        mask = torch.cat([mask, mask.new_ones(len(rows), 1)], dim=1)
        positions = positions[:, -1:] + 1
        step_ids = token.unsqueeze(1)
    return torch.cat([input_ids, out[:, :used]], dim=1)


def plain_sampling(config) -> bool:
    """True when a `GenerationConfig` asks for temperature sampling and nothing else."""
    return (
        bool(config.do_sample)
        and (config.temperature or 0) > 0
        and config.top_p in (None, 1.0)
        and config.top_k in (None, 0)
        and not config.min_p
        and config.repetition_penalty in (None, 1.0)
        and not getattr(config, "suppress_tokens", None)
        and config.max_new_tokens is not None
    )


def install(model) -> None:
    """Route `model.generate(input_ids=..., attention_mask=..., generation_config=...)` through
    `sample` when the config is `plain_sampling`; anything else goes to transformers."""
    original = model.generate

    def generate(*args: Any, **kwargs: Any):
        config = kwargs.get("generation_config")
        extra = set(kwargs) - {"input_ids", "attention_mask", "generation_config"}
        if args or extra or config is None or not plain_sampling(config):
            return original(*args, **kwargs)
        eos = config.eos_token_id
        return sample(
            model,
            kwargs["input_ids"],
            kwargs["attention_mask"],
            max_new_tokens=config.max_new_tokens,
            temperature=config.temperature,
            eos_token_ids=eos if isinstance(eos, list) else [eos],
            pad_token_id=config.pad_token_id,
        )

    model.generate = generate
