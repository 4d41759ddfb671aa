"""The paper's ablation on the toy task: what each LEAD mechanism does, with its noise.

A thin command over the toy lab (`grpo_lead.toylab`). From the same warm-up model, seeds,
problems and RL budget, it trains one model per RL setting of `toylab.rl.SETTINGS`:

1. ``grpo``: plain GRPO (0/1 reward, group normalisation);
2. ``+length``: the length-dependent reward exp(-alpha z) among correct answers (wrong: 0);
3. ``+difficulty``: and the logistic difficulty weight;
4. ``lead``: and the explicit -1 for wrong answers (= GRPO-LEAD);
5. ``lead-no-difficulty``: GRPO-LEAD without the difficulty weight;
6. ``trl-length``: a strong length baseline built only from TRL's own options, with the stock
   ``GRPOTrainer``: batch-level reward scaling (``scale_rewards="batch"``), DAPO's soft overlong
   punishment, truncated completions masked (``mask_truncated_completions``) and clip-higher
   -- the ingredients behind the largest published length cuts (DAPO, DLER);

and evaluates the warm-up model itself (``warmup``: no RL, the paper's "base" row). Each setting
is evaluated on the demo's held-out problems (the same for every seed); the figures
(accuracy overall and per level, mean length of correct and of wrong answers) get 95% intervals
from a bootstrap over seeds and problems (`toylab.stats`), and every setting's difference to
``grpo`` is bootstrapped *paired* (same seeds, same problems). Both task switches (``--verbosity
redundant|useful``) run. Runs are independent jobs on a process pool (one thread each), each
saved as it finishes, so an interrupted ablation resumes where it stopped.

The same runner runs any grid of `toylab.grid` (a settings table: name -> options): ``--grid
length-methods`` is the length-control methods benchmark (docs/length-methods.md: every method at 2-3 knob
settings, on the three task switches, the new ``mixed`` one first), reported by
`toylab.report.length_methods_report` with the Pareto front and the per-level floors.

    grpo-lead ablation [--seeds 5] [--verbosity redundant useful] [--out outputs/ablation]
    grpo-lead ablation --grid length-methods [--settings grpo lead-a0.05 ...]
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from grpo_lead.paths import out_problem
from grpo_lead.toylab.grid import GRIDS, grid_settings, run_options
from grpo_lead.toylab.rl import SETTINGS as RL_SETTINGS
from grpo_lead.toylab.settings import LabSettings
from grpo_lead.toylab.task import VERBOSITIES

logger = logging.getLogger(__name__)

__all__ = [
    "SETTINGS",
    "AblationSettings",
    "ablation_main",
    "pack_runs",
    "run_ablation",
    "unpack_runs",
]

# "warmup" is the warm-up model evaluated without RL (the paper's "base" row); the others are
# RL settings (`toylab.rl.setting_kwargs`).
SETTINGS: tuple[str, ...] = ("warmup", *RL_SETTINGS)


@dataclass(frozen=True)
class AblationSettings:
    """Budget of every run (smaller than the demo's, to fit 60 runs on 2 cores)."""

    rl_steps: int = 60
    warmup_steps: int = 500
    eval_problems: int = 200
    eval_samples: int = 4
    soft_punish_cache: int = 96  # TRL baseline: penalty from L_max - 96 tokens up to L_max
    bootstrap: int = 1000
    grid: str = "paper"  # the settings table (`toylab.grid.GRIDS`)

    @classmethod
    def quick(cls, grid: str = "paper") -> AblationSettings:
        return cls(
            rl_steps=2, warmup_steps=30, eval_problems=8, eval_samples=2, bootstrap=50, grid=grid
        )


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
    """Task files and the warm-up model of one (verbosity, seed); reused by every setting."""
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
    out: Path, verbosity: str, seed: int, setting: str, s: AblationSettings, quick: bool
) -> Path:
    """Train one setting from the seed's warm-up (``warmup``: none), evaluate it on the held-out
    problems, write its per-sample records."""
    import torch

    from grpo_lead.toylab.evaluate import evaluate_model, held_out_problems
    from grpo_lead.toylab.rl import train_setting

    torch.set_num_threads(1)
    lab = lab_settings(s, verbosity, quick)
    root = out / verbosity / f"seed{seed}"
    records_path = root / f"{setting}.jsonl"
    if records_path.exists():
        return records_path
    start = time.perf_counter()
    model_dir = root / "warmup"
    if setting != "warmup":
        model_dir = train_setting(
            setting,
            warmup_dir=model_dir,
            problems_path=root / "problems.jsonl",
            out_dir=root,
            settings=lab,
            seed=seed,
            soft_punish_cache=s.soft_punish_cache,
            **run_options(s.grid, setting),
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
    _write_atomic(records_path, "".join(json.dumps(r) + "\n" for r in keep))
    return records_path


def _job(kind: str, kwargs: dict[str, Any]) -> str:
    import torch
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(1)  # one thread a job: `workers` jobs keep that many cores busy
    hf_logging.disable_progress_bar()  # workers' "Writing model shards" bars would break ours
    if kind == "warmup":
        return str(prepare_warmup(**kwargs))
    return str(train_and_evaluate(**kwargs))


# -- driver --------------------------------------------------------------------------------------


def _resolve(
    settings: Sequence[str], quick: bool, rl_steps: int | None, grid: str = "paper"
) -> AblationSettings:
    """The budget of this call; raises ValueError for bad settings, grid or steps."""
    known = ("warmup", *grid_settings(grid))
    unknown = set(settings) - set(known)
    if unknown or "grpo" not in settings:
        raise ValueError(
            f"settings must include 'grpo' and come from grid {grid!r}: {list(known)}; "
            f"got {list(settings)}"
        )
    s = AblationSettings.quick(grid) if quick else AblationSettings(grid=grid)
    if rl_steps is not None:
        if rl_steps < 1:
            raise ValueError(f"rl_steps must be >= 1, got {rl_steps}")
        s = replace(s, rl_steps=rl_steps)
    return s


def _claim_folder(out: Path, s: AblationSettings) -> None:
    """Record the budget in `out`; refuse a folder started with another one (its runs would
    mix budgets). A folder with no run nor warm-up yet is fresh, whatever settings it holds
    (a call refused after writing them, by an older version)."""
    saved = out / "settings.json"
    if saved.exists() and any(out.glob("*/seed*")):
        before = {**asdict(AblationSettings()), **json.loads(saved.read_text())}
        changed = {k: (before.get(k), v) for k, v in asdict(s).items() if before.get(k) != v}
        if changed:
            what = ", ".join(f"{k}: {a} there, {b} now" for k, (a, b) in changed.items())
            raise ValueError(
                f"{out} holds runs made with other settings ({what}): use another --out"
            )
    out.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(asdict(s), indent=1))


