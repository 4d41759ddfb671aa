"""`grpo-lead demo`: GRPO-LEAD on a toy task, on a laptop CPU, in about 4 minutes, no download.

It shows a model becoming more accurate and more concise under GRPO-LEAD, with the trainer that
trains real models (`GRPOLeadTrainer` on TRL). In order, everything under one output folder:

1. Task (`toy.task`): sums of 2-5 small numbers, level = operands - 1; warm-up traces in the
   paper's ``<think>...</think>\\n\\boxed{N}`` format, half of them wordy, with slips that make
   the hard levels hard. ``--verbosity redundant`` (default): the extra words never change the
   answer; ``useful``: they are useful computation (see the `toy.task` docstring).
2. Warm-up (`toy.warmup`): next-token training of a 0.45M-parameter Qwen2 on the traces, on
   both cores; the model ends up ~60% right at temperature 1 and wordy.
3. RL: `GRPOLeadTrainer` with the paper's defaults (length reward exp(-alpha z) among correct
   answers, -1 for wrong ones, logistic difficulty weight). With ``--compare`` also plain GRPO:
   the same trainer class with every LEAD option off (0/1 reward, group normalisation), from
   the same warm-up model, seed, problems and budget; the two runs train in parallel
   processes, one thread each.
4. Evaluation: a held-out problem set (fixed seed, the same for every demo seed), k samples a
   problem at the RL temperature (1.0), scored by `answers.check_answers` and summarised by
   `evaluation.metrics.summarize`: pass@1 overall and per level, mean length in tokens (EOS
   included, as the trainer counts) of correct and of wrong answers.
5. Report: a table on stdout, ``summary.json``, ``training.png`` (accuracy and lengths over the
   RL steps, from the trainers' log histories), ``samples.md``, and the models as HF folders.

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
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["DemoSettings", "demo_main", "evaluate_model", "generate_completions", "run_demo"]

EVAL_SEED = 12345  # the held-out problems: the same set for every demo seed
RUN_LABELS = {"warmup": "after warm-up", "grpo": "after GRPO", "lead": "after GRPO-LEAD"}


@dataclass(frozen=True)
class DemoSettings:
    """Every knob of the demo; `quick()` is the sub-minute version the tests run."""

    verbosity: str = "redundant"
    sft_examples: int = 8000
    warmup_steps: int = 500
    warmup_batch_size: int = 32
    warmup_lr: float = 3e-3
    rl_steps: int = 100
    rl_lr: float = 2e-4
    prompts_per_step: int = 8
    num_generations: int = 8
    max_completion_length: int = 128
    temperature: float = 1.0
    eval_problems: int = 200  # cycled over the levels: 50 a level
    eval_samples: int = 4
    num_samples_md: int = 4
    model_kwargs: tuple[tuple[str, int], ...] = ()

    @classmethod
    def quick(cls, **overrides: Any) -> DemoSettings:
        quick = cls(
            sft_examples=1000,
            warmup_steps=100,
            warmup_batch_size=16,
            warmup_lr=5e-3,
            rl_steps=3,
            max_completion_length=96,
            eval_problems=16,
            eval_samples=2,
        )
        return replace(quick, **overrides)


# -- generation and evaluation -------------------------------------------------------------------


def load_tokenizer(model_dir: str | Path):
    """The toy tokenizer of a saved folder.

    `PreTrainedTokenizerFast`, not `AutoTokenizer`: transformers 5 maps model_type "qwen2" to
    `Qwen2Tokenizer`, which rebuilds the pre-tokenizer and drops spaces and newlines of the
    character-level vocabulary. Padding is on the left for generation.
    """
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(model_dir))
    tokenizer.padding_side = "left"
    return tokenizer


def generate_completions(
    model_dir: str | Path,
    prompts: Sequence[str],
    *,
    max_new_tokens: int,
    temperature: float = 1.0,
    seed: int = 0,
    batch_size: int = 128,
) -> list[tuple[str, int, bool]]:
    """Sample one completion per prompt: (text without EOS, tokens incl. EOS, finished)."""
    import torch
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(model_dir)
    model = AutoModelForCausalLM.from_pretrained(str(model_dir)).eval()
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    sampling = (
        {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}
        if temperature > 0
        else {"do_sample": False}
    )
    torch.manual_seed(seed)
    out = []
    for start in range(0, len(prompts), batch_size):
        enc = tokenizer(
            list(prompts[start : start + batch_size]), return_tensors="pt", padding=True
        )
        with torch.no_grad():
            ids = model.generate(
                **enc, max_new_tokens=max_new_tokens, pad_token_id=pad, eos_token_id=eos, **sampling
            )
        for row in ids[:, enc["input_ids"].shape[1] :].tolist():
            finished = eos in row
            row = row[: row.index(eos) + 1] if finished else row
            text = tokenizer.decode([t for t in row if t not in (eos, pad)])
            out.append((text, len([t for t in row if t != pad]), finished))
    return out


def evaluate_model(
    model_dir: str | Path,
    problems: Sequence[dict[str, Any]],
    *,
    samples: int,
    max_new_tokens: int,
    temperature: float = 1.0,
    seed: int = 0,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`samples` answers per problem, scored; returns (`summarize` output, per-sample records)."""
    from grpo_lead.answers import check_answers
    from grpo_lead.evaluation.metrics import summarize

    prompts = [p["prompt"] for p in problems for _ in range(samples)]
    generated = generate_completions(
        model_dir, prompts, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed
    )
    references = [p["answer"] for p in problems for _ in range(samples)]
    verdicts = check_answers([g[0] for g in generated], references)
    records = []
    for i, ((text, n_tokens, finished), verdict) in enumerate(zip(generated, verdicts)):
        problem = problems[i // samples]
        records.append(
            {
                "id": str(i // samples),
                "sample": i % samples,
                "difficulty": float(problem["level"]),
                "question": problem["question"],
                "answer": problem["answer"],
                "completion": text,
                "extracted": verdict.extracted,
                "correct": verdict.correct,
                "num_tokens": n_tokens,
                "finished": finished,
            }
        )
    return summarize(records, samples), records


# -- RL ------------------------------------------------------------------------------------------


def _progress_callback(desc: str, total: int, position: int, disable: bool):
    """A tqdm bar per RL run showing the batch accuracy and answer length (TrainerCallback)."""
    from tqdm.auto import tqdm
    from transformers import TrainerCallback

    class _Bar(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.bar = tqdm(
                total=total, desc=desc, position=position, disable=disable, dynamic_ncols=True
            )

        def on_step_end(self, args, state, control, **kwargs):
            self.bar.update(1)

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            if "lead/accuracy" in logs:
                self.bar.set_postfix(
                    acc=f"{logs['lead/accuracy']:.2f}",
                    len=f"{logs.get('completions/mean_length', float('nan')):.0f}",
                )

        def on_train_end(self, args, state, control, **kwargs):
            self.bar.close()

    return _Bar()


def rl_config_kwargs(settings: DemoSettings, output_dir: Path, seed: int) -> dict[str, Any]:
    """The RL settings every toy run shares (a `GRPOConfig`'s keyword arguments); the demo and
    the ablation add only what their runs differ in."""
    return dict(
        output_dir=str(output_dir),
        # CPU settings measured in FINDINGS.md
        use_cpu=True,
        bf16=False,
        gradient_checkpointing=False,
        beta=0.0,
        per_device_train_batch_size=settings.prompts_per_step * settings.num_generations,
        num_generations=settings.num_generations,
        steps_per_generation=1,
        max_completion_length=settings.max_completion_length,
        temperature=settings.temperature,
        learning_rate=settings.rl_lr,
        max_steps=settings.rl_steps,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=seed,
    )


def _rl_config(name: str, settings: DemoSettings, output_dir: Path, seed: int):
    from grpo_lead.configs import GRPOLeadConfig

    lead = name == "lead"
    return GRPOLeadConfig(
        **rl_config_kwargs(settings, output_dir, seed),
        # GRPO-LEAD (paper defaults) or, for plain GRPO, every LEAD option off
        length_reward="paper" if lead else "none",
        incorrect_reward=-1.0 if lead else 0.0,
        difficulty_weight="logistic" if lead else "none",
    )


def train_rl(
    name: str,
    *,
    warmup_dir: str | Path,
    problems_path: str | Path,
    out_dir: str | Path,
    settings: DemoSettings,
    seed: int,
    num_threads: int = 1,
    position: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Train `name` ("lead" or "grpo") from the warm-up model; save the model and log history."""
    import torch
    from datasets import Dataset
    from transformers import PrinterCallback, ProgressCallback
    from transformers.utils import logging as hf_logging

    from grpo_lead.rewards import accuracy_reward
    from grpo_lead.trainer import GRPOLeadTrainer

    torch.set_num_threads(num_threads)
    hf_logging.disable_progress_bar()
    out_dir = Path(out_dir)
    rows = [json.loads(line) for line in Path(problems_path).read_text().splitlines()]
    dataset = Dataset.from_list(
        [{"prompt": r["prompt"], "answer": r["answer"], "level": r["level"]} for r in rows]
    )
    tokenizer = load_tokenizer(warmup_dir)
    trainer = GRPOLeadTrainer(
        model=str(warmup_dir),
        reward_funcs=[accuracy_reward],
        args=_rl_config(name, settings, out_dir / "runs" / name, seed),
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    label = "GRPO-LEAD" if name == "lead" else "GRPO"
    trainer.add_callback(
        _progress_callback(f"RL {label:9s}", settings.rl_steps, position, not progress)
    )
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    model_dir = out_dir / "models" / name
    trainer.save_model(str(model_dir))
    tokenizer.save_pretrained(str(model_dir))
    history = trainer.state.log_history
    run_dir = out_dir / "runs" / name
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "log_history.json").write_text(json.dumps(history, indent=1))
    return {"model_dir": str(model_dir), "seconds": seconds, "steps": settings.rl_steps}


def _rl_worker(kwargs: dict[str, Any]) -> None:
    """Entry point of an RL process (spawned): its result goes to runs/<name>/result.json."""
    result = train_rl(**kwargs)
    path = Path(kwargs["out_dir"]) / "runs" / kwargs["name"] / "result.json"
    path.write_text(json.dumps(result))


def _train_in_parallel(names: Sequence[str], common: dict[str, Any]) -> dict[str, dict]:
    """One spawned process per run, one thread each (the machine has 2 cores)."""
    ctx = multiprocessing.get_context("spawn")
    procs = []
    for position, name in enumerate(names):
        kwargs = dict(common, name=name, num_threads=1, position=position)
        proc = ctx.Process(target=_rl_worker, args=(kwargs,), name=f"rl-{name}")
        proc.start()
        procs.append((name, proc))
    for _, proc in procs:
        proc.join()
    results = {}
    for name, proc in procs:
        path = Path(common["out_dir"]) / "runs" / name / "result.json"
        if proc.exitcode != 0 or not path.exists():
            raise RuntimeError(f"the {name} RL process failed (exit code {proc.exitcode})")
        results[name] = json.loads(path.read_text())
    return results


# -- report --------------------------------------------------------------------------------------


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


def _smoothed(history: Sequence[dict], window: int) -> list[dict]:
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
            f"{RUN_LABELS.get(name, name):18s} {_pct(o['pass@1']):>6s} {cells} | "
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
            parts.append(f"**{RUN_LABELS.get(name, name)}** ({mark}, {r['num_tokens']} tokens)\n")
            parts.append("```\n" + r["completion"] + "\n```\n")
    path.write_text("\n".join(parts))


def _write_jsonl(path: Path, rows: Sequence[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


# -- the demo ------------------------------------------------------------------------------------


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
    settings: DemoSettings | None = None,
) -> dict[str, Any]:
    """Run the whole demo into `out_dir` and return what `summary.json` holds.

    `settings` (default: `DemoSettings()`, or `DemoSettings.quick()` with ``quick=True``) is
    overridden by `steps` (RL steps), `warmup_steps` and `verbosity` when given.
    """
    import torch
    from tqdm.auto import tqdm

    from grpo_lead.plots import plot_training
    from grpo_lead.toy.task import LEVELS, VERBOSITIES, make_problems, make_sft_dataset
    from grpo_lead.toy.warmup import warmup

    if verbosity not in VERBOSITIES:
        raise ValueError(f"verbosity must be one of {VERBOSITIES}, got {verbosity!r}")
    base = settings or (DemoSettings.quick() if quick else DemoSettings())
    overrides: dict[str, Any] = {"verbosity": verbosity}
    if steps is not None:
        overrides["rl_steps"] = steps
    if warmup_steps is not None:
        overrides["warmup_steps"] = warmup_steps
    s = replace(base, **overrides)
    if s.rl_steps < 1 or s.warmup_steps < 1:
        raise ValueError("steps and warmup_steps must be >= 1")

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    t_start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cores = max(1, min(2, os.cpu_count() or 1))
    torch.set_num_threads(cores)

    # 1. task
    sft = make_sft_dataset(s.sft_examples, seed=seed, verbosity=s.verbosity)
    rl_problems = make_problems(s.rl_steps * s.prompts_per_step, seed=seed + 1000)
    eval_problems = make_problems(s.eval_problems, seed=EVAL_SEED)
    _write_jsonl(out / "data" / "sft.jsonl", sft)
    _write_jsonl(out / "data" / "problems.jsonl", rl_problems)
    _write_jsonl(out / "data" / "eval.jsonl", eval_problems)

    # 2. warm-up
    warm = warmup(
        sft,
        out / "models" / "warmup",
        steps=s.warmup_steps,
        batch_size=s.warmup_batch_size,
        lr=s.warmup_lr,
        seed=seed,
        model_kwargs=dict(s.model_kwargs),
        progress=progress,
    )

    # 3. RL: LEAD alone on every core, or GRPO and LEAD side by side on one core each
    names = ["grpo", "lead"] if compare else ["lead"]
    common = {
        "warmup_dir": warm["model_dir"],
        "problems_path": str(out / "data" / "problems.jsonl"),
        "out_dir": str(out),
        "settings": s,
        "seed": seed,
        "progress": progress,
    }
    t_rl = time.perf_counter()
    if compare and cores > 1:
        rl = _train_in_parallel(names, common)
    else:
        rl = {n: train_rl(n, num_threads=cores, **common) for n in names}
        torch.set_num_threads(cores)
    rl_seconds = time.perf_counter() - t_rl

    # 4. evaluation on the held-out problems, same sampling seed for every model
    t_eval = time.perf_counter()
    model_dirs = {"warmup": warm["model_dir"], **{n: rl[n]["model_dir"] for n in names}}
    summaries, records = {}, {}
    for name, model_dir in tqdm(model_dirs.items(), desc="evaluation", disable=not progress):
        summaries[name], records[name] = evaluate_model(
            model_dir,
            eval_problems,
            samples=s.eval_samples,
            max_new_tokens=s.max_completion_length,
            temperature=s.temperature,
            seed=seed,
        )
    eval_seconds = time.perf_counter() - t_eval

    # 5. report
    histories = {}
    for name in names:
        history = json.loads((out / "runs" / name / "log_history.json").read_text())
        label = "GRPO-LEAD" if name == "lead" else "GRPO"
        histories[f"{label} (10-step mean)"] = _smoothed(history, 10)
    plot_training(histories, out / "training.png")
    write_samples_md(out / "samples.md", records, LEVELS, per_level=max(1, s.num_samples_md // 4))
    _write_jsonl(
        out / "runs" / "eval_samples.jsonl",
        [dict(r, model=name) for name, rs in records.items() for r in rs],
    )

    table = format_table(summaries, LEVELS)
    hardest = f"{max(LEVELS):g}"

    def length(name: str) -> float | None:
        return summaries[name]["overall"]["mean_length_correct"] if name in summaries else None

    def acc(name: str, level: str | None = None) -> float | None:
        if name not in summaries:
            return None
        part = (
            summaries[name]["by_difficulty"].get(level, {}) if level else summaries[name]["overall"]
        )
        return part.get("pass@1")

    headline = {
        "lead_length_correct_vs_warmup": _ratio(length("lead"), length("warmup")),
        "lead_length_correct_vs_grpo": _ratio(length("lead"), length("grpo")),
        "accuracy": {n: acc(n) for n in summaries},
        "accuracy_hardest_level": {n: acc(n, hardest) for n in summaries},
    }
    total_seconds = time.perf_counter() - t_start
    summary = {
        "seed": seed,
        "compare": compare,
        "settings": asdict(s),
        "eval": {
            "problems": s.eval_problems,
            "samples_per_problem": s.eval_samples,
            "temperature": s.temperature,
            "seed": EVAL_SEED,
        },
        "headline": headline,
        "results": summaries,
        "models": model_dirs,
        "seconds": {
            "warmup": warm["seconds"],
            "rl": {n: rl[n]["seconds"] for n in names},
            "rl_wall": rl_seconds,
            "eval": eval_seconds,
            "total": total_seconds,
        },
        "warmup": {k: warm[k] for k in ("steps", "batch_size", "parameters", "final_loss")},
        "table": table,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


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


def demo_main(argv: Sequence[str] | None = None) -> int:
    """`grpo-lead demo [--quick] [--compare] [--out DIR] [--seed N] [--steps N] [--verbosity V]`.

    `grpo-lead demo --ablation [...]` runs the ablation instead (`grpo-lead ablation`'s options).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--ablation" in argv:
        from grpo_lead.ablation import ablation_main

        argv.remove("--ablation")
        return ablation_main(argv)
    parser = argparse.ArgumentParser(
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
        choices=("redundant", "useful"),
        default="redundant",
        help="what the wordy warm-up traces add: words that never change the answer "
        "(default), or useful intermediate computation",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--ablation",
        action="store_true",
        help="run the paper's ablation instead (6 settings x seeds x both switches; "
        "see `grpo-lead ablation --help` for its options)",
    )
    args = parser.parse_args(argv)
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
        print(f"grpo-lead demo: error: {exc}", file=sys.stderr)
        return 2
    _print_report(summary, Path(args.out))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(demo_main())
