"""The toy grids' runner: every job of a grid (warm-ups, then RL runs), then its report.

`run_ablation` is `grpo-lead ablation` (`grpo_lead.ablation`, the command and its docs) without
its flags. A grid (`toylab.grid`) is run in one folder (`toylab.runs`: the budget, a records
file per run, the archive that carries them across machines); its jobs are
(kind, verbosity, seed, method):

1. ``warmup``: the task files and the warm-up model of one (switch, seed) (`prepare_warmup`);
2. ``run``: one method trained from its seed's warm-up (``warmup``: none), evaluated on the
   held-out problems, its per-sample records written (`train_and_evaluate`).

They run on spawned processes, one thread each (`toylab.jobs.run_jobs`): a run waits for its
seed's warm-up only, and every run that ends is packed into the archive at once. The report
(`_summary`) reads every run's records back from the folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import Any

from grpo_lead.paths import out_problem
from grpo_lead.toylab.archive import RunArchive
from grpo_lead.toylab.grid import grid_methods, run_options
from grpo_lead.toylab.jobs import run_jobs
from grpo_lead.toylab.runs import (
    RECORD_KEYS,
    AblationSettings,
    archive_of,
    check_records,
    claim_folder,
    pack_runs,
    read_records,
    same_budget,
    unpack_runs,
    unusable,
    write_records,
)
from grpo_lead.toylab.settings import LabSettings
from grpo_lead.toylab.task import VERBOSITIES

__all__ = ["prepare_warmup", "run_ablation", "train_and_evaluate"]

# -- one job -------------------------------------------------------------------------------------


def lab_settings(s: AblationSettings, verbosity: str, quick: bool) -> LabSettings:
    """The toy lab's settings of every run: the demo's, with the ablation's budgets."""
    base = LabSettings.quick() if quick else LabSettings()
    return replace(
        base,
        verbosity=verbosity,
        rl_steps=s.rl_steps,
        warmup_steps=s.warmup_steps,
        eval_problems=s.eval_problems,
        eval_samples=s.eval_samples,
    )


def prepare_warmup(out: Path, verbosity: str, seed: int, s: AblationSettings, quick: bool) -> Path:
    """Task files and the warm-up model of one (verbosity, seed); reused by every method."""
    from grpo_lead.toylab.warmup import prepare

    root = out / verbosity / f"seed{seed}"
    model_dir = root / "warmup"
    if not (model_dir / "config.json").exists():
        prepare(
            lab_settings(s, verbosity, quick),
            seed=seed,
            model_dir=model_dir,
            problems_path=root / "problems.jsonl",
        )
    return root


def train_and_evaluate(
    out: Path, verbosity: str, seed: int, method: str, s: AblationSettings, quick: bool
) -> Path:
    """Train one method from the seed's warm-up (``warmup``: none), evaluate it on the held-out
    problems, write its per-sample records."""
    import torch

    from grpo_lead.toylab.evaluate import evaluate_model, held_out_problems
    from grpo_lead.toylab.rl import train_method

    torch.set_num_threads(1)
    lab = lab_settings(s, verbosity, quick)
    root = out / verbosity / f"seed{seed}"
    records_path = root / f"{method}.jsonl"
    if records_path.exists():
        return records_path
    start = time.perf_counter()
    model_dir = root / "warmup"
    if method != "warmup":
        model_dir = train_method(
            method,
            warmup_dir=model_dir,
            problems_path=root / "problems.jsonl",
            out_dir=root,
            settings=lab,
            seed=seed,
            soft_punish_cache=s.soft_punish_cache,
            **run_options(s.grid, method),
        )["model_dir"]
    _, records = evaluate_model(
        model_dir,
        held_out_problems(lab.eval_problems),
        samples=lab.eval_samples,
        max_new_tokens=lab.max_completion_length,
        temperature=lab.temperature,
        seed=seed,
    )
    seconds = time.perf_counter() - start
    keep = [{**{k: r[k] for k in RECORD_KEYS}, "seconds": seconds} for r in records]
    write_records(records_path, keep)
    return records_path


def _job(
    job: tuple[str, str, int, str | None], *, out: Path, s: AblationSettings, quick: bool
) -> str:
    """One job of `_job_order` in a worker process."""
    import torch
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(1)  # one thread a job: `workers` jobs keep that many cores busy
    hf_logging.disable_progress_bar()  # workers' "Writing model shards" bars would break ours
    kind, verbosity, seed, method = job
    if kind == "warmup":
        return str(prepare_warmup(out, verbosity, seed, s, quick))
    return str(train_and_evaluate(out, verbosity, seed, method, s, quick))


# -- driver --------------------------------------------------------------------------------------