# -- runs kept across machines -------------------------------------------------------------------

RECORD_KEYS = ("id", "sample", "difficulty", "correct", "num_tokens")


def _read_records(path: Path) -> list[dict] | None:
    """A run's records, or None when the file is cut or garbled (a kill inside a write by an
    older version, a full disk): every line a JSON object with the record keys."""
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    except (OSError, ValueError):
        return None
    keys = (*RECORD_KEYS, "seconds")
    if not rows or not all(isinstance(r, dict) and all(k in r for k in keys) for r in rows):
        return None
    return rows


def _unusable(path: Path) -> ValueError:
    where = ""
    try:
        _json_lines(path.read_text(encoding="utf-8").splitlines())
    except ValueError as exc:
        where = f" ({exc})"
    except OSError:
        pass
    return ValueError(
        f"{path}: a cut or garbled run record{where}, and no archive holds that run: delete it "
        "to run it again (or pass the --archive that holds it)"
    )


def _json_lines(lines: list[str]) -> list:
    """Each line's JSON value; a line that is not JSON is a ValueError naming the file's line
    (json's own message names a line of the one-line document: always line 1)."""
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: {exc.msg} at column {exc.colno}") from None
    return rows


def _write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that a kill leaves the old file or the new, never half."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _record_files(out: Path):
    """Every finished run in `out`: (verbosity, seed, setting, path)."""
    for path in sorted(out.glob("*/seed*/*.jsonl")):
        verbosity, seed_dir = path.parent.parent.name, path.parent.name
        if verbosity in VERBOSITIES and seed_dir[4:].isdigit() and path.stem != "problems":
            yield verbosity, int(seed_dir[4:]), path.stem, path


