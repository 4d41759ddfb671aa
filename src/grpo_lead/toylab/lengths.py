"""The length-methods benchmark's figures: statistics, Pareto fronts, floors and the question.

`length_methods_summary` turns the per-sample records of a finished grid (`grpo-lead ablation
--grid length-methods`) into:

1. per switch and method: accuracy overall and on the hardest level, mean length of all
   answers overall and per level, 95% intervals from the paired bootstrap of `toylab.stats`
   (differences to plain GRPO paired);
2. the Pareto front of (mean length, accuracy) per switch (`stats.pareto_front`, point
   estimates) and the methods on it on every switch;
3. the issue's question, per switch: every difficulty-aware method (`grid.KINDS`) against every
   fixed-budget one, paired: does it reach higher hardest-level accuracy (interval above 0) at
   equal or shorter mean length (length interval not above 0)?
4. what the difficulty-aware parts add within a method, paired (`WITHIN`): LEAD's weight at
   each alpha, LEAD's -1 and weight composed onto ALP, DLER and the soft overlong punishment,
   and RL itself (GRPO against the warm-up);
5. each level's floor (`task.level_floors`) beside the lengths.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["WITHIN", "labels", "length_methods_summary", "versus_pairs"]

# (method, against, what the first adds): the paired steps reported beside the question; a
# step whose two methods were not both run is left out.
WITHIN: tuple[tuple[str, str, str], ...] = (
    ("grpo", "warmup", "RL itself (GRPO against the warm-up)"),
    ("lead-a0.05", "lead-nodw-a0.05", "LEAD's difficulty weight (alpha 0.05)"),
    ("lead-a0.2", "lead-nodw-a0.2", "LEAD's difficulty weight (alpha 0.2)"),
    ("alp-0.01+lead", "alp-0.01", "LEAD's -1 and weight on ALP (beta 0.01)"),
    ("dler-64+lead", "dler-64", "LEAD's -1 and weight on DLER (budget 64)"),
    ("overlong-64+lead", "overlong-64", "LEAD's -1 and weight on soft overlong (from 64)"),
)


def labels() -> dict[str, str]:
    """Display label of every method of the grid, the warm-up row included."""
    from grpo_lead.toylab.grid import LENGTH_METHODS

    return {"warmup": "warm-up (no RL)", **{k: m.label for k, m in LENGTH_METHODS.items()}}


def versus_pairs(methods: list[str]) -> tuple[tuple[str, str, str], ...]:
    """(difficulty-aware, fixed budget, step) for every such pair among `methods`."""
    from grpo_lead.toylab.grid import LENGTH_METHODS

    def of(kind: str) -> list[str]:
        return [s for s in methods if s in LENGTH_METHODS and LENGTH_METHODS[s].kind == kind]

    return tuple((a, b, f"{a} vs {b}") for a in of("difficulty-aware") for b in of("budget"))


def length_methods_summary(
    records_by_switch: dict[str, dict[str, dict[int, list[dict]]]], *, n: int = 1000
) -> tuple[str, dict[str, Any], Callable[[Path], None]]:
    """(markdown report, figures for the JSON file, a function drawing both pictures: the Pareto
    picture at the given path, length by level beside it as ``<stem>_levels.png``)."""
    from grpo_lead.toylab.report import plot_length_by_level, plot_pareto

    names = labels()
    keys = ("stats", "pareto_front", "floors", "versus", "within", "run_seconds")
    figures: dict[str, Any] = {k: {} for k in keys}
    for v, records in records_by_switch.items():
        for key, value in _switch_figures(v, records, n).items():
            figures[key][v] = value
    stats, fronts = figures["stats"], figures["pareto_front"]
    every = [st for st in next(iter(fronts.values())) if all(st in f for f in fronts.values())]
    figures = {**figures, "front_on_every_switch": every}
    order = ("stats", "pareto_front", "front_on_every_switch", "floors", "versus", "within")
    figures = {k: figures[k] for k in (*order, "run_seconds")}  # the JSON file's key order

    def plot(path: Path) -> None:
        path = Path(path)
        plot_pareto(stats, fronts, names, path)
        plot_length_by_level(
            stats, figures["floors"], names, path.with_name(f"{path.stem}_levels.png")
        )

    return _markdown(figures, names), figures, plot


def _switch_figures(verbosity: str, records: dict[str, dict[int, list[dict]]], n: int) -> dict:
    """The figures of one task switch: bootstrap statistics, Pareto front, level floors, the
    question's contrasts (``versus``), the within-method steps and the mean run seconds."""
    from grpo_lead.toylab.stats import bootstrap, contrasts, pareto_front
    from grpo_lead.toylab.task import level_floors

    stats = bootstrap(records, n=n)
    points = {st: (m["length"]["mean"], m["accuracy"]["mean"]) for st, m in stats.items()}
    pairs = versus_pairs(list(records))
    return {
        "stats": stats,
        "pareto_front": pareto_front(points),
        "floors": {lv: f["floor_tokens"] for lv, f in level_floors(verbosity).items()},
        "versus": contrasts(records, n=n, steps=pairs, metrics=("accuracy", "length")),
        "within": contrasts(records, n=n, steps=WITHIN),
        "run_seconds": {
            st: sum(rows[0]["seconds"] for rows in by_seed.values()) / len(by_seed)
            for st, by_seed in records.items()
        },
    }


def _markdown(figures: dict[str, Any], names: dict[str, str]) -> str:
    """The report: per switch the methods table, the question and the within-method steps."""
    from grpo_lead.toylab.report import (
        markdown_contrasts_table,
        markdown_methods_table,
        markdown_versus_table,
    )

    parts = []
    for v, stats in figures["stats"].items():
        front, floors = figures["pareto_front"][v], figures["floors"][v]
        parts.append(markdown_methods_table(stats, f"verbosity = {v}", names, front, floors))
        if figures["versus"][v]:
            title = f"verbosity = {v}: difficulty-aware against fixed budgets"
            parts.append(markdown_versus_table(figures["versus"][v], title, names))
        if figures["within"][v]:
            title = f"verbosity = {v}: what the difficulty-aware parts add (paired)"
            parts.append(markdown_contrasts_table(figures["within"][v], title))
    every = figures["front_on_every_switch"]
    parts.append(
        f"On the Pareto front on every switch run ({', '.join(figures['stats'])}): "
        + (", ".join(names.get(st, st) for st in every) or "no setting")
    )
    return "\n\n".join(parts)
