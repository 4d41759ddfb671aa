"""Sampling k answers per prompt with vLLM (GPU) or transformers (anywhere).

1. Backend choice (`choose_backend`): "auto" takes vLLM when it is importable AND a CUDA GPU is
   present, otherwise transformers; a forced "vllm" without either is an `EvalError`.
2. Prompts go through the tokenizer's chat template when it has one (`PromptFormatter`), and
   both backends receive token ids, so a template that already holds BOS is not given a second.
3. Sampling follows the paper's protocol: temperature, min-p, a token limit, and nothing else
   (top-p 1, top-k off, no repetition penalty), whatever the model's generation_config says.
4. Each request carries its own seed (derived from the run seed, the question id and the first
   sample index by the caller), so a resumed run draws the same samples where the batches agree.
5. Lengths count generated tokens including the final EOS; `finished` is False when the sample
   hit the token limit.

vLLM is only imported inside `VLLMGenerator`; the request building (`vllm_sampling_kwargs`) and
the choice logic are plain functions, testable without it.
"""

from __future__ import annotations

import importlib.util
import logging
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from grpo_lead.evaluation.errors import EvalError
from grpo_lead.hf import clip_for_log, load_causal_lm, load_tokenizer
from grpo_lead.reader import first_line, to_conversation

logger = logging.getLogger(__name__)

BACKENDS = ("auto", "vllm", "transformers")
DTYPES = ("auto", "bfloat16", "float16", "float32")
DEFAULT_BATCH_SIZE = {"transformers": 32, "vllm": 2048}  # sequences per generation call


@dataclass(frozen=True)
class Sampling:
    """The sampling protocol (the paper, Zhang & Zuo 2025: temperature 0.6, min-p 0.01, 14k tokens; docs/evaluation.md)."""

    temperature: float
    min_p: float
    max_new_tokens: int


@dataclass(frozen=True)
class Request:
    """Draw `n` samples for one formatted prompt."""

    prompt: str
    n: int
    seed: int


@dataclass(frozen=True)
class Completion:
    text: str
    num_tokens: int
    finished: bool


class Generator(Protocol):
    """What the evaluation loop needs of a backend."""

    name: str
    batch_size: int  # sequences generated together

    def format_prompt(self, prompt: str) -> str: ...

    def generate(self, requests: Sequence[Request]) -> list[list[Completion]]: ...


def prompt_too_long(generator: Any, formatted: str) -> str | None:
    """Why a formatted prompt cannot be generated from (it fills the model's context), or None.

    Backends that know their context (``max_model_len``) and count tokens (``prompt_tokens``)
    are checked; others (scripted test generators) are not."""
    room = getattr(generator, "max_model_len", None)
    count = getattr(generator, "prompt_tokens", None)
    if not room or count is None:
        return None
    n = count(formatted)
    return f"the prompt has {n} tokens; the model's context is {room}" if n >= room else None


def request_seed(seed: int, question_id: str, first_sample: int) -> int:
    """A 31-bit seed for one question's samples from index `first_sample` on."""
    return zlib.crc32(f"{seed}:{question_id}:{first_sample}".encode()) & 0x7FFFFFFF


def choose_backend(
    requested: str, *, vllm_available: bool | None = None, cuda_available: bool | None = None
) -> tuple[str, str]:
    """(backend, reason). `None` availabilities are probed (vllm importable, CUDA present)."""
    if requested not in BACKENDS:
        raise EvalError(f"unknown backend {requested!r}; choose one of {BACKENDS}")
    if requested == "transformers":
        return "transformers", "--backend transformers"
    if vllm_available is None:
        vllm_available = importlib.util.find_spec("vllm") is not None
    if cuda_available is None:
        import torch

        cuda_available = torch.cuda.is_available()
    missing = [
        *([] if vllm_available else ['vllm is not installed (pip install -e ".[vllm]")']),
        *([] if cuda_available else ["no CUDA GPU is visible"]),
    ]
    if requested == "vllm":
        if missing:
            raise EvalError("--backend vllm cannot run: " + " and ".join(missing))
        return "vllm", "--backend vllm"
    if missing:
        return "transformers", "auto: " + " and ".join(missing)
    return "vllm", "auto: vllm is installed and a CUDA GPU is present"


def vllm_sampling_kwargs(sampling: Sampling, *, n: int, seed: int) -> dict[str, Any]:
    """Keyword arguments of `vllm.SamplingParams` for one request.

    top-k is left at SamplingParams' default (off; its "off" value moved from -1 to 0 across
    vLLM versions); explicit SamplingParams do not inherit the model's generation_config.
    """
    return {
        "n": n,
        "temperature": sampling.temperature,
        "min_p": sampling.min_p,
        "top_p": 1.0,
        "repetition_penalty": 1.0,
        "max_tokens": sampling.max_new_tokens,
        "seed": seed,
    }


