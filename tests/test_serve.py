"""`grpo-lead serve` over HTTP: every endpoint through the official `openai` client, streamed and
not, on the tiny local model (transformers engine) and on a scripted engine whose text holds a
`<think>` block and a boxed answer; limits, API keys, bad input, disconnects, metrics."""

from __future__ import annotations

import logging
import time

import httpx
import openai
import pytest

from grpo_lead.answers import extract_answer
from grpo_lead.serve.app import ServeSettings, create_app
from grpo_lead.serve.local import ScriptedEngine, serve_in_thread
from grpo_lead.serve.reasoning import message_reasoning

from helpers import wait_for
from serve_helpers import USER, openai_client, post_json, read_chat_stream, sse_lines

SCRIPT = "<think>2+2=4, so 4.</think>The answer is \\boxed{4}."


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    """The tiny random model on the CPU engine, no cache (live generation every time)."""
    from grpo_lead.serve.engines import TransformersEngine

    engine = TransformersEngine(str(tiny_model_dir))
    app = create_app(engine, ServeSettings("tiny", max_tokens_cap=24))
    with serve_in_thread(app) as base:
        yield base, app.state.server


@pytest.fixture(scope="module")
def scripted():
    engine = ScriptedEngine(SCRIPT, delay_s=0.0)
    app = create_app(engine, ServeSettings("lead", max_tokens_cap=256, max_prompt_tokens=1000))
    with serve_in_thread(app) as base:
        yield base, app.state.server


@pytest.fixture
def slow():
    """A slow scripted engine (50 chunks x 20 ms) with one slot and a 0.5 s timeout."""
    engine = ScriptedEngine("x" * 200, chunk_chars=4, delay_s=0.02)
    settings = ServeSettings("slow", max_in_flight=1, request_timeout_s=0.5, max_tokens_cap=200)
    app = create_app(engine, settings)
    with serve_in_thread(app) as base:
        yield base, app.state.server, engine


def _good_request(base: str, model: str) -> None:
    reply = openai_client(base).chat.completions.create(model=model, messages=USER, max_tokens=4)
    assert reply.choices[0].finish_reason in ("stop", "length")


# -- the tiny model: every endpoint, streamed and not ------------------------------------------


def test_models_and_health(tiny):
    base, _ = tiny
    models = openai_client(base).models.list()
    assert [m.id for m in models.data] == ["tiny"]
    health = httpx.get(f"{base}/health")
    assert health.status_code == 200 and health.json()["engine"] == "transformers"


def test_chat_stream_equals_non_stream(tiny):
    base, _ = tiny
    client = openai_client(base)
    kwargs = dict(model="tiny", messages=USER, max_tokens=12, temperature=0)
    whole = client.chat.completions.create(**kwargs)
    assert whole.usage.completion_tokens == 12 and whole.choices[0].finish_reason == "length"
    assert whole.usage.prompt_tokens > 0
    assert "final_answer" in whole.choices[0].model_extra
    streamed = read_chat_stream(
        client.chat.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        )
    )
    assert streamed.content == whole.choices[0].message.content
    assert streamed.finish_reason == "length" and streamed.usage.completion_tokens == 12


def test_completions_stream_and_not(tiny):
    base, _ = tiny
    client = openai_client(base)
    kwargs = dict(model="tiny", prompt="3+4=", max_tokens=10, temperature=0)
    whole = client.completions.create(**kwargs)
    streamed = "".join(c.choices[0].text for c in client.completions.create(**kwargs, stream=True))
    assert streamed == whole.choices[0].text and len(whole.choices[0].text) > 0


def test_seeded_sampling_repeats_and_n_choices(tiny):
    base, _ = tiny
    client = openai_client(base)
    kwargs = dict(model="tiny", messages=USER, max_tokens=10, temperature=1.0, seed=7, n=2)
    a = client.chat.completions.create(**kwargs)
    b = client.chat.completions.create(**kwargs)
    assert [c.message.content for c in a.choices] == [c.message.content for c in b.choices]
    assert [c.index for c in a.choices] == [0, 1]
    assert a.choices[0].message.content != a.choices[1].message.content  # seeds 7 and 8


def test_stop_string_is_cut(tiny):
    base, _ = tiny
    client = openai_client(base)
    text = client.completions.create(model="tiny", prompt="ab", max_tokens=12, temperature=0)
    first = text.choices[0].text
    stop = first[3:5]  # two characters the model is known to produce after three others
    cut = client.completions.create(
        model="tiny", prompt="ab", max_tokens=12, temperature=0, stop=[stop]
    )
    assert cut.choices[0].text == first[: first.find(stop)]
    assert cut.choices[0].finish_reason == "stop"


def test_max_tokens_is_clamped_to_the_cap(tiny):
    base, _ = tiny
    reply = openai_client(base).chat.completions.create(
        model="tiny", messages=USER, max_tokens=100_000, temperature=0
    )
    assert reply.usage.completion_tokens <= 24


# -- reasoning, content and the extracted answer ------------------------------------------------


