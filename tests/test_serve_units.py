"""Pure pieces of the server: the `<think>` splitter, the answer, cache keys, request
validation, sampling resolution, the vLLM command line and upstream stream parsing, the CLI."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grpo_lead.answers import extract_answer
from grpo_lead.serve.cache import cache_key, is_cacheable
from grpo_lead.serve.cli import build_parser, read_api_keys, serve_main, settings_from
from grpo_lead.serve.engines import GenInput, generation_defaults
from grpo_lead.serve.protocol import (
    APIError,
    ChatRequest,
    CompletionRequest,
    parse_request,
    resolve_sampling,
)
from grpo_lead.serve.reasoning import (
    ReasoningSplitter,
    final_answer,
    message_reasoning,
    prompt_opens_think,
    raw_text,
    split_reasoning,
    with_reasoning_fields,
)
from grpo_lead.serve.vllm import UpstreamCollector, upstream_body, vllm_command

# -- reasoning --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "opened", "expected"),
    [
        ("<think>a</think>b", False, ("a", "b")),
        ("  <think>a</think>b", False, ("a", "b")),
        ("a</think>b", True, ("a", "b")),
        ("<think>never closed", False, ("never closed", "")),
        ("still thinking", True, ("still thinking", "")),
        ("plain answer", False, (None, "plain answer")),
        ("x <think>late</think> y", False, (None, "x <think>late</think> y")),
        ("<think>a</think>b</think>c", False, ("a", "b</think>c")),
        ("", False, (None, "")),
        ("<thi", False, (None, "<thi")),
    ],
)
def test_split_reasoning(text, opened, expected):
    assert split_reasoning(text, opened_in_prompt=opened) == expected


TEXTS = st.lists(
    st.sampled_from(["<think>", "</think>", "<th", "ink>", "</", "a", " ", "\\boxed{7}", "\n"]),
    max_size=12,
).map("".join)


@given(text=TEXTS, cuts=st.lists(st.integers(0, 60), max_size=8), opened=st.booleans())
def test_streamed_split_equals_whole_split(text, cuts, opened):
    """However the text is cut into deltas, the stream gives the same reasoning and content."""
    splitter = ReasoningSplitter(opened_in_prompt=opened)
    reasoning = content = ""
    bounds = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    for start, end in zip(bounds, bounds[1:]):
        r, c = splitter.feed(text[start:end])
        reasoning, content = reasoning + r, content + c
    r, c = splitter.flush()
    whole = split_reasoning(text, opened_in_prompt=opened)
    assert ((reasoning + r) if splitter.saw_reasoning else None, content + c) == whole


@given(text=TEXTS, opened=st.booleans())
def test_final_answer_is_check_answers_extraction(text, opened):
    assert final_answer(text, opened_in_prompt=opened) == extract_answer(
        ("<think>" if opened else "") + text
    )


def test_raw_text_round_trip():
    reasoning, content = split_reasoning("<think>r</think>c")
    assert raw_text(reasoning, content) == "<think>r</think>c"
    assert raw_text(None, "c") == "c"
    assert raw_text("r", "", closed=False) == "<think>r"


def test_reasoning_fields_both_names():
    message = with_reasoning_fields({"content": "c"}, "r")
    assert message == {"content": "c", "reasoning": "r", "reasoning_content": "r"}
    assert message_reasoning({"reasoning_content": "old"}) == "old"
    assert message_reasoning({"reasoning": "new"}) == "new"
    assert message_reasoning({"content": "x"}) is None
    assert with_reasoning_fields({}, None) == {}


def test_prompt_opens_think():
    assert prompt_opens_think("<|Assistant|><think>\n")
    assert not prompt_opens_think("assistant: ")


# -- cache keys -------------------------------------------------------------------------------


def test_cache_key_depends_on_what_changes_the_answer():
    base = dict(model="m@1", endpoint="chat", inputs=[{"role": "user", "content": "hi"}])
    key = cache_key(**base, sampling={"temperature": 0, "max_tokens": 8})
    assert key == cache_key(**base, sampling={"max_tokens": 8, "temperature": 0})
    assert key != cache_key(**base, sampling={"temperature": 0, "max_tokens": 9})
    assert key != cache_key(**base | {"model": "m@2"}, sampling={"temperature": 0, "max_tokens": 8})
    assert key != cache_key(
        **base | {"endpoint": "completion"}, sampling={"temperature": 0, "max_tokens": 8}
    )
    assert len(key) == 64


def test_is_cacheable():
    assert is_cacheable(temperature=0.0, seed=None)
    assert is_cacheable(temperature=0.6, seed=1)
    assert not is_cacheable(temperature=0.6, seed=None)
    assert is_cacheable(temperature=0.6, seed=None, allow_sampled=True)


# -- requests ---------------------------------------------------------------------------------


def _chat(**kw):
    return parse_request(ChatRequest, {"messages": [{"role": "user", "content": "q"}]} | kw)


def test_errors_are_one_line():
    with pytest.raises(APIError) as info:
        _chat(max_tokens=-3)
    assert info.value.status == 400 and info.value.message.startswith("max_tokens:")
    assert "\n" not in info.value.message
    with pytest.raises(APIError, match="messages: field required"):
        parse_request(ChatRequest, {})
    with pytest.raises(APIError, match="JSON object"):
        parse_request(ChatRequest, "text")
    with pytest.raises(APIError, match="one string"):
        parse_request(CompletionRequest, {"prompt": ["a", "b"]}).prompt_text()
    err = APIError(429, "busy\n  now", type="rate_limit_error")
    assert err.body()["error"] == {
        "message": "busy now",
        "type": "rate_limit_error",
        "param": None,
        "code": None,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_tokens", True),  # a bool is not an int (OpenAI: 400)
        ("n", "2"),  # nor is a string
        ("max_tokens", 2.5),
        ("temperature", "0.5"),
        ("seed", False),
        ("stream", 1),
        ("stream", "true"),
        ("top_k", 1.0),
    ],
)
def test_types_are_strict(field, value):
    with pytest.raises(APIError) as info:
        _chat(**{field: value})
    assert info.value.status == 400 and info.value.param == field
    assert info.value.message.startswith(f"{field}:")


@pytest.mark.parametrize("field", ["temperature", "top_p", "min_p"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_sampling_value_that_is_not_finite_is_called_so(field, value):
    # Before: temperature NaN was reported as "should be less than or equal to 2" (issue 32,
    # item 15)
    with pytest.raises(APIError) as info:
        _chat(**{field: value})
    assert info.value.status == 400 and info.value.param == field
    assert "finite number" in info.value.message and "less than" not in info.value.message


def test_an_integer_is_a_number():
    req = _chat(temperature=1, top_p=1, max_tokens=5, n=2, stream=False)
    assert (req.temperature, req.max_tokens, req.n) == (1.0, 5, 2)
    assert isinstance(req.temperature, float)


def test_unknown_fields_are_ignored_and_text_parts_joined():
    req = parse_request(
        ChatRequest,
        {
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                }
            ],
            "user": "someone",
            "frequency_penalty": 0,
        },
    )
    assert req.plain_messages() == [{"role": "user", "content": "ab"}]


def test_resolve_sampling_defaults_and_caps():
    defaults = {"temperature": 0.6, "min_p": 0.01}
    s = resolve_sampling(_chat(), defaults=defaults, max_tokens_cap=100, max_n=4)
    assert (s.temperature, s.min_p, s.top_p, s.top_k, s.max_tokens) == (0.6, 0.01, 1.0, -1, 100)
    s = resolve_sampling(
        _chat(temperature=0, max_tokens=500), defaults=defaults, max_tokens_cap=100, max_n=4
    )
    assert (s.temperature, s.max_tokens, s.greedy) == (0.0, 100, True)
    s = resolve_sampling(_chat(max_completion_tokens=7), defaults={}, max_tokens_cap=100, max_n=4)
    assert (s.temperature, s.max_tokens) == (1.0, 7)
    with pytest.raises(APIError, match="n: at most 4"):
        resolve_sampling(_chat(n=5), defaults={}, max_tokens_cap=100, max_n=4)


def test_generation_defaults_from_config():
    from transformers import GenerationConfig

    sampled = GenerationConfig(do_sample=True, temperature=0.6, min_p=0.01, top_k=0)
    assert generation_defaults(sampled) == {"temperature": 0.6, "min_p": 0.01, "top_k": 0}
    assert generation_defaults(GenerationConfig()) == {"temperature": 0.0}
    assert generation_defaults(None) == {}


# -- vLLM -------------------------------------------------------------------------------------


def test_vllm_command():
    cmd = vllm_command(
        "exported/lead",
        port=8123,
        served_model_name="lead",
        max_model_len=16384,
        tensor_parallel_size=2,
        extra_args=["--max-num-seqs", "64"],
    )
    joined = " ".join(cmd)
    assert "serve exported/lead --host 127.0.0.1 --port 8123" in joined
    assert "--reasoning-parser deepseek_r1" in joined and "--enable-prefix-caching" in joined
    assert "--served-model-name lead" in joined and "--generation-config auto" in joined
    assert "--max-model-len 16384" in joined and "--tensor-parallel-size 2" in joined
    assert cmd[-2:] == ["--max-num-seqs", "64"]
    assert "--reasoning-parser" not in vllm_command(
        "m", port=1, served_model_name="m", reasoning_parser=None
    )


def test_upstream_body_carries_the_effective_parameters():
    req = _chat(temperature=0.6, seed=5, stop=["\n\n"])
    s = resolve_sampling(req, defaults={}, max_tokens_cap=64, max_n=1)
    gen = GenInput("chat", messages=req.plain_messages(), chat_template_kwargs={"x": 1})
    body = upstream_body(gen, s, "lead")
    assert body["stream"] and body["stream_options"] == {"include_usage": True}
    assert (body["max_tokens"], body["temperature"], body["seed"], body["stop"]) == (
        64,
        0.6,
        5,
        ["\n\n"],
    )
    assert body["messages"] == [{"role": "user", "content": "q"}] and body[
        "chat_template_kwargs"
    ] == {"x": 1}


def _chunk(delta=None, finish=None, text=None):
    choice = {"index": 0, "finish_reason": finish}
    if text is not None:
        choice["text"] = text
    else:
        choice["delta"] = delta or {}
    return {"choices": [choice]}


def test_collector_with_vllm_reasoning_parser():
    c = UpstreamCollector(chat=True)
    pieces = [
        c.feed(_chunk({"role": "assistant", "content": ""})),
        c.feed(_chunk({"reasoning": "2+2"})),
        c.feed(_chunk({"reasoning_content": "=4"})),
        c.feed(_chunk({"content": "\\boxed{4}"}, finish="stop")),
        c.feed({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 9}}),
    ]
    last = c.last(GenInput("chat"))
    assert [p.reasoning for p in pieces if p] == ["2+2", "=4", ""]
    assert (last.finish_reason, last.prompt_tokens, last.completion_tokens) == ("stop", 3, 9)
    assert last.raw_text == "<think>2+2=4</think>\\boxed{4}"
    assert extract_answer(last.raw_text) == "4"


def test_collector_without_reasoning_parser_splits_tags():
    c = UpstreamCollector(chat=True)
    for part in ["<thi", "nk>r</th", "ink>", "\\boxed{5}"]:
        c.feed(_chunk({"content": part}))
    c.feed(_chunk({}, finish="stop"))
    last = c.last(GenInput("chat"))
    assert "".join(c.reasoning) == "r" and "".join(c.content) == "\\boxed{5}"
    assert extract_answer(last.raw_text) == "5"


def test_collector_truncated_reasoning_and_completions():
    c = UpstreamCollector(chat=True)
    c.feed(_chunk({"reasoning": "\\boxed{3} maybe"}, finish="length"))
    last = c.last(GenInput("chat"))
    assert last.raw_text == "<think>\\boxed{3} maybe" and not last.think_closed
    c = UpstreamCollector(chat=False)
    c.feed(_chunk(text="ab"))
    c.feed(_chunk(text="c", finish="length"))
    assert c.last(GenInput("completion")).raw_text == "abc"


# -- CLI --------------------------------------------------------------------------------------


def test_cli_settings_and_keys(tmp_path, monkeypatch):
    keys = tmp_path / "keys"
    keys.write_text("# ops\nk-file\n\n")
    assert read_api_keys(str(keys), "k-env, k-two") == {"k-file", "k-env", "k-two"}
    args = build_parser().parse_args(
        [
            "--model",
            "out/lead",
            "--max-tokens-cap",
            "512",
            "--api-key-file",
            str(keys),
            "--cache",
            "none",
        ]
    )
    monkeypatch.setenv("GRPO_LEAD_API_KEYS", "")
    settings = settings_from(args, "lead")
    assert settings.max_tokens_cap == 512 and settings.api_keys == {"k-file"}
    assert settings.model_aliases == ("out/lead",)


def test_cli_rejects_bad_limits_and_missing_models(capsys, tmp_path):
    assert serve_main(["--model", "m", "--max-tokens-cap", "0"]) == 2
    assert "--max-tokens-cap" in capsys.readouterr().err
    missing = tmp_path / "no-model"
    code = serve_main(["--model", str(missing), "--engine", "transformers", "--cache", "none"])
    err = capsys.readouterr().err
    assert code == 2 and err == f"error: --model {missing}: no such folder (nor a hub id)\n"


def _refused_before_loading(monkeypatch, capsys, argv) -> str:
    """serve_main's one error line; fails if it got as far as building an engine."""
    import grpo_lead.serve.cli as serve_cli

    def no_engine(*args):
        raise AssertionError("the engine was built before the error")

    monkeypatch.setattr(serve_cli, "build_engine", no_engine)
    assert serve_main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_cli_bad_port_is_refused_before_the_model_loads(tiny_model_dir, monkeypatch, capsys):
    model = ["--model", str(tiny_model_dir), "--cache", "none"]
    err = _refused_before_loading(monkeypatch, capsys, [*model, "--port", "99999"])
    assert "--port must be 1..65535, got 99999" in err
    with socket.socket() as taken:  # a port another server listens on
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = _refused_before_loading(monkeypatch, capsys, [*model, "--port", str(port)])
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err


