"""Pure metrics over k sampled answers per question (the paper's evaluation protocol; docs/evaluation.md).

For a question with n samples of which c are correct:

1. pass@1 = c / n, averaged over questions (the paper's "Pass@1: mean accuracy over the 32
   samples"); it equals the unbiased pass@1 below.
2. Unbiased pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code"):
   pass@k = 1 - C(n - c, k) / C(n, k), the probability that at least one of k samples drawn
   without replacement from the n is correct; averaged over questions. Reported for
   k = 1, 2, 4, ... up to the run's k (and k itself).
3. cons@k: the majority answer of the k extracted answers (answers grouped by mathematical
   equivalence through the answer checker) is correct; None answers never win, ties go to the
   group whose first member came first.
4. Lengths: mean generated tokens over samples, over all / correct / wrong samples.

Everything is also reported per difficulty bucket (e.g. MATH level) when records carry one.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Equivalent = Callable[[str, str], bool]

MAX_EXACT_BUCKETS = 10  # more distinct difficulty values than this are binned
NUM_BINS = 5


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k: 1 - C(n - c, k) / C(n, k).

    Computed exactly in integers, `(C(n, k) - C(n - c, k)) / C(n, k)` with one final rounding
    (Python's int division is correctly rounded), so it is stable for any n; when n - c < k
    every draw of k contains a correct sample and the result is 1.

    Raises ValueError unless 0 <= c <= n and 1 <= k <= n.

    >>> pass_at_k(4, 2, 2)  # 1 - C(2, 2) / C(4, 2) = 1 - 1/6
    0.8333333333333334
    """
    if n < 1 or not 0 <= c <= n:
        raise ValueError(f"pass_at_k needs n >= 1 and 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass_at_k needs 1 <= k <= n, got k={k}, n={n}")
    total = math.comb(n, k)
    return (total - math.comb(n - c, k)) / total


def pass_k_values(k: int) -> list[int]:
    """The k's reported: powers of two up to k, and k itself (4 -> [1, 2, 4]; 6 -> [1, 2, 4, 6])."""
    values = [2**i for i in range(k.bit_length()) if 2**i <= k]
    return values if values[-1] == k else [*values, k]


def majority_vote(
    answers: Sequence[str | None], *, equivalent: Equivalent | None = None
) -> str | None:
    """The most frequent answer, answers grouped by `equivalent` (default: the answer checker).

    Each distinct string joins the first group whose representative (first member) it equals
    (exact match) or is equivalent to; every pair is checked at most once. None answers never
    vote. Ties go to the group whose first member appears earliest. Returns that group's
    representative, or None when no answer is given.
    """
    if equivalent is None:
        from grpo_lead.answers import answers_equivalent as equivalent
    counts: dict[str, int] = {}  # distinct answer -> count, in order of first appearance
    for answer in answers:
        if answer is not None:
            counts[answer] = counts.get(answer, 0) + 1
    groups: list[list[str]] = []  # each group lists distinct answers; [0] is the representative
    for answer in counts:
        group = next((g for g in groups if equivalent(g[0], answer)), None)
        if group is None:
            groups.append([answer])
        else:
            group.append(answer)
    if not groups:
        return None
    sizes = [sum(counts[a] for a in g) for g in groups]
    best = max(range(len(groups)), key=lambda i: (sizes[i], -i))  # first group wins ties
    return groups[best][0]


@dataclass
class _Question:
    """What the metrics need of one question's samples."""

    n: int
    c: int
    cons_correct: bool
    difficulty: float | None
    lengths_correct: list[int] = field(default_factory=list)
    lengths_wrong: list[int] = field(default_factory=list)
    no_answer: int = 0
    truncated: int = 0


def summarize(
    records: Iterable[Mapping[str, Any]], k: int, *, equivalent: Equivalent | None = None
) -> dict[str, Any]:
    """Overall and per-difficulty metrics of per-sample records.

    A record needs "id", "extracted" (str | None), "correct" (bool), "num_tokens" (int), and
    optionally "difficulty" (float | None) and "finished" (bool: ended before the token limit).
    Returns {"k", "overall": metrics, "by_difficulty": {label: metrics}} where metrics holds
    num_questions, num_samples, pass@1, cons@k, pass@j, mean_length[_correct|_wrong] (None
    when there is no such sample), num_correct, num_wrong, num_no_answer, num_truncated.
    """
    by_id: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for record in records:
        by_id[str(record["id"])].append(record)
    questions = [_question(samples, equivalent) for samples in by_id.values()]
    return {
        "k": k,
        "overall": _metrics(questions, k),
        "by_difficulty": {
            label: _metrics(group, k) for label, group in _difficulty_buckets(questions).items()
        },
    }


