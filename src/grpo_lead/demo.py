"""`grpo-lead demo`: GRPO-LEAD on a toy task, on a laptop CPU (2-4 minutes on 2 cores), no download.

It shows a model becoming more accurate and more concise under GRPO-LEAD, with the trainer that
trains real models (`GRPOLeadTrainer` on TRL). A thin command over the toy lab
(`grpo_lead.toylab`); in order, everything under one output folder:

1. Task (`toylab.task`): sums of 2-5 small numbers, level = operands - 1; warm-up traces in the
   paper's ``<think>...</think>\\n\\boxed{N}`` format, half of them wordy, with slips that make
   the hard levels hard. ``--verbosity redundant`` (default): the extra words never change the
   answer; ``useful``: they are useful computation (see the `toylab.task` docstring).
2. Warm-up (`toylab.warmup`): next-token training of a 0.45M-parameter Qwen2 on the traces, on
   both cores; the model ends up ~60% right at temperature 1 and wordy.
3. RL (`toylab.rl`): `GRPOLeadTrainer` with the paper's defaults (length reward exp(-alpha z)
   among correct answers, -1 for wrong ones, logistic difficulty weight). With ``--compare``
   also plain GRPO: the same trainer class with every LEAD option off (0/1 reward, group
   normalisation), from the same warm-up model, seed, problems and budget; the two runs train
   in parallel processes, one thread each.
4. Evaluation (`toylab.evaluate`): a held-out problem set (fixed seed, the same for every demo
   seed), k samples a problem at the RL temperature (1.0), generated and scored through
   `grpo_lead.evaluation`: pass@1 overall and per level, mean length in tokens (EOS included,
   as the trainer counts) of correct and of wrong answers.
5. Report (`toylab.report`): a table on stdout, ``summary.json``, ``training.png`` (accuracy
   and lengths over the RL steps, from the trainers' log histories), ``samples.md``, and the
   models as HF folders.

Output folder::

    data/        sft.jsonl (warm-up traces), problems.jsonl (RL problems), eval.jsonl
    models/      warmup/, lead/, grpo/  (model + tokenizer; recipes/cpu-tiny.yaml starts from
                 models/warmup)
    runs/<name>/ the trainer's output_dir and log_history.json
    summary.json, training.png, samples.md

Deviations from the paper's set-up, all for a 2-core CPU budget: a 0.45M-parameter character
model instead of a 7B/14B distilled model; 8 prompts x 8 answers a step for ~100 steps; the
evaluation samples at temperature 1.0 (the paper: 0.6, 32 samples) because a toy model is
near-perfect at low temperature and its slips show only when it samples as in training.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from grpo_lead.toylab.evaluate import EVAL_SEED
from grpo_lead.toylab.settings import LabSettings
from grpo_lead.toylab.task import LEVELS, VERBOSITIES

logger = logging.getLogger(__name__)

__all__ = ["demo_main", "demo_settings", "run_demo"]


def demo_settings(
    base: LabSettings | None = None,
    *,
    quick: bool = False,
    steps: int | None = None,
    warmup_steps: int | None = None,
    verbosity: str = "redundant",
) -> LabSettings:
    """`base` (default: `LabSettings()`, or `LabSettings.quick()` with ``quick=True``) with the
    command line's overrides; raises ValueError for a bad verbosity or step count."""
    if verbosity not in VERBOSITIES:
        raise ValueError(f"verbosity must be one of {VERBOSITIES}, got {verbosity!r}")
    base = base or (LabSettings.quick() if quick else LabSettings())
    overrides: dict[str, Any] = {"verbosity": verbosity}
    if steps is not None:
        overrides["rl_steps"] = steps
    if warmup_steps is not None:
        overrides["warmup_steps"] = warmup_steps
    s = replace(base, **overrides)
    if s.rl_steps < 1 or s.warmup_steps < 1:
        raise ValueError("steps and warmup_steps must be >= 1")
    return s


def _out_folder(out_dir: str | Path) -> Path:
    """The demo's folder, made; an --out that is a file or lies under one is a ValueError."""
    from grpo_lead.paths import out_problem

    problem = out_problem(out_dir)
    if problem:
        raise ValueError(problem)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return Path(out_dir)