def _resolve(
    methods: Sequence[str], quick: bool, rl_steps: int | None, grid: str = "paper"
) -> AblationSettings:
    """The budget of this call; raises ValueError for bad methods, grid or steps."""
    known = ("warmup", *grid_methods(grid))
    unknown = set(methods) - set(known)
    if unknown or "grpo" not in methods:
        raise ValueError(
            f"methods must include 'grpo' and come from grid {grid!r}: {list(known)}; "
            f"got {list(methods)}"
        )
    s = AblationSettings.quick(grid) if quick else AblationSettings(grid=grid)
    if rl_steps is not None:
        if rl_steps < 1:
            raise ValueError(f"rl_steps must be >= 1, got {rl_steps}")
        s = replace(s, rl_steps=rl_steps)
    return s


def _job_order(jobs, methods, out: Path | None = None) -> list[tuple[str, str, int, str | None]]:
    """Every job as (kind, verbosity, seed, method), in the order they should run: switch by
    switch (as given: the first switch's figures land first), within a switch its warm-ups, then
    method by method over the seeds (a method's seeds land together, so a stopped grid
    leaves whole rows for the report). Runs whose records are already in `out` are left out,
    and so is the warm-up of a seed with no run left to do."""

    def done(v, sd, st):
        return out is not None and (out / v / f"seed{sd}" / f"{st}.jsonl").exists()

    switches = list(dict.fromkeys(v for v, _ in jobs))
    order = []
    for v in switches:
        seeds = [sd for w, sd in jobs if w == v]
        runs = [("run", v, sd, st) for st in methods for sd in seeds if not done(v, sd, st)]
        order += [("warmup", v, sd, None) for sd in seeds if any(r[2] == sd for r in runs)]
        order += runs
    return order


def _run_jobs(
    out: Path, jobs, methods, s: AblationSettings, *, quick, workers, progress, on_run=None
):
    """Run `_job_order`'s jobs, `workers` at a time (`toylab.jobs.run_jobs`): each free worker
    takes the first job whose warm-up is done; a failed job raises once the jobs already
    running have ended (and been saved). `on_run()` is called after each saved run."""
    from tqdm.auto import tqdm

    todo = _job_order(jobs, methods, out)
    warm_total = sum(1 for j in todo if j[0] == "warmup")
    warm_bar = tqdm(total=warm_total, desc="warm-ups", disable=not progress)
    run_bar = tqdm(total=len(todo) - warm_total, desc="RL runs", disable=not progress)

    def ready(job, finished) -> bool:
        return job[0] == "warmup" or ("warmup", job[1], job[2], None) in finished

    def landed(job, _path) -> None:
        (warm_bar if job[0] == "warmup" else run_bar).update()
        if job[0] != "warmup" and on_run is not None:
            on_run()

    try:
        run_jobs(todo, partial(_job, out=out, s=s, quick=quick), workers=workers,
                 processes=True, ready=ready, on_done=landed)  # fmt: skip
    finally:
        warm_bar.close()
        run_bar.close()


def _records(out: Path, verbosity: str, seeds, methods) -> dict[str, dict[int, list[dict]]]:
    root = out / verbosity
    return {
        st: {sd: _records_of(root / f"seed{sd}" / f"{st}.jsonl") for sd in seeds} for st in methods
    }


def _records_of(path: Path) -> list[dict]:
    rows = read_records(path)
    if rows is None:
        raise unusable(path)
    return rows


def _report(stats_by_switch: dict[str, dict], steps: dict[str, list]) -> str:
    """ablation.md: the main tables, the contrasts, the per-level tables."""
    from grpo_lead.toylab.report import (
        markdown_contrasts_table,
        markdown_levels_table,
        markdown_table,
    )

    report = "\n\n".join(
        markdown_table(st, f"verbosity = {v}") for v, st in stats_by_switch.items()
    )
    report += (
        "\n\nEach mechanism's own effect: paired differences, 95% intervals; **bold** = the "
        "interval excludes 0:\n\n"
    )
    report += "\n\n".join(
        markdown_contrasts_table(rows, f"verbosity = {v}") for v, rows in steps.items()
    )
    report += "\n\nAccuracy per difficulty level (level = operands - 1):\n\n" + "\n\n".join(
        markdown_levels_table(st, f"verbosity = {v}") for v, st in stats_by_switch.items()
    )
    return report


def _run_seconds(records: dict[str, dict[int, list[dict]]]) -> dict[str, float]:
    """Wall seconds of one run (RL + evaluation), mean over seeds, as each run recorded it."""
    return {
        st: sum(rows[0]["seconds"] for rows in by_seed.values()) / len(by_seed)
        for st, by_seed in records.items()
    }


