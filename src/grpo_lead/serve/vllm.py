"""The GPU engine: vLLM's own OpenAI server generates, grpo-lead's layer sits in front of it.

`grpo-lead serve --engine vllm` starts `vllm serve MODEL --reasoning-parser deepseek_r1
--enable-prefix-caching ...` as a child process on a loopback port (`vllm_command`), waits for
its `/health`, and proxies to it (`VLLMEngine`): vLLM does continuous batching, prefix caching
and `<think>` parsing; we add the cache, limits, keys, the extracted answer and metrics. With
`--upstream URL` it proxies to a vLLM server that is already running instead.

Needs: a CUDA GPU and `pip install -e ".[vllm]"` (or the `vllm/vllm-openai` image, see
`deploy/docker/Dockerfile.gpu`). The proxy itself is plain HTTP and is tested on CPU against a
grpo-lead server standing in for vLLM.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from grpo_lead.serve.engines import (
    GenInput,
    Piece,
    generation_defaults,
    model_fingerprint,
    render_prompt,
)
from grpo_lead.serve.protocol import APIError, RequestSampling
from grpo_lead.serve.reasoning import (
    THINK_CLOSE,
    THINK_OPEN,
    ReasoningSplitter,
    message_reasoning,
)

logger = logging.getLogger(__name__)

MAX_UPSTREAM_LINE = 1024 * 1024  # one SSE line from vLLM larger than this is an error


def vllm_available() -> bool:
    """True when vLLM is importable and a CUDA GPU is visible (checked without importing vLLM)."""
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return False
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` now (the OS picks it), for the vLLM child process."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def vllm_command(
    model: str,
    *,
    port: int,
    served_model_name: str,
    host: str = "127.0.0.1",
    reasoning_parser: str | None = "deepseek_r1",
    max_model_len: int | None = None,
    gpu_memory_utilization: float | None = None,
    tensor_parallel_size: int = 1,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The `vllm serve` command line for the child process (loopback only: we are its front)."""
    exe = shutil.which("vllm")
    cmd = [exe] if exe else [sys.executable, "-m", "vllm.entrypoints.cli.main"]
    cmd += ["serve", model, "--host", host, "--port", str(port)]
    cmd += ["--served-model-name", served_model_name, "--enable-prefix-caching"]
    cmd += ["--generation-config", "auto"]  # the model's generation_config.json: LEAD's protocol
    if reasoning_parser:
        cmd += ["--reasoning-parser", reasoning_parser]
    if max_model_len:
        cmd += ["--max-model-len", str(max_model_len)]
    if gpu_memory_utilization:
        cmd += ["--gpu-memory-utilization", str(gpu_memory_utilization)]
    if tensor_parallel_size > 1:
        cmd += ["--tensor-parallel-size", str(tensor_parallel_size)]
    return cmd + list(extra_args)


def launch_vllm(cmd: list[str], *, url: str, startup_timeout_s: float) -> subprocess.Popen:
    """Start vLLM and wait for its /health (model download and load can take many minutes)."""
    import httpx

    logger.info("starting vLLM: %s", " ".join(cmd))
    proc = subprocess.Popen(cmd, env=os.environ.copy())
    deadline = time.monotonic() + startup_timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"vLLM exited with code {proc.returncode} while starting")
        try:
            if httpx.get(f"{url}/health", timeout=2.0).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(2.0)
    stop_process(proc)
    raise RuntimeError(f"vLLM did not answer {url}/health within {startup_timeout_s:.0f} s")


