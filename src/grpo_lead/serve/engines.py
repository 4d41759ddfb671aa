"""Generation engines behind the server: what they share, and the CPU engine (transformers).

An engine turns one choice of one request into a stream of `Piece`s: reasoning and content
deltas, then a last piece with the finish reason, token counts and the raw text that the final
answer is extracted from. The server (`app.py`) does everything else (limits, cache, answer;
`protocol.py`: response shapes), the same way for every engine.

`TransformersEngine` is the embedded CPU default, for the demo's tiny model and small models:
1. One worker thread generates, one choice at a time: requests queue for it. There is no
   batching of our own; on a GPU, vLLM does continuous batching (`vllm.py`).
2. Sampling follows OpenAI/vLLM semantics: temperature 0 is greedy; `top_p`, `min_p`, `top_k`,
   `seed` (choice i of a request uses seed + i), `stop` strings (cut out of the text) and
   `max_tokens`. Parameters a request leaves out come from the model's `generation_config.json`.
3. A cancel event (client gone, request timed out) stops generation at the next token.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from grpo_lead.serve.protocol import APIError, Piece, RequestSampling
from grpo_lead.serve.reasoning import ReasoningSplitter, prompt_opens_think

logger = logging.getLogger(__name__)

SAMPLING_DEFAULT_KEYS = ("temperature", "top_p", "min_p", "top_k")


@dataclass
class GenInput:
    """What to generate from: chat messages (rendered by the chat template) or a raw prompt."""

    endpoint: str  # "chat" | "completion"
    messages: list[dict[str, str]] | None = None
    prompt: str | None = None
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)
    # Filled by `Engine.prepare`: the rendered prompt and its token ids (None when unknown).
    rendered: str | None = None
    prompt_ids: list[int] | None = None

    @property
    def opens_think(self) -> bool:
        return self.rendered is not None and prompt_opens_think(self.rendered)


class Engine(Protocol):
    name: str
    model: str
    fingerprint: str
    defaults: dict[str, Any]
    max_model_len: int | None

    def prepare(self, gen: GenInput) -> GenInput:
        """Render and tokenize the prompt (blocking: run it in a thread). Raises APIError."""
        ...

    def stream(
        self, gen: GenInput, sampling: RequestSampling, index: int, cancel: threading.Event
    ) -> AsyncIterator[Piece]: ...

    async def healthy(self) -> bool: ...

    async def extra_metrics(self) -> str: ...

    async def aclose(self) -> None: ...


def model_fingerprint(model: str) -> str:
    """A short hash of a local model's weight files (names, sizes, mtimes): a re-exported model
    gets new cache keys. A hub id hashes as its name."""
    path = Path(model)
    h = hashlib.sha256(model.encode())
    if path.is_dir():
        for file in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.json")):
            stat = file.stat()
            h.update(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def generation_defaults(generation_config: Any) -> dict[str, Any]:
    """Sampling defaults from a model's generation config (`export` writes LEAD's protocol)."""
    if generation_config is None:
        return {}
    out = {}
    if getattr(generation_config, "do_sample", False):
        for key in SAMPLING_DEFAULT_KEYS:
            value = getattr(generation_config, key, None)
            if value is not None:
                out[key] = value
    else:  # a greedy generation config: temperature 0 unless the request says otherwise
        out["temperature"] = 0.0
    return out


def render_prompt(tokenizer, gen: GenInput) -> GenInput:
    """Fill `gen.rendered` (chat template for messages, the prompt as is) and `gen.prompt_ids`
    with `tokenizer`. A chat template that fails is the request's fault (roles, kwargs): 400."""
    if gen.endpoint == "chat":
        check_no_control_tokens(tokenizer, gen.messages or [])
        try:
            gen.rendered = tokenizer.apply_chat_template(
                gen.messages,
                tokenize=False,
                add_generation_prompt=True,
                **gen.chat_template_kwargs,
            )
        except Exception as exc:
            raise APIError(400, f"chat template failed: {exc}") from None
        gen.prompt_ids = tokenizer(gen.rendered, add_special_tokens=False)["input_ids"]
    else:
        gen.rendered = gen.prompt or ""
        gen.prompt_ids = tokenizer(gen.rendered)["input_ids"]
    return gen


