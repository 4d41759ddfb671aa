"""Runs side by side: a markdown table and accuracy against length (the paper's trade-off).

Each run is a `summary.json` (or the folder holding it). The table has one row per run; the
figure has one panel per benchmark and one point per run at (mean length, pass@1).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grpo_lead.evaluation.errors import EvalError
from grpo_lead.evaluation.metrics import format_cell

logger = logging.getLogger(__name__)

COMPARE_MD_FILE = "compare.md"
COMPARE_PNG_FILE = "compare.png"


@dataclass(frozen=True)
class RunSummary:
    label: str
    benchmark: str
    model: str
    summary: dict[str, Any]

    @property
    def overall(self) -> dict[str, Any]:
        return self.summary["overall"]


def load_summary(path: str | Path, label: str | None = None) -> RunSummary:
    """A summary.json, or a run folder holding one; the label defaults to the folder name."""
    path = Path(path)
    file = path / "summary.json" if path.is_dir() else path
    try:
        summary = json.loads(file.read_text(encoding="utf-8"))
        settings = summary["settings"]
        # fail here on a foreign JSON file, not on a KeyError while drawing the table
        summary["overall"]["pass@1"], int(summary["k"])  # noqa: B018
    except FileNotFoundError:
        raise EvalError(f"{file}: no such summary") from None
    except (ValueError, KeyError, TypeError):  # JSONDecodeError is a ValueError
        raise EvalError(f"{file}: not a summary.json written by grpo-lead eval") from None
    _check_numbers(file, summary)
    return RunSummary(
        label=label or file.parent.name,
        benchmark=Path(settings["data"]).stem,
        model=Path(settings["model"]).name,
        summary=summary,
    )


NUMBER_FIELDS = ("pass@1", "mean_length", "mean_length_correct", "mean_length_wrong")


def _check_numbers(file: Path, summary: dict[str, Any]) -> None:
    """The figures compare shows must be finite numbers (pass@1 and cons@k in [0, 1]): a
    hand-edited "NaN" string would be drawn and ranked as if it were one."""
    overall = summary["overall"]
    names = (*NUMBER_FIELDS, f"cons@{summary['k']}")
    for name in names:
        value = overall.get(name)
        if value is None and name != "pass@1":
            continue
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = (
            ok
            and math.isfinite(value)
            and (not name.startswith(("pass", "cons")) or 0 <= value <= 1)
        )
        if not ok:
            raise EvalError(f"{file}: overall {name} is {value!r}, not a finite number in range")


def compare_markdown(runs: Sequence[RunSummary]) -> str:
    """One row per run: benchmark, model, k, questions, pass@1, cons@k, lengths."""
    columns = ["run", "benchmark", "model", "k", "questions", "pass@1", "cons@k"]
    columns += ["mean length", "length correct", "length wrong"]
    lines = ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
    for run in runs:
        m, k = run.overall, run.summary["k"]
        cells = [
            run.label,
            run.benchmark,
            run.model,
            str(k),
            format_cell("num_questions", m.get("num_questions")),
            format_cell("pass@1", m.get("pass@1")),
            format_cell("cons@k", m.get(f"cons@{k}")),
            format_cell("mean_length", m.get("mean_length")),
            format_cell("mean_length_correct", m.get("mean_length_correct")),
            format_cell("mean_length_wrong", m.get("mean_length_wrong")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_accuracy_length(runs: Sequence[RunSummary], path: Path) -> None:
    """One panel per benchmark: pass@1 against mean length, one labelled point per run."""
    from matplotlib.figure import Figure  # no pyplot: no global backend state

    benchmarks = sorted({r.benchmark for r in runs})
    figure = Figure(figsize=(4.5 * len(benchmarks), 4), layout="constrained")
    axes = figure.subplots(1, len(benchmarks), squeeze=False)[0]
    for ax, benchmark in zip(axes, benchmarks):
        for run in (r for r in runs if r.benchmark == benchmark):
            x, y = run.overall.get("mean_length"), run.overall.get("pass@1")
            if x is None or y is None:
                continue
            ax.scatter([x], [y])
            ax.annotate(run.label, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set(title=benchmark, xlabel="mean length (tokens)", ylabel="pass@1")
        ax.grid(alpha=0.3)
    figure.savefig(path, dpi=120)


def compare(
    summaries: Sequence[str | Path], out: str | Path, *, labels: Sequence[str] | None = None
) -> str:
    """Write out/compare.md and out/compare.png; returns the markdown table."""
    if not summaries:
        raise EvalError("compare needs at least one summary")
    if labels is not None and len(labels) != len(summaries):
        raise EvalError(f"{len(labels)} labels for {len(summaries)} summaries")
    runs = [load_summary(path, labels[i] if labels else None) for i, path in enumerate(summaries)]
    out = Path(out)
    from grpo_lead.paths import out_problem

    problem = out_problem(out)
    if problem:
        raise EvalError(problem)
    out.mkdir(parents=True, exist_ok=True)
    table = compare_markdown(runs)
    (out / COMPARE_MD_FILE).write_text(table, encoding="utf-8")
    plot_accuracy_length(runs, out / COMPARE_PNG_FILE)
    logger.info("wrote %s and %s", out / COMPARE_MD_FILE, out / COMPARE_PNG_FILE)
    return table
