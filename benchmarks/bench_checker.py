"""Checks per second of grpo_lead.answers against calling math-verify directly.

Two sets of (completion, reference) pairs, each completion a short reasoning that ends in a
boxed answer, every pair distinct (math-verify's small LRU caches do not flatter either side):
- "fast": answers our fast path decides without math-verify (integers, GSM8K references with
  thousands separators, fractions against decimals, letters, wrong numbers);
- "mv": answers only math-verify can decide (radicals, expanded polynomials, tuples, intervals).
Measured in one process, medians over rounds: ``check_answer`` one pair at a time (pool warm),
``check_answers`` on the whole set (default workers, and 1), the direct
``verify(parse(reference), parse(completion))`` in the main thread, and the pool's cold start.
Also counts the pairs where the two disagree.

    .venv/bin/python benchmarks/bench_checker.py [--rounds 3 --n 200]
Writes benchmarks/results/checker.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import statistics
import time
from importlib.metadata import version
from pathlib import Path

from grpo_lead import answers

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=200, help="pairs per set")
    ap.add_argument("--out", default="benchmarks/results/checker.json")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)  # math-verify warns once about timeouts
    rng = random.Random(0)
    sets = {"fast": fast_pairs(args.n, rng), "mv": mv_pairs(args.n, rng)}

    answers.close_pool()
    t0 = time.perf_counter()
    answers.check_answer(completion("\\sqrt{8}"), "2\\sqrt{2}")
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    answers.check_answer(completion("\\sqrt{12}"), "2\\sqrt{3}")
    warm_s = time.perf_counter() - t0

    def single(pairs):
        return [answers.check_answer(o, r) for o, r in pairs]

    def batch(pairs):
        return [
            v.correct for v in answers.check_answers([o for o, _ in pairs], [r for _, r in pairs])
        ]

    def batch1(pairs):
        outs, refs = [o for o, _ in pairs], [r for _, r in pairs]
        return [v.correct for v in answers.check_answers(outs, refs, num_workers=1)]

    rows, results = [], {}
    for name, pairs in sets.items():
        res = {}
        for label, fn in [
            ("check_answer (single)", single),
            ("check_answers (batch, default workers)", batch),
            ("check_answers (batch, 1 worker)", batch1),
            ("math_verify parse+verify (direct)", direct),
        ]:
            per_s, verdicts = rate(fn, pairs, args.rounds)
            res[label] = {"checks_per_s": round(per_s, 1), "correct": sum(verdicts)}
            rows.append((name, label, per_s, sum(verdicts)))
        ours = single(pairs)
        theirs = direct(pairs)
        diff = [i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
        res["disagreements_with_direct"] = len(diff)
        res["disagreement_examples"] = [
            {
                "reference": pairs[i][1],
                "answer": answers.extract_answer(pairs[i][0]),
                "ours": ours[i],
            }
            for i in diff[:3]
        ]
        results[name] = res

    print(f"{'set':5} {'method':40} {'checks/s':>10} {'correct':>8}")
    for name, label, per_s, correct in rows:
        print(f"{name:5} {label:40} {per_s:10.1f} {correct:8d}")
    print(
        f"pool cold start + first check: {cold_s:.2f} s; next single check: {warm_s * 1e3:.1f} ms"
    )
    for name in sets:
        print(
            f"{name}: disagreements with direct math-verify: {results[name]['disagreements_with_direct']}"
        )

    report = {
        "pairs_per_set": args.n,
        "rounds": args.rounds,
        "cold_start_s": round(cold_s, 3),
        "warm_single_mv_check_ms": round(warm_s * 1e3, 2),
        "sets": results,
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "math_verify": version("math-verify"),
            "default_workers": answers._default_workers(),
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
