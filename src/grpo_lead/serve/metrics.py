"""Prometheus metrics of the serving layer (`GET /metrics`), one registry per app.

Names: `grpo_lead_requests_total{endpoint,status}`, `grpo_lead_request_seconds{endpoint,cache}`
(wall time in the server), `grpo_lead_engine_seconds{endpoint}` (time inside the engine: the
difference is what grpo-lead's layer adds), `grpo_lead_cache_total{result}` (hit, miss,
bypass: not cacheable, error: back end failed), `grpo_lead_tokens_total{kind}`,
`grpo_lead_requests_in_flight`, `grpo_lead_rejected_total{reason}` (auth, in_flight, body_timeout).
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class ServeMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "grpo_lead_requests", "Requests answered", ["endpoint", "status"], registry=r
        )
        self.latency = Histogram(
            "grpo_lead_request_seconds",
            "Wall time of a request in the server",
            ["endpoint", "cache"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.engine_latency = Histogram(
            "grpo_lead_engine_seconds",
            "Time spent in the engine per request",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.cache = Counter(
            "grpo_lead_cache", "Response cache lookups by result", ["result"], registry=r
        )
        self.tokens = Counter("grpo_lead_tokens", "Tokens processed", ["kind"], registry=r)
        self.in_flight = Gauge(
            "grpo_lead_requests_in_flight", "Generation requests in progress", registry=r
        )
        self.rejected = Counter(
            "grpo_lead_rejected", "Requests refused by a limit", ["reason"], registry=r
        )
        for result in ("hit", "miss", "bypass", "error"):
            self.cache.labels(result)  # export zeros from the start

    def render(self) -> bytes:
        return generate_latest(self.registry)
