"""A tiny character-level causal LM built locally: no hub, no download.

The tokenizer is a `tokenizers` WordLevel vocabulary that splits on every character, wrapped in
`PreTrainedTokenizerFast`; the model is a small `Qwen2ForCausalLM` from a config. Both save with
`save_pretrained`, so TRL (which reloads reference models from `config._name_or_path`), the
evaluation code and `grpo-lead serve` load them like any hub model.
"""

from __future__ import annotations

import string
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")
# Every character the toy task and the LEAD prompt use, plus printable ASCII for robustness.
CHARACTERS = sorted(set(string.printable) - set("\x0b\x0c\r"))

# A deliberately simple chat template: enough for TRL's conversational path and for `serve`.
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)


def build_tokenizer(extra_chars: str = ""):
    """A character-level `PreTrainedTokenizerFast` (one token per character)."""
    from transformers import PreTrainedTokenizerFast

    chars = sorted(set(CHARACTERS) | set(extra_chars))
    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}
    for ch in chars:
        vocab.setdefault(ch, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    # Split on every single character; "isolated" keeps each one as its own token.
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        bos_token="<bos>",
        eos_token="<eos>",
        unk_token="<unk>",
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.padding_side = "left"
    return fast


def build_model(
    tokenizer,
    *,
    hidden_size: int = 96,
    num_layers: int = 3,
    num_heads: int = 4,
    intermediate_size: int = 384,
    max_positions: int = 1024,
    seed: int = 0,
):
    """A small `Qwen2ForCausalLM` sized for the tokenizer (0.45M parameters by default)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    return Qwen2ForCausalLM(config)


def save_tiny_model(path: str | Path, *, seed: int = 0, **model_kwargs) -> Path:
    """Build a tokenizer and a randomly initialised tiny model and save both under `path`."""
    path = Path(path)
    tokenizer = build_tokenizer()
    model = build_model(tokenizer, seed=seed, **model_kwargs)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
