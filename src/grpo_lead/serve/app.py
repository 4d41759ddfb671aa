"""The server's request handling: routes, API keys, limits, the cache, the access log.

Endpoints: `POST /v1/chat/completions`, `POST /v1/completions` (streamed or not),
`GET /v1/models`, `GET /health`, `GET /metrics` (Prometheus text). The response shapes are in
`protocol.py`, the engines in `engines.py` / `vllm.py`, the command line in `cli.py`.

A generation request goes through, in order:
1. API key (401);
2. the body, read up to `max_body_bytes` (413) within `body_timeout_s` (408): a client that
   sends its body slowly or not at all holds no slot;
3. the in-flight bound (429);
4. JSON (400), valid Unicode (400: no lone surrogate anywhere), validated (400, one line), the
   model name (404);
5. sampling: request values, else the model's generation defaults; `max_tokens` clamped to the
   server's cap and to the model's context;
6. a prompt longer than `prompt_char_limit` characters refused (400) before it is rendered or
   tokenized; then the prompt rendered and counted (400 past `max_prompt_tokens` or the
   model's context), one prompt at a time (`PREPARE_THREADS`);
7. the response cache (deterministic requests only, unless `cache_sampled`);
8. the engine, under the per-request timeout (504; in a stream, an error event);
9. the answer: reasoning under `reasoning` and `reasoning_content`, the rest as `content`,
   and `final_answer` on each choice (extracted as `check_answer` extracts it);
10. one access-log line and the metrics.
Bad input of any kind gets its 4xx and the server goes on; a client that leaves mid-stream
stops its generation at the next token.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from grpo_lead.serve import protocol as wire
from grpo_lead.serve.cache import ResponseCache, cache_key, is_cacheable
from grpo_lead.serve.engines import Engine, GenInput
from grpo_lead.serve.metrics import ServeMetrics
from grpo_lead.serve.protocol import (
    APIError,
    ChatRequest,
    ChoiceState,
    CompletionRequest,
    RequestSampling,
    check_unicode,
    parse_request,
    resolve_sampling,
)

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("grpo_lead.serve.access")

# The prompt's character bound, per token of the prompt's token limit. BPE tokenizers average
# about 4 characters a token on English and fewer on code or digits; 16 leaves room for runs of
# spaces or punctuation, which merge into long tokens. A prompt past it is refused before it is
# rendered or tokenized. (With 64, the old bound, 48 prompts of 524,288 characters from 8
# clients took the server on the tiny model from 384 MB to 1,794 MB and left it at 1,334 MB.)
CHARS_PER_TOKEN_BOUND = 16
PREPARE_THREADS = 1


@dataclass(frozen=True)
class ServeSettings:
    """Server-wide limits and switches (the `grpo-lead serve` flags)."""

    served_model_name: str
    max_tokens_cap: int = 2048
    max_prompt_tokens: int = 8192
    max_body_bytes: int = 2 * 1024 * 1024
    body_timeout_s: float = 30.0
    max_prompt_chars: int | None = None  # None: derived (`Server.prompt_char_limit`)
    request_timeout_s: float = 300.0
    max_in_flight: int = 32
    max_n: int = 8
    api_keys: frozenset[str] = frozenset()
    cache_ttl_s: float = 24 * 3600.0
    cache_sampled: bool = False
    model_aliases: tuple[str, ...] = ()
    # put first in a chat without a system (or developer) message; None: chats as sent
    system_prompt: str | None = None


def with_system_prompt(
    messages: list[dict[str, str]], system_prompt: str | None
) -> list[dict[str, str]]:
    """`messages` with `system_prompt` as a first system message where they have none. An empty
    one is an empty system message: a template that adds its own default (SmolLM2) adds none."""
    if system_prompt is None or (messages and messages[0]["role"] in ("system", "developer")):
        return messages
    return [{"role": "system", "content": system_prompt}, *messages]


@dataclass
class RequestLog:
    """What the access-log line and the metrics say about one request."""

    method: str
    path: str
    endpoint: str
    client: str
    t0: float = field(default_factory=time.perf_counter)
    status: int = 200
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache: str = "off"
    stream: bool = False
    engine_s: float = 0.0

    @classmethod
    def of(cls, request: Request, endpoint: str) -> RequestLog:
        client = request.client.host if request.client else "-"
        return cls(request.method, request.url.path, endpoint, client)


async def read_body(request: Request, limit: int, timeout_s: float) -> bytes:
    """The body, at most `limit` bytes (413 past it), all of it within `timeout_s` (408)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise APIError(413, f"request body over {limit} bytes", code="request_too_large")

    async def read() -> bytes:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise APIError(413, f"request body over {limit} bytes", code="request_too_large")
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        return await asyncio.wait_for(read(), timeout_s)
    except ClientDisconnect:  # nobody to answer: logged as 499
        raise APIError(499, "the client closed the connection while sending the body") from None
    except asyncio.TimeoutError:
        raise APIError(
            408,
            f"the request body did not arrive within {timeout_s:g} s",
            code="request_timeout",
            headers={"Connection": "close"},  # the rest of the body is not read
        ) from None