def stop_process(proc: subprocess.Popen, grace_s: float = 30.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def upstream_body(gen: GenInput, sampling: RequestSampling, model: str) -> dict[str, Any]:
    """The request we send upstream: the effective parameters, always streamed with usage."""
    body: dict[str, Any] = {
        "model": model,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": sampling.max_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "min_p": sampling.min_p,
        "top_k": sampling.top_k,
        "n": 1,
    }
    if sampling.seed is not None:
        body["seed"] = sampling.seed
    if sampling.stop:
        body["stop"] = list(sampling.stop)
    if gen.endpoint == "chat":
        body["messages"] = gen.messages
        if gen.chat_template_kwargs:
            body["chat_template_kwargs"] = gen.chat_template_kwargs
    else:
        body["prompt"] = gen.prompt
    return body


class UpstreamCollector:
    """Turns upstream stream chunks into Pieces and keeps what the last Piece needs."""

    def __init__(self, chat: bool):
        self.chat = chat
        self.parsed_upstream = False  # upstream sent reasoning fields (its parser is on)
        self.splitter = ReasoningSplitter()  # for an upstream without a reasoning parser
        self.reasoning: list[str] = []
        self.content: list[str] = []
        self.finish_reason: str | None = None
        self.usage: dict[str, int] = {}

    def feed(self, chunk: dict[str, Any]) -> Piece | None:
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        choices = chunk.get("choices") or []
        if not choices:
            return None
        choice = choices[0]
        self.finish_reason = choice.get("finish_reason") or self.finish_reason
        if not self.chat:
            text = choice.get("text") or ""
            self.content.append(text)
            return Piece(content=text) if text else None
        delta = choice.get("delta") or {}
        reasoning = message_reasoning(delta) or ""
        content = delta.get("content") or ""
        if reasoning:
            self.parsed_upstream = True
        if content and not self.parsed_upstream:
            more, content = self.splitter.feed(content)
            reasoning += more
        self.reasoning.append(reasoning)
        self.content.append(content)
        return Piece(reasoning=reasoning, content=content) if reasoning or content else None

    def last(self, gen: GenInput) -> Piece:
        reasoning, content = ("", "") if self.parsed_upstream else self.splitter.flush()
        self.reasoning.append(reasoning)
        self.content.append(content)
        full_reasoning, full_content = "".join(self.reasoning), "".join(self.content)
        if not self.chat:
            raw = (THINK_OPEN if gen.opens_think else "") + full_content
            closed = True
        elif self.parsed_upstream or self.splitter.saw_reasoning:
            closed = bool(full_content) or self.finish_reason != "length"
            raw = THINK_OPEN + full_reasoning + (THINK_CLOSE if closed else "") + full_content
        else:
            raw, closed = full_content, True
        return Piece(
            reasoning=reasoning,
            content=content,
            finish_reason=self.finish_reason or "stop",
            prompt_tokens=int(self.usage.get("prompt_tokens", 0)),
            completion_tokens=int(self.usage.get("completion_tokens", 0)),
            raw_text=raw,
            think_closed=closed,
        )


class VLLMEngine:
    """Proxies generation to a vLLM OpenAI server (a child process, or `--upstream URL`)."""

    name = "vllm"

    def __init__(
        self,
        model: str,
        *,
        upstream: str,
        upstream_model: str,
        process: subprocess.Popen | None = None,
        upstream_api_key: str | None = None,
        tokenizer: Any = None,
    ):
        import httpx

        self.model = model
        self.upstream = upstream.rstrip("/")
        self.upstream_model = upstream_model
        self.process = process
        self.fingerprint = model_fingerprint(model)
        self.tokenizer = tokenizer if tokenizer is not None else _load_tokenizer(model)
        self.defaults = _load_generation_defaults(model)
        self.max_model_len = None
        headers = {"Authorization": f"Bearer {upstream_api_key}"} if upstream_api_key else {}
        self._client = httpx.AsyncClient(base_url=self.upstream, headers=headers, timeout=None)

    def prepare(self, gen: GenInput) -> GenInput:
        """Render and count the prompt with the model's tokenizer where we have it (for the
        prompt-length cap); vLLM renders it again itself."""
        if self.tokenizer is None:
            gen.rendered = gen.prompt if gen.endpoint == "completion" else None
            return gen
        return render_prompt(self.tokenizer, gen)

    async def stream(
        self, gen: GenInput, sampling: RequestSampling, index: int, cancel: threading.Event
    ) -> AsyncIterator[Piece]:
        seed = None if sampling.seed is None else sampling.seed + index
        body = upstream_body(gen, _with_seed(sampling, seed), self.upstream_model)
        path = "/v1/chat/completions" if gen.endpoint == "chat" else "/v1/completions"
        collector = UpstreamCollector(chat=gen.endpoint == "chat")
        import httpx

        try:
            async with self._client.stream("POST", path, json=body) as response:
                if response.status_code != 200:
                    raise await _upstream_error(response)
                async for chunk in _sse_chunks(response):
                    if cancel.is_set():
                        return  # closing the response aborts the request in vLLM
                    piece = collector.feed(chunk)
                    if piece is not None:
                        yield piece
        except httpx.HTTPError as exc:
            raise APIError(502, f"upstream unavailable: {exc}", type="upstream_error") from None
        yield collector.last(gen)

    async def healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            return False
        try:
            return (await self._client.get("/health", timeout=2.0)).status_code == 200
        except Exception:  # connection refused, timeout: not healthy
            return False

    async def extra_metrics(self) -> str:
        """vLLM's own Prometheus metrics (queue, KV cache, throughput), appended to ours."""
        try:
            response = await self._client.get("/metrics", timeout=2.0)
        except Exception:
            return ""
        return response.text if response.status_code == 200 else ""

    async def aclose(self) -> None:
        await self._client.aclose()
        if self.process is not None:
            await asyncio.to_thread(stop_process, self.process)


def _with_seed(sampling: RequestSampling, seed: int | None) -> RequestSampling:
    from dataclasses import replace

    return replace(sampling, seed=seed)


async def _sse_chunks(response) -> AsyncIterator[dict[str, Any]]:
    async for line in response.aiter_lines():
        if len(line) > MAX_UPSTREAM_LINE:
            raise APIError(502, "upstream sent an oversized event", type="upstream_error")
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            chunk = json.loads(data)
        except json.JSONDecodeError:
            raise APIError(502, "upstream sent malformed JSON", type="upstream_error") from None
        if "error" in chunk:
            message = (chunk["error"] or {}).get("message", "upstream error")
            raise APIError(502, f"upstream: {message}", type="upstream_error")
        yield chunk


async def _upstream_error(response) -> APIError:
    raw = (await response.aread())[:4096]
    try:
        message = json.loads(raw)["error"]["message"]
    except Exception:
        message = raw.decode("utf-8", "replace") or response.reason_phrase
    status = response.status_code if 400 <= response.status_code < 500 else 502
    return APIError(status, f"upstream: {message}", type="upstream_error")


def _load_tokenizer(model: str):
    from grpo_lead.hf import load_tokenizer

    try:
        return load_tokenizer(model)
    except Exception as exc:  # the prompt cap is then left to vLLM's own context check
        logger.warning("no tokenizer for %s (%s): prompt-length cap left to vLLM", model, exc)
        return None


def _load_generation_defaults(model: str) -> dict[str, Any]:
    try:
        from transformers import GenerationConfig

        return generation_defaults(GenerationConfig.from_pretrained(model))
    except Exception:  # no generation_config.json: vLLM's --generation-config auto decides
        return {}