def pack_runs(out: str | Path, archive: str | Path) -> int:
    """Keep every finished run of `out` in one small gzipped file (a line per run: its switch,
    seed, setting, seconds and its records column by column), merged with the runs `archive`
    already holds, so a grid longer than one machine's life resumes elsewhere (`unpack_runs`).
    Written atomically; returns the number of runs it holds."""
    import gzip

    out, archive = Path(out), Path(archive)
    budget = json.loads((out / "settings.json").read_text())
    runs: dict[tuple, dict] = {}
    if archive.exists():
        head, kept = _read_archive(archive)
        _same_budget(head, budget, archive, out)
        runs = {(r["verbosity"], r["seed"], r["setting"]): r for r in kept}
    for verbosity, seed, setting, path in _record_files(out):
        rows = _read_records(path)
        if rows is None:
            if (verbosity, seed, setting) in runs:
                continue  # the archive's intact copy is kept
            raise _unusable(path)
        runs[(verbosity, seed, setting)] = {
            "verbosity": verbosity, "seed": seed, "setting": setting,
            "seconds": rows[0]["seconds"] if rows else 0.0,
            **{k: [r[k] for r in rows] for k in RECORD_KEYS},
        }  # fmt: skip
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(archive.name + ".tmp")
    lines = [json.dumps({"settings": budget})]
    lines += [json.dumps(runs[key], separators=(",", ":")) for key in sorted(runs)]
    with gzip.GzipFile(tmp, "wb", mtime=0) as f:  # the same runs give the same bytes
        f.write(("\n".join(lines) + "\n").encode())
    tmp.replace(archive)
    return len(runs)


def _read_archive(archive: Path) -> tuple[dict, list[dict]]:
    import gzip
    import zlib

    try:
        with gzip.open(archive, "rt", encoding="utf-8") as f:
            lines = f.read().splitlines()
        rows = _json_lines(lines)
        return rows[0]["settings"], rows[1:]
    except EOFError:  # a copy or a download cut short
        raise ValueError(f"{archive}: a runs archive cut short (its end is missing)") from None
    except (OSError, ValueError, KeyError, IndexError, TypeError, zlib.error) as exc:
        raise ValueError(f"{archive}: not a runs archive of grpo-lead ablation ({exc})") from None


def _check_archive_path(archive: Path) -> None:
    """Refuse, before any run, an archive that could not be written after the first one."""
    if archive.is_dir():
        raise ValueError(f"--archive {archive} is a folder; give a .jsonl.gz file")
    folder = archive.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(
            f"--archive {archive}: cannot write there ({folder} is not a writable folder)"
        )


def _same_budget(head: dict, budget: dict, archive: Path, out: Path) -> None:
    full = {**asdict(AblationSettings()), **head}
    changed = [k for k, v in budget.items() if full.get(k) != v]
    if changed:
        what = ", ".join(f"{k}: {full.get(k)} there, {budget[k]} in {out}" for k in changed)
        raise ValueError(f"{archive} holds runs made with other settings ({what})")


def unpack_runs(archive: str | Path, out: str | Path) -> int:
    """Write `archive`'s runs into `out` as the records files a run writes (atomically),
    skipping runs `out` already has intact (a cut or garbled record is replaced by the
    archive's copy); `out` takes the archive's budget (refused if it was started with another).
    Returns the number of runs written."""
    archive, out = Path(archive), Path(out)
    head, runs = _read_archive(archive)
    saved = out / "settings.json"
    if saved.exists():
        _same_budget(head, json.loads(saved.read_text()), archive, out)
    else:
        out.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps({**asdict(AblationSettings()), **head}, indent=1))
    written = 0
    for run in runs:
        path = out / run["verbosity"] / f"seed{run['seed']}" / f"{run['setting']}.jsonl"
        if path.exists() and _read_records(path) is not None:
            continue
        if path.exists():
            logger.warning("%s is cut or garbled: replaced by the copy in %s", path, archive)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = zip(*(run[k] for k in RECORD_KEYS), strict=True)
        _write_atomic(
            path,
            "".join(
                json.dumps({**dict(zip(RECORD_KEYS, row)), "seconds": run["seconds"]}) + "\n"
                for row in rows
            ),
        )
        written += 1
    return written


def _job_order(jobs, settings, out: Path | None = None) -> list[tuple[str, str, int, str | None]]:
    """Every job as (kind, verbosity, seed, setting), in the order they should run: switch by
    switch (as given: the first switch's figures land first), within a switch its warm-ups, then
    setting by setting over the seeds (a setting's seeds land together, so a stopped grid
    leaves whole rows for the report). Runs whose records are already in `out` are left out,
    and so is the warm-up of a seed with no run left to do."""

    def done(v, sd, st):
        return out is not None and (out / v / f"seed{sd}" / f"{st}.jsonl").exists()

    switches = list(dict.fromkeys(v for v, _ in jobs))
    order = []
    for v in switches:
        seeds = [sd for w, sd in jobs if w == v]
        runs = [("run", v, sd, st) for st in settings for sd in seeds if not done(v, sd, st)]
        order += [("warmup", v, sd, None) for sd in seeds if any(r[2] == sd for r in runs)]
        order += runs
    return order