def test_cli_usage_errors_are_one_line(monkeypatch, capsys):
    err = _refused_before_loading(monkeypatch, capsys, ["--model", "m", "--port", "eighty"])
    assert "--port" in err and "grpo-lead serve --help" in err
    err = _refused_before_loading(monkeypatch, capsys, ["--port", "8000"])
    assert "--model" in err


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--body-timeout", "0"], "--body-timeout"),
        (["--body-timeout", "nan"], "--body-timeout"),
        (["--request-timeout", "inf"], "--request-timeout"),
        (["--max-prompt-chars", "0"], "--max-prompt-chars"),
        (["--max-in-flight", "8", "--max-connections", "8"], "--max-connections"),
        (["--max-n", "0"], "--max-n"),
    ],
)
def test_cli_limit_flags_are_checked_first(capsys, flags, named):
    assert serve_main(["--model", "never-loaded", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and named in err and err.count("\n") == 1


def test_cli_hands_the_slow_client_limits_to_the_app_and_uvicorn(tiny_model_dir, monkeypatch):
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    from grpo_lead.serve.vllm import free_port

    flags = ["--body-timeout", "7", "--max-prompt-chars", "900", "--max-in-flight", "4"]
    flags += ["--port", str(free_port())]  # the port is bind-tested: not 8000, maybe taken
    assert serve_main(["--model", str(tiny_model_dir), "--cache", "none", *flags]) == 0
    settings = seen["app"].state.server.settings
    assert (settings.body_timeout_s, settings.max_prompt_chars) == (7.0, 900)
    assert seen["limit_concurrency"] == 32  # 8 x --max-in-flight
    assert seen["timeout_keep_alive"] == 5


def test_serve_main_runs_the_server_and_prints_the_engine(tiny_model_dir, tmp_path):
    """The real entry point in its own process: banner, /health, one request, clean stop."""
    import subprocess
    import sys
    import time

    import httpx

    from grpo_lead.serve.vllm import free_port

    port = free_port()
    code = (
        "import sys; from grpo_lead.serve.cli import serve_main; sys.exit(serve_main(sys.argv[1:]))"
    )
    args = [
        "--model",
        str(tiny_model_dir),
        "--port",
        str(port),
        "--cache",
        f"sqlite:///{tmp_path}/c.sqlite",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        banner = ""
        for line in iter(proc.stdout.readline, ""):  # ends at EOF if the process dies
            if line.startswith("grpo-lead serve:"):
                banner = line
                break
        assert "engine=transformers" in banner and f"127.0.0.1:{port}" in banner
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        body = {"model": tiny_model_dir.name, "prompt": "1+1=", "max_tokens": 4, "temperature": 0}
        reply = httpx.post(f"http://127.0.0.1:{port}/v1/completions", json=body, timeout=30)
        assert reply.status_code == 200 and reply.json()["usage"]["completion_tokens"] == 4
    finally:
        proc.terminate()
        proc.wait(30)
    assert (tmp_path / "c.sqlite").exists()


# -- issue 32: an open door, and messages that misled --------------------------------------------


@pytest.mark.parametrize(
    "content", ["", "\n\n", "# only a comment\n"], ids=["empty", "blank", "comment"]
)
def test_an_api_key_file_without_a_key_is_refused(
    tiny_model_dir, tmp_path, monkeypatch, capsys, content
):
    # Before: api_keys=off, and /v1/models answered 200 without a key (issue 32, item 9)
    keys = tmp_path / "keys"
    keys.write_text(content)
    monkeypatch.setenv("GRPO_LEAD_API_KEYS", "")
    argv = ["--model", str(tiny_model_dir), "--cache", "none", "--api-key-file", str(keys)]
    err = _refused_before_loading(monkeypatch, capsys, argv)
    assert f"--api-key-file {keys}" in err and "no key" in err, err


def test_an_unreadable_api_key_file_is_refused(tiny_model_dir, tmp_path, monkeypatch, capsys):
    argv = ["--model", str(tiny_model_dir), "--cache", "none"]
    err = _refused_before_loading(
        monkeypatch, capsys, [*argv, "--api-key-file", str(tmp_path / "missing")]
    )
    assert f"--api-key-file {tmp_path / 'missing'}: cannot read it" in err, err
    err = _refused_before_loading(monkeypatch, capsys, [*argv, "--api-key-file", str(tmp_path)])
    assert "--api-key-file" in err and "cannot read it" in err, err


def test_a_bad_host_names_the_host_not_the_port(tiny_model_dir, monkeypatch, capsys):
    # Before: "cannot listen on no-such-host.invalid:8000 (...): choose another --port"
    model = ["--model", str(tiny_model_dir), "--cache", "none"]
    err = _refused_before_loading(monkeypatch, capsys, [*model, "--host", "no-such-host.invalid"])
    assert "--host no-such-host.invalid" in err and "--port" not in err, err
    err = _refused_before_loading(monkeypatch, capsys, [*model, "--host", "192.0.2.1"])
    assert "--host 192.0.2.1" in err and "not an address of this machine" in err, err


def test_a_cache_path_under_a_file_or_not_a_database_is_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("x")
    model = ["--model", "never-loaded"]
    for url in (f"sqlite:///{tmp_path}/file/c.sqlite", str(tmp_path / "file")):
        err = _refused_before_loading(monkeypatch, capsys, [*model, "--cache", url])
        assert f"--cache {url}" in err and "Errno" not in err, err
    assert "is a file, not a folder" in _refused_before_loading(
        monkeypatch, capsys, [*model, "--cache", f"{tmp_path}/file/c.sqlite"]
    )
    assert (tmp_path / "file").read_text() == "x"  # sqlite took a 1-byte file for a database


@pytest.mark.parametrize("damage", ["cut weights", "not a model"])
def test_a_model_folder_that_cannot_load_is_refused_before_loading(
    tiny_model_dir, tmp_path, monkeypatch, capsys, damage
):
    # Before: a SafetensorError traceback, or transformers' tokenizer message with exit 1
    # (issue 32, item 13)
    import shutil

    model = tmp_path / "model"
    if damage == "cut weights":
        shutil.copytree(tiny_model_dir, model)
        weights = model / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:1000])
        want = "model.safetensors is cut short"
    else:
        model.mkdir()
        (model / "notes.txt").write_text("not a model")
        want = "not a model folder (no config.json)"
    err = _refused_before_loading(monkeypatch, capsys, ["--model", str(model), "--cache", "none"])
    assert f"--model {model}" in err and want in err, err
