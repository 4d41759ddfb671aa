"""Reports of toy runs: the demo's table and sample answers, the ablation's markdown tables,
and the ablation's accuracy-against-length plot (the demo's training curves: `grpo_lead.plots`);
the length-methods benchmark's tables (per method, difficulty-aware against fixed budgets), its
Pareto picture and its length-by-level picture."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grpo_lead.toylab.stats import length_level_keys, level_keys, level_of

__all__ = [
    "ABLATION_LABELS",
    "DEMO_LABELS",
    "format_table",
    "markdown_contrasts_table",
    "markdown_levels_table",
    "markdown_methods_table",
    "markdown_table",
    "markdown_versus_table",
    "plot_ablation",
    "plot_length_by_level",
    "plot_pareto",
    "ratio",
    "smoothed",
    "write_samples_md",
]

DEMO_LABELS = {"warmup": "after warm-up", "grpo": "after GRPO", "lead": "after GRPO-LEAD"}
ABLATION_LABELS = {
    "warmup": "warm-up (no RL)",
    "grpo": "GRPO",
    "+length": "+ length reward",
    "+difficulty": "+ difficulty weight",
    "lead": "+ explicit penalty (LEAD)",
    "lead-no-difficulty": "LEAD without difficulty weight",
    "trl-length": "TRL length baseline",
}


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is 0."""
    return None if a is None or not b else a / b


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


def smoothed(history: Sequence[dict], window: int) -> list[dict]:
    """The log history with every numeric metric replaced by its trailing moving average."""
    rows = [h for h in history if "lead/accuracy" in h]
    keys = {k for h in rows for k, v in h.items() if _is_number(v) and k != "step"}
    out = []
    for i, h in enumerate(rows):
        span = rows[max(0, i - window + 1) : i + 1]
        row = {"step": h["step"]}
        for k in keys:
            values = [r[k] for r in span if _is_number(r.get(k))]
            if values:
                row[k] = sum(values) / len(values)
        out.append(row)
    return out


def _pct(x: float | None) -> str:
    return "  -  " if x is None else f"{100 * x:5.1f}"


def _num(x: float | None) -> str:
    return "  -  " if x is None else f"{x:5.1f}"


def format_table(results: dict[str, dict[str, Any]], levels: Sequence[int]) -> str:
    """The demo's table: accuracy overall and per level, mean tokens of correct/wrong answers."""
    head = (
        f"{'':18s} {'acc %':>6s} "
        + " ".join(f"{'L' + str(lv):>5s}" for lv in levels)
        + f" | {'tokens: correct':>15s} {'wrong':>6s} {'all':>6s}"
    )
    lines = [head, "-" * len(head)]
    for name, summary in results.items():
        o = summary["overall"]
        by = summary["by_difficulty"]
        cells = " ".join(_pct(by.get(f"{lv:g}", {}).get("pass@1")) for lv in levels)
        lines.append(
            f"{DEMO_LABELS.get(name, name):18s} {_pct(o['pass@1']):>6s} {cells} | "
            f"{_num(o['mean_length_correct']):>15s} {_num(o['mean_length_wrong']):>6s} "
            f"{_num(o['mean_length']):>6s}"
        )
    return "\n".join(lines)


def write_samples_md(
    path: Path, records: dict[str, list[dict]], levels: Sequence[int], per_level: int = 1
) -> None:
    """A few held-out problems (`per_level` per level) with each model's first answer."""
    names = list(records)
    first = records[names[0]]
    chosen: list[str] = []
    for level in levels:
        ids = [r["id"] for r in first if r["difficulty"] == level and r["sample"] == 0]
        chosen.extend(ids[:per_level])
    parts = ["# Sample answers on held-out problems (first sample of each model)\n"]
    for pid in chosen:
        head = next(r for r in first if r["id"] == pid)
        parts.append(
            f"## {head['question']}  (level {int(head['difficulty'])}, answer {head['answer']})\n"
        )
        for name in names:
            r = next(r for r in records[name] if r["id"] == pid and r["sample"] == 0)
            mark = "correct" if r["correct"] else "wrong"
            parts.append(f"**{DEMO_LABELS.get(name, name)}** ({mark}, {r['num_tokens']} tokens)\n")
            parts.append("```\n" + r["completion"] + "\n```\n")
    path.write_text("\n".join(parts))


# -- the ablation's report --


def _fmt(m: dict[str, float], scale: float, digits: int, diff: bool) -> str:
    if m["mean"] != m["mean"]:
        return "-"
    text = f"{m['mean'] * scale:.{digits}f} [{m['lo'] * scale:.{digits}f}, {m['hi'] * scale:.{digits}f}]"
    if diff:
        text += f" ({m['diff'] * scale:+.{digits}f} [{m['diff_lo'] * scale:+.{digits}f}, {m['diff_hi'] * scale:+.{digits}f}])"
    return text


