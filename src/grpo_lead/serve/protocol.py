"""The OpenAI wire format: the request shapes we accept, the response and stream shapes we send,
the effective sampling parameters, and API errors.

Requests. Validation is strict where a wrong value would waste compute or hide a client bug (negative
`max_tokens`, no messages, `n` over the cap) and lenient where OpenAI clients send fields we do
not use (unknown fields are ignored). Types are strict, as OpenAI's are (pydantic's strict mode):
a boolean is not a number (`"max_tokens": true`) and a string is neither (`"n": "2"`); an integer
is a number (`"temperature": 1`). Every rejection is an `APIError`: an HTTP status and a
one-line message, in OpenAI's error body (`{"error": {"message", "type", "param", "code"}}`).

Responses. A choice is accumulated from the engine's `Piece`s (`ChoiceState`); a whole response
is `envelope() | {"choices", "usage"}` (`response_body`); a stream is the role chunk, one chunk per
piece and a last chunk with `finish_reason` and `final_answer` (`stream_chunks`), each as an SSE
`data:` line (`sse`), then `data: [DONE]`. Besides OpenAI's fields, a chat message carries the
`<think>` text as `reasoning` and `reasoning_content`, and each choice its `final_answer`.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from grpo_lead.serve.reasoning import final_answer, with_reasoning_fields

MAX_STOP_SEQUENCES = 4
MAX_STOP_CHARS = 64


@dataclass
class Piece:
    """A streamed delta from an engine (engines.py); the last piece of a choice has `finish_reason` set."""

    reasoning: str = ""
    content: str = ""
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    raw_text: str | None = None  # last piece: the text to extract the final answer from
    think_closed: bool = True


class APIError(Exception):
    """An error answered to the client: status, one-line message, OpenAI error fields."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = " ".join(message.split())  # one line, whatever the cause said
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        """The message's text; content parts other than text are refused."""
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        parts = []
        for part in self.content:
            if part.type != "text" or part.text is None:
                raise APIError(400, f"content part of type {part.type!r} is not supported")
            parts.append(part.text)
        return "".join(parts)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    include_usage: bool = False


