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

    grpo-lead ablation [--seeds 5] [--verbosity redundant useful] [--out outputs/ablation]
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from grpo_lead.toylab.rl import SETTINGS as RL_SETTINGS
from grpo_lead.toylab.settings import LabSettings

logger = logging.getLogger(__name__)

__all__ = ["SETTINGS", "AblationSettings", "ablation_main", "run_ablation"]

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

    @classmethod
    def quick(cls) -> AblationSettings:
        return cls(rl_steps=2, warmup_steps=30, eval_problems=8, eval_samples=2, bootstrap=50)


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
    tmp = records_path.with_suffix(".tmp")
    with tmp.open("w") as f:
        for r in records:
            keep = {k: r[k] for k in ("id", "sample", "difficulty", "correct", "num_tokens")}
            f.write(json.dumps({**keep, "seconds": seconds}) + "\n")
    tmp.replace(records_path)  # atomic: a killed run leaves no half file behind
    return records_path


def _job(kind: str, kwargs: dict[str, Any]) -> str:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # workers' "Writing model shards" bars would break ours
    if kind == "warmup":
        return str(prepare_warmup(**kwargs))
    return str(train_and_evaluate(**kwargs))


# -- driver --------------------------------------------------------------------------------------


def _resolve(settings: Sequence[str], quick: bool, rl_steps: int | None) -> AblationSettings:
    """The budget of this call; raises ValueError for bad settings or steps."""
    unknown = set(settings) - set(SETTINGS)
    if unknown or "grpo" not in settings:
        raise ValueError(
            f"settings must include 'grpo' and come from {list(SETTINGS)}; got {list(settings)}"
        )
    s = AblationSettings.quick() if quick else AblationSettings()
    if rl_steps is not None:
        if rl_steps < 1:
            raise ValueError(f"rl_steps must be >= 1, got {rl_steps}")
        s = replace(s, rl_steps=rl_steps)
    return s


def _claim_folder(out: Path, s: AblationSettings) -> None:
    """Record the budget in `out`; refuse a folder started with another one (its runs would
    mix budgets)."""
    saved = out / "settings.json"
    if saved.exists():
        before = json.loads(saved.read_text())
        changed = {k: (before.get(k), v) for k, v in asdict(s).items() if before.get(k) != v}
        if changed:
            what = ", ".join(f"{k}: {a} there, {b} now" for k, (a, b) in changed.items())
            raise ValueError(
                f"{out} holds runs made with other settings ({what}): use another --out"
            )
    out.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(asdict(s), indent=1))


def _run_jobs(out: Path, jobs, settings, s: AblationSettings, *, quick, workers, progress):
    """Every warm-up, then each seed's runs as soon as its warm-up ends (no core waits for the
    last warm-up); a failed job raises once the jobs already queued have ended (and been saved)."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from tqdm.auto import tqdm

    warm_bar = tqdm(total=len(jobs), desc="warm-ups", disable=not progress)
    run_bar = tqdm(total=len(jobs) * len(settings), desc="RL runs", disable=not progress)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: dict[Any, tuple[str, str, int]] = {}

        def submit(kind: str, v: str, sd: int, **kw: Any) -> None:
            args = dict(out=out, verbosity=v, seed=sd, s=s, quick=quick, **kw)
            pending[pool.submit(_job, kind, args)] = (kind, v, sd)

        for v, sd in jobs:
            submit("warmup", v, sd)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                kind, v, sd = pending.pop(f)
                f.result()
                if kind == "run":
                    run_bar.update()
                    continue
                warm_bar.update()
                for st in settings:
                    submit("run", v, sd, setting=st)
    warm_bar.close()
    run_bar.close()


def _records(out: Path, verbosity: str, seeds, settings) -> dict[str, dict[int, list[dict]]]:
    from grpo_lead.toylab.files import read_jsonl

    root = out / verbosity
    return {
        st: {sd: read_jsonl(root / f"seed{sd}" / f"{st}.jsonl") for sd in seeds} for st in settings
    }


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


def run_ablation(
    out_dir: str | Path = "outputs/ablation",
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    verbosities: Sequence[str] = ("redundant", "useful"),
    settings: Sequence[str] = SETTINGS,
    workers: int = 2,
    quick: bool = False,
    progress: bool = True,
    rl_steps: int | None = None,
) -> dict[str, Any]:
    """Run (or resume) every job, then write ablation.md, ablation.json and ablation.png.

    `rl_steps` overrides the RL budget of every run. A folder keeps the budget it was started
    with: resuming it with another budget is refused (its runs would mix budgets)."""
    from grpo_lead.toylab.report import plot_ablation
    from grpo_lead.toylab.stats import bootstrap, contrasts

    s = _resolve(settings, quick, rl_steps)
    out = Path(out_dir)
    _claim_folder(out, s)
    start = time.perf_counter()
    jobs = [(v, sd) for v in verbosities for sd in seeds]
    _run_jobs(out, jobs, settings, s, quick=quick, workers=workers, progress=progress)
    stats_by_switch, run_seconds, steps = {}, {}, {}
    for v in verbosities:
        records = _records(out, v, seeds, settings)
        stats_by_switch[v] = bootstrap(records, n=s.bootstrap)
        steps[v] = contrasts(records, n=s.bootstrap)
        # wall seconds of one run (RL + evaluation), mean over seeds, as each run recorded it
        run_seconds[v] = {
            st: sum(rows[0]["seconds"] for rows in by_seed.values()) / len(by_seed)
            for st, by_seed in records.items()
        }
    report = _report(stats_by_switch, steps)
    (out / "ablation.md").write_text(report + "\n")
    result = {
        "seeds": list(seeds),
        "settings": asdict(s),
        "stats": stats_by_switch,
        "contrasts": steps,
        "seconds_this_call": time.perf_counter() - start,  # ~0 when every run was saved
        "run_seconds": run_seconds,
    }
    (out / "ablation.json").write_text(json.dumps(result, indent=1))
    plot_ablation(stats_by_switch, out / "ablation.png")
    if progress:
        print(report)
    return result


def ablation_main(argv: Sequence[str] | None = None) -> int:
    """`grpo-lead ablation`: run (or resume) the ablation and print its table."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="grpo-lead ablation", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="outputs/ablation")
    ap.add_argument(
        "--seeds", type=int, default=5, help="number of seeds (0..N-1); >= 5 for the claim"
    )
    ap.add_argument(
        "--verbosity", nargs="+", default=["redundant", "useful"], choices=["redundant", "useful"]
    )
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--workers", type=int, default=2, help="parallel runs (one thread each)")
    ap.add_argument("--quick", action="store_true", help="a tiny budget, for tests")
    ap.add_argument(
        "--rl-steps", type=int, default=None, help="RL steps of every run (default 60; quick 2)"
    )
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    try:
        run_ablation(
            args.out,
            rl_steps=args.rl_steps,
            seeds=range(args.seeds),
            verbosities=args.verbosity,
            settings=args.settings,
            workers=args.workers,
            quick=args.quick,
            progress=not args.no_progress,
        )
    except ValueError as exc:
        print(f"grpo-lead ablation: error: {exc}", file=sys.stderr)
        return 2
    return 0
