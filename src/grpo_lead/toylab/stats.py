"""Statistics of toy runs: a bootstrap over seeds and problems, and the ablation's contrasts.

Every seed is evaluated on the same held-out problems (a crossed design), so a replicate draws
the seeds with replacement and, independently, one set of problems that every drawn seed uses.
The same draw applies to every method, so differences between methods are paired.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CONTRASTS",
    "CONTRAST_METRICS",
    "bootstrap",
    "contrasts",
    "length_level_keys",
    "level_keys",
    "level_of",
    "pareto_front",
]

STATS = ("n", "correct", "len_correct", "len_wrong")


def _table(records: dict[str, dict[int, list[dict]]]):
    """(methods, seeds, problems, 4) array of per-(seed, problem) sums, and the problem levels."""
    import numpy as np

    names = list(records)
    seeds = sorted(records[names[0]])
    problems = sorted({r["id"] for r in records[names[0]][seeds[0]]}, key=str)
    index = {p: i for i, p in enumerate(problems)}
    table = np.zeros((len(names), len(seeds), len(problems), len(STATS)))
    levels = np.zeros(len(problems), dtype=int)
    for a, st in enumerate(names):
        for b, sd in enumerate(seeds):
            for r in records[st][sd]:
                c = index[r["id"]]
                levels[c] = int(r["difficulty"])
                ok = bool(r["correct"])
                table[a, b, c] += (1, ok, r["num_tokens"] * ok, r["num_tokens"] * (not ok))
    return names, table, levels


def _metrics_from(sums, levels) -> dict[str, float]:
    """Metrics from weighted sums: sums (..., problems, 4) already weighted."""
    import numpy as np

    def ratio(a, b):
        return float(a / b) if b > 0 else float("nan")

    total = sums.sum(axis=-2)
    out = {"accuracy": ratio(total[1], total[0])}
    by_level = {level: sums[..., levels == level, :].sum(axis=-2) for level in np.unique(levels)}
    for level, at in by_level.items():
        out[f"accuracy_L{level}"] = ratio(at[1], at[0])
    out["length_correct"] = ratio(total[2], total[1])
    out["length_wrong"] = ratio(total[3], total[0] - total[1])
    out["length"] = ratio(total[2] + total[3], total[0])  # every answer, EOS included
    for level, at in by_level.items():
        out[f"length_L{level}"] = ratio(at[2] + at[3], at[0])
    return out


def bootstrap(
    records: dict[str, dict[int, list[dict]]],
    *,
    reference: str = "grpo",
    n: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, dict[str, float]]]:
    """Point estimates and 95% percentile intervals, resampling seeds and problems.

    `records[method][seed]` = sample rows with ``id`` (problem), ``difficulty``, ``correct``
    and ``num_tokens``. Every seed is evaluated on the same problems (a crossed design), so each
    replicate draws the seeds with replacement and, independently, one set of problems with
    replacement that every drawn seed uses (drawing problems anew per seed would shrink the
    problems' share of the variance by the number of seeds). The same draw applies to every
    method, so the differences to `reference` are paired. Returns
    ``{method: {metric: {"mean", "lo", "hi", "diff", "diff_lo", "diff_hi"}}}``.
    """
    import numpy as np

    names, table, levels = _table(records)
    n_seeds, n_problems = table.shape[1], table.shape[2]
    ref = names.index(reference)
    point = [_metrics_from(table[a].sum(axis=0), levels) for a in range(len(names))]
    rng = np.random.default_rng(seed)
    reps: list[list[dict[str, float]]] = [[] for _ in names]
    for _ in range(n):
        seed_w = np.bincount(rng.integers(0, n_seeds, n_seeds), minlength=n_seeds)
        problem_w = np.bincount(rng.integers(0, n_problems, n_problems), minlength=n_problems)
        sums = np.einsum("aspk,s,p->apk", table, seed_w, problem_w)
        for a in range(len(names)):
            reps[a].append(_metrics_from(sums[a], levels))
    out = {}
    for a, st in enumerate(names):
        out[st] = {}
        for k, mean in point[a].items():
            values = [r[k] for r in reps[a]]
            diffs = [r[k] - q[k] for r, q in zip(reps[a], reps[ref], strict=True)]
            out[st][k] = {
                "mean": mean,
                **_interval(values, "lo", "hi"),
                "diff": mean - point[ref][k],
                **_interval(diffs, "diff_lo", "diff_hi"),
            }
    return out


def _interval(values: list[float], lo: str, hi: str) -> dict[str, float]:
    vals = sorted(v for v in values if v == v)
    if not vals:
        return {lo: float("nan"), hi: float("nan")}
    return {lo: vals[int(0.025 * (len(vals) - 1))], hi: vals[int(0.975 * (len(vals) - 1))]}


# Each mechanism's own effect: (method, against, what the step adds), both from METHODS.
CONTRASTS: tuple[tuple[str, str, str], ...] = (
    ("grpo", "warmup", "RL itself (plain GRPO against the warm-up)"),
    ("+length", "grpo", "length reward"),
    ("+difficulty", "+length", "difficulty weight (wrong answers at 0)"),
    ("lead", "+difficulty", "explicit -1 for wrong answers"),
    ("lead", "lead-no-difficulty", "difficulty weight (within LEAD)"),
    ("lead", "trl-length", "LEAD against the TRL length baseline"),
)
CONTRAST_METRICS = ("accuracy", "length_correct", "length_wrong")


def contrasts(
    records: dict[str, dict[int, list[dict]]],
    *,
    n: int = 1000,
    seed: int = 0,
    steps: tuple[tuple[str, str, str], ...] = CONTRASTS,
    metrics: tuple[str, ...] = CONTRAST_METRICS,
) -> list[dict[str, Any]]:
    """Paired differences (method minus against) for every step of `steps` (default: the
    ablation's `CONTRASTS`) whose two methods were run, with 95% intervals, for `metrics` and
    the hardest level's accuracy."""
    out = []
    for method, against, step in steps:
        if method not in records or against not in records:
            continue
        stats = bootstrap(
            {against: records[against], method: records[method]},
            reference=against,
            n=n,
            seed=seed,
        )[method]
        hardest = level_keys(stats)[-1]
        picked = {k: stats[k] for k in (*metrics, hardest)}
        # "setting": the key the committed reports (ablation.json, length_methods.json) hold
        out.append({"setting": method, "against": against, "step": step, "metrics": picked})
    return out


def level_of(key: str) -> int:
    """The level of a per-level accuracy key ("accuracy_L3" -> 3)."""
    return int(key[len("accuracy_L") :])


def level_keys(metrics: dict[str, Any]) -> list[str]:
    """The per-level accuracy keys, easiest first."""
    return sorted((k for k in metrics if k.startswith("accuracy_L")), key=level_of)


def length_level_keys(metrics: dict[str, Any]) -> list[str]:
    """The per-level mean length keys ("length_L1", ...), easiest first."""
    return [f"length_L{level_of(k)}" for k in level_keys(metrics)]


def pareto_front(points: dict[str, tuple[float, float]]) -> list[str]:
    """The names whose (length, accuracy) no other point dominates: none is at most as long and
    at least as accurate, and strictly better in one of the two. Shortest first.

    >>> pareto_front({"a": (40, 0.8), "b": (50, 0.9), "c": (50, 0.85), "d": (30, 0.7)})
    ['d', 'a', 'b']
    """

    def dominated(x: tuple[float, float]) -> bool:
        return any(
            y[0] <= x[0] and y[1] >= x[1] and (y[0] < x[0] or y[1] > x[1]) for y in points.values()
        )

    front = [k for k, x in points.items() if not dominated(x)]
    return sorted(front, key=lambda k: (points[k][0], -points[k][1]))