def _run_jobs(
    out: Path, jobs, settings, s: AblationSettings, *, quick, workers, progress, on_run=None
):
    """Run `_job_order`'s jobs, `workers` at a time: each free worker takes the first job whose
    warm-up is done (no core waits while any job is ready); a failed job raises once the jobs
    already running have ended (and been saved). `on_run()` is called after each saved run."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from tqdm.auto import tqdm

    todo = _job_order(jobs, settings, out)
    warm_total = sum(1 for j in todo if j[0] == "warmup")
    warm_bar = tqdm(total=warm_total, desc="warm-ups", disable=not progress)
    run_bar = tqdm(total=len(todo) - warm_total, desc="RL runs", disable=not progress)
    warm: set[tuple[str, int]] = set()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: dict[Any, tuple] = {}
        failed = None
        while todo or pending:
            while failed is None and len(pending) < workers:
                ready = [j for j in todo if j[0] == "warmup" or (j[1], j[2]) in warm]
                if not ready:
                    break
                job = ready[0]
                todo.remove(job)
                kind, v, sd, st = job
                args = dict(out=out, verbosity=v, seed=sd, s=s, quick=quick)
                pending[
                    pool.submit(_job, kind, args if st is None else {**args, "setting": st})
                ] = job
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                kind, v, sd, _ = pending.pop(f)
                if f.exception() is not None:
                    failed = failed or f.exception()
                    continue
                (warm_bar if kind == "warmup" else run_bar).update()
                if kind != "warmup" and on_run is not None:
                    on_run()
                if kind == "warmup":
                    warm.add((v, sd))
    warm_bar.close()
    run_bar.close()
    if failed is not None:
        raise failed


def _records(out: Path, verbosity: str, seeds, settings) -> dict[str, dict[int, list[dict]]]:
    root = out / verbosity
    return {
        st: {sd: _records_of(root / f"seed{sd}" / f"{st}.jsonl") for sd in seeds} for st in settings
    }


def _records_of(path: Path) -> list[dict]:
    rows = _read_records(path)
    if rows is None:
        raise _unusable(path)
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


def _paper_summary(out: Path, verbosities, seeds, settings, s: AblationSettings) -> tuple:
    """The paper's ablation: per-switch statistics, its contrasts; (report, figures, plot)."""
    from grpo_lead.toylab.report import plot_ablation
    from grpo_lead.toylab.stats import bootstrap, contrasts

    stats_by_switch, run_seconds, steps = {}, {}, {}
    for v in verbosities:
        records = _records(out, v, seeds, settings)
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
    settings: Sequence[str] | None = None,
    grid: str = "paper",
    workers: int = 2,
    quick: bool = False,
    progress: bool = True,
    rl_steps: int | None = None,
    archive: str | Path | None = None,
) -> dict[str, Any]:
    """Run (or resume) every job of `grid`, then write its report: ``ablation.{md,json,png}``
    (paper grid) or ``length_methods.{md,json,png}`` and ``length_methods_levels.png``.

    Defaults: every setting of the grid (with the warm-up row), the switches ``redundant
    useful`` (paper) or ``mixed redundant useful`` (length methods), the folder
    ``outputs/ablation`` or ``outputs/length-methods``. `rl_steps` overrides the RL budget of
    every run. A folder keeps the budget and grid it was started with: resuming it with
    others is refused (its runs would mix budgets). `archive` (a ``.jsonl.gz`` file) carries
    finished runs across machines: its runs are unpacked into the folder first (replacing
    records cut by a kill), and every run that finishes is packed into it (`pack_runs`), so a
    grid longer than a session resumes from a committed file. Every check (settings, seeds,
    the archive: readable, same budget, or a place it can be written) comes before anything
    is written; a bad one raises ValueError."""
    settings = ("warmup", *grid_settings(grid)) if settings is None else tuple(settings)
    if verbosities is None:
        verbosities = (
            ("redundant", "useful") if grid == "paper" else ("mixed", "redundant", "useful")
        )
    s = _check_call(seeds, verbosities, settings, quick, rl_steps, grid)
    out = Path(out_dir or ("outputs/ablation" if grid == "paper" else "outputs/length-methods"))
    problem = out_problem(out)
    if problem:
        raise ValueError(problem)
    on_run = _prepare_folder(out, s, None if archive is None else Path(archive))
    start = time.perf_counter()
    jobs = [(v, sd) for v in verbosities for sd in seeds]
    _run_jobs(
        out, jobs, settings, s, quick=quick, workers=workers, progress=progress, on_run=on_run
    )
    stem, report, figures, plot = _summary(out, verbosities, seeds, settings, s)
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