def _paper_summary(out: Path, verbosities, seeds, methods, s: AblationSettings) -> tuple:
    """The paper's ablation: per-switch statistics, its contrasts; (report, figures, plot)."""
    from grpo_lead.toylab.report import plot_ablation
    from grpo_lead.toylab.stats import bootstrap, contrasts

    stats_by_switch, run_seconds, steps = {}, {}, {}
    for v in verbosities:
        records = _records(out, v, seeds, methods)
        stats_by_switch[v] = bootstrap(records, n=s.bootstrap)
        steps[v] = contrasts(records, n=s.bootstrap)
        run_seconds[v] = _run_seconds(records)
    figures = {"stats": stats_by_switch, "contrasts": steps, "run_seconds": run_seconds}
    return (
        _report(stats_by_switch, steps),
        figures,
        lambda path: plot_ablation(stats_by_switch, path),
    )


def run_ablation(
    out_dir: str | Path | None = None,
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    verbosities: Sequence[str] | None = None,
    methods: Sequence[str] | None = None,
    grid: str = "paper",
    workers: int = 2,
    quick: bool = False,
    progress: bool = True,
    rl_steps: int | None = None,
    archive: str | Path | None = None,
) -> dict[str, Any]:
    """Run (or resume) every job of `grid`, then write its report: ``ablation.{md,json,png}``
    (paper grid) or ``length_methods.{md,json,png}`` and ``length_methods_levels.png``.

    Defaults: every method of the grid (with the warm-up row), the switches ``redundant
    useful`` (paper) or ``mixed redundant useful`` (length methods), the folder
    ``outputs/ablation`` or ``outputs/length-methods``. `rl_steps` overrides the RL budget of
    every run. A folder keeps the budget and grid it was started with: resuming it with
    others is refused (its runs would mix budgets). `archive` (a ``.jsonl.gz`` file) carries
    finished runs across machines: its runs are unpacked into the folder first (replacing
    records cut by a kill), and every run that finishes is packed into it (`pack_runs`), so a
    grid longer than a session resumes from a committed file. Every check (methods, seeds,
    the archive: readable, same budget, or a place it can be written) comes before anything
    is written; a bad one raises ValueError."""
    methods = ("warmup", *grid_methods(grid)) if methods is None else tuple(methods)
    if verbosities is None:
        verbosities = (
            ("redundant", "useful") if grid == "paper" else ("mixed", "redundant", "useful")
        )
    s = _check_call(seeds, verbosities, methods, quick, rl_steps, grid)
    out = Path(out_dir or ("outputs/ablation" if grid == "paper" else "outputs/length-methods"))
    problem = out_problem(out)
    if problem:
        raise ValueError(problem)
    on_run = _prepare_folder(out, s, None if archive is None else Path(archive))
    start = time.perf_counter()
    jobs = [(v, sd) for v in verbosities for sd in seeds]
    _run_jobs(out, jobs, methods, s, quick=quick, workers=workers, progress=progress, on_run=on_run)
    stem, report, figures, plot = _summary(out, verbosities, seeds, methods, s)
    (out / f"{stem}.md").write_text(report + "\n")
    result = {
        "seeds": list(seeds),
        "settings": asdict(s),
        **figures,
        "seconds_this_call": time.perf_counter() - start,  # ~0 when every run was saved
    }
    (out / f"{stem}.json").write_text(json.dumps(result, indent=1))
    plot(out / f"{stem}.png")
    if progress:
        print(report)
    return result


def _check_call(seeds, verbosities, methods, quick, rl_steps, grid) -> AblationSettings:
    """The budget of this call, once its seeds, switches and methods are checked."""
    bad = [v for v in verbosities if v not in VERBOSITIES]
    if bad:
        raise ValueError(f"unknown verbosity {bad}; choose from {list(VERBOSITIES)}")
    if not seeds or any(isinstance(sd, bool) or not isinstance(sd, int) or sd < 0 for sd in seeds):
        raise ValueError(
            f"seeds must be one or more integers >= 0 (--seeds N >= 1), got {list(seeds)}"
        )
    return _resolve(methods, quick, rl_steps, grid)


def _prepare_folder(out: Path, s: AblationSettings, archive: Path | None):
    """Check the archive, claim the folder, unpack the archive's runs into it and check every
    record there; returns the callback that packs each new run into the archive (or None)."""
    store: RunArchive | None = None if archive is None else archive_of(archive)
    if store is not None:
        store.check_writable()  # it is rewritten after each run
        head, _ = store.load()
        if head is not None:
            same_budget(head, asdict(s), store.path, out)
    claim_folder(out, s)
    if archive is not None and archive.exists():
        unpack_runs(archive, out)
    check_records(out)  # before hours of runs, not after
    if archive is None:
        return None
    return lambda: pack_runs(out, archive)


def _summary(out: Path, verbosities, seeds, methods, s: AblationSettings) -> tuple:
    """(file stem, report, figures, plot) of the grid `s.grid`."""
    if s.grid == "paper":
        return ("ablation", *_paper_summary(out, verbosities, seeds, methods, s))
    from grpo_lead.toylab.lengths import length_methods_summary

    report, figures, plot = length_methods_summary(
        {v: _records(out, v, seeds, methods) for v in verbosities}, n=s.bootstrap
    )
    return "length_methods", report, figures, plot