def decode_json(body: bytes) -> Any:
    """The body as JSON (400 if it is not, or if it is not UTF-8, or holds a lone surrogate)."""
    try:
        payload = json.loads(body.decode("utf-8"))  # strict: no encoded surrogates either
    except UnicodeDecodeError as exc:
        raise APIError(400, f"the body is not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise APIError(
            400, f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except (RecursionError, ValueError) as exc:
        raise APIError(400, f"malformed JSON: {type(exc).__name__}") from None
    check_unicode(body, payload)
    return payload


async def with_deadline(agen: AsyncIterator, deadline: float, timeout_s: float):
    """Iterate `agen` until `deadline` (monotonic); past it, APIError 504."""
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise APIError(
                    504, f"generation exceeded the {timeout_s:g} s timeout", type="timeout"
                )
            try:
                item = await asyncio.wait_for(agen.__anext__(), remaining)
            except StopAsyncIteration:
                return
            except asyncio.TimeoutError:
                raise APIError(
                    504, f"generation exceeded the {timeout_s:g} s timeout", type="timeout"
                ) from None
            yield item
    finally:
        await agen.aclose()


class Server:
    """Holds the engine, the cache, the limits and the metrics, and answers the routes; one per
    app (`create_app`)."""

    def __init__(
        self,
        engine: Engine,
        settings: ServeSettings,
        cache: ResponseCache | None = None,
        metrics: ServeMetrics | None = None,
    ):
        self.engine = engine
        self.settings = settings
        self.cache = cache
        self.metrics = metrics or ServeMetrics()
        self.in_flight = 0
        self.created = int(time.time())
        # Prompts are rendered and tokenized by PREPARE_THREADS threads, not asyncio's default
        # pool (up to 32): a burst of long prompts then holds that many in memory at once.
        self.prepare_pool = ThreadPoolExecutor(PREPARE_THREADS, thread_name_prefix="prepare")

    # -- limits ------------------------------------------------------------------------------

    def authorize(self, request: Request) -> None:
        keys = self.settings.api_keys
        if not keys:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        valid = scheme.lower() == "bearer" and any(
            hmac.compare_digest(token.encode(), key.encode()) for key in keys
        )
        if not valid:
            self.metrics.rejected.labels("auth").inc()
            raise APIError(
                401,
                "invalid or missing API key (send Authorization: Bearer <key>)",
                code="invalid_api_key",
            )

    def acquire(self) -> None:
        if self.in_flight >= self.settings.max_in_flight:
            self.metrics.rejected.labels("in_flight").inc()
            raise APIError(
                429,
                f"server busy: {self.settings.max_in_flight} requests in flight, retry later",
                type="rate_limit_error",
                headers={"Retry-After": "1"},
            )
        self.in_flight += 1
        self.metrics.in_flight.set(self.in_flight)

    def release(self) -> None:
        self.in_flight -= 1
        self.metrics.in_flight.set(self.in_flight)

    def check_model(self, name: str | None) -> None:
        known = (self.settings.served_model_name, *self.settings.model_aliases)
        if name is not None and name not in known:
            raise APIError(
                404,
                f"the model {name!r} does not exist here (GET /v1/models lists "
                f"{self.settings.served_model_name!r})",
                param="model",
                code="model_not_found",
            )

    def check_prompt(self, gen: GenInput, sampling: RequestSampling) -> RequestSampling:
        """Refuse a prompt over the token cap or the model's context; clamp `max_tokens` to the
        room the context leaves."""
        cap = self.settings.max_prompt_tokens
        n_prompt = len(gen.prompt_ids) if gen.prompt_ids is not None else 0
        if n_prompt > cap:
            raise APIError(
                400,
                f"the prompt has {n_prompt} tokens; this server accepts at most {cap}",
                code="context_length_exceeded",
            )
        room = self.engine.max_model_len
        if room and gen.prompt_ids is not None:
            left = room - n_prompt
            if left < 1:
                raise APIError(
                    400,
                    f"the prompt has {n_prompt} tokens; the model's context is {room}",
                    code="context_length_exceeded",
                )
            if sampling.max_tokens > left:
                sampling = replace(sampling, max_tokens=left)
        return sampling

    @property
    def prompt_tokens_limit(self) -> int:
        """Tokens of prompt accepted: the server's cap, or the model's context if smaller."""
        return min(self.settings.max_prompt_tokens, self.engine.max_model_len or 2**62)

    @property
    def prompt_char_limit(self) -> int:
        """Characters of prompt (the messages' text, or the prompt) accepted before tokenizing:
        `max_prompt_chars`, else CHARS_PER_TOKEN_BOUND per token of `prompt_tokens_limit`."""
        if self.settings.max_prompt_chars is not None:
            return self.settings.max_prompt_chars
        return CHARS_PER_TOKEN_BOUND * self.prompt_tokens_limit

    def check_prompt_chars(self, chars: int) -> None:
        limit = self.prompt_char_limit
        if chars > limit:
            raise APIError(
                400,
                f"the prompt has {chars} characters; this server accepts at most {limit} "
                f"(for at most {self.prompt_tokens_limit} tokens)",
                code="context_length_exceeded",
            )

    # -- cache -------------------------------------------------------------------------------

    def key_for(self, gen: GenInput, sampling: RequestSampling) -> str | None:
        if self.cache is None:
            return None
        if not is_cacheable(
            temperature=sampling.temperature,
            seed=sampling.seed,
            allow_sampled=self.settings.cache_sampled,
        ):
            return None
        return cache_key(
            model=f"{self.settings.served_model_name}@{self.engine.fingerprint}",
            endpoint=gen.endpoint,
            inputs=gen.messages if gen.endpoint == "chat" else gen.prompt,
            sampling=sampling.as_dict(),
            extra=gen.chat_template_kwargs or None,
        )

    async def cache_get(self, key: str | None, log: RequestLog) -> dict[str, Any] | None:
        if key is None:
            log.cache = "bypass" if self.cache is not None else "off"
            if self.cache is not None:
                self.metrics.cache.labels("bypass").inc()
            return None
        try:
            value = await asyncio.to_thread(self.cache.get, key)
        except Exception as exc:  # a broken cache is a miss, never a failed request
            logger.warning("cache get failed (%s): %s", self.cache.url, exc)
            self.metrics.cache.labels("error").inc()
            log.cache = "error"
            return None
        log.cache = "hit" if value is not None else "miss"
        self.metrics.cache.labels(log.cache).inc()
        return None if value is None else json.loads(value)

    async def cache_set(self, key: str | None, body: dict[str, Any]) -> None:
        if key is None:
            return
        stored = {k: v for k, v in body.items() if k not in ("id", "created")}
        try:
            await asyncio.to_thread(
                self.cache.set, key, json.dumps(stored), self.settings.cache_ttl_s
            )
        except Exception as exc:
            logger.warning("cache set failed (%s): %s", self.cache.url, exc)
            self.metrics.cache.labels("error").inc()

    # -- the access log ----------------------------------------------------------------------

    def access(self, log: RequestLog, *, status: int | None = None, level=logging.INFO) -> None:
        """One access-log line and the request's metrics."""
        if status is not None:
            log.status = status
        latency = time.perf_counter() - log.t0
        self.metrics.requests.labels(log.endpoint, str(log.status)).inc()
        if log.endpoint in ("chat", "completion"):
            self.metrics.latency.labels(log.endpoint, log.cache).observe(latency)
            if log.engine_s:
                self.metrics.engine_latency.labels(log.endpoint).observe(log.engine_s)
            self.metrics.tokens.labels("prompt").inc(log.prompt_tokens)
            self.metrics.tokens.labels("completion").inc(log.completion_tokens)
        access_logger.log(
            level,
            '%s "%s %s" %d %.1fms prompt=%d completion=%d cache=%s stream=%d',
            log.client,
            log.method,
            log.path,
            log.status,
            latency * 1000,
            log.prompt_tokens,
            log.completion_tokens,
            log.cache,
            int(log.stream),
        )

    def error(self, exc: APIError, log: RequestLog) -> JSONResponse:
        self.access(log, status=exc.status)
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    # -- the small endpoints -----------------------------------------------------------------

    async def models(self, request: Request):
        log = RequestLog.of(request, "models")
        try:
            self.authorize(request)
        except APIError as exc:
            return self.error(exc, log)
        self.access(log)
        return wire.model_entry(
            self.settings.served_model_name,
            created=self.created,
            root=self.engine.model,
            max_model_len=self.engine.max_model_len,
        )

    async def health(self, request: Request) -> JSONResponse:
        """503 when the engine is down; 200 otherwise, `"saturated"` while every slot is taken
        (new requests get 429; a liveness probe must not restart a busy server)."""
        ok = await self.engine.healthy()
        status = 200 if ok else 503
        self.access(RequestLog.of(request, "health"), status=status, level=logging.DEBUG)
        full = self.in_flight >= self.settings.max_in_flight
        body = {
            "status": "unavailable" if not ok else "saturated" if full else "ok",
            "engine": self.engine.name,
            "in_flight": self.in_flight,
            "max_in_flight": self.settings.max_in_flight,
        }
        return JSONResponse(body, status_code=status)

    async def metrics_text(self, request: Request) -> Response:
        text = self.metrics.render() + (await self.engine.extra_metrics()).encode()
        self.access(RequestLog.of(request, "metrics"), level=logging.DEBUG)
        return Response(text, media_type=self.metrics.content_type)

    # -- generation --------------------------------------------------------------------------

    async def generate(self, request: Request, endpoint: str):
        """The common path of both generation endpoints (see the module docstring)."""
        log = RequestLog.of(request, endpoint)
        settings = self.settings
        try:
            self.authorize(request)
            body = await read_body(request, settings.max_body_bytes, settings.body_timeout_s)
            self.acquire()
        except APIError as exc:
            if exc.status == 408:
                self.metrics.rejected.labels("body_timeout").inc()
            return self.error(exc, log)
        handed_off = False
        try:
            req, gen, sampling = await self.prepare(body, endpoint)
            del body  # up to max_body_bytes: not held while the engine generates
            log.stream = req.stream
            log.prompt_tokens = len(gen.prompt_ids or ())
            key = self.key_for(gen, sampling)
            cached = await self.cache_get(key, log)
            if req.stream:
                include_usage = bool(req.stream_options and req.stream_options.include_usage)
                events = self.stream(gen, sampling, key, cached, include_usage, log)
                handed_off = True  # the stream releases the slot and logs when it ends
                headers = {"X-Cache": log.cache, "Cache-Control": "no-cache"}
                return StreamingResponse(events, media_type="text/event-stream", headers=headers)
            return await self.respond(gen, sampling, key, cached, log)
        except APIError as exc:
            return self.error(exc, log)
        except Exception:
            logger.exception("request failed")
            return self.error(APIError(500, "internal error (see the server log)"), log)
        finally:
            if not handed_off:
                self.release()

    async def prepare(self, body: bytes, endpoint: str):
        """(request, rendered and counted input, effective sampling); raises APIError."""
        settings = self.settings
        cls = ChatRequest if endpoint == "chat" else CompletionRequest
        req = parse_request(cls, decode_json(body))
        self.check_model(req.model)
        sampling = resolve_sampling(
            req,
            defaults=self.engine.defaults,
            max_tokens_cap=settings.max_tokens_cap,
            max_n=settings.max_n,
        )
        if endpoint == "chat":
            messages = with_system_prompt(req.plain_messages(), settings.system_prompt)
            self.check_prompt_chars(sum(len(m["content"]) for m in messages))
            gen = GenInput(
                "chat", messages=messages, chat_template_kwargs=req.chat_template_kwargs or {}
            )
        else:
            prompt = req.prompt_text()
            self.check_prompt_chars(len(prompt))
            gen = GenInput("completion", prompt=prompt)
        loop = asyncio.get_running_loop()
        gen = await loop.run_in_executor(self.prepare_pool, self.engine.prepare, gen)
        return req, gen, self.check_prompt(gen, sampling)

    async def choices(
        self, gen: GenInput, sampling: RequestSampling, cancel: threading.Event, log: RequestLog
    ):
        """(index, piece) for every choice in turn, under the request's deadline."""

        async def all_choices():
            for index in range(sampling.n):
                async for piece in self.engine.stream(gen, sampling, index, cancel):
                    yield index, piece

        timeout = self.settings.request_timeout_s
        deadline = time.monotonic() + timeout
        t0 = time.perf_counter()
        try:
            async for item in with_deadline(all_choices(), deadline, timeout):
                yield item
        finally:
            cancel.set()
            log.engine_s = time.perf_counter() - t0

    async def complete(
        self, gen: GenInput, sampling: RequestSampling, log: RequestLog
    ) -> tuple[dict[str, Any], bool]:
        """(response body, every choice finished normally)."""
        states = [ChoiceState(i) for i in range(sampling.n)]
        async for index, piece in self.choices(gen, sampling, threading.Event(), log):
            states[index].add(piece)
        body = wire.response_body(gen.endpoint, self.settings.served_model_name, states)
        return body, all(s.finished for s in states)

    async def respond(self, gen, sampling, key, cached, log: RequestLog) -> JSONResponse:
        """A non-streamed response: from the cache, or generated (and then cached)."""
        if cached is not None:
            body = wire.envelope(gen.endpoint, self.settings.served_model_name) | cached
        else:
            body, complete = await self.complete(gen, sampling, log)
            if complete:
                await self.cache_set(key, body)
        log.completion_tokens = body["usage"]["completion_tokens"]
        log.prompt_tokens = body["usage"]["prompt_tokens"]
        self.access(log)
        total_ms = (time.perf_counter() - log.t0) * 1000
        headers = {
            "X-Cache": log.cache,
            "Server-Timing": f"engine;dur={log.engine_s * 1000:.2f}, total;dur={total_ms:.2f}",
        }
        return JSONResponse(body, headers=headers)

    async def stream(self, gen, sampling, key, cached, include_usage, log: RequestLog):
        """SSE events of a streamed response; owns the in-flight slot until it ends."""
        base = wire.envelope(gen.endpoint, self.settings.served_model_name, chunk=True)
        try:
            if cached is not None:
                for chunk in wire.replay_chunks(gen.endpoint, base, cached):
                    yield wire.sse(chunk)
                usage = cached["usage"]
            else:
                usage = {}
                async for event in self.stream_miss(gen, sampling, key, base, log, usage):
                    yield event
            if usage:
                log.prompt_tokens = usage["prompt_tokens"]
                log.completion_tokens = usage["completion_tokens"]
                if include_usage:
                    yield wire.sse(base | {"choices": [], "usage": usage})
            yield wire.SSE_DONE
        except APIError as exc:
            log.status = exc.status
            yield wire.sse(exc.body())
            yield wire.SSE_DONE
        except (asyncio.CancelledError, GeneratorExit):
            log.status = 499  # the client went away: its generation was stopped
            raise
        except Exception:
            logger.exception("stream failed")
            log.status = 500
            yield wire.sse(APIError(500, "internal error (see the server log)").body())
            yield wire.SSE_DONE
        finally:
            self.release()
            self.access(log)

    async def stream_miss(self, gen, sampling, key, base, log: RequestLog, usage: dict):
        """The events of a generated stream; fills `usage` and caches the body at the end."""
        states = [ChoiceState(i) for i in range(sampling.n)]
        started: set[int] = set()
        async for index, piece in self.choices(gen, sampling, threading.Event(), log):
            if gen.endpoint == "chat" and index not in started:
                started.add(index)
                yield wire.sse(wire.role_chunk(base, index))
            state = states[index]
            state.add(piece)
            for chunk in wire.stream_chunks(
                gen.endpoint,
                base,
                index,
                reasoning=piece.reasoning,
                content=piece.content,
                finish_reason=piece.finish_reason,
                answer=state.answer,
            ):
                yield wire.sse(chunk)
        body = wire.response_body(gen.endpoint, self.settings.served_model_name, states)
        if all(s.finished for s in states):
            await self.cache_set(key, body)
        usage.update(body["usage"])


def create_app(
    engine: Engine,
    settings: ServeSettings,
    cache: ResponseCache | None = None,
    metrics: ServeMetrics | None = None,
) -> FastAPI:
    """The FastAPI app; the server object is `app.state.server`."""
    server = Server(engine, settings, cache, metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await engine.aclose()
        server.prepare_pool.shutdown(wait=False, cancel_futures=True)
        if cache is not None:
            cache.close()

    app = FastAPI(title="grpo-lead serve", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.server = server

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        error = APIError(exc.status_code, str(exc.detail), code="not_found")
        server.access(RequestLog.of(request, "other"), status=exc.status_code)
        return JSONResponse(error.body(), status_code=exc.status_code)

    async def chat_completions(request: Request):
        return await server.generate(request, "chat")

    async def completions(request: Request):
        return await server.generate(request, "completion")

    app.add_api_route("/v1/chat/completions", chat_completions, methods=["POST"])
    app.add_api_route("/v1/completions", completions, methods=["POST"])
    app.add_api_route("/v1/models", server.models, methods=["GET"])
    app.add_api_route("/health", server.health, methods=["GET"])
    app.add_api_route("/metrics", server.metrics_text, methods=["GET"])
    return app
