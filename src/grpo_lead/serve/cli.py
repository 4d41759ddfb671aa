"""`grpo-lead serve`: the command line. Builds the engine, the cache and the app, runs uvicorn.

    grpo-lead serve --model outputs/export/lead [--host 127.0.0.1] [--port 8000]

Flags, engines and limits: docs/serving.md.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from grpo_lead.threads import THREADS_HELP, threads_arg

logger = logging.getLogger(__name__)

__all__ = ["build_parser", "serve_main"]


def build_parser() -> argparse.ArgumentParser:
    from grpo_lead.cli import OneLineUsage

    class Parser(OneLineUsage, argparse.ArgumentParser):
        pass

    p = Parser(
        prog="grpo-lead serve",
        description="Serve a model over the OpenAI API (chat/completions, completions, models, "
        "health, metrics).",
    )
    p.add_argument("--model", required=True, help="exported model folder, checkpoint or hub id")
    p.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (loopback only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--served-model-name", help="name clients pass as `model` (default: folder)")
    p.add_argument(
        "--engine",
        choices=("auto", "transformers", "vllm"),
        default="auto",
        help="auto: vllm on a GPU with vLLM installed, else transformers (CPU)",
    )
    p.add_argument("--upstream", help="vllm engine: proxy to this running vLLM server URL")
    p.add_argument("--upstream-api-key", default=os.environ.get("GRPO_LEAD_UPSTREAM_API_KEY"))
    p.add_argument("--device", default="cpu", help="transformers engine device (default cpu)")
    p.add_argument("--dtype", default="auto", help="transformers engine dtype (default auto)")
    p.add_argument(
        "--system-prompt",
        help="put this system message first in chat requests that have none. Default: requests "
        "as sent, and a chat template may add its own (SmolLM2's: 'You are a helpful AI "
        "assistant named SmolLM...'; logged at start); '' = an empty system message, which "
        "replaces such a default",
    )
    p.add_argument("--threads", type=threads_arg, help=f"transformers engine: {THREADS_HELP}")
    _add_vllm(p.add_argument_group("vLLM child process"))
    _add_cache(p.add_argument_group("response cache"))
    _add_limits(p.add_argument_group("limits"))
    p.add_argument(
        "--api-key-file",
        help="one key a line; keys also come from $GRPO_LEAD_API_KEYS (comma-separated). "
        "Without any key the server is open.",
    )
    return p


def _add_vllm(g) -> None:
    g.add_argument("--vllm-port", type=int, default=0, help="loopback port (default: free port)")
    g.add_argument("--reasoning-parser", default="deepseek_r1", help="'' to switch it off")
    g.add_argument("--max-model-len", type=int)
    g.add_argument("--gpu-memory-utilization", type=float)
    g.add_argument("--tensor-parallel-size", type=int, default=1)
    g.add_argument("--startup-timeout", type=float, default=1800.0, help="seconds (default 1800)")
    g.add_argument("--vllm-arg", action="append", default=[], help="extra `vllm serve` argument")


def _add_cache(c) -> None:
    c.add_argument(
        "--cache",
        default=os.environ.get("GRPO_LEAD_CACHE_URL"),
        help="sqlite:///PATH (default ~/.cache/grpo-lead/responses.sqlite), redis://HOST:PORT/DB "
        "(rediss:// for TLS) for several replicas, or none; default from $GRPO_LEAD_CACHE_URL "
        "(keeps a Redis password out of the command line)",
    )
    c.add_argument("--cache-ttl", type=float, default=86400.0, help="seconds (default 1 day)")
    c.add_argument(
        "--cache-sampled",
        action="store_true",
        help="also cache sampled requests (temperature > 0 without a seed)",
    )


def _add_limits(lim) -> None:
    lim.add_argument("--max-tokens-cap", type=int, default=2048, help="max_tokens is clamped to it")
    lim.add_argument("--max-prompt-tokens", type=int, default=8192)
    lim.add_argument(
        "--max-prompt-chars",
        type=int,
        help="characters of prompt (the messages' text, or the prompt) past which a request is refused (400) "
        "before rendering or tokenizing (default: 16 x the smaller of --max-prompt-tokens and "
        "the model's context)",
    )
    lim.add_argument("--max-body-bytes", type=int, default=2 * 1024 * 1024)
    lim.add_argument(
        "--body-timeout", type=float, default=30.0, help="seconds to send the body (408 past it)"
    )
    lim.add_argument("--request-timeout", type=float, default=300.0, help="seconds a request")
    lim.add_argument("--max-in-flight", type=int, default=32, help="429 past it")
    lim.add_argument(
        "--max-connections",
        type=int,
        help="connections and requests at once (uvicorn's limit_concurrency; 503 past it); "
        "default 8 x --max-in-flight",
    )
    lim.add_argument("--max-n", type=int, default=8, help="choices a request")


def read_api_keys(path: str | None, env: str | None) -> frozenset[str]:
    """The keys of $GRPO_LEAD_API_KEYS and of --api-key-file. A key file that cannot be read or
    holds no key is a ValueError: it was meant to close the server, and would leave it open."""
    keys = [k.strip() for k in (env or "").split(",")]
    if path:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or type(exc).__name__
            raise ValueError(f"--api-key-file {path}: cannot read it ({why})") from None
        from_file = [k for k in (line.strip() for line in lines) if k and not k.startswith("#")]
        if not from_file:
            raise ValueError(
                f"--api-key-file {path} holds no key (one a line): the server would be open"
            )
        keys += from_file
    return frozenset(k for k in keys if k and not k.startswith("#"))


def choose_engine(name: str, upstream: str | None) -> str:
    if name != "auto":
        return name
    if upstream:
        return "vllm"
    from grpo_lead.serve.vllm import vllm_available

    return "vllm" if vllm_available() else "transformers"


def build_engine(args: argparse.Namespace, served_name: str):
    """The engine the flags ask for; starts vLLM as a child process when needed."""
    kind = choose_engine(args.engine, args.upstream)
    if kind == "transformers":
        from grpo_lead.serve.engines import TransformersEngine
        from grpo_lead.threads import set_torch_threads

        set_torch_threads(args.threads)

        return TransformersEngine(args.model, dtype=args.dtype, device=args.device)
    from grpo_lead.serve.vllm import (
        VLLMEngine,
        free_port,
        launch_vllm,
        vllm_available,
        vllm_command,
    )

    if args.upstream:
        return VLLMEngine(
            args.model,
            upstream=args.upstream,
            upstream_model=served_name,
            upstream_api_key=args.upstream_api_key,
        )
    if not vllm_available():
        raise SystemExit(
            'error: --engine vllm needs vLLM and a CUDA GPU (pip install -e ".[vllm]"), '
            "or --upstream URL of a running vLLM server"
        )
    port = args.vllm_port or free_port()
    cmd = vllm_command(
        args.model,
        port=port,
        served_model_name=served_name,
        reasoning_parser=args.reasoning_parser or None,
        max_model_len=args.max_model_len,
        gpu_memory_utilization=args.gpu_memory_utilization,
        tensor_parallel_size=args.tensor_parallel_size,
        extra_args=args.vllm_arg,
    )
    url = f"http://127.0.0.1:{port}"
    proc = launch_vllm(cmd, url=url, startup_timeout_s=args.startup_timeout)
    return VLLMEngine(args.model, upstream=url, upstream_model=served_name, process=proc)


def settings_from(args: argparse.Namespace, served_name: str):
    from grpo_lead.serve.app import ServeSettings

    return ServeSettings(
        served_model_name=served_name,
        max_tokens_cap=args.max_tokens_cap,
        max_prompt_tokens=args.max_prompt_tokens,
        max_body_bytes=args.max_body_bytes,
        body_timeout_s=args.body_timeout,
        max_prompt_chars=args.max_prompt_chars,
        request_timeout_s=args.request_timeout,
        max_in_flight=args.max_in_flight,
        max_n=args.max_n,
        api_keys=read_api_keys(args.api_key_file, os.environ.get("GRPO_LEAD_API_KEYS")),
        cache_ttl_s=args.cache_ttl,
        cache_sampled=args.cache_sampled,
        model_aliases=(args.model,),
        system_prompt=args.system_prompt,
    )


def check_limits(args: argparse.Namespace) -> str | None:
    """What is wrong with the limit flags (one line), or None."""
    for name, value in (
        ("--max-tokens-cap", args.max_tokens_cap),
        ("--max-prompt-tokens", args.max_prompt_tokens),
        ("--max-prompt-chars", args.max_prompt_chars),
        ("--max-body-bytes", args.max_body_bytes),
        ("--max-in-flight", args.max_in_flight),
        ("--max-connections", args.max_connections),
        ("--max-n", args.max_n),
    ):
        if value is not None and value < 1:
            return f"{name} must be >= 1"
    for name, value in (
        ("--body-timeout", args.body_timeout),
        ("--request-timeout", args.request_timeout),
    ):
        if not 0 < value < float("inf"):
            return f"{name} must be a number of seconds > 0"
    if args.max_connections is not None and args.max_connections <= args.max_in_flight:
        return "--max-connections must be above --max-in-flight (it counts every connection)"
    return None


def check_port(host: str, port: int) -> str | None:
    """Why the server could not listen on (host, port) (one line), or None. Bound and let go at
    once, before the model loads: uvicorn would find out only after it (exit 3, its own log)."""
    if not 1 <= port <= 65535:
        return f"--port must be 1..65535, got {port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (OSError, UnicodeError) as exc:  # socket.gaierror: no such name
        return f"--host {host}: no such host ({getattr(exc, 'strerror', None) or exc})"
    try:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            sock.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRNOTAVAIL:
            return f"--host {host} is not an address of this machine: use 127.0.0.1 or 0.0.0.0"
        return f"cannot listen on {host}:{port} ({exc.strerror or exc}): choose another --port"
    return None


def check_args(args: argparse.Namespace) -> None:
    """Every check that needs no model: limits, the port, the model path; ValueError."""
    from grpo_lead.checkpoints import check_model_path
    from grpo_lead.hf import model_folder_problem

    problem = check_limits(args) or check_port(args.host, args.port)
    if problem:
        raise ValueError(problem)
    if not args.upstream:  # a proxied vLLM server holds the model, not this machine
        check_model_path(args.model, "--model")
        problem = model_folder_problem(Path(args.model).expanduser())
        if problem:
            raise ValueError(f"--model {args.model}: {problem}")


def log_chat_rendering(engine, system_prompt: str | None) -> None:
    """Log what a model sees for a one-message chat (a template's default system prompt shows)."""
    from grpo_lead.hf import clip_for_log, rendered_prompt
    from grpo_lead.serve.app import with_system_prompt

    tokenizer = getattr(engine, "tokenizer", None)
    if not getattr(tokenizer, "chat_template", None):
        return
    chat = with_system_prompt([{"role": "user", "content": "USER MESSAGE"}], system_prompt)
    try:
        text = rendered_prompt(tokenizer, chat)
    except Exception as exc:  # a template that refuses a system message says so per request
        logger.warning("the chat template cannot render %s: %s", chat, exc)
        return
    logger.info("a chat request's prompt, rendered: %r", clip_for_log(text))


def serve_main(argv: Sequence[str] | None = None) -> int:
    """`grpo-lead serve`: build the engine, the cache and the app, and run uvicorn. A bad flag,
    port or model path is one line `error: ...` and exit 2, before any model loads."""
    from grpo_lead.cli import UsageError
    from grpo_lead.serve.cache import open_cache

    try:
        args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        check_args(args)
        served_name = args.served_model_name or Path(args.model.rstrip("/")).name or args.model
        settings = settings_from(args, served_name)
        cache = open_cache(args.cache)
    except (OSError, ValueError, UsageError) as exc:
        print(f"error: {(str(exc) or type(exc).__name__).splitlines()[0]}", file=sys.stderr)
        return 2
    import uvicorn

    from grpo_lead.serve.app import create_app

    try:
        engine = build_engine(args, served_name)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"error: cannot load {args.model}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    print(
        f"grpo-lead serve: engine={engine.name} model={args.model} as {served_name!r} "
        f"on http://{args.host}:{args.port}  cache={cache.url if cache else 'off'} "
        f"api_keys={'on' if settings.api_keys else 'off'}",
        flush=True,
    )
    log_chat_rendering(engine, settings.system_prompt)
    app = create_app(engine, settings, cache)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        access_log=False,  # ours has tokens and cache results
        log_level="info",
        timeout_graceful_shutdown=10,
        # bodies being read at once: at most this many (each up to --max-body-bytes)
        limit_concurrency=args.max_connections or 8 * args.max_in_flight,
        timeout_keep_alive=5,  # an idle kept-alive connection is closed after 5 s
    )
    return 0