def _markdown(title: str, head: list[str], rows: list[list[str]]) -> str:
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])


def markdown_table(stats: dict[str, dict[str, dict[str, float]]], title: str) -> str:
    """One row per method, shaped like the paper's ablation; differences to GRPO in brackets."""
    hardest = level_keys(next(iter(stats.values())))[-1]
    head = [
        "setting",
        "accuracy %",
        f"L{level_of(hardest)} %",
        "tokens (correct)",
        "tokens (wrong)",
    ]
    rows = []
    for st, m in stats.items():
        diff = st != "grpo"
        rows.append(
            [
                ABLATION_LABELS.get(st, st),
                _fmt(m["accuracy"], 100, 1, diff),
                _fmt(m[hardest], 100, 1, diff),
                _fmt(m["length_correct"], 1, 1, diff),
                _fmt(m["length_wrong"], 1, 1, diff),
            ]
        )
    return _markdown(title, head, rows)


def markdown_levels_table(stats: dict[str, dict[str, dict[str, float]]], title: str) -> str:
    """Accuracy per difficulty level, one row per method; differences to GRPO in brackets."""
    levels = level_keys(next(iter(stats.values())))
    head = ["setting", *(f"level {level_of(lv)} %" for lv in levels)]
    rows = [
        [ABLATION_LABELS.get(st, st), *(_fmt(m[lv], 100, 1, st != "grpo") for lv in levels)]
        for st, m in stats.items()
    ]
    return _markdown(title, head, rows)


def markdown_contrasts_table(rows: list[dict[str, Any]], title: str) -> str:
    """One row per step: its paired difference in accuracy and lengths, 95% interval, and
    whether the interval excludes 0."""

    def cell(m: dict[str, float], scale: float) -> str:
        if m["diff"] != m["diff"]:
            return "-"
        outside = m["diff_lo"] > 0 or m["diff_hi"] < 0
        text = (
            f"{m['diff'] * scale:+.1f} [{m['diff_lo'] * scale:+.1f}, {m['diff_hi'] * scale:+.1f}]"
        )
        return f"**{text}**" if outside else text

    head = [
        "step",
        "compared",
        "accuracy (points)",
        "hardest level (points)",
        "tokens (correct)",
        "tokens (wrong)",
    ]
    cells = []
    for row in rows:
        m = row["metrics"]
        hardest = level_keys(m)[-1]
        cells.append(
            [
                row["step"],
                f"`{row['setting']}` - `{row['against']}`",
                cell(m["accuracy"], 100),
                cell(m[hardest], 100),
                cell(m["length_correct"], 1),
                cell(m["length_wrong"], 1),
            ]
        )
    return _markdown(title, head, cells)