def _question(samples: list[Mapping[str, Any]], equivalent: Equivalent | None) -> _Question:
    samples = sorted(samples, key=lambda r: r.get("sample", 0))
    extracted = [r.get("extracted") for r in samples]
    majority = majority_vote(extracted, equivalent=equivalent)
    # The majority answer is one of the extracted answers: its verdict is that sample's verdict.
    cons = majority is not None and bool(samples[extracted.index(majority)]["correct"])
    q = _Question(
        n=len(samples),
        c=sum(bool(r["correct"]) for r in samples),
        cons_correct=cons,
        difficulty=samples[0].get("difficulty"),
    )
    for r in samples:
        (q.lengths_correct if r["correct"] else q.lengths_wrong).append(int(r["num_tokens"]))
        q.no_answer += r.get("extracted") is None
        q.truncated += r.get("finished") is False
    return q


def _metrics(questions: list[_Question], k: int) -> dict[str, Any]:
    if not questions:
        return {"num_questions": 0, "num_samples": 0}
    correct = [n for q in questions for n in q.lengths_correct]
    wrong = [n for q in questions for n in q.lengths_wrong]
    out: dict[str, Any] = {
        "num_questions": len(questions),
        "num_samples": sum(q.n for q in questions),
        "pass@1": _mean([q.c / q.n for q in questions]),
        f"cons@{k}": _mean([float(q.cons_correct) for q in questions]),
    }
    smallest_n = min(q.n for q in questions)
    for j in pass_k_values(k):
        if 1 < j <= smallest_n:
            out[f"pass@{j}"] = _mean([pass_at_k(q.n, q.c, j) for q in questions])
    out.update(
        mean_length=_mean(correct + wrong),
        mean_length_correct=_mean(correct),
        mean_length_wrong=_mean(wrong),
        num_correct=len(correct),
        num_wrong=len(wrong),
        num_no_answer=sum(q.no_answer for q in questions),
        num_truncated=sum(q.truncated for q in questions),
    )
    return out


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _difficulty_buckets(questions: list[_Question]) -> dict[str, list[_Question]]:
    """One bucket per difficulty value (e.g. MATH levels), or NUM_BINS equal-width bins when
    there are more than MAX_EXACT_BUCKETS distinct values. Questions without one are left out."""
    rated = sorted((q for q in questions if q.difficulty is not None), key=lambda q: q.difficulty)
    values = sorted({q.difficulty for q in rated})
    buckets: dict[str, list[_Question]] = {}
    if len(values) <= MAX_EXACT_BUCKETS:
        for q in rated:
            buckets.setdefault(f"{q.difficulty:g}", []).append(q)
        return buckets
    low, width = values[0], (values[-1] - values[0]) / NUM_BINS
    for q in rated:
        i = min(int((q.difficulty - low) / width), NUM_BINS - 1)
        label = f"[{low + i * width:.3g}, {low + (i + 1) * width:.3g}" + (
            "]" if i == NUM_BINS - 1 else ")"
        )
        buckets.setdefault(label, []).append(q)
    return buckets


def summary_markdown(summary: Mapping[str, Any], *, title: str | None = None) -> str:
    """A markdown table: one row overall, one per difficulty bucket."""
    k = summary["k"]
    columns = ["pass@1", f"cons@{k}"]
    columns += [f"pass@{j}" for j in pass_k_values(k) if j > 1]
    columns += ["mean_length", "mean_length_correct", "mean_length_wrong"]
    columns += ["num_questions", "num_samples", "num_no_answer", "num_truncated"]
    rows = [("overall", summary["overall"])]
    rows += [(f"difficulty {label}", m) for label, m in summary.get("by_difficulty", {}).items()]
    return metrics_table(rows, columns, first="bucket", title=title)


def metrics_table(
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    columns: Sequence[str],
    *,
    first: str,
    title: str | None = None,
    cell: Callable[[str, Any], str] | None = None,
) -> str:
    """A markdown table of labelled metric rows (cells by `format_cell` unless `cell`)."""
    cell = cell or format_cell
    lines = [f"## {title}", ""] if title else []
    lines += [f"| {first} | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for label, metrics in rows:
        cells = [cell(c, metrics.get(c)) for c in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def format_cell(column: str, value: Any) -> str:
    """A table cell: rates with 3 decimals, lengths and counts as integers, None as "-"."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if column.startswith(("pass@", "cons@")):
        return f"{value:.3f}"
    return f"{value:,.0f}"
