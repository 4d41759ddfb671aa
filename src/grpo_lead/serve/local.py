"""Running the server in-process, and a scripted engine: for tests and the load benchmark.

- `serve_in_thread(app)`: uvicorn on a free loopback port in a background thread; yields the
  base URL and stops the server on exit.
- `wait_healthy(base, proc)`: wait for a server started as a subprocess to answer /health.
- `ScriptedEngine`: replays a fixed text (one character = one token) with an optional delay per
  chunk. It costs next to nothing, so a benchmark against it measures grpo-lead's own layer;
  its text can hold `<think>...</think>` and a boxed answer, which the tiny random model cannot
  produce.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from grpo_lead.protocol import EVAL_MIN_P, EVAL_TEMPERATURE
from grpo_lead.serve.engines import GenInput, Piece
from grpo_lead.serve.protocol import RequestSampling
from grpo_lead.serve.reasoning import ReasoningSplitter
from grpo_lead.serve.vllm import free_port


def wait_healthy(base: str, proc: subprocess.Popen, timeout_s: float = 120) -> None:
    """Poll `base`/health every 0.2 s until it answers 200; RuntimeError when `proc` (the
    server's process) exits first or `timeout_s` passes."""
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become healthy")


@contextlib.contextmanager
def serve_in_thread(
    app, *, host: str = "127.0.0.1", start_timeout_s: float = 30.0
) -> Iterator[str]:
    """Run `app` with uvicorn on a free loopback port; yields `http://host:port`."""
    import uvicorn

    port = free_port(host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server on {host}:{port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class ScriptedEngine:
    """An engine that answers every request with the same text (see the module docstring)."""

    name = "scripted"

    def __init__(
        self,
        text: str,
        *,
        chunk_chars: int = 4,
        delay_s: float = 0.0,
        think_in_prompt: bool = False,
        max_model_len: int | None = 4096,
    ):
        self.text = text
        self.chunk_chars = chunk_chars
        self.delay_s = delay_s
        self.think_in_prompt = think_in_prompt
        self.model = "scripted"
        self.fingerprint = "scripted"
        self.defaults: dict[str, Any] = {"temperature": EVAL_TEMPERATURE, "min_p": EVAL_MIN_P}
        self.max_model_len = max_model_len
        self.calls = 0
        self.cancelled = 0
        self.active = 0

    def prepare(self, gen: GenInput) -> GenInput:
        if gen.endpoint == "chat":
            rendered = "".join(f"{m['role']}: {m['content']}\n" for m in gen.messages or [])
            rendered += "assistant: " + ("<think>" if self.think_in_prompt else "")
        else:
            rendered = gen.prompt or ""
        gen.rendered = rendered
        gen.prompt_ids = [ord(c) for c in rendered]
        return gen

    async def stream(
        self, gen: GenInput, sampling: RequestSampling, index: int, cancel: threading.Event
    ) -> AsyncIterator[Piece]:
        self.calls += 1
        self.active += 1
        text = self.text[: sampling.max_tokens]
        finish = "stop" if len(text) == len(self.text) else "length"
        splitter = ReasoningSplitter(opened_in_prompt=gen.opens_think)
        finished = False
        try:
            for start in range(0, len(text), self.chunk_chars):
                if cancel.is_set():
                    return
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                delta = text[start : start + self.chunk_chars]
                if gen.endpoint == "chat":
                    reasoning, content = splitter.feed(delta)
                else:
                    reasoning, content = "", delta
                if reasoning or content:
                    yield Piece(reasoning=reasoning, content=content)
            reasoning, content = splitter.flush() if gen.endpoint == "chat" else ("", "")
            yield Piece(
                reasoning=reasoning,
                content=content,
                finish_reason=finish,
                prompt_tokens=len(gen.prompt_ids or ()),
                completion_tokens=len(text),
                raw_text=("<think>" if gen.opens_think else "") + text,
                think_closed=splitter.closed,
            )
            finished = True
        finally:
            self.active -= 1
            self.cancelled += not finished  # stopped early: cancelled or closed by the server

    async def healthy(self) -> bool:
        return True

    async def extra_metrics(self) -> str:
        return ""

    async def aclose(self) -> None:
        return None
