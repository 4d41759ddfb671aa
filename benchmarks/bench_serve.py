"""Load test of `grpo-lead serve` on CPU, loopback only, bounded in requests and time.

    python benchmarks/bench_serve.py [--clients 8] [--requests 160] [--max-seconds 120]
                                     [--max-tokens 32] [--model PATH] [--json FILE]

Prints the tables and saves them in benchmarks/results/serve.json (--json FILE: elsewhere).

What it does, in one run:
1. Starts the server as a separate process on 127.0.0.1 (a free port) with the embedded
   transformers engine on the tiny local model (or `--model PATH`), a fresh SQLite cache, one
   torch thread, and waits for /health.
2. Miss phase: `--clients` threads send `--requests` chat completions with distinct prompts at
   temperature 0 (cacheable, every one a miss): requests/s, p50/p95 latency, errors.
   Before it, `--solo` misses from one client measure the layer without contention.
3. Hit phase: the same requests again: all served from the cache.
4. The layer's cost: the server's `Server-Timing` header gives the time inside the engine and
   the total time in the server per request; their difference is what grpo-lead's layer
   (validation, limits, cache, answer extraction, response building) adds to the engine
   (under concurrency it includes waiting for the GIL beside the generation thread).
5. Memory after bursts (`--burst` requests from `--clients` threads, no generation): prompts
   of 524,288 characters (refused before tokenizing) and prompts at the server's character
   bound (tokenized, then refused for their tokens). The server's RSS before, at its peak
   (sampled every 20 ms) and 1 s after each burst.
6. Stops the server. Nothing leaves the machine: every request goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from grpo_lead.serve.app import CHARS_PER_TOKEN_BOUND, ServeSettings
from grpo_lead.serve.local import wait_healthy
from grpo_lead.serve.vllm import free_port


def start_server(model: str, cache: Path, port: int, max_tokens: int) -> subprocess.Popen:
    code = (
        "import sys, logging; logging.basicConfig(level=logging.WARNING);"
        "from grpo_lead.serve.cli import serve_main; sys.exit(serve_main(sys.argv[1:]))"
    )
    args = [
        "--model", model, "--served-model-name", "bench", "--host", "127.0.0.1",
        "--port", str(port), "--engine", "transformers", "--cache", f"sqlite:///{cache}",
        "--max-tokens-cap", str(max_tokens), "--max-in-flight", "256",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def server_timing(header: str) -> dict[str, float]:
    """`engine;dur=1.2, total;dur=3.4` -> {"engine": 1.2, "total": 3.4} (milliseconds)."""
    out = {}
    for part in header.split(","):
        name, _, dur = part.strip().partition(";dur=")
        if dur:
            out[name] = float(dur)
    return out


def run_phase(base, prompts, *, clients, max_tokens, deadline) -> list[dict]:
    """Send every prompt once from `clients` threads; one record per request."""
    records: list[dict] = []
    lock = threading.Lock()
    queue = list(enumerate(prompts))

    def worker():
        with httpx.Client(base_url=base, timeout=60) as client:
            while time.monotonic() < deadline:
                with lock:
                    if not queue:
                        return
                    _, prompt = queue.pop()
                body = {
                    "model": "bench",
                    "messages": [{"role": "user", "content": prompt}],
                    "max_tokens": max_tokens,
                    "temperature": 0,
                }
                t0 = time.perf_counter()
                try:
                    r = client.post("/v1/chat/completions", json=body)
                    ok = r.status_code == 200
                    rec = {"ok": ok, "cache": r.headers.get("x-cache")}
                    rec |= server_timing(r.headers.get("server-timing", ""))
                except httpx.HTTPError:
                    rec = {"ok": False}
                rec["latency_ms"] = (time.perf_counter() - t0) * 1000
                with lock:
                    records.append(rec)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    for rec in records:
        rec["wall_s"] = wall
    return records


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def memory_burst(base, pid, *, chars, requests, clients) -> dict:
    """`requests` chat requests with a `chars`-character prompt; the server's RSS around them."""
    body = json.dumps({"model": "bench", "messages": [{"role": "user", "content": "7" * chars}]})
    start = rss_mb(pid)
    peak, done, statuses = [start], threading.Event(), []

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb(pid))
            time.sleep(0.02)

    def client(n):
        headers = {"content-type": "application/json"}
        with httpx.Client(base_url=base, timeout=120, headers=headers) as c:
            statuses.extend(c.post("/v1/chat/completions", content=body).status_code
                            for _ in range(n))  # fmt: skip

    threads = [threading.Thread(target=sample)]
    threads += [
        threading.Thread(target=client, args=(requests // clients,)) for _ in range(clients)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join()
    wall = time.perf_counter() - t0
    time.sleep(1.0)
    done.set()
    threads[0].join()
    return {"chars": chars, "requests": len(statuses), "statuses": sorted(set(statuses)),
            "wall_s": wall, "rss_start_mb": start, "rss_peak_mb": peak[0],
            "rss_after_mb": rss_mb(pid)}  # fmt: skip


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def summarize(name: str, records: list[dict]) -> dict:
    ok = [r for r in records if r["ok"]]
    lat = [r["latency_ms"] for r in ok]
    layer = [r["total"] - r.get("engine", 0.0) for r in ok if "total" in r]
    wall = records[0]["wall_s"] if records else float("nan")
    return {
        "phase": name,
        "requests": len(records),
        "errors": len(records) - len(ok),
        "req_per_s": len(ok) / wall if wall else float("nan"),
        "p50_ms": pct(lat, 50),
        "p95_ms": pct(lat, 95),
        "server_total_p50_ms": pct([r["total"] for r in ok if "total" in r], 50),
        "engine_p50_ms": pct([r["engine"] for r in ok if r.get("engine")], 50),
        "layer_p50_ms": pct(layer, 50),
        "layer_p95_ms": pct(layer, 95),
        "layer_mean_ms": statistics.fmean(layer) if layer else float("nan"),
        "cache": sorted({r.get("cache") for r in ok}),
    }


def _cell(value) -> str:
    if isinstance(value, float):
        return "-" if value != value else f"{value:.1f}"  # NaN: no such time (a cache hit)
    return str(value)


def print_table(rows: list[dict]) -> None:
    cols = ["phase", "requests", "errors", "req_per_s", "p50_ms", "p95_ms", "engine_p50_ms",
            "layer_p50_ms", "layer_p95_ms"]  # fmt: skip
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        cells = [_cell(row[c]) for c in cols]
        print("| " + " | ".join(cells) + " |")


def run_bursts(base, pid, args) -> list[dict]:
    """A burst of prompts far over the character bound, then one at the bound."""
    # the server's bound: 16 characters a token of min(--max-prompt-tokens, the context)
    context = httpx.get(f"{base}/v1/models", timeout=5).json()["data"][0]["max_model_len"]
    tokens = min(ServeSettings("bench").max_prompt_tokens, context or 2**62)
    sizes = [524_288, CHARS_PER_TOKEN_BOUND * tokens]
    return [memory_burst(base, pid, chars=n, requests=args.burst, clients=args.clients)
            for n in sizes]  # fmt: skip


def print_bursts(bursts: list[dict]) -> None:
    if not bursts:
        return
    print("\n| prompt chars | requests | statuses | wall s | RSS start MB | peak MB | after MB |")
    print("|---|---|---|---|---|---|---|")
    for b in bursts:
        print(f"| {b['chars']:,} | {b['requests']} | {b['statuses']} | {b['wall_s']:.1f} | "
              f"{b['rss_start_mb']:.0f} | {b['rss_peak_mb']:.0f} | {b['rss_after_mb']:.0f} |")  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=160, help="per phase")
    p.add_argument("--max-seconds", type=float, default=120, help="per phase")
    p.add_argument("--max-tokens", type=int, default=32)
    p.add_argument("--solo", type=int, default=20, help="sequential misses (no contention)")
    p.add_argument("--burst", type=int, default=48, help="requests a memory burst (0: none)")
    p.add_argument("--model", help="model folder (default: a fresh tiny local model)")
    p.add_argument("--json", default="benchmarks/results/serve.json", help="write the figures here")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            from grpo_lead.toylab.model import save_tiny_model

            model = str(save_tiny_model(Path(tmp) / "tiny"))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(model, Path(tmp) / "cache.sqlite", port, args.max_tokens)
        try:
            wait_healthy(base, proc)
            prompts = [f"What is {i} + {i * 7 % 13}?" for i in range(args.requests)]
            solo = [f"Solo question {i}?" for i in range(args.solo)]
            limit = args.max_seconds
            rows = [
                summarize(
                    "miss, 1 client",
                    run_phase(base, solo, clients=1, max_tokens=args.max_tokens,
                              deadline=time.monotonic() + limit),
                ),
                summarize(
                    f"miss, {args.clients} clients",
                    run_phase(base, prompts, clients=args.clients, max_tokens=args.max_tokens,
                              deadline=time.monotonic() + limit),
                ),
                summarize(
                    f"hit, {args.clients} clients",
                    run_phase(base, prompts, clients=args.clients, max_tokens=args.max_tokens,
                              deadline=time.monotonic() + limit),
                ),
            ]  # fmt: skip
            bursts = run_bursts(base, proc.pid, args) if args.burst else []
        finally:
            proc.terminate()
            proc.wait(30)
    print(f"clients={args.clients} requests/phase={args.requests} max_tokens={args.max_tokens} "
          f"model={'tiny (0.45M params)' if args.model is None else args.model}")  # fmt: skip
    print_table(rows)
    print_bursts(bursts)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"phases": rows, "bursts": bursts}, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0 if all(r["errors"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