def transformers_generate_kwargs(sampling: Sampling) -> dict[str, Any]:
    """Keyword arguments of `model.generate`: only the protocol's knobs, the others disabled."""
    common = {"max_new_tokens": sampling.max_new_tokens, "repetition_penalty": 1.0}
    if sampling.temperature <= 0:
        return {**common, "do_sample": False}
    return {
        **common,
        "do_sample": True,
        "temperature": sampling.temperature,
        "min_p": sampling.min_p or None,
        "top_p": 1.0,
        "top_k": 0,
    }


class PromptFormatter:
    """Chat template (when the tokenizer has one and it is wanted) and tokenisation."""

    def __init__(self, tokenizer, *, chat_template: bool, system_prompt: str | None):
        self.tokenizer = tokenizer
        self.system_prompt = system_prompt
        self.use_template = chat_template and bool(getattr(tokenizer, "chat_template", None))
        if chat_template and not self.use_template:
            logger.warning("the tokenizer has no chat template: using plain prompts")
        self._shown = False

    def format(self, prompt: str) -> str:
        if not self.use_template:
            text = f"{self.system_prompt}\n\n{prompt}" if self.system_prompt else prompt
        else:
            text = self.tokenizer.apply_chat_template(
                to_conversation(prompt, self.system_prompt),
                tokenize=False,
                add_generation_prompt=True,
            )
        if not self._shown:  # a template's default system prompt shows here (--system-prompt)
            self._shown = True
            logger.info("the model sees (the first prompt, rendered): %r", clip_for_log(text))
        return text

    def encode(self, text: str) -> list[int]:
        # A rendered template carries its own special tokens (BOS); a plain prompt does not.
        return self.tokenizer(text, add_special_tokens=not self.use_template)["input_ids"]


@contextmanager
def _loading(what: str) -> Iterator[None]:
    """Turns a loading failure (OSError, ValueError, hub errors) into a one-line `EvalError`."""
    try:
        yield
    except Exception as exc:
        raise EvalError(f"cannot load {what}: {first_line(exc)}") from None


class TransformersGenerator:
    """Batched `model.generate` with a KV cache and left padding; rows are prompts repeated n
    times (what `num_return_sequences` does), so requests with different n share batches.

    Seeding: by default each batch is seeded from its requests' seeds, so a resumed run draws
    the same samples where the batches agree. With `stream_seed`, torch is seeded once per
    `generate` call and the batches draw in order from that one stream (the toy lab's protocol:
    the same samples for the same requests and batch size).
    """

    name = "transformers"

    def __init__(
        self,
        model: str,
        sampling: Sampling,
        *,
        chat_template: bool = True,
        system_prompt: str | None = None,
        dtype: str = "auto",
        batch_size: int | None = None,
        stream_seed: int | None = None,
    ):
        import torch

        self.sampling = sampling
        self.batch_size = batch_size or DEFAULT_BATCH_SIZE["transformers"]
        self.stream_seed = stream_seed
        with _loading(f"the tokenizer of {model}"):
            self.tokenizer = load_tokenizer(model)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.formatter = PromptFormatter(
            self.tokenizer, chat_template=chat_template, system_prompt=system_prompt
        )
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        torch_dtype = _torch_dtype(dtype, self.device)
        with _loading(f"model {model}"):
            self.model = load_causal_lm(model, dtype=torch_dtype, device_map=self.device)
        self.model.eval()
        self.eos_ids = _eos_ids(self.model.generation_config.eos_token_id, self.tokenizer)
        self.max_model_len = getattr(self.model.config, "max_position_embeddings", None)
        logger.info(
            "transformers: %s on %s (%s, %d torch threads)",
            model,
            self.device,
            torch_dtype,
            torch.get_num_threads(),
        )

    def format_prompt(self, prompt: str) -> str:
        return self.formatter.format(prompt)

    def prompt_tokens(self, formatted: str) -> int:
        return len(self.formatter.encode(formatted))

    def generate(self, requests: Sequence[Request]) -> list[list[Completion]]:
        import torch

        rows = [(i, r) for i, r in enumerate(requests) for _ in range(r.n)]
        results: list[list[Completion]] = [[] for _ in requests]
        if self.stream_seed is not None:
            torch.manual_seed(self.stream_seed)
        for start in range(0, len(rows), self.batch_size):
            chunk = rows[start : start + self.batch_size]
            if self.stream_seed is None:
                seed = zlib.crc32(repr([(r.seed, i) for i, r in chunk]).encode()) & 0x7FFFFFFF
                torch.manual_seed(seed)
            completions = self._generate_rows([r for _, r in chunk])
            for (i, _), completion in zip(chunk, completions, strict=True):
                results[i].append(completion)
        return results

    def _generate_rows(self, rows: list[Request]) -> list[Completion]:
        import torch

        ids = [self.formatter.encode(r.prompt) for r in rows]
        batch = self.tokenizer.pad({"input_ids": ids}, padding=True, return_tensors="pt")
        batch = {key: value.to(self.device) for key, value in batch.items()}
        with torch.inference_mode():
            output = self.model.generate(
                **batch,
                **transformers_generate_kwargs(self.sampling),
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=sorted(self.eos_ids),
            )
        generated = output[:, batch["input_ids"].shape[1] :].tolist()  # (rows, new tokens)
        return [self._completion(tokens) for tokens in generated]

    def _completion(self, tokens: list[int]) -> Completion:
        end = next((j + 1 for j, t in enumerate(tokens) if t in self.eos_ids), None)
        tokens = tokens if end is None else tokens[:end]
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        return Completion(text=text, num_tokens=len(tokens), finished=end is not None)


