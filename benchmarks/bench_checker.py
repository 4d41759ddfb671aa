"""Checks per second of grpo_lead.answers against calling math-verify directly, and our
worker pool against pebble's ProcessPool. One run writes benchmarks/results/checker.json.

Sets of (completion, reference) pairs, each completion a short reasoning that ends in a boxed
answer:
- "fast": answers the fast path decides (integers, GSM8K references with thousands
  separators, fractions against decimals, letters, wrong numbers);
- "mv": answers only math-verify can decide (expanded polynomials, tuples, intervals);
- "math500": MATH-500's 500 reference answers, each once boxed as it is (correct) and once the
  next problem's answer (wrong): real answer formats. Read from ``--math500 FILE`` (JSONL with
  an ``answer`` field), else ../shared/data/math500.jsonl beside the checkout, else the Hub
  (HuggingFaceH4/MATH-500, through ``grpo_lead.tasks.math.data``; cached after the first run). Where none
  is there the row is left out, with a warning on stderr and in the JSON ("math500_source").
Measured in one process: ``check_answer`` one pair at a time (pool warm), ``check_answers`` on
the whole set, the direct ``verify(parse(reference), parse(completion))`` in the main thread,
and, with ``--before FILE``, the same calls of an earlier single-file ``answers.py``. Also the
share of pairs decided without math-verify and the pairs where ours and the direct call differ.

Pool: 8 threads sharing 2 workers for ``--pool-seconds`` (calls per thread, slowest call) and
checks/s one at a time and 2 at a time, for our pool and for pebble's ProcessPool (fork
context) running the same math-verify function.

    .venv/bin/python benchmarks/bench_checker.py [--rounds 1 --n 200 --before old_answers.py]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import multiprocessing
import os
import platform
import random
import statistics
import sys
import threading
import time
from importlib.metadata import version
from pathlib import Path

from grpo_lead import answers
from grpo_lead.answers import pool as pool_module

REASONING = (
    "Let's think step by step. First we write down what is given and what is asked. "
    "Then we simplify the expression, check the arithmetic twice, and make sure the units "
    "are consistent before stating the result. "
)


def completion(answer: str) -> str:
    return f"{REASONING}\nSo the final answer is $\\boxed{{{answer}}}$."


def fast_pairs(n: int, rng: random.Random) -> list[tuple[str, str]]:
    pairs = []
    for i in range(n):
        k = rng.randrange(10**6) + i * 10**6  # distinct
        kind = i % 5
        if kind == 0:
            pairs.append((completion(str(k)), str(k)))
        elif kind == 1:
            pairs.append(
                (f"{REASONING}\nThe answer is {k:,}.", f"Adding up gives {k}.\n#### {k:,}")
            )
        elif kind == 2:
            d = 2 ** (i % 6 + 1)
            pairs.append((completion(f"\\frac{{{k}}}{{{d}}}"), str(k / d)))
        elif kind == 3:
            pairs.append((completion(str(k + 1)), str(k)))  # wrong
        else:
            pairs.append((completion(f"\\text{{({'ABCDE'[i % 5]})}}"), "ABCDE"[(i // 5) % 5]))
    return pairs


def mv_pairs(n: int, rng: random.Random) -> list[tuple[str, str]]:
    pairs = []
    for i in range(n):
        a, b = rng.randrange(2, 60) + i, rng.randrange(2, 30)
        kind = i % 4
        if kind == 0:
            pairs.append((completion(f"\\sqrt{{{a * a * b}}}"), f"{a}\\sqrt{{{b}}}"))
        elif kind == 1:
            pairs.append((completion(f"(x+{a})^2"), f"x^2+{2 * a}x+{a * a}"))
        elif kind == 2:
            pairs.append(
                (completion(f"({a}, {b}/{a})"), f"\\left( {a}, \\frac{{{b}}}{{{a}}} \\right)")
            )
        else:
            pairs.append((completion(f"x \\in [{a}, {a + b})"), f"[{a},{a + b}]"))  # wrong end
    return pairs


DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "math500.jsonl"


def math500_answers(path: Path | None) -> tuple[list[str] | None, str]:
    """(MATH-500's reference answers or None, where they came from or why there are none)."""
    from grpo_lead.tasks.math.data import DataError, load_problems

    if path is not None or DATA.exists():
        path = path or DATA.resolve()
        if not path.is_file():
            sys.exit(f"error: --math500 {path}: no such file")
        return [json.loads(line)["answer"] for line in path.read_text().splitlines() if line], str(
            path
        )
    try:
        return list(load_problems("math500")["answer"]), "HuggingFaceH4/MATH-500 (the Hub)"
    except DataError as exc:
        return None, f"left out: no --math500 FILE, no {DATA.resolve()}, and the Hub: {exc}"


def math500_pairs(refs: list[str]) -> list[tuple[str, str]]:
    """Each MATH-500 answer boxed as it is (correct), and the next problem's (wrong)."""
    pairs = [(completion(r), r) for r in refs]
    pairs += [(completion(refs[(i + 1) % len(refs)]), r) for i, r in enumerate(refs)]
    return pairs


def direct(pairs: list[tuple[str, str]]) -> list[bool]:
    """The usual direct call (main thread only): the reference boxed so that math-verify
    reads it as LaTeX (a bare "x^2+2x+1" would be read as the number 2)."""
    from math_verify import parse, verify

    return [bool(verify(parse(f"\\boxed{{{ref}}}"), parse(out))) for out, ref in pairs]


def rate(fn, pairs, rounds: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn(pairs)
        times.append(time.perf_counter() - t0)
    return len(pairs) / statistics.median(times), out


def load_before(path: str):
    """An earlier single-file answers.py, loaded under its own name (its own worker pool)."""
    spec = importlib.util.spec_from_file_location("answers_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["answers_before"] = module
    spec.loader.exec_module(module)
    return module


def methods(before) -> list[tuple[str, object]]:
    def single(mod):
        return lambda pairs: [mod.check_answer(o, r) for o, r in pairs]

    def batch(mod):
        def run(pairs):
            verdicts = mod.check_answers([o for o, _ in pairs], [r for _, r in pairs])
            return [v.correct for v in verdicts]

        return run

    out = [
        ("check_answer (single)", single(answers)),
        ("check_answers (batch, default workers)", batch(answers)),
        ("math_verify parse+verify (direct)", direct),
    ]
    if before is not None:
        out += [("before: check_answer (single)", single(before))]
        out += [("before: check_answers (batch)", batch(before))]
    return out


def fast_share(pairs) -> float:
    """Pairs decided without math-verify (extraction, fast path, letters)."""
    from grpo_lead.answers.check import _prepare

    decided = sum(isinstance(_prepare(o, r), answers.Verdict) for o, r in pairs)
    return round(decided / len(pairs), 3)


def measure_set(pairs, rounds: int, before) -> dict:
    res: dict = {"pairs": len(pairs), "decided_without_math_verify": fast_share(pairs)}
    for label, fn in methods(before):
        per_s, verdicts = rate(fn, pairs, rounds)
        res[label] = {"checks_per_s": round(per_s, 1), "correct": sum(verdicts)}
        print(f"  {label:42} {per_s:9.1f} /s  correct {sum(verdicts)}", flush=True)
    ours = [answers.check_answer(o, r) for o, r in pairs]
    theirs = direct(pairs)
    diff = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    res["disagreements_with_direct"] = len(diff)
    res["disagreement_examples"] = [
        {"reference": pairs[i][1], "answer": answers.extract_answer(pairs[i][0]), "ours": ours[i]}
        for i in diff[:8]
    ]
    return res


# --------------------------------------------------------------------------------------------
# Our pool against pebble's ProcessPool, on the same math-verify function
# --------------------------------------------------------------------------------------------

_CONFIGS: list = []
POOL_PAIRS = [(f"x^2+{2 * a}x+{a * a}", f"(x+{a})^2") for a in range(1, 200)]


def _mv_init() -> None:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    _CONFIGS[:] = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    _mv_equal("\\frac{1}{2}", "0.5")


def _mv_equal(gold: str, pred: str) -> str:
    from math_verify import parse, verify

    g = parse("\\boxed{" + gold + "}", extraction_config=_CONFIGS, parsing_timeout=None)
    p = parse("\\boxed{" + pred + "}", extraction_config=_CONFIGS, parsing_timeout=None)
    ok = g and p and verify(g, p, timeout_seconds=None, allow_set_relation_comp=True)
    return "match" if ok else "mismatch"


def run_ours(gold: str, pred: str, timeout: float) -> str:
    return pool_module._run_math_verify(gold, pred, time.monotonic() + timeout)


def pebble_runner(pool):
    def run(gold: str, pred: str, timeout: float) -> str:
        future = pool.schedule(_mv_equal, args=(gold, pred), timeout=timeout)
        try:
            return future.result()
        except Exception:  # pebble's TimeoutError, or a dead worker
            return "timeout"

    return run


def fairness(run, seconds: float, threads: int = 8) -> dict:
    counts, worst = [0] * threads, [0.0] * threads
    stop = time.monotonic() + seconds

    def loop(i: int) -> None:
        while time.monotonic() < stop:
            gold, pred = POOL_PAIRS[(i * 31 + counts[i]) % len(POOL_PAIRS)]
            t0 = time.monotonic()
            assert run(gold, pred, 60.0) == "match"
            worst[i] = max(worst[i], time.monotonic() - t0)
            counts[i] += 1

    pool_threads = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in pool_threads:
        t.start()
    for t in pool_threads:
        t.join()
    return {
        "calls_per_thread": counts,
        "min_over_max": round(min(counts) / max(counts), 3),
        "slowest_call_s": round(max(worst), 3),
        "checks_per_s": round(sum(counts) / seconds, 1),
    }


def throughput(run, threads: int, n: int = 120) -> float:
    items, lock = iter(POOL_PAIRS[:n]), threading.Lock()

    def loop() -> None:
        while True:
            with lock:
                item = next(items, None)
            if item is None:
                return
            assert run(*item, 60.0) == "match"

    t0 = time.perf_counter()
    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return round(n / (time.perf_counter() - t0), 1)


def measure_pool(run, seconds: float) -> dict:
    run("1", "1", 60.0)  # both workers up
    run("2", "2", 60.0)
    return {
        "one_at_a_time_per_s": throughput(run, 1),
        "two_at_a_time_per_s": throughput(run, 2),
        "fairness_8_threads_2_workers": fairness(run, seconds),
    }


def compare_pools(seconds: float) -> dict:
    import pebble

    answers.close_pool()
    default_workers = pool_module._default_workers
    pool_module._default_workers = lambda: 2
    try:
        ours = measure_pool(run_ours, seconds)
    finally:
        answers.close_pool()
        pool_module._default_workers = default_workers
    pool = pebble.ProcessPool(
        max_workers=2, initializer=_mv_init, context=multiprocessing.get_context("fork")
    )
    try:
        theirs = measure_pool(pebble_runner(pool), seconds)
    finally:
        pool.stop()
        pool.join()
    return {"ours": ours, "pebble ProcessPool (fork)": theirs, "pebble": version("pebble")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--n", type=int, default=200, help="pairs per synthetic set")
    ap.add_argument("--pool-seconds", type=float, default=5.0)
    ap.add_argument("--before", help="an earlier single-file answers.py to measure too")
    ap.add_argument(
        "--math500",
        type=Path,
        help="MATH-500 JSONL with an answer field (default: ../shared/data/math500.jsonl, else "
        "the Hub)",
    )
    ap.add_argument("--out", default="benchmarks/results/checker.json")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)  # math-verify warns once about timeouts
    rng = random.Random(0)
    sets = {"fast": fast_pairs(args.n, rng), "mv": mv_pairs(args.n, rng)}
    refs, math500_source = math500_answers(args.math500)
    if refs is None:
        print(f"warning: the MATH-500 row is {math500_source}", file=sys.stderr)
    else:
        sets["math500"] = math500_pairs(refs)
    before = load_before(args.before) if args.before else None

    answers.close_pool()
    t0 = time.perf_counter()
    answers.check_answer(completion("(x+1)^2"), "x^2+2x+1")
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    answers.check_answer(completion("(x+2)^2"), "x^2+4x+4")
    warm_s = time.perf_counter() - t0

    results = {}
    for name, pairs in sets.items():
        print(f"{name} ({len(pairs)} pairs)", flush=True)
        results[name] = measure_set(pairs, args.rounds, before)
    print("pools (8 threads on 2 workers; one and two at a time)", flush=True)
    pools = compare_pools(args.pool_seconds)
    print(json.dumps(pools, indent=1))
    report = {
        "pairs_per_synthetic_set": args.n,
        "rounds": args.rounds,
        "cold_start_s": round(cold_s, 3),
        "warm_single_mv_check_ms": round(warm_s * 1e3, 2),
        "sets": results,
        "math500_source": math500_source,
        "pools": pools,
        "before": args.before,
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "math_verify": version("math-verify"),
            "default_workers": pool_module._default_workers(),
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"pool cold start {cold_s:.2f} s; a warm check {warm_s * 1e3:.1f} ms; wrote {out}")


if __name__ == "__main__":
    main()
