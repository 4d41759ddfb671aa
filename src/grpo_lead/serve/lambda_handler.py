"""AWS Lambda handler for the small (serverless) set-up: Bedrock Custom Model Import + DynamoDB.

The article's small size: the trained model imported into Amazon Bedrock (Custom Model Import),
a Lambda function in front of it, and a DynamoDB table keyed by a prompt hash with a TTL as
the response cache. The handler answers an OpenAI chat-completion request body:

1. validate (one-line 400s), clamp `max_tokens` to `MAX_TOKENS_CAP`;
2. deterministic requests (temperature 0 or a seed; `CACHE_SAMPLED=1` for all) look up
   `prompt_hash` = the same `cache_key` as `grpo-lead serve`; an item whose `expire_at` has
   passed is a miss even before DynamoDB's TTL sweep deletes it (that sweep can lag by days);
3. on a miss, `bedrock-runtime:InvokeModel` on the imported model in OpenAI chat format
   (models imported since November 2025 accept it; the older completion format, a `prompt`
   in and `generation` out, is used with `API_FORMAT=completion`);
4. the reply in OpenAI's shape, with the reasoning apart (`reasoning` and `reasoning_content`)
   and `final_answer` extracted as `check_answer` extracts it; stored with `expire_at`.

Stdlib + boto3 only (the Lambda runtime has boto3): Terraform zips this file with
`grpo_lead/answers/`, `grpo_lead/reasoning.py`, `serve/reasoning.py` and `serve/cache.py`,
nothing else.

Environment: `MODEL_ARN` (required), `CACHE_TABLE` (empty: no cache), `CACHE_TTL_SECONDS`
(86400), `MAX_TOKENS_CAP` (1024), `MAX_PROMPT_CHARS` (32000), `SERVED_MODEL_NAME`
(`grpo-lead`), `API_FORMAT` (`openai` | `completion`), `CACHE_SAMPLED` (`0`).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from grpo_lead.protocol import EVAL_TEMPERATURE
from grpo_lead.serve.cache import cache_key, is_cacheable
from grpo_lead.serve.reasoning import (
    THINK_CLOSE,
    THINK_OPEN,
    final_answer,
    split_reasoning,
    with_reasoning_fields,
)

logger = logging.getLogger()
logger.setLevel(logging.INFO)

MAX_ITEM_BYTES = 350_000  # DynamoDB items are limited to 400 KB
ROLES = {"system", "developer", "user", "assistant"}
SURROGATE = re.compile("[\ud800-\udfff]")
_clients: dict[str, Any] = {}


class HandlerError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.type = status, " ".join(message.split()), type_


@dataclass(frozen=True)
class Config:
    model_arn: str
    table: str
    ttl_s: int
    max_tokens_cap: int
    max_prompt_chars: int
    served_name: str
    api_format: str
    cache_sampled: bool

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        if not env.get("MODEL_ARN"):
            raise HandlerError(500, "MODEL_ARN is not set", "server_error")
        return cls(
            model_arn=env["MODEL_ARN"],
            table=env.get("CACHE_TABLE", ""),
            ttl_s=int(env.get("CACHE_TTL_SECONDS", "86400")),
            max_tokens_cap=int(env.get("MAX_TOKENS_CAP", "1024")),
            max_prompt_chars=int(env.get("MAX_PROMPT_CHARS", "32000")),
            served_name=env.get("SERVED_MODEL_NAME", "grpo-lead"),
            api_format=env.get("API_FORMAT", "openai"),
            cache_sampled=env.get("CACHE_SAMPLED", "0") == "1",
        )


def _client(name: str):
    if name not in _clients:  # created once per container, reused across invocations
        import boto3

        _clients[name] = boto3.client(name)
    return _clients[name]


def parse_body(event: dict[str, Any]) -> dict[str, Any]:
    """The request: a Function URL / API Gateway event's body, or the event itself."""
    if "body" not in event:
        return event
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, RecursionError):
        raise HandlerError(400, "malformed JSON body") from None
    if not isinstance(payload, dict):
        raise HandlerError(400, "the request body must be a JSON object")
    return payload