def run_demo(
    out_dir: str | Path = "outputs/demo",
    *,
    quick: bool = False,
    compare: bool = False,
    seed: int = 0,
    steps: int | None = None,
    warmup_steps: int | None = None,
    verbosity: str = "redundant",
    progress: bool = True,
    settings: LabSettings | None = None,
) -> dict[str, Any]:
    """Run the whole demo into `out_dir` and return what `summary.json` holds.

    `settings` (default: `LabSettings()`, or `LabSettings.quick()` with ``quick=True``) is
    overridden by `steps` (RL steps), `warmup_steps` and `verbosity` when given.
    """
    import torch
    from transformers.utils import logging as hf_logging

    from grpo_lead.toylab.rl import preload
    from grpo_lead.toylab.warmup import prepare

    s = demo_settings(
        settings, quick=quick, steps=steps, warmup_steps=warmup_steps, verbosity=verbosity
    )
    hf_logging.disable_progress_bar()
    t_start = time.perf_counter()
    out = _out_folder(out_dir)
    cores = max(1, min(2, os.cpu_count() or 1))
    torch.set_num_threads(cores)
    names = ["grpo", "lead"] if compare else ["lead"]
    in_process = len(names) == 1 or cores == 1  # else each RL run imports TRL in its process
    preloading = preload() if in_process else None
    data = out / "data"
    warm = prepare(
        s,
        seed=seed,
        model_dir=out / "models" / "warmup",
        problems_path=data / "problems.jsonl",
        sft_path=data / "sft.jsonl",
        progress=progress,
    )
    if preloading is not None:
        preloading.join()
    t_rl = time.perf_counter()
    rl = _train(names, out, warm["model_dir"], s, seed=seed, cores=cores, progress=progress)
    seconds = {"warmup": warm["seconds"], "rl": {n: rl[n]["seconds"] for n in names}}
    seconds["rl_wall"] = time.perf_counter() - t_rl
    t_eval = time.perf_counter()
    model_dirs = {"warmup": warm["model_dir"], **{n: rl[n]["model_dir"] for n in names}}
    summaries = _evaluate(out, model_dirs, s, seed=seed, progress=progress)
    seconds["eval"] = time.perf_counter() - t_eval
    _plot(out, names)
    seconds["total"] = time.perf_counter() - t_start
    summary = _summary(s, seed, compare, summaries, model_dirs, seconds, warm)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _summary(s: LabSettings, seed, compare, summaries, model_dirs, seconds, warm) -> dict:
    """What summary.json holds."""
    from grpo_lead.toylab.report import format_table

    return {
        "seed": seed,
        "compare": compare,
        "settings": asdict(s),
        "eval": {
            "problems": s.eval_problems,
            "samples_per_problem": s.eval_samples,
            "temperature": s.temperature,
            "seed": EVAL_SEED,
        },
        "headline": _headline(summaries),
        "results": summaries,
        "models": model_dirs,
        "seconds": seconds,
        "warmup": {k: warm[k] for k in ("steps", "batch_size", "parameters", "final_loss")},
        "table": format_table(summaries, LEVELS),
    }


def _train(
    names: list[str], out: Path, warmup_dir: str, s: LabSettings, *, seed, cores, progress
) -> dict[str, dict[str, Any]]:
    """LEAD alone on every core, or GRPO and LEAD side by side on one core each."""
    import torch

    from grpo_lead.toylab.rl import train_in_parallel, train_method

    common = {
        "warmup_dir": warmup_dir,
        "problems_path": str(out / "data" / "problems.jsonl"),
        "out_dir": str(out),
        "settings": s,
        "seed": seed,
        "progress": progress,
    }
    if len(names) > 1 and cores > 1:
        return train_in_parallel(names, **common)
    rl = {n: train_method(n, num_threads=cores, **common) for n in names}
    torch.set_num_threads(cores)
    return rl


