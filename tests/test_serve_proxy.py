"""The vLLM path without a GPU: our proxy engine (`VLLMEngine`) in front of an OpenAI server
standing in for vLLM (a grpo-lead server), checked through the official `openai` client."""

from __future__ import annotations

import httpx
import openai
import pytest

from grpo_lead.serve.app import ServeSettings, create_app
from grpo_lead.serve.local import ScriptedEngine, serve_in_thread
from grpo_lead.serve.reasoning import message_reasoning
from grpo_lead.serve.vllm import VLLMEngine, free_port

from serve_helpers import USER, openai_client, read_chat_stream

SCRIPT = "<think>2+2=4</think>The answer is \\boxed{4}."


@pytest.fixture(scope="module")
def upstream():
    with serve_in_thread(create_app(ScriptedEngine(SCRIPT), ServeSettings("lead"))) as base:
        yield base


@pytest.fixture(scope="module")
def front(upstream, tiny_model_dir):
    engine = VLLMEngine(str(tiny_model_dir), upstream=upstream, upstream_model="lead")
    app = create_app(engine, ServeSettings("lead", max_prompt_tokens=200))
    with serve_in_thread(app) as base:
        yield base, app.state.server


def test_chat_through_the_proxy(front):
    base, _ = front
    reply = openai_client(base).chat.completions.create(model="lead", messages=USER, temperature=0)
    choice = reply.choices[0]
    assert message_reasoning(choice.message) == "2+2=4"
    assert choice.message.model_extra["reasoning_content"] == "2+2=4"
    assert choice.message.content == "The answer is \\boxed{4}."
    assert choice.model_extra["final_answer"] == "4" and choice.finish_reason == "stop"
    assert reply.usage.completion_tokens == len(SCRIPT)


def test_stream_and_completions_through_the_proxy(front):
    base, _ = front
    client = openai_client(base)
    streamed = read_chat_stream(
        client.chat.completions.create(model="lead", messages=USER, stream=True)
    )
    assert (streamed.reasoning, streamed.content, streamed.final_answer) == (
        "2+2=4",
        "The answer is \\boxed{4}.",
        "4",
    )
    text = client.completions.create(model="lead", prompt="2+2?", max_tokens=8)
    assert text.choices[0].text == SCRIPT[:8] and text.choices[0].finish_reason == "length"


def test_limits_apply_before_the_upstream(front):
    base, server = front
    long = {"model": "lead", "messages": [{"role": "user", "content": "x" * 500}]}
    response = httpx.post(f"{base}/v1/chat/completions", json=long)
    assert response.status_code == 400 and "200" in response.json()["error"]["message"]
    health = httpx.get(f"{base}/health").json()
    assert health == {"status": "ok", "engine": "vllm", "in_flight": 0, "max_in_flight": 32}
    assert "grpo_lead_requests_total" in httpx.get(f"{base}/metrics").text


def test_upstream_errors_and_outage(upstream, tiny_model_dir):
    wrong = VLLMEngine(str(tiny_model_dir), upstream=upstream, upstream_model="other")
    app = create_app(wrong, ServeSettings("lead"))
    with serve_in_thread(app) as base, pytest.raises(openai.NotFoundError, match="upstream"):
        openai_client(base).chat.completions.create(model="lead", messages=USER)
    gone = VLLMEngine(
        str(tiny_model_dir), upstream=f"http://127.0.0.1:{free_port()}", upstream_model="lead"
    )
    with serve_in_thread(create_app(gone, ServeSettings("lead"))) as base:
        assert httpx.get(f"{base}/health").status_code == 503
        with pytest.raises(openai.APIStatusError) as info:
            openai_client(base).chat.completions.create(model="lead", messages=USER)
        assert info.value.status_code == 502


def test_n_choices_through_the_proxy(front):
    # issue 32, item 1: the vLLM path asks upstream one choice at a time (n=1, seed + index)
    base, _ = front
    reply = openai_client(base).chat.completions.create(
        model="lead", messages=USER, temperature=0, n=2
    )
    assert [c.message.content for c in reply.choices] == ["The answer is \\boxed{4}."] * 2
    assert [c.finish_reason for c in reply.choices] == ["stop", "stop"]
    assert reply.usage.completion_tokens == 2 * len(SCRIPT)
