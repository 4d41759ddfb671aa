"""What the serve tests share: the chat they send, an `openai` client, a raw JSON POST and the
readers of a streamed reply. A plain module (tests/ is on sys.path under pytest), not conftest.py:
the parametrize tables need `USER` at import time, and a `conftest` module is not importable
reliably (tests/verl/ has its own)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai

from grpo_lead.serve.reasoning import message_reasoning

USER = [{"role": "user", "content": "What is 2+2?"}]


def openai_client(base: str, key: str = "none") -> openai.OpenAI:
    """The official client on a test server: no retries, so a 4xx or 5xx shows at once."""
    return openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=30)


def post_json(base: str, path: str, body: Any, **kw: Any) -> httpx.Response:
    """POST `body` (an object as JSON; bytes or str as they are, to send malformed bodies)."""
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    headers = {"content-type": "application/json", **kw.pop("headers", {})}
    return httpx.post(f"{base}{path}", content=content, headers=headers, timeout=30, **kw)


@dataclass
class Streamed:
    """A streamed chat reply put together: the deltas joined, and what the last chunks carry."""

    reasoning: str = ""
    content: str = ""
    finish_reason: str | None = None
    final_answer: str | None = None  # on the chunk that carries finish_reason
    usage: Any = None


def read_chat_stream(chunks: Iterable[Any]) -> Streamed:
    """Join the chunks of an `openai` chat stream."""
    out = Streamed()
    for chunk in chunks:
        out.usage = chunk.usage or out.usage
        for choice in chunk.choices:
            out.reasoning += message_reasoning(choice.delta) or ""
            out.content += choice.delta.content or ""
            if choice.finish_reason:
                out.finish_reason = choice.finish_reason
                out.final_answer = (choice.model_extra or {}).get("final_answer")
    return out


@contextlib.contextmanager
def sse_lines(base: str, body: dict[str, Any]) -> Iterator[Iterator[str]]:
    """The raw server-sent-event lines of a streamed chat completion, read as they come."""
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=10) as response:
        yield response.iter_lines()
