"""The response cache against real back ends: a SQLite file kept across a server restart, and a
real `redis-server` started here (two replicas share it; Redis going down fails no request)."""

from __future__ import annotations

import shutil
import subprocess
import time

import httpx
import pytest

from grpo_lead.serve.app import ServeSettings, create_app
from grpo_lead.serve.cache import RedisCache, SQLiteCache, open_cache
from grpo_lead.serve.local import ScriptedEngine, serve_in_thread
from grpo_lead.serve.vllm import free_port

from serve_helpers import USER, openai_client, read_chat_stream

SCRIPT = "<think>2+2=4</think>\\boxed{4}"


def _chat(base: str, **kwargs):
    """(reply, X-Cache header) of a chat completion."""
    kwargs = {"model": "m", "messages": USER, "max_tokens": 64} | kwargs
    raw = openai_client(base).chat.completions.with_raw_response.create(**kwargs)
    return raw.parse(), raw.headers["x-cache"]


def _metric(base: str, result: str) -> float:
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        if line.startswith(f'grpo_lead_cache_total{{result="{result}"}}'):
            return float(line.split()[-1])
    raise AssertionError(f"no cache metric {result}")


def _app(cache, **settings):
    return create_app(ScriptedEngine(SCRIPT), ServeSettings("m", **settings), cache)


def test_sqlite_cache_survives_a_restart(tmp_path, tiny_model_dir):
    from grpo_lead.serve.engines import TransformersEngine

    path = tmp_path / "responses.sqlite"
    kwargs = dict(model="m", messages=USER, max_tokens=10, temperature=0)
    engine = TransformersEngine(str(tiny_model_dir))
    with serve_in_thread(create_app(engine, ServeSettings("m"), SQLiteCache(path))) as base:
        first, state1 = _chat(base, **kwargs)
        again, state2 = _chat(base, **kwargs)
        assert (state1, state2) == ("miss", "hit")
        assert (_metric(base, "miss"), _metric(base, "hit")) == (1, 1)
    engine = TransformersEngine(str(tiny_model_dir))  # a new process would load it again too
    with serve_in_thread(create_app(engine, ServeSettings("m"), SQLiteCache(path))) as base:
        after, state = _chat(base, **kwargs)
        assert (
            state == "hit" and after.choices[0].message.content == first.choices[0].message.content
        )
        assert after.id != first.id  # a new response id, the same answer
        other, state = _chat(base, **kwargs | {"max_tokens": 9})
        assert state == "miss"  # different sampling parameters: a different key


def test_only_deterministic_requests_are_cached(tmp_path):
    with serve_in_thread(_app(SQLiteCache(tmp_path / "c.sqlite"))) as base:
        assert [_chat(base, temperature=0.7)[1] for _ in range(2)] == ["bypass", "bypass"]
        assert [_chat(base, temperature=0.7, seed=3)[1] for _ in range(2)] == ["miss", "hit"]
        assert _metric(base, "bypass") == 2
    with serve_in_thread(_app(SQLiteCache(tmp_path / "d.sqlite"), cache_sampled=True)) as base:
        assert [_chat(base, temperature=0.7)[1] for _ in range(2)] == ["miss", "hit"]


def test_ttl_expires(tmp_path):
    with serve_in_thread(_app(SQLiteCache(tmp_path / "c.sqlite"), cache_ttl_s=0.3)) as base:
        assert _chat(base, temperature=0)[1] == "miss"
        assert _chat(base, temperature=0)[1] == "hit"
        time.sleep(0.4)
        assert _chat(base, temperature=0)[1] == "miss"


def test_cached_stream_replays_reasoning_and_answer(tmp_path):
    with serve_in_thread(_app(SQLiteCache(tmp_path / "c.sqlite"))) as base:
        _chat(base, temperature=0)  # fill the cache
        raw = openai_client(base).chat.completions.with_raw_response.create(
            model="m", messages=USER, max_tokens=64, temperature=0, stream=True
        )
        assert raw.headers["x-cache"] == "hit"
        streamed = read_chat_stream(raw.parse())
        assert (streamed.reasoning, streamed.content, streamed.final_answer) == (
            "2+2=4",
            "\\boxed{4}",
            "4",
        )


def test_open_cache_urls(tmp_path):
    assert open_cache("none") is None
    sqlite = open_cache(f"sqlite:///{tmp_path}/a.sqlite")
    assert isinstance(sqlite, SQLiteCache) and sqlite.path == tmp_path / "a.sqlite"
    assert isinstance(open_cache(str(tmp_path / "b.sqlite")), SQLiteCache)
    with pytest.raises(ValueError, match="sqlite"):
        open_cache("mysql://x")


@pytest.fixture
def redis_url(tmp_path):
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server not installed: apt-get install redis-server")
    port = free_port()
    args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(
        [*args, "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield url, proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(10)


def test_redis_cache_is_shared_by_replicas_and_survives_an_outage(redis_url):
    url, proc = redis_url
    with (
        serve_in_thread(_app(RedisCache(url))) as replica_a,
        serve_in_thread(_app(RedisCache(url))) as replica_b,
    ):
        assert _chat(replica_a, temperature=0)[1] == "miss"
        reply, state = _chat(replica_b, temperature=0)
        assert state == "hit" and reply.choices[0].model_extra["final_answer"] == "4"
        import redis

        keys = redis.Redis.from_url(url).keys("grpo-lead:resp:*")
        ttl = redis.Redis.from_url(url).ttl(keys[0])
        assert len(keys) == 1 and 0 < ttl <= 86400
        proc.terminate()
        proc.wait(10)
        reply, state = _chat(replica_a, temperature=0)  # Redis gone: served, not cached
        assert state == "error" and reply.choices[0].model_extra["final_answer"] == "4"
        assert _metric(replica_a, "error") >= 1