def validate(payload: dict[str, Any], config: Config) -> tuple[list[dict[str, str]], dict]:
    """(messages, sampling) of a chat request; HandlerError 400/404 on bad input."""
    if payload.get("model") not in (None, config.served_name):
        raise HandlerError(404, f"the model {payload.get('model')!r} does not exist here")
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise HandlerError(400, "messages: a non-empty list is required")
    clean = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise HandlerError(400, f"messages: each needs a role in {sorted(ROLES)}")
        if not isinstance(m.get("content"), str):
            raise HandlerError(400, "messages: content must be a string")
        if SURROGATE.search(m["content"]):  # valid JSON (`"\\ud800"`), not valid Unicode
            raise HandlerError(400, f"messages.{i}.content: a lone UTF-16 surrogate is not valid")
        clean.append({"role": m["role"], "content": m["content"]})
    if sum(len(m["content"]) for m in clean) > config.max_prompt_chars:
        raise HandlerError(400, f"the prompt is over {config.max_prompt_chars} characters")
    return clean, _sampling(payload, config)


def _number(payload, name, kind, low, high, default):
    value = payload.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise HandlerError(400, f"{name}: must be a number")
    if not low <= value <= high:
        raise HandlerError(400, f"{name}: must be between {low} and {high}")
    return kind(value)


def _sampling(payload: dict[str, Any], config: Config) -> dict[str, Any]:
    cap = config.max_tokens_cap
    max_tokens = _number(payload, "max_tokens", int, 1, 10**9, cap)
    sampling = {
        "max_tokens": min(max_tokens, cap),
        "temperature": _number(payload, "temperature", float, 0.0, 2.0, EVAL_TEMPERATURE),
        "top_p": _number(payload, "top_p", float, 1e-6, 1.0, 1.0),
        "seed": _number(payload, "seed", int, -(2**63), 2**63 - 1, None),
    }
    stop = payload.get("stop")
    if stop is not None:
        stops = [stop] if isinstance(stop, str) else stop
        if (
            not isinstance(stops, list)
            or len(stops) > 4
            or not all(isinstance(s, str) for s in stops)
        ):
            raise HandlerError(400, "stop: up to 4 strings")
        sampling["stop"] = stops
    return sampling


def bedrock_request(messages, sampling, config: Config) -> dict[str, Any]:
    body = {k: v for k, v in sampling.items() if v is not None}
    if config.api_format == "completion":  # BedrockCompletion: a prompt string in
        body = {k: v for k, v in body.items() if k != "seed"}
        body["prompt"] = "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:"
        return body
    return body | {"messages": messages}


def bedrock_text(response: dict[str, Any]) -> tuple[str, str, dict[str, int]]:
    """(raw text, finish reason, usage) from an imported model's reply in either format."""
    if response.get("choices"):
        choice = response["choices"][0]
        message = choice.get("message") or {}
        text = message.get("content") or choice.get("text") or ""
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if reasoning:
            text = f"{THINK_OPEN}{reasoning}{THINK_CLOSE}{text}"
        return text, choice.get("finish_reason") or "stop", response.get("usage") or {}
    if "generation" in response:
        usage = {
            "prompt_tokens": response.get("prompt_token_count", 0),
            "completion_tokens": response.get("generation_token_count", 0),
        }
        return response["generation"], response.get("stop_reason") or "stop", usage
    raise HandlerError(
        502, "the model's reply has neither choices nor generation", "upstream_error"
    )