def _evaluate(
    out: Path, model_dirs: dict[str, str], s: LabSettings, *, seed: int, progress: bool
) -> dict[str, dict[str, Any]]:
    """Every model on the held-out problems with the same sampling seed; writes data/eval.jsonl,
    runs/eval_samples.jsonl and samples.md; returns the summaries."""
    from tqdm.auto import tqdm

    from grpo_lead.toylab.evaluate import evaluate_model, held_out_problems
    from grpo_lead.toylab.files import write_jsonl
    from grpo_lead.toylab.report import write_samples_md

    problems = held_out_problems(s.eval_problems)
    write_jsonl(out / "data" / "eval.jsonl", problems)
    summaries, records = {}, {}
    for name, model_dir in tqdm(model_dirs.items(), desc="evaluation", disable=not progress):
        summaries[name], records[name] = evaluate_model(
            model_dir,
            problems,
            samples=s.eval_samples,
            max_new_tokens=s.max_completion_length,
            temperature=s.temperature,
            seed=seed,
        )
    write_samples_md(out / "samples.md", records, LEVELS, per_level=max(1, s.num_samples_md // 4))
    write_jsonl(
        out / "runs" / "eval_samples.jsonl",
        [dict(r, model=name) for name, rs in records.items() for r in rs],
    )
    return summaries


def _plot(out: Path, names: list[str]) -> None:
    """training.png: each RL run's accuracy and lengths over the steps (10-step means)."""
    from grpo_lead.plots import plot_training
    from grpo_lead.toylab.files import read_json
    from grpo_lead.toylab.report import smoothed

    histories = {}
    for name in names:
        history = read_json(out / "runs" / name / "log_history.json")
        label = "GRPO-LEAD" if name == "lead" else "GRPO"
        histories[f"{label} (10-step mean)"] = smoothed(history, 10)
    plot_training(histories, out / "training.png")


def _headline(summaries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """LEAD's length of correct answers against the warm-up's and GRPO's; accuracies."""
    from grpo_lead.toylab.report import ratio

    hardest = f"{max(LEVELS):g}"

    def length(name: str) -> float | None:
        return summaries[name]["overall"]["mean_length_correct"] if name in summaries else None

    def acc(name: str, level: str | None = None) -> float | None:
        result = summaries[name]
        return (result["by_difficulty"].get(level, {}) if level else result["overall"]).get(
            "pass@1"
        )

    return {
        "lead_length_correct_vs_warmup": ratio(length("lead"), length("warmup")),
        "lead_length_correct_vs_grpo": ratio(length("lead"), length("grpo")),
        "accuracy": {n: acc(n) for n in summaries},
        "accuracy_hardest_level": {n: acc(n, hardest) for n in summaries},
    }


def _print_report(summary: dict[str, Any], out: Path) -> None:
    h = summary["headline"]
    print()
    print(summary["table"])
    print()
    if h["lead_length_correct_vs_warmup"] is not None:
        print(
            f"GRPO-LEAD's correct answers: {h['lead_length_correct_vs_warmup']:.2f}x the warm-up's length"
        )
    if h["lead_length_correct_vs_grpo"] is not None:
        print(f"GRPO-LEAD's correct answers: {h['lead_length_correct_vs_grpo']:.2f}x GRPO's length")
    sec = summary["seconds"]
    print(
        f"time: warm-up {sec['warmup']:.0f} s, RL {sec['rl_wall']:.0f} s, "
        f"evaluation {sec['eval']:.0f} s, total {sec['total']:.0f} s"
    )
    print(f"outputs in {out}/: summary.json, training.png, samples.md, models/")


def _parser() -> argparse.ArgumentParser:
    from grpo_lead.cli import OneLineUsage

    class Parser(OneLineUsage, argparse.ArgumentParser):
        pass

    parser = Parser(
        prog="grpo-lead demo",
        description="GRPO-LEAD on a toy task on CPU: warm-up, RL, evaluation, plots (~4 min).",
    )
    parser.add_argument("--out", default="outputs/demo", help="output folder (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="a sub-minute run (the tests' run)")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also train plain GRPO from the same warm-up, seed and budget (in parallel)",
    )
    parser.add_argument("--seed", type=int, default=0, help="task, warm-up and RL seed")
    parser.add_argument("--steps", type=int, default=None, help="RL steps (default 100; quick 3)")
    parser.add_argument(
        "--warmup-steps", type=int, default=None, help="warm-up steps (default 500; quick 100)"
    )
    parser.add_argument(
        "--verbosity",
        choices=VERBOSITIES,
        default="redundant",
        help="what the wordy warm-up traces add: redundant (default): words that never change "
        "the answer; useful: intermediate computation; mixed: redundant on the easy levels, "
        "needed on the hard ones (the right length depends on the difficulty)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--ablation",
        action="store_true",
        help="`grpo-lead demo --ablation [...]` runs the paper's ablation instead (6 methods x "
        "seeds x both switches; see `grpo-lead ablation --help` for its options)",
    )
    return parser


def demo_main(argv: Sequence[str] | None = None) -> int:
    """`grpo-lead demo [--quick] [--compare] [--out DIR] [--seed N] [--steps N] [--verbosity V]`.

    ``--ablation`` is dispatched to `grpo-lead ablation` by the `grpo-lead` command (cli.py).
    """
    from grpo_lead.cli import UsageError

    parser = _parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.ablation:
            parser.error("--ablation is handled by the grpo-lead command: run `grpo-lead ablation`")
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        summary = run_demo(
            args.out,
            quick=args.quick,
            compare=args.compare,
            seed=args.seed,
            steps=args.steps,
            warmup_steps=args.warmup_steps,
            verbosity=args.verbosity,
            progress=not args.no_progress,
        )
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_report(summary, Path(args.out))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(demo_main())