def test_reasoning_content_and_final_answer(scripted):
    base, _ = scripted
    reply = openai_client(base).chat.completions.create(model="lead", messages=USER)
    choice = reply.choices[0]
    message = choice.message.model_extra
    assert message["reasoning"] == message["reasoning_content"] == "2+2=4, so 4."
    assert choice.message.content == "The answer is \\boxed{4}."
    assert choice.model_extra["final_answer"] == extract_answer(SCRIPT) == "4"
    assert message_reasoning(choice.message) == "2+2=4, so 4."


def test_reasoning_streamed(scripted):
    base, _ = scripted
    stream = openai_client(base).chat.completions.create(model="lead", messages=USER, stream=True)
    streamed = read_chat_stream(stream)
    assert (streamed.reasoning, streamed.content, streamed.final_answer) == (
        "2+2=4, so 4.",
        "The answer is \\boxed{4}.",
        "4",
    )


def test_completion_final_answer(scripted):
    base, _ = scripted
    reply = openai_client(base).completions.create(model="lead", prompt="2+2?")
    assert reply.choices[0].text == SCRIPT
    assert reply.choices[0].model_extra["final_answer"] == "4"


def test_think_opened_by_the_chat_template():
    engine = ScriptedEngine("2+2=4</think>\\boxed{4}", think_in_prompt=True)
    with serve_in_thread(create_app(engine, ServeSettings("r1"))) as base:
        reply = openai_client(base).chat.completions.create(model="r1", messages=USER)
        truncated = openai_client(base).chat.completions.create(
            model="r1", messages=USER, max_tokens=5
        )
    message = reply.choices[0].message
    assert (message_reasoning(message), message.content) == ("2+2=4", "\\boxed{4}")
    assert reply.choices[0].model_extra["final_answer"] == "4"
    # cut off while thinking: all reasoning, no content, no answer (as check_answer sees it)
    assert message_reasoning(truncated.choices[0].message) == "2+2=4"
    assert truncated.choices[0].message.content == ""
    assert truncated.choices[0].model_extra["final_answer"] is None


# -- bad input: the right 4xx, one line, and the next request is served ---------------------------


BAD_INPUTS = [
    ("malformed JSON", "/v1/chat/completions", b'{"model": "lead", "messages": [', 400),
    ("not an object", "/v1/chat/completions", [1, 2], 400),
    ("deep nesting", "/v1/chat/completions", b"[" * 100_000 + b"]" * 100_000, 400),
    ("bad utf-8", "/v1/chat/completions", b'{"model": "\xff\xfe"}', 400),
    ("unknown model", "/v1/chat/completions", {"model": "gpt-9", "messages": USER}, 404),
    ("no messages", "/v1/chat/completions", {"model": "lead", "messages": []}, 400),
    ("messages missing", "/v1/chat/completions", {"model": "lead"}, 400),
    ("bad role", "/v1/chat/completions", {"messages": [{"role": "x", "content": "a"}]}, 400),
    ("negative max_tokens", "/v1/chat/completions", {"messages": USER, "max_tokens": -5}, 400),
    ("zero max_tokens", "/v1/completions", {"prompt": "a", "max_tokens": 0}, 400),
    ("string max_tokens", "/v1/completions", {"prompt": "a", "max_tokens": "many"}, 400),
    ("temperature 5", "/v1/chat/completions", {"messages": USER, "temperature": 5}, 400),
    ("n over the cap", "/v1/chat/completions", {"messages": USER, "n": 99}, 400),
    (
        "1 MB prompt",
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "x" * 2**20}]},
        400,
    ),
    ("1 MB completion prompt", "/v1/completions", {"prompt": "y" * 2**20}, 400),
    ("prompt over the token cap", "/v1/completions", {"prompt": "y" * 1200}, 400),
    (
        "image content",
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
        400,
    ),
    ("logprobs", "/v1/chat/completions", {"messages": USER, "logprobs": True}, 400),
    ("too many stops", "/v1/completions", {"prompt": "a", "stop": list("abcde")}, 400),
    ("no prompt", "/v1/completions", {"model": "lead"}, 400),
]