def check_no_control_tokens(tokenizer, messages: list[dict[str, str]]) -> None:
    """Refuse (400) a message whose text holds one of the tokenizer's special tokens: the
    rendered prompt is tokenized with special tokens parsed (the template's own markers must
    be), so a user's ``<|im_end|>\n<|im_start|>system ...`` would open a real system turn."""
    pattern = _special_pattern(tokenizer)
    if pattern is None:
        return
    for i, message in enumerate(messages):
        hit = pattern.search(message.get("content") or "")
        if hit is not None:
            raise APIError(
                400,
                f"messages[{i}].content holds the model's control token {hit.group()!r}: "
                "message text cannot hold special tokens",
                param=f"messages[{i}].content",
            )


@functools.lru_cache(maxsize=8)
def _special_pattern(tokenizer) -> re.Pattern | None:
    """One regex of every special token of ``tokenizer`` (longest first), None if it has none."""
    decoder = getattr(tokenizer, "added_tokens_decoder", {}) or {}
    specials = {t.content for t in decoder.values() if getattr(t, "special", False)}
    specials |= set(getattr(tokenizer, "all_special_tokens", []) or [])
    specials.discard("")
    if not specials:
        return None
    return re.compile("|".join(re.escape(t) for t in sorted(specials, key=len, reverse=True)))


class _StopOnFlag:
    """A transformers StoppingCriteria: stop when cancelled or when a stop string was seen."""

    def __init__(self, cancel: threading.Event, streamer: _TextDeltas):
        self.cancel = cancel
        self.streamer = streamer

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        stop = self.cancel.is_set() or self.streamer.stopped
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)


class _TextDeltas:
    """A transformers streamer that decodes new tokens into text deltas, holding back what
    could be the start of a stop string, and cutting the text at the first stop string."""

    def __init__(self, tokenizer, emit: Callable[[str], None], stops: tuple[str, ...]):
        self.tokenizer = tokenizer
        self.emit = emit
        self.stops = stops
        self.hold = max((len(s) for s in stops), default=1) - 1
        self.ids: list[int] = []
        self.sent = 0
        self.stopped = False
        self._prompt_seen = False
        self.text = ""

    def put(self, value) -> None:
        if not self._prompt_seen:  # the first call carries the prompt
            self._prompt_seen = True
            return
        if self.stopped:
            return
        self.ids.extend(int(t) for t in value.reshape(-1).tolist())
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        if text.endswith("\ufffd"):  # an incomplete multi-byte character: wait for the rest
            return
        self.text = text
        self._send(final=False)

    def end(self) -> None:
        self._send(final=True)

    def _send(self, *, final: bool) -> None:
        cut = self._stop_at()
        if cut is not None:
            self.stopped = True
            end = cut
        else:
            end = len(self.text) if final else max(self.sent, len(self.text) - self.hold)
        if end > self.sent:
            self.emit(self.text[self.sent : end])
            self.sent = end
        if self.stopped:
            self.text = self.text[:end]

    def _stop_at(self) -> int | None:
        # Search only the new text (plus the held-back tail that may begin a stop string).
        start = max(0, self.sent - self.hold)
        hits = [i for i in (self.text.find(s, start) for s in self.stops) if i >= 0]
        return min(hits) if hits else None


_END = object()


