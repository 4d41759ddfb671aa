"""The response cache: a prompt-hash table with expiry (the article's DynamoDB table, on one box).

- `cache_key` hashes the model, the input (messages or prompt) and the effective sampling
  parameters (after the server's defaults and caps are applied), so two requests that would
  run the same generation share a key.
- `is_cacheable`: only deterministic requests are served from the cache (temperature 0, or a
  fixed seed), unless the server is started with `--cache-sampled`: a sampled answer replayed
  to every caller is no longer a sample.
- Back ends: `SQLiteCache` (one file, one machine, survives a restart; WAL mode so several
  worker processes can share it) and `RedisCache` (several replicas; `SET ... EX ttl`).
  `open_cache("sqlite:///path" | "redis://..." | "none")` picks one.
- A broken back end never fails a request: errors are logged and counted as misses by the
  caller (see `app.py`).

Stdlib-only at import time (redis-py is imported when a Redis URL is opened), so the Lambda
handler shares `cache_key` without pulling the server's dependencies.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)

KEY_VERSION = 1
MAX_VALUE_BYTES = 4 * 1024 * 1024  # a cached response larger than this is not stored


def cache_key(
    *, model: str, endpoint: str, inputs: Any, sampling: Mapping[str, Any], extra: Any = None
) -> str:
    """SHA-256 (hex) of a canonical JSON of what determines a response.

    >>> a = cache_key(model="m", endpoint="chat", inputs=[{"role": "user", "content": "hi"}],
    ...               sampling={"temperature": 0.0, "max_tokens": 8})
    >>> a == cache_key(model="m", endpoint="chat", inputs=[{"content": "hi", "role": "user"}],
    ...                sampling={"max_tokens": 8, "temperature": 0.0})
    True
    """
    payload = {
        "v": KEY_VERSION,
        "model": model,
        "endpoint": endpoint,
        "inputs": inputs,
        "sampling": dict(sampling),
        "extra": extra,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def is_cacheable(
    *, temperature: float | None, seed: int | None, allow_sampled: bool = False
) -> bool:
    """Deterministic requests only (temperature 0 or a fixed seed), unless `allow_sampled`."""
    if allow_sampled:
        return True
    return temperature == 0 or seed is not None


class ResponseCache(Protocol):
    """A key -> JSON-text store with a TTL. `get` returns None for a miss or an expired key."""

    url: str

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl_s: float) -> None: ...

    def close(self) -> None: ...


class SQLiteCache:
    """A SQLite table `responses(key, value, expires_at)`; expired rows are ignored and purged."""

    PURGE_EVERY = 256  # writes between two purges of expired rows

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path).expanduser()
        self.url = f"sqlite:///{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=5.0)
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS responses ("
                "key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL NOT NULL)"
            )
        self._writes = 0

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM responses WHERE key = ? AND expires_at > ?", (key, time.time())
            ).fetchone()
        return None if row is None else row[0]

    def set(self, key: str, value: str, ttl_s: float) -> None:
        if len(value) > MAX_VALUE_BYTES:
            return
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, value, expires_at) VALUES (?, ?, ?)",
                (key, value, time.time() + ttl_s),
            )
            self._writes += 1
            if self._writes % self.PURGE_EVERY == 0:
                self._db.execute("DELETE FROM responses WHERE expires_at <= ?", (time.time(),))

    def close(self) -> None:
        with self._lock:
            self._db.close()


class RedisCache:
    """Redis `SET key value EX ttl` under a key prefix; shared by every replica."""

    def __init__(self, url: str, *, prefix: str = "grpo-lead:resp:", timeout_s: float = 1.0):
        import redis  # redis-py: the `serve` extra

        self.url = url
        self.prefix = prefix
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )

    def get(self, key: str) -> str | None:
        value = self._client.get(self.prefix + key)
        return None if value is None else value.decode("utf-8")

    def set(self, key: str, value: str, ttl_s: float) -> None:
        if len(value) > MAX_VALUE_BYTES:
            return
        self._client.set(self.prefix + key, value, ex=max(1, int(ttl_s)))

    def close(self) -> None:
        self._client.close()


def default_cache_path() -> Path:
    """`$XDG_CACHE_HOME/grpo-lead/responses.sqlite` (`~/.cache/...` without the variable)."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "grpo-lead" / "responses.sqlite"


def open_cache(url: str | None) -> ResponseCache | None:
    """`sqlite:///path`, a bare file path, `redis://...` / `rediss://...`, or `none` (None)."""
    if url is None or url == "":
        return SQLiteCache(default_cache_path())
    if url.lower() in ("none", "off", "false", "0"):
        return None
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(url)
    if "://" in url and not url.startswith("sqlite:///"):
        raise ValueError(f"--cache {url!r}: use sqlite:///PATH, redis://HOST:PORT/DB or none")
    return _open_sqlite(url, url.removeprefix("sqlite:///"))


def _open_sqlite(url: str, path: str) -> SQLiteCache:
    """An SQLite cache; a path under a file, or a file that is not a database, is a ValueError
    naming --cache (not a raw errno, nor a cache that misses on every request)."""
    from grpo_lead.paths import folder_problem

    file = Path(path).expanduser()
    problem = folder_problem(file.parent)
    if problem:
        raise ValueError(f"--cache {url}: {problem}")
    if file.is_dir():
        raise ValueError(f"--cache {url}: {file} is a folder; name a database file")
    if file.is_file() and file.stat().st_size > 0:
        with file.open("rb") as f:  # sqlite would take a 1-byte file for an empty database
            if f.read(16) != b"SQLite format 3\x00":
                raise ValueError(f"--cache {url}: {file} is not an SQLite database")
    try:
        return SQLiteCache(path)
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"--cache {url}: not an SQLite database ({exc})") from None