@pytest.mark.parametrize(
    ("name", "path", "body", "status"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_gets_4xx_and_the_server_goes_on(scripted, name, path, body, status):
    base, server = scripted
    response = post_json(base, path, body)
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    assert message and "\n" not in message and len(message) < 300
    assert server.in_flight == 0
    _good_request(base, "lead")


def test_bad_input_on_the_transformers_engine(tiny):
    base, server = tiny
    huge = {"model": "tiny", "messages": [{"role": "user", "content": "x" * 2**20}]}
    assert post_json(base, "/v1/chat/completions", huge).status_code == 400
    long = {"model": "tiny", "prompt": "x" * 2000}  # 2000 tokens > the model's 1024 context
    response = post_json(base, "/v1/completions", long)
    assert response.status_code == 400 and "context" in response.json()["error"]["message"]
    negative = {"model": "tiny", "messages": USER, "max_tokens": -1}
    assert post_json(base, "/v1/chat/completions", negative).status_code == 400
    assert server.in_flight == 0
    _good_request(base, "tiny")


def test_body_over_the_limit_is_413(scripted):
    base, server = scripted
    response = post_json(base, "/v1/chat/completions", b" " * (3 * 2**20))
    assert response.status_code == 413
    _good_request(base, "lead")


def test_openai_client_sees_typed_errors(scripted):
    base, _ = scripted
    client = openai_client(base)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=USER)
    with pytest.raises(openai.BadRequestError, match="max_tokens"):
        client.chat.completions.create(model="lead", messages=USER, max_tokens=-1)
    _good_request(base, "lead")


def test_unknown_route_and_method(scripted):
    base, _ = scripted
    assert httpx.get(f"{base}/v1/nothing").status_code == 404
    assert httpx.get(f"{base}/v1/chat/completions").status_code == 405
    _good_request(base, "lead")


# -- disconnects, timeouts, the in-flight bound ----------------------------------------------------


def test_client_disconnect_mid_stream_stops_generation(slow, caplog):
    base, server, engine = slow
    body = {"model": "slow", "messages": USER, "stream": True, "max_tokens": 200}
    with caplog.at_level(logging.INFO, logger="grpo_lead.serve.access"):
        with sse_lines(base, body) as lines:
            assert next(lines).startswith("data:")  # the role chunk; then hang up
        t0 = time.monotonic()
        # the whole text takes 50 x 20 ms = 1 s: the engine must stop well before
        assert wait_for(lambda: server.in_flight == 0 and engine.active == 0, timeout_s=0.6)
    assert time.monotonic() - t0 < 0.6 and engine.cancelled == 1
    assert any(" 499 " in r.getMessage() for r in caplog.records)
    reply = openai_client(base).chat.completions.create(model="slow", messages=USER, max_tokens=8)
    assert reply.choices[0].message.content == "x" * 8


def test_request_timeout_is_504_and_a_stream_error_event(slow):
    base, server, _ = slow
    with pytest.raises(openai.APIStatusError) as info:
        openai_client(base).chat.completions.create(model="slow", messages=USER)
    assert info.value.status_code == 504
    body = {"model": "slow", "messages": USER, "stream": True}
    with sse_lines(base, body) as lines:
        events = [line for line in lines if line]
    assert "timeout" in events[-2] and events[-1] == "data: [DONE]"
    assert wait_for(lambda: server.in_flight == 0)
    _good_request(base, "slow")


def test_in_flight_bound_answers_429():
    # 50 chunks x 0.1 s: the first request holds the one slot for 5 s, however loaded the
    # machine (a 0.2 s window made this test flaky on a busy 2-core machine)
    engine = ScriptedEngine("x" * 200, chunk_chars=4, delay_s=0.1)
    app = create_app(engine, ServeSettings("slow", max_in_flight=1, max_tokens_cap=200))
    server = app.state.server
    with serve_in_thread(app) as base:
        body = {"model": "slow", "messages": USER, "stream": True}
        with sse_lines(base, body) as lines:
            next(lines)
            busy = post_json(base, "/v1/chat/completions", {"messages": USER, "max_tokens": 4})
            assert busy.status_code == 429 and busy.headers["retry-after"] == "1"
            assert next(line for line in lines if line).startswith("data:")  # it goes on
        # leaving the stream early frees the slot
        assert wait_for(lambda: server.in_flight == 0 and engine.active == 0)
        assert post_json(
            base, "/v1/chat/completions", {"messages": USER, "max_tokens": 4}
        ).is_success


# -- API keys, metrics, the access log ------------------------------------------------------------


def test_api_keys():
    settings = ServeSettings("lead", api_keys=frozenset({"k-1", "k-2"}))
    with serve_in_thread(create_app(ScriptedEngine(SCRIPT), settings)) as base:
        with pytest.raises(openai.AuthenticationError):
            openai_client(base, "wrong").chat.completions.create(model="lead", messages=USER)
        no_key = post_json(base, "/v1/completions", {"prompt": "a"})
        assert no_key.status_code == 401
        assert httpx.get(f"{base}/v1/models").status_code == 401
        assert httpx.get(f"{base}/health").status_code == 200  # probes need no key
        reply = openai_client(base, "k-2").chat.completions.create(model="lead", messages=USER)
        assert reply.choices[0].model_extra["final_answer"] == "4"


def test_metrics_and_access_log(scripted, caplog):
    base, _ = scripted
    with caplog.at_level(logging.INFO, logger="grpo_lead.serve.access"):
        _good_request(base, "lead")
        post_json(base, "/v1/chat/completions", {"model": "nope", "messages": USER})
    lines = [r.getMessage() for r in caplog.records if r.name == "grpo_lead.serve.access"]
    assert any(
        '"POST /v1/chat/completions" 200' in line and "completion=4" in line for line in lines
    )
    assert any('"POST /v1/chat/completions" 404' in line for line in lines)
    text = httpx.get(f"{base}/metrics").text
    assert 'grpo_lead_requests_total{endpoint="chat",status="200"}' in text
    assert 'grpo_lead_requests_total{endpoint="chat",status="404"}' in text
    assert "grpo_lead_request_seconds_bucket" in text and "grpo_lead_engine_seconds" in text
    assert 'grpo_lead_cache_total{result="hit"}' in text