class TransformersEngine:
    """The embedded CPU engine: `transformers` generate in one worker thread."""

    name = "transformers"

    def __init__(self, model: str, *, dtype: str = "auto", device: str = "cpu"):
        import torch

        from grpo_lead.hf import load_causal_lm, load_tokenizer

        self.model = model
        self.tokenizer = load_tokenizer(model)
        torch_dtype = torch.float32 if dtype == "auto" and device == "cpu" else dtype
        self.lm = load_causal_lm(model, dtype=torch_dtype).to(device).eval()
        self.device = device
        self.defaults = generation_defaults(getattr(self.lm, "generation_config", None))
        self.max_model_len = getattr(self.lm.config, "max_position_embeddings", None)
        self.fingerprint = model_fingerprint(model)
        self.eos_ids = self._eos_ids()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grpo-lead-gen")

    def _eos_ids(self) -> list[int]:
        ids = getattr(self.lm.generation_config, "eos_token_id", None)
        ids = [ids] if isinstance(ids, int) else list(ids or [])
        if self.tokenizer.eos_token_id is not None and self.tokenizer.eos_token_id not in ids:
            ids.append(self.tokenizer.eos_token_id)
        return ids

    def prepare(self, gen: GenInput) -> GenInput:
        if gen.endpoint == "chat" and not getattr(self.tokenizer, "chat_template", None):
            raise APIError(400, "this model has no chat template: use /v1/completions")
        gen = render_prompt(self.tokenizer, gen)
        if not gen.prompt_ids:
            raise APIError(400, "the prompt is empty")
        return gen

    async def stream(
        self, gen: GenInput, sampling: RequestSampling, index: int, cancel: threading.Event
    ) -> AsyncIterator[Piece]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()

        def emit(item) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        seed = None if sampling.seed is None else sampling.seed + index
        job = loop.run_in_executor(
            self._executor, self._generate, gen.prompt_ids, sampling, seed, cancel, emit
        )
        job.add_done_callback(_log_failure)
        splitter = ReasoningSplitter(opened_in_prompt=gen.opens_think)
        chat = gen.endpoint == "chat"
        ended = False
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    ended = True
                    break
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, dict):  # the summary of the finished generation
                    yield self._last_piece(item, splitter, gen, chat)
                    continue
                if chat:
                    reasoning, content = splitter.feed(item)
                    if reasoning or content:
                        yield Piece(reasoning=reasoning, content=content)
                else:
                    yield Piece(content=item)
        finally:
            # A consumer that left early stops the worker at its next token. The event is the
            # request's, shared by its n choices: a choice that ran to its end must not set it.
            if not ended:
                cancel.set()

    def _last_piece(self, summary: dict, splitter: ReasoningSplitter, gen: GenInput, chat: bool):
        reasoning, content = splitter.flush() if chat else ("", "")
        prefix = "<think>" if gen.opens_think else ""
        return Piece(
            reasoning=reasoning,
            content=content,
            finish_reason=summary["finish_reason"],
            prompt_tokens=len(gen.prompt_ids or ()),
            completion_tokens=summary["completion_tokens"],
            raw_text=prefix + summary["text"],
            think_closed=splitter.closed,
        )

    def _generate(self, prompt_ids, sampling: RequestSampling, seed, cancel, emit) -> None:
        try:
            if cancel.is_set():
                return
            emit(self._run_generate(prompt_ids, sampling, seed, cancel, emit))
        except BaseException as exc:  # handed to the request; the worker stays alive
            emit(exc)
        finally:
            emit(_END)

    def _run_generate(self, prompt_ids, sampling: RequestSampling, seed, cancel, emit) -> dict:
        import torch
        from transformers import StoppingCriteriaList

        if seed is not None:
            torch.manual_seed(seed)  # one worker thread: nothing else draws in between
        streamer = _TextDeltas(self.tokenizer, emit, sampling.stop)
        input_ids = torch.tensor([prompt_ids], device=self.device)
        with torch.inference_mode():
            out = self.lm.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                streamer=streamer,
                stopping_criteria=StoppingCriteriaList([_StopOnFlag(cancel, streamer)]),
                pad_token_id=self.tokenizer.pad_token_id or (self.eos_ids or [0])[0],
                eos_token_id=self.eos_ids or None,
                **self._sampling_kwargs(sampling),
            )
        new = out[0, input_ids.shape[1] :].tolist()
        ended_on_eos = bool(new) and new[-1] in self.eos_ids
        finish = "stop" if streamer.stopped or ended_on_eos else "length"
        if cancel.is_set() and not streamer.stopped:
            finish = "abort"
        return {"finish_reason": finish, "completion_tokens": len(new), "text": streamer.text}

    def _sampling_kwargs(self, sampling: RequestSampling) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_new_tokens": sampling.max_tokens}
        if sampling.greedy:
            return kwargs | {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        return kwargs | {
            "do_sample": True,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "min_p": sampling.min_p or None,
            "top_k": sampling.top_k if sampling.top_k > 0 else 0,
        }

    async def healthy(self) -> bool:
        return True

    async def extra_metrics(self) -> str:
        return ""

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _log_failure(future) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("generation worker failed: %s", future.exception())