class _Common(BaseModel):
    """Fields shared by chat and text completions."""

    model_config = ConfigDict(extra="allow", strict=True)
    model: str | None = None
    max_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0, allow_inf_nan=False)
    top_p: float | None = Field(None, gt=0.0, le=1.0, allow_inf_nan=False)
    min_p: float | None = Field(None, ge=0.0, le=1.0, allow_inf_nan=False)
    top_k: int | None = Field(None, ge=-1)
    # torch.manual_seed's and vLLM's range (a signed 64-bit integer)
    seed: int | None = Field(None, ge=-(2**63), le=2**63 - 1)
    stop: str | list[str] | None = None
    n: int = Field(1, ge=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    logprobs: bool | int | None = None

    @field_validator("stop")
    @classmethod
    def _bounded_stop(cls, value):
        stops = [value] if isinstance(value, str) else list(value or [])
        if len(stops) > MAX_STOP_SEQUENCES:
            raise ValueError(f"at most {MAX_STOP_SEQUENCES} stop sequences")
        if any(not s or len(s) > MAX_STOP_CHARS for s in stops):
            raise ValueError(f"stop sequences must have 1 to {MAX_STOP_CHARS} characters")
        return value

    def stop_list(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)


class ChatRequest(_Common):
    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    chat_template_kwargs: dict[str, Any] | None = None
    tools: list[Any] | None = None

    def requested_max_tokens(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    def plain_messages(self) -> list[dict[str, str]]:
        return [{"role": m.role, "content": m.text()} for m in self.messages]


class CompletionRequest(_Common):
    prompt: str | list[str]
    echo: bool = False

    def requested_max_tokens(self) -> int | None:
        return self.max_tokens

    def prompt_text(self) -> str:
        if isinstance(self.prompt, str):
            return self.prompt
        if len(self.prompt) != 1:
            raise APIError(400, "prompt: give one string (batches of prompts are not supported)")
        return self.prompt[0]


def parse_request(cls: type[_Common], payload: Any) -> _Common:
    """Validate a decoded JSON body; the first problem becomes a one-line 400."""
    if not isinstance(payload, dict):
        raise APIError(400, "the request body must be a JSON object")
    try:
        request = cls.model_validate(payload)
    except ValidationError as exc:
        raise APIError(400, _one_line(exc), param=_first_loc(exc)) from None
    if request.logprobs:
        raise APIError(400, "logprobs are not supported by this server", param="logprobs")
    if getattr(request, "tools", None):
        raise APIError(400, "tools are not supported by this server", param="tools")
    if getattr(request, "echo", False):
        raise APIError(400, "echo is not supported by this server", param="echo")
    return request


_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
SURROGATE_SEARCH_NODES = 10_000  # past them, the error names the body, not the field


def check_unicode(body: bytes, payload: Any) -> None:
    """Refuse a decoded JSON body that holds a lone UTF-16 surrogate (400 naming the field).

    JSON may escape one (`"\\ud800"`): valid JSON, not valid Unicode, and no tokenizer or
    UTF-8 encoder takes it. Cheap for every body: without a `\\uD8..`-`\\uDF..` escape in the
    raw bytes there is none; with one (clients that escape emoji send valid pairs), one
    C-speed encode of the payload decides; only a body that does hold one is searched, for at
    most SURROGATE_SEARCH_NODES values."""
    if not _ESCAPED_SURROGATE.search(body):
        return
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return
    except UnicodeEncodeError:
        pass
    where = lone_surrogate_at(payload) or "body"
    raise APIError(
        400,
        f"{where}: a lone UTF-16 surrogate (an escape such as \\ud800 without its pair) "
        "is not valid Unicode",
        param=where,
    )


def lone_surrogate_at(payload: Any, max_nodes: int = SURROGATE_SEARCH_NODES) -> str | None:
    """The path (`messages.0.content`) of a string or key in a decoded JSON body that holds a
    lone surrogate; None if there is none among the first `max_nodes` values searched."""
    stack: list[tuple[tuple, Any]] = [((), payload)]
    while stack and max_nodes > 0:
        path, value = stack.pop()
        max_nodes -= 1
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return ".".join(map(str, path)) or "body"
        elif isinstance(value, dict):
            for key, item in value.items():
                if _SURROGATE.search(key):
                    return ".".join(map(str, (*path, key)))
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in enumerate(value))
    return None


def _first_loc(exc: ValidationError) -> str | None:
    errors = exc.errors()
    return ".".join(str(p) for p in errors[0]["loc"]) if errors else None


def _one_line(exc: ValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"]) or "body"
    message = first["msg"]
    if first["type"] == "missing":
        return f"{loc}: field required"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{loc}: {message}{more}"


@dataclass(frozen=True)
class RequestSampling:
    """The effective sampling parameters of one request (after defaults and caps)."""

    max_tokens: int
    temperature: float
    top_p: float
    min_p: float
    top_k: int
    seed: int | None
    stop: tuple[str, ...]
    n: int

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["stop"] = list(self.stop)
        return out


def resolve_sampling(
    request: _Common, *, defaults: dict[str, Any], max_tokens_cap: int, max_n: int
) -> RequestSampling:
    """Request values, else the model's generation defaults, else neutral values; `max_tokens`
    is clamped to the server's cap (and defaults to it)."""
    if request.n > max_n:
        raise APIError(400, f"n: at most {max_n} choices a request on this server", param="n")

    def pick(name: str, neutral: Any) -> Any:
        value = getattr(request, name)
        if value is None:
            value = defaults.get(name)
        return neutral if value is None else value

    requested = request.requested_max_tokens()
    return RequestSampling(
        max_tokens=min(requested or max_tokens_cap, max_tokens_cap),
        temperature=float(pick("temperature", 1.0)),
        top_p=float(pick("top_p", 1.0)),
        min_p=float(pick("min_p", 0.0)),
        top_k=int(pick("top_k", -1)),
        seed=request.seed,
        stop=request.stop_list(),
        n=request.n,
    )


# -- responses -----------------------------------------------------------------------------------

SSE_DONE = "data: [DONE]\n\n"


def sse(obj: Any) -> str:
    """One server-sent event carrying `obj` as compact JSON."""
    return f"data: {json.dumps(obj, ensure_ascii=False, separators=(',', ':'))}\n\n"


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def envelope(endpoint: str, model: str, *, chunk: bool = False) -> dict[str, Any]:
    """The fields around the choices: a fresh id, the object type, the time and the model."""
    prefix, obj = ("chatcmpl", "chat.completion") if endpoint == "chat" else ("cmpl", None)
    if obj is None:
        obj = "text_completion"
    elif chunk:
        obj += ".chunk"
    return {
        "id": f"{prefix}-{uuid.uuid4().hex}",
        "object": obj,
        "created": int(time.time()),
        "model": model,
    }


@dataclass
class ChoiceState:
    """One choice accumulated from its pieces."""

    index: int
    reasoning: list[str] = field(default_factory=list)
    content: list[str] = field(default_factory=list)
    saw_reasoning: bool = False
    finish_reason: str | None = None
    completion_tokens: int = 0
    prompt_tokens: int = 0
    answer: str | None = None

    def add(self, piece: Piece) -> None:
        if piece.reasoning:
            self.saw_reasoning = True
            self.reasoning.append(piece.reasoning)
        if piece.content:
            self.content.append(piece.content)
        if piece.finish_reason is not None:
            self.finish_reason = piece.finish_reason
            self.completion_tokens = piece.completion_tokens
            self.prompt_tokens = piece.prompt_tokens
            self.answer = final_answer(piece.raw_text or "")

    @property
    def finished(self) -> bool:
        """Ended normally (stop or length), so the response may be cached."""
        return self.finish_reason in ("stop", "length")

    def chat_choice(self) -> dict[str, Any]:
        message = {"role": "assistant", "content": "".join(self.content)}
        with_reasoning_fields(message, "".join(self.reasoning) if self.saw_reasoning else None)
        return {
            "index": self.index,
            "message": message,
            "finish_reason": self.finish_reason,
            "logprobs": None,
            "final_answer": self.answer,
        }

    def text_choice(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "text": "".join(self.content),
            "finish_reason": self.finish_reason,
            "logprobs": None,
            "final_answer": self.answer,
        }


def response_body(endpoint: str, model: str, states: list[ChoiceState]) -> dict[str, Any]:
    """The whole (non-streamed) response for the accumulated choices."""
    prompt_tokens = states[0].prompt_tokens if states else 0
    completion_tokens = sum(s.completion_tokens for s in states)
    choices = [s.chat_choice() if endpoint == "chat" else s.text_choice() for s in states]
    return envelope(endpoint, model) | {
        "choices": choices,
        "usage": usage(prompt_tokens, completion_tokens),
    }


def model_entry(model: str, *, created: int, root: str, max_model_len: int | None) -> dict:
    """`GET /v1/models`: the one model served."""
    card = {
        "id": model,
        "object": "model",
        "created": created,
        "owned_by": "grpo-lead",
        "root": root,
        "max_model_len": max_model_len,
    }
    return {"object": "list", "data": [card]}


def role_chunk(base: dict[str, Any], index: int) -> dict[str, Any]:
    """The first chunk of a chat choice in a stream."""
    delta = {"role": "assistant", "content": ""}
    return base | {"choices": [{"index": index, "delta": delta, "finish_reason": None}]}


def stream_chunks(
    endpoint: str,
    base: dict[str, Any],
    index: int,
    *,
    reasoning: str = "",
    content: str = "",
    finish_reason: str | None = None,
    answer: str | None = None,
) -> list[dict[str, Any]]:
    """The stream chunks (dicts) for one delta of one choice; the last carries `finish_reason`
    and `answer`."""
    out = []
    if reasoning or content:
        if endpoint == "chat":
            delta = with_reasoning_fields({}, reasoning or None)
            if content:
                delta["content"] = content
            choice = {"index": index, "delta": delta, "finish_reason": None, "logprobs": None}
        else:
            choice = {"index": index, "text": content, "finish_reason": None, "logprobs": None}
        out.append(base | {"choices": [choice]})
    if finish_reason is not None:
        if endpoint == "chat":
            choice = {"index": index, "delta": {}, "finish_reason": finish_reason}
        else:
            choice = {"index": index, "text": "", "finish_reason": finish_reason}
        choice |= {"logprobs": None, "final_answer": answer}
        out.append(base | {"choices": [choice]})
    return out


def replay_chunks(endpoint: str, base: dict[str, Any], body: dict[str, Any]) -> list[dict]:
    """A cached (non-streamed) body as the chunks a stream would have sent."""
    out = []
    for choice in body["choices"]:
        index = choice["index"]
        end = {"finish_reason": choice["finish_reason"], "answer": choice.get("final_answer")}
        if endpoint == "chat":
            out.append(role_chunk(base, index))
            message = choice["message"]
            text = {
                "reasoning": message.get("reasoning") or "",
                "content": message.get("content") or "",
            }
        else:
            text = {"content": choice["text"]}
        out += stream_chunks(endpoint, base, index, **text, **end)
    return out