def _check_call(seeds, verbosities, settings, quick, rl_steps, grid) -> AblationSettings:
    """The budget of this call, once its seeds, switches and settings are checked."""
    bad = [v for v in verbosities if v not in VERBOSITIES]
    if bad:
        raise ValueError(f"unknown verbosity {bad}; choose from {list(VERBOSITIES)}")
    if not seeds or any(isinstance(sd, bool) or not isinstance(sd, int) or sd < 0 for sd in seeds):
        raise ValueError(
            f"seeds must be one or more integers >= 0 (--seeds N >= 1), got {list(seeds)}"
        )
    return _resolve(settings, quick, rl_steps, grid)


def _prepare_folder(out: Path, s: AblationSettings, archive: Path | None):
    """Check the archive, claim the folder, unpack the archive's runs into it and check every
    record there; returns the callback that packs each new run into the archive (or None)."""
    if archive is not None:
        _check_archive_path(archive)  # it is rewritten after each run
        if archive.exists():
            head, _ = _read_archive(archive)
            _same_budget(head, asdict(s), archive, out)
    _claim_folder(out, s)
    if archive is not None and archive.exists():
        unpack_runs(archive, out)
    for *_, path in _record_files(out):  # before hours of runs, not after
        if _read_records(path) is None:
            raise _unusable(path)
    if archive is None:
        return None
    return lambda: pack_runs(out, archive)


def _summary(out: Path, verbosities, seeds, settings, s: AblationSettings) -> tuple:
    """(file stem, report, figures, plot) of the grid `s.grid`."""
    if s.grid == "paper":
        return ("ablation", *_paper_summary(out, verbosities, seeds, settings, s))
    from grpo_lead.toylab.lengths import length_methods_summary

    report, figures, plot = length_methods_summary(
        {v: _records(out, v, seeds, settings) for v in verbosities}, n=s.bootstrap
    )
    return "length_methods", report, figures, plot


def ablation_main(argv: Sequence[str] | None = None) -> int:
    """`grpo-lead ablation`: run (or resume) the ablation and print its table."""
    import argparse
    import sys

    from grpo_lead.cli import OneLineUsage, UsageError

    class Parser(OneLineUsage, argparse.ArgumentParser):
        pass

    ap = Parser(prog="grpo-lead ablation", description=__doc__.splitlines()[0])
    ap.add_argument("--grid", default="paper", choices=list(GRIDS), help="the settings table")
    ap.add_argument(
        "--out", default=None, help="default outputs/ablation or outputs/length-methods"
    )
    ap.add_argument(
        "--seeds", type=int, default=5, help="number of seeds (0..N-1); >= 5 for the claim"
    )
    ap.add_argument(
        "--verbosity", nargs="+", default=None, choices=list(VERBOSITIES),
        help="task switches (default: redundant useful; length-methods: mixed redundant useful)",
    )  # fmt: skip
    ap.add_argument(
        "--settings", nargs="+", default=None,
        help="settings of the grid (default: all, with the warm-up row); unknown ones refused",
    )  # fmt: skip
    ap.add_argument("--workers", type=int, default=2, help="parallel runs (one thread each)")
    ap.add_argument("--quick", action="store_true", help="a tiny budget, for tests")
    ap.add_argument(
        "--rl-steps", type=int, default=None, help="RL steps of every run (default 60; quick 2)"
    )
    ap.add_argument(
        "--archive", default=None,
        help="a .jsonl.gz of finished runs: unpacked first, every new run packed into it",
    )  # fmt: skip
    ap.add_argument("--no-progress", action="store_true")
    try:
        args = ap.parse_args(argv)
        for flag, value in (("--seeds", args.seeds), ("--workers", args.workers)):
            if value < 1:
                ap.error(f"{flag} must be >= 1, got {value}")
        run_ablation(
            args.out,
            rl_steps=args.rl_steps,
            seeds=range(args.seeds),
            verbosities=args.verbosity,
            settings=args.settings,
            grid=args.grid,
            workers=args.workers,
            quick=args.quick,
            progress=not args.no_progress,
            archive=args.archive,
        )
    except (UsageError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