def plot_ablation(stats_by_switch: dict[str, dict], path: Path) -> None:
    """Accuracy against mean length of correct answers, one point per method, 95% bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(stats_by_switch), figsize=(6 * len(stats_by_switch), 4.5), squeeze=False
    )
    for ax, (switch, stats) in zip(axes[0], stats_by_switch.items(), strict=True):
        for st, m in stats.items():
            x, y = m["length_correct"], m["accuracy"]
            ax.errorbar(
                x["mean"], 100 * y["mean"],
                xerr=[[x["mean"] - x["lo"]], [x["hi"] - x["mean"]]],
                yerr=[[100 * (y["mean"] - y["lo"])], [100 * (y["hi"] - y["mean"])]],
                fmt="o", capsize=3, label=ABLATION_LABELS.get(st, st),
            )  # fmt: skip
        ax.set_title(f"verbosity: {switch}")
        ax.set_xlabel("mean length of correct answers (tokens)")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- the length-methods benchmark's report --


def _cell(m: dict[str, float], scale: float = 1.0, digits: int = 1) -> str:
    if m["mean"] != m["mean"]:
        return "-"
    return f"{m['mean'] * scale:.{digits}f} [{m['lo'] * scale:.{digits}f}, {m['hi'] * scale:.{digits}f}]"


def _diff_cell(m: dict[str, float], scale: float = 1.0) -> str:
    if m["diff"] != m["diff"]:
        return "-"
    text = f"{m['diff'] * scale:+.1f} [{m['diff_lo'] * scale:+.1f}, {m['diff_hi'] * scale:+.1f}]"
    return f"**{text}**" if m["diff_lo"] > 0 or m["diff_hi"] < 0 else text


def markdown_methods_table(
    stats: dict[str, dict[str, dict[str, float]]],
    title: str,
    labels: dict[str, str],
    front: Sequence[str],
    floors: dict[int, float],
) -> str:
    """One row per method: accuracy, hardest level, mean length (all answers) with 95%
    intervals, mean length per level (point), and whether it lies on the Pareto front; the
    last row is the per-level floor."""
    first = next(iter(stats.values()))
    hardest, lengths = level_keys(first)[-1], length_level_keys(first)
    head = [
        "setting",
        "accuracy %",
        f"L{level_of(hardest)} accuracy %",
        "mean tokens",
        *(f"L{k[len('length_L') :]} tokens" for k in lengths),
        "Pareto",
    ]
    rows = []
    for st, m in stats.items():
        rows.append(
            [
                labels.get(st, st),
                _cell(m["accuracy"], 100),
                _cell(m[hardest], 100),
                _cell(m["length"]),
                *(f"{m[k]['mean']:.1f}" for k in lengths),
                "yes" if st in front else "",
            ]
        )
    floor_cells = [f"{floors[int(k[len('length_L') :])]:.1f}" for k in lengths]
    mean_floor = sum(floors.values()) / len(floors)
    rows.append(
        ["*floor (shortest style keeping accuracy)*", "", "", f"{mean_floor:.1f}", *floor_cells, ""]
    )
    return _markdown(title, head, rows)


def markdown_versus_table(rows: list[dict[str, Any]], title: str, labels: dict[str, str]) -> str:
    """Difficulty-aware methods against fixed budgets: paired differences of the hardest
    level's accuracy and of the mean length, and whether the aware one wins (hardest-level
    interval above 0 and the length interval not above 0)."""
    head = ["difficulty-aware", "fixed budget", "hardest level (points)", "mean tokens", "wins"]
    cells = []
    for row in rows:
        m = row["metrics"]
        hard = m[level_keys(m)[-1]]
        wins = hard["diff_lo"] > 0 and m["length"]["diff_lo"] <= 0
        cells.append(
            [
                labels.get(row["setting"], row["setting"]),
                labels.get(row["against"], row["against"]),
                _diff_cell(hard, 100),
                _diff_cell(m["length"]),
                "**yes**" if wins else "no",
            ]
        )
    return _markdown(title, head, cells)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


_MARKERS = "os^Dv<>PX"


def _style(plt, i: int) -> dict:
    """The i-th method's colour and marker: tab20's 20 colours with 9 markers give every one of
    up to 180 methods its own pair (the length grid has 23 rows)."""
    return {"color": plt.get_cmap("tab20")(i % 20), "marker": _MARKERS[i % len(_MARKERS)]}


def plot_pareto(
    stats_by_switch: dict[str, dict], fronts: dict[str, list[str]], labels: dict[str, str], path
) -> None:
    """Accuracy against mean length (all answers), one point per method with 95% bars, the
    Pareto front drawn; one panel per switch."""
    plt = _pyplot()
    n = len(stats_by_switch)
    fig, axes = plt.subplots(1, n, figsize=(6.5 * n, 5.5), squeeze=False)
    names = list(dict.fromkeys(st for stats in stats_by_switch.values() for st in stats))
    for ax, (switch, stats) in zip(axes[0], stats_by_switch.items(), strict=True):
        for st, m in stats.items():
            x, y = m["length"], m["accuracy"]
            ax.errorbar(
                x["mean"], 100 * y["mean"],
                xerr=[[x["mean"] - x["lo"]], [x["hi"] - x["mean"]]],
                yerr=[[100 * (y["mean"] - y["lo"])], [100 * (y["hi"] - y["mean"])]],
                ls="none", ms=5, capsize=2, **_style(plt, names.index(st)),
                label=labels.get(st, st),
            )  # fmt: skip
        front = fronts[switch]
        ax.plot(
            [stats[st]["length"]["mean"] for st in front],
            [100 * stats[st]["accuracy"]["mean"] for st in front],
            "k--", lw=1, label="Pareto front",
        )  # fmt: skip
        ax.set_title(f"verbosity: {switch}")
        ax.set_xlabel("mean length of all answers (tokens, EOS included)")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_length_by_level(
    stats_by_switch: dict[str, dict],
    floors: dict[str, dict[int, float]],
    labels: dict[str, str],
    path,
) -> None:
    """Mean length per level, one line per method, beside the per-level floor (black)."""
    plt = _pyplot()
    n = len(stats_by_switch)
    fig, axes = plt.subplots(1, n, figsize=(6.5 * n, 5.5), squeeze=False)
    names = list(dict.fromkeys(st for stats in stats_by_switch.values() for st in stats))
    for ax, (switch, stats) in zip(axes[0], stats_by_switch.items(), strict=True):
        keys = length_level_keys(next(iter(stats.values())))
        levels = [int(k[len("length_L") :]) for k in keys]
        for st, m in stats.items():
            ax.plot(
                levels, [m[k]["mean"] for k in keys], ms=4, lw=1,
                **_style(plt, names.index(st)), label=labels.get(st, st),
            )  # fmt: skip
        ax.plot(levels, [floors[switch][lv] for lv in levels], "k-", lw=3, label="floor")
        ax.set_title(f"verbosity: {switch}")
        ax.set_xlabel("level (operands - 1)")
        ax.set_xticks(levels)
        ax.set_ylabel("mean length (tokens)")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