def _torch_dtype(dtype: str, device: str):
    import torch

    if dtype not in DTYPES:
        raise EvalError(f"unknown dtype {dtype!r}; choose one of {DTYPES}")
    if dtype == "auto":
        return torch.bfloat16 if device == "cuda" else torch.float32
    return getattr(torch, dtype)


def _eos_ids(config_eos: int | list[int] | None, tokenizer) -> set[int]:
    ids = set(config_eos if isinstance(config_eos, list) else [config_eos])
    ids.add(tokenizer.eos_token_id)
    ids.discard(None)
    if not ids:
        raise EvalError("the model has no EOS token: set eos_token_id in its generation_config")
    return ids


class VLLMGenerator:
    """`vllm.LLM.generate` with one `SamplingParams(n=k, ...)` per prompt (token-id prompts)."""

    name = "vllm"

    def __init__(
        self,
        model: str,
        sampling: Sampling,
        *,
        chat_template: bool = True,
        system_prompt: str | None = None,
        dtype: str = "auto",
        batch_size: int | None = None,
        seed: int = 0,
        tensor_parallel_size: int = 1,
    ):
        from vllm import LLM

        if dtype not in DTYPES:
            raise EvalError(f"unknown dtype {dtype!r}; choose one of {DTYPES}")
        self.sampling = sampling
        self.batch_size = batch_size or DEFAULT_BATCH_SIZE["vllm"]
        with _loading(f"the tokenizer of {model}"):
            tokenizer = load_tokenizer(model)
        self.formatter = PromptFormatter(
            tokenizer, chat_template=chat_template, system_prompt=system_prompt
        )
        self.llm = LLM(
            model=model, dtype=dtype, seed=seed, tensor_parallel_size=tensor_parallel_size
        )
        logger.info("vllm: %s (tensor parallel %d)", model, tensor_parallel_size)
        engine = getattr(self.llm, "llm_engine", None)
        self.max_model_len = getattr(getattr(engine, "model_config", None), "max_model_len", None)

    def format_prompt(self, prompt: str) -> str:
        return self.formatter.format(prompt)

    def prompt_tokens(self, formatted: str) -> int:
        return len(self.formatter.encode(formatted))

    def generate(self, requests: Sequence[Request]) -> list[list[Completion]]:
        from vllm import SamplingParams

        prompts = [{"prompt_token_ids": self.formatter.encode(r.prompt)} for r in requests]
        params = [
            SamplingParams(**vllm_sampling_kwargs(self.sampling, n=r.n, seed=r.seed))
            for r in requests
        ]
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        return [
            [
                Completion(o.text, len(o.token_ids), o.finish_reason == "stop")
                for o in output.outputs
            ]
            for output in outputs
        ]


def load_generator(
    backend: str,
    model: str,
    sampling: Sampling,
    *,
    chat_template: bool = True,
    system_prompt: str | None = None,
    dtype: str = "auto",
    batch_size: int | None = None,
    seed: int = 0,
    tensor_parallel_size: int = 1,
) -> Generator:
    """Choose the backend (logging which and why) and load the model into it."""
    name, reason = choose_backend(backend)
    logger.info("generation backend: %s (%s)", name, reason)
    options = dict(
        chat_template=chat_template, system_prompt=system_prompt, dtype=dtype, batch_size=batch_size
    )
    if name == "vllm":
        return VLLMGenerator(
            model, sampling, seed=seed, tensor_parallel_size=tensor_parallel_size, **options
        )
    return TransformersGenerator(model, sampling, **options)
