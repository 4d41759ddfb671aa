"""Metrics of multiple-choice runs, overall and per group (subject, exam step, question type).

`summarize_choices(records, k)` is `grpo_lead.evaluation.metrics.summarize` (pass@1 over the k
samples, unbiased pass@j, cons@k, lengths) with three changes:

1. cons@k is the majority *letter* (letters compared as strings, no math checker); abstentions,
   hedges and missing answers never vote.
2. Abstention: ``coverage`` = share of samples that are not abstentions, ``accuracy_answered`` =
   correct / non-abstaining samples (selective accuracy), ``num_abstain``. Without abstentions
   coverage is 1 and accuracy_answered equals pass@1.
3. ``by_<key>`` for each group key (default subject, step, type): the same metrics over the
   questions whose first sample carries that key (records without it are left out; a key no
   record carries gives no table).

A record is a line of samples.jsonl: id, sample, extracted (letter or None), correct, reason,
num_tokens, finished, and the group keys.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from grpo_lead.evaluation.metrics import format_cell, metrics_table, pass_k_values, summarize

__all__ = ["GROUP_KEYS", "summarize_choices", "choice_summary_markdown"]

GROUP_KEYS = ("subject", "step", "type")


def summarize_choices(
    records: Iterable[Mapping[str, Any]], k: int, *, group_keys: Sequence[str] = GROUP_KEYS
) -> dict[str, Any]:
    """{"k", "overall", "by_difficulty", "by_<key>": {value: metrics}} (module docstring).

    >>> rows = [{"id": "q", "sample": i, "extracted": x, "correct": x == "B",
    ...          "reason": r, "num_tokens": 10, "subject": "Anatomy"}
    ...         for i, (x, r) in enumerate([("B", "match"), ("B", "match"), (None, "abstain")])]
    >>> s = summarize_choices(rows, 3)["overall"]
    >>> round(s["pass@1"], 3), s["cons@3"], round(s["coverage"], 3), s["accuracy_answered"]
    (0.667, 1.0, 0.667, 1.0)
    """
    records = list(records)
    summary = {**summarize(records, k, equivalent=operator.eq)}
    summary["overall"].update(_selective(records))
    by_id: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in records:
        by_id[str(r["id"])].append(r)
    for key in group_keys:
        groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for samples in by_id.values():
            value = samples[0].get(key)
            if value is not None and value != "":
                groups[str(value)].extend(samples)
        if groups:
            summary[f"by_{key}"] = {
                value: {**summarize(rows, k, equivalent=operator.eq)["overall"], **_selective(rows)}
                for value, rows in sorted(groups.items())
            }
    return summary


def _selective(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Coverage and accuracy when answered (abstentions excluded)."""
    answered = [r for r in records if r.get("reason") != "abstain"]
    return {
        "coverage": len(answered) / len(records) if records else None,
        "accuracy_answered": (
            sum(bool(r["correct"]) for r in answered) / len(answered) if answered else None
        ),
        "num_abstain": len(records) - len(answered),
    }


def choice_summary_markdown(summary: Mapping[str, Any], *, title: str | None = None) -> str:
    """A markdown table: one row overall, then one per group value (subject, step, type)."""
    k = summary["k"]
    columns = ["pass@1", f"cons@{k}", *(f"pass@{j}" for j in pass_k_values(k) if j > 1)]
    columns += ["coverage", "accuracy_answered", "mean_length", "mean_length_correct"]
    columns += ["mean_length_wrong", "num_questions", "num_samples", "num_no_answer"]
    rows = [("overall", summary["overall"])]
    for name, groups in summary.items():
        if name.startswith("by_") and name != "by_difficulty":
            rows += [(f"{name[3:]} {v}", m) for v, m in groups.items()]
    return metrics_table(rows, columns, first="group", title=title, cell=_cell)


def _cell(column: str, value: Any) -> str:
    if column in ("coverage", "accuracy_answered") and isinstance(value, float):
        return f"{value:.3f}"
    return format_cell(column, value)