def build_response(text: str, finish: str, usage: dict[str, int], config: Config) -> dict:
    # R1-style chat templates open <think> in the prompt: a closing tag with no opening one.
    opened = THINK_CLOSE in text and THINK_OPEN not in text
    reasoning, content = split_reasoning(text, opened_in_prompt=opened)
    message = with_reasoning_fields({"role": "assistant", "content": content}, reasoning)
    prompt, completion = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
    return {
        "object": "chat.completion",
        "model": config.served_name,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish,
                "logprobs": None,
                "final_answer": final_answer(text, opened_in_prompt=opened),
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def cache_get(dynamodb, table: str, key: str, now: float) -> dict | None:
    item = dynamodb.get_item(TableName=table, Key={"prompt_hash": {"S": key}}).get("Item")
    if item is None or float(item["expire_at"]["N"]) <= now:
        return None  # expired items can outlive their TTL until DynamoDB's sweep
    return json.loads(item["response"]["S"])


def cache_put(dynamodb, table: str, key: str, body: dict, now: float, ttl_s: int) -> None:
    value = json.dumps(body)
    if len(value) > MAX_ITEM_BYTES:
        return
    item = {
        "prompt_hash": {"S": key},
        "response": {"S": value},
        "expire_at": {"N": str(int(now + ttl_s))},
    }
    dynamodb.put_item(TableName=table, Item=item)


def _reply(status: int, body: dict, cache: str) -> dict[str, Any]:
    headers = {"content-type": "application/json", "x-cache": cache}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def handle(event, config: Config, dynamodb, bedrock, now: float) -> tuple[int, dict, str]:
    """(status, body, cache state) for one event."""
    messages, sampling = validate(parse_body(event), config)
    key, cache = None, "off"
    if config.table:
        cacheable = is_cacheable(
            temperature=sampling["temperature"],
            seed=sampling["seed"],
            allow_sampled=config.cache_sampled,
        )
        cache = "bypass"
        if cacheable:
            key = cache_key(
                model=config.model_arn, endpoint="chat", inputs=messages, sampling=sampling
            )
            try:
                cached = cache_get(dynamodb, config.table, key, now)
            except Exception as exc:  # the cache failing never fails the request
                logger.warning("cache get failed: %s", exc)
                cached, cache = None, "error"
            else:
                cache = "miss" if cached is None else "hit"
            if cached is not None:
                return 200, cached, cache
    body = invoke(bedrock, messages, sampling, config)
    if key is not None:
        try:
            cache_put(dynamodb, config.table, key, body, now, config.ttl_s)
        except Exception as exc:
            logger.warning("cache put failed: %s", exc)
    return 200, body, cache


def invoke(bedrock, messages, sampling, config: Config) -> dict:
    from botocore.exceptions import ClientError

    request = bedrock_request(messages, sampling, config)
    try:
        response = bedrock.invoke_model(
            modelId=config.model_arn,
            body=json.dumps(request),
            contentType="application/json",
            accept="application/json",
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = 429 if code in ("ThrottlingException", "ModelNotReadyException") else 502
        raise HandlerError(status, f"bedrock: {code or exc}", "upstream_error") from None
    text, finish, usage = bedrock_text(json.loads(response["body"].read()))
    return build_response(text, finish, usage, config)


def handler(event, context=None, *, dynamodb=None, bedrock=None, env=None, now=None):
    """The Lambda entry point (`grpo_lead.serve.lambda_handler.handler`)."""
    t0 = time.perf_counter()
    status, cache, usage = 500, "off", {}
    try:
        config = Config.from_env(env)
        dynamodb = dynamodb or (_client("dynamodb") if config.table else None)
        bedrock = bedrock or _client("bedrock-runtime")
        status, body, cache = handle(event, config, dynamodb, bedrock, now or time.time())
        usage = body.get("usage", {})
        body = body | {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time())}
    except HandlerError as exc:
        status = exc.status
        body = {"error": {"message": exc.message, "type": exc.type, "param": None, "code": None}}
    except Exception:
        logger.exception("request failed")
        body = {"error": {"message": "internal error", "type": "server_error"}}
    logger.info(
        json.dumps(
            {
                "status": status,
                "latency_ms": round((time.perf_counter() - t0) * 1000, 1),
                "prompt_tokens": usage.get("prompt_tokens", 0),
                "completion_tokens": usage.get("completion_tokens", 0),
                "cache": cache,
            }
        )
    )
    return _reply(status, body, cache)
