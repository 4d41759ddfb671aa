"""The paper's ablation on the toy task: what each LEAD mechanism does, with its noise.

From the same warm-up model, seeds, problems and RL budget, it trains one model per setting:

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
from a bootstrap over seeds and problems, and every setting's difference to ``grpo`` is
bootstrapped *paired* (same seeds, same problems). Both task switches (``--verbosity
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

logger = logging.getLogger(__name__)

# Setting -> GRPOLeadConfig overrides; "trl-length" uses the stock trl.GRPOTrainer instead, and
# "warmup" is the warm-up model evaluated without RL (the paper's "base" row).
SETTINGS: dict[str, dict[str, Any]] = {
    "warmup": {},
    "grpo": {"length_reward": "none", "incorrect_reward": 0.0, "difficulty_weight": "none"},
    "+length": {"length_reward": "paper", "incorrect_reward": 0.0, "difficulty_weight": "none"},
    "+difficulty": {
        "length_reward": "paper",
        "incorrect_reward": 0.0,
        "difficulty_weight": "logistic",
    },
    "lead": {"length_reward": "paper", "incorrect_reward": -1.0, "difficulty_weight": "logistic"},
    "lead-no-difficulty": {
        "length_reward": "paper",
        "incorrect_reward": -1.0,
        "difficulty_weight": "none",
    },
    "trl-length": {
        "scale_rewards": "batch",
        "mask_truncated_completions": True,
        "epsilon_high": 0.28,
    },
}
LABELS = {
    "warmup": "warm-up (no RL)",
    "grpo": "GRPO",
    "+length": "+ length reward",
    "+difficulty": "+ difficulty weight",
    "lead": "+ explicit penalty (LEAD)",
    "lead-no-difficulty": "LEAD without difficulty weight",
    "trl-length": "TRL length baseline",
}


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


# -- one run ---------------------------------------------------------------------------------------


def _demo_settings(s: AblationSettings, verbosity: str, quick: bool):
    from grpo_lead.demo import DemoSettings

    base = DemoSettings.quick() if quick else DemoSettings()
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
    from grpo_lead.demo import _write_jsonl
    from grpo_lead.toy.task import make_problems, make_sft_dataset
    from grpo_lead.toy.warmup import warmup

    d = _demo_settings(s, verbosity, quick)
    root = out / verbosity / f"seed{seed}"
    model_dir = root / "warmup"
    if (model_dir / "config.json").exists():
        return root
    sft = make_sft_dataset(d.sft_examples, seed=seed, verbosity=verbosity)
    _write_jsonl(
        root / "problems.jsonl", make_problems(d.rl_steps * d.prompts_per_step, seed=seed + 1000)
    )
    warmup(
        sft,
        model_dir,
        steps=d.warmup_steps,
        batch_size=d.warmup_batch_size,
        lr=d.warmup_lr,
        seed=seed,
        model_kwargs=dict(d.model_kwargs),
        progress=False,
    )
    return root


def train_and_evaluate(
    out: Path, verbosity: str, seed: int, setting: str, s: AblationSettings, quick: bool
) -> Path:
    """Train one setting from the seed's warm-up (``warmup``: none), evaluate it on the held-out
    problems, write its per-sample records."""
    import torch

    from grpo_lead.demo import EVAL_SEED, evaluate_model
    from grpo_lead.toy.task import make_problems

    torch.set_num_threads(1)
    d = _demo_settings(s, verbosity, quick)
    root = out / verbosity / f"seed{seed}"
    records_path = root / f"{setting}.jsonl"
    if records_path.exists():
        return records_path
    start = time.perf_counter()
    model_dir = root / "warmup" if setting == "warmup" else _train(root, setting, d, s, seed)
    problems = make_problems(d.eval_problems, seed=EVAL_SEED)
    _, records = evaluate_model(
        model_dir,
        problems,
        samples=d.eval_samples,
        max_new_tokens=d.max_completion_length,
        temperature=d.temperature,
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


def _train(root: Path, setting: str, d, s: AblationSettings, seed: int) -> Path:
    """RL from the seed's warm-up with one setting; returns the trained model's folder."""
    from datasets import Dataset
    from transformers import PrinterCallback, ProgressCallback
    from trl import GRPOConfig, GRPOTrainer
    from trl.rewards import get_soft_overlong_punishment

    from grpo_lead.configs import GRPOLeadConfig
    from grpo_lead.demo import load_tokenizer, rl_config_kwargs
    from grpo_lead.rewards import accuracy_reward
    from grpo_lead.trainer import GRPOLeadTrainer

    rows = [json.loads(x) for x in (root / "problems.jsonl").read_text().splitlines()]
    data = Dataset.from_list([{"prompt": r["prompt"], "answer": r["answer"]} for r in rows])
    common = rl_config_kwargs(d, root / "runs" / setting, seed)
    rewards: list = [accuracy_reward]
    if setting == "trl-length":
        args = GRPOConfig(**common, **SETTINGS[setting])
        cls = GRPOTrainer
        rewards.append(get_soft_overlong_punishment(d.max_completion_length, s.soft_punish_cache))
    else:
        args = GRPOLeadConfig(**common, **SETTINGS[setting])
        cls = GRPOLeadTrainer
    tokenizer = load_tokenizer(root / "warmup")
    trainer = cls(
        model=str(root / "warmup"),
        reward_funcs=rewards,
        args=args,
        train_dataset=data,
        processing_class=tokenizer,
    )
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.train()
    model_dir = root / "models" / setting
    trainer.save_model(str(model_dir))
    tokenizer.save_pretrained(str(model_dir))
    return model_dir


def _job(kind: str, kwargs: dict[str, Any]) -> str:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # workers' "Writing model shards" bars would break ours
    if kind == "warmup":
        return str(prepare_warmup(**kwargs))
    return str(train_and_evaluate(**kwargs))


# -- statistics ------------------------------------------------------------------------------------


STATS = ("n", "correct", "len_correct", "len_wrong")


def _table(records: dict[str, dict[int, list[dict]]]):
    """(settings, seeds, problems, 4) array of per-(seed, problem) sums, and the problem levels."""
    import numpy as np

    names = list(records)
    seeds = sorted(records[names[0]])
    problems = sorted({r["id"] for r in records[names[0]][seeds[0]]}, key=str)
    index = {p: i for i, p in enumerate(problems)}
    table = np.zeros((len(names), len(seeds), len(problems), len(STATS)))
    levels = np.zeros(len(problems), dtype=int)
    for a, st in enumerate(names):
        for b, sd in enumerate(seeds):
            for r in records[st][sd]:
                c = index[r["id"]]
                levels[c] = int(r["difficulty"])
                ok = bool(r["correct"])
                table[a, b, c] += (1, ok, r["num_tokens"] * ok, r["num_tokens"] * (not ok))
    return names, table, levels


def _metrics_from(sums, levels) -> dict[str, float]:
    """Metrics from weighted sums: sums (..., problems, 4) already weighted."""
    import numpy as np

    def ratio(a, b):
        return float(a / b) if b > 0 else float("nan")

    total = sums.sum(axis=-2)
    out = {"accuracy": ratio(total[1], total[0])}
    for level in np.unique(levels):
        at = sums[..., levels == level, :].sum(axis=-2)
        out[f"accuracy_L{level}"] = ratio(at[1], at[0])
    out["length_correct"] = ratio(total[2], total[1])
    out["length_wrong"] = ratio(total[3], total[0] - total[1])
    return out


def bootstrap(
    records: dict[str, dict[int, list[dict]]],
    *,
    reference: str = "grpo",
    n: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, dict[str, float]]]:
    """Point estimates and 95% percentile intervals, resampling seeds and problems.

    `records[setting][seed]` = sample rows with ``id`` (problem), ``difficulty``, ``correct``
    and ``num_tokens``. Every seed is evaluated on the same problems (a crossed design), so each
    replicate draws the seeds with replacement and, independently, one set of problems with
    replacement that every drawn seed uses (drawing problems anew per seed would shrink the
    problems' share of the variance by the number of seeds). The same draw applies to every
    setting, so the differences to `reference` are paired. Returns
    ``{setting: {metric: {"mean", "lo", "hi", "diff", "diff_lo", "diff_hi"}}}``.
    """
    import numpy as np

    names, table, levels = _table(records)
    n_seeds, n_problems = table.shape[1], table.shape[2]
    ref = names.index(reference)
    point = [_metrics_from(table[a].sum(axis=0), levels) for a in range(len(names))]
    rng = np.random.default_rng(seed)
    reps: list[list[dict[str, float]]] = [[] for _ in names]
    for _ in range(n):
        seed_w = np.bincount(rng.integers(0, n_seeds, n_seeds), minlength=n_seeds)
        problem_w = np.bincount(rng.integers(0, n_problems, n_problems), minlength=n_problems)
        sums = np.einsum("aspk,s,p->apk", table, seed_w, problem_w)
        for a in range(len(names)):
            reps[a].append(_metrics_from(sums[a], levels))
    out = {}
    for a, st in enumerate(names):
        out[st] = {}
        for k, mean in point[a].items():
            values = [r[k] for r in reps[a]]
            diffs = [r[k] - q[k] for r, q in zip(reps[a], reps[ref])]
            out[st][k] = {
                "mean": mean,
                **_interval(values, "lo", "hi"),
                "diff": mean - point[ref][k],
                **_interval(diffs, "diff_lo", "diff_hi"),
            }
    return out


def _interval(values: list[float], lo: str, hi: str) -> dict[str, float]:
    vals = sorted(v for v in values if v == v)
    if not vals:
        return {lo: float("nan"), hi: float("nan")}
    return {lo: vals[int(0.025 * (len(vals) - 1))], hi: vals[int(0.975 * (len(vals) - 1))]}


# Each mechanism's own effect: (setting, against, what the step adds), both from SETTINGS.
CONTRASTS: tuple[tuple[str, str, str], ...] = (
    ("grpo", "warmup", "RL itself (plain GRPO against the warm-up)"),
    ("+length", "grpo", "length reward"),
    ("+difficulty", "+length", "difficulty weight (wrong answers at 0)"),
    ("lead", "+difficulty", "explicit -1 for wrong answers"),
    ("lead", "lead-no-difficulty", "difficulty weight (within LEAD)"),
    ("lead", "trl-length", "LEAD against the TRL length baseline"),
)
CONTRAST_METRICS = ("accuracy", "length_correct", "length_wrong")


def contrasts(
    records: dict[str, dict[int, list[dict]]], *, n: int = 1000, seed: int = 0
) -> list[dict[str, Any]]:
    """Paired differences (setting minus against) for every step of `CONTRASTS` whose two
    settings were run, with 95% intervals; the hardest level's accuracy is included."""
    out = []
    for setting, against, step in CONTRASTS:
        if setting not in records or against not in records:
            continue
        stats = bootstrap(
            {against: records[against], setting: records[setting]},
            reference=against,
            n=n,
            seed=seed,
        )[setting]
        hardest = _levels(stats)[-1]
        metrics = {k: stats[k] for k in (*CONTRAST_METRICS, hardest)}
        out.append({"setting": setting, "against": against, "step": step, "metrics": metrics})
    return out


def _level_of(key: str) -> int:
    return int(key[len("accuracy_L") :])


# -- report ----------------------------------------------------------------------------------------


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


def _levels(metrics: dict[str, Any]) -> list[str]:
    """The per-level accuracy keys, easiest first."""
    return sorted((k for k in metrics if k.startswith("accuracy_L")), key=_level_of)


def markdown_table(stats: dict[str, dict[str, dict[str, float]]], title: str) -> str:
    """One row per setting, shaped like the paper's ablation; differences to GRPO in brackets."""
    hardest = _levels(next(iter(stats.values())))[-1]
    head = [
        "setting",
        "accuracy %",
        f"L{_level_of(hardest)} %",
        "tokens (correct)",
        "tokens (wrong)",
    ]
    rows = []
    for st, m in stats.items():
        diff = st != "grpo"
        rows.append(
            [
                LABELS.get(st, st),
                _fmt(m["accuracy"], 100, 1, diff),
                _fmt(m[hardest], 100, 1, diff),
                _fmt(m["length_correct"], 1, 1, diff),
                _fmt(m["length_wrong"], 1, 1, diff),
            ]
        )
    return _markdown(title, head, rows)


def markdown_levels_table(stats: dict[str, dict[str, dict[str, float]]], title: str) -> str:
    """Accuracy per difficulty level, one row per setting; differences to GRPO in brackets."""
    levels = _levels(next(iter(stats.values())))
    head = ["setting", *(f"level {_level_of(lv)} %" for lv in levels)]
    rows = [
        [LABELS.get(st, st), *(_fmt(m[lv], 100, 1, st != "grpo") for lv in levels)]
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
        hardest = _levels(m)[-1]
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


def plot(stats_by_switch: dict[str, dict], path: Path) -> None:
    """Accuracy against mean length of correct answers, one point per setting, 95% bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(stats_by_switch), figsize=(6 * len(stats_by_switch), 4.5), squeeze=False
    )
    for ax, (switch, stats) in zip(axes[0], stats_by_switch.items()):
        for st, m in stats.items():
            x, y = m["length_correct"], m["accuracy"]
            ax.errorbar(
                x["mean"], 100 * y["mean"],
                xerr=[[x["mean"] - x["lo"]], [x["hi"] - x["mean"]]],
                yerr=[[100 * (y["mean"] - y["lo"])], [100 * (y["hi"] - y["mean"])]],
                fmt="o", capsize=3, label=LABELS.get(st, st),
            )  # fmt: skip
        ax.set_title(f"verbosity: {switch}")
        ax.set_xlabel("mean length of correct answers (tokens)")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- driver ----------------------------------------------------------------------------------------


def run_ablation(
    out_dir: str | Path = "outputs/ablation",
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    verbosities: Sequence[str] = ("redundant", "useful"),
    settings: Sequence[str] = tuple(SETTINGS),
    workers: int = 2,
    quick: bool = False,
    progress: bool = True,
    rl_steps: int | None = None,
) -> dict[str, Any]:
    """Run (or resume) every job, then write ablation.md, ablation.json and ablation.png.

    `rl_steps` overrides the RL budget of every run. A folder keeps the budget it was started
    with: resuming it with another budget is refused (its runs would mix budgets)."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from tqdm.auto import tqdm

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
    out = Path(out_dir)
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
    ctx = multiprocessing.get_context("spawn")
    start = time.perf_counter()
    jobs = [(v, sd) for v in verbosities for sd in seeds]
    warm_bar = tqdm(total=len(jobs), desc="warm-ups", disable=not progress)
    run_bar = tqdm(total=len(jobs) * len(settings), desc="RL runs", disable=not progress)
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        # A seed's runs are queued as soon as its warm-up ends, so no core waits for the last
        # warm-up; a failed job raises once the jobs already queued have ended (and been saved).
        def submit(kind: str, v: str, sd: int, **kw: Any) -> None:
            args = dict(out=out, verbosity=v, seed=sd, s=s, quick=quick, **kw)
            pending[pool.submit(_job, kind, args)] = (kind, v, sd)

        pending: dict[Any, tuple[str, str, int]] = {}
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
    stats_by_switch, run_seconds, steps = {}, {}, {}
    for v in verbosities:
        records = {
            st: {
                sd: [
                    json.loads(x)
                    for x in (out / v / f"seed{sd}" / f"{st}.jsonl").read_text().splitlines()
                ]
                for sd in seeds
            }
            for st in settings
        }
        stats_by_switch[v] = bootstrap(records, n=s.bootstrap)
        steps[v] = contrasts(records, n=s.bootstrap)
        # wall seconds of one run (RL + evaluation), mean over seeds, as each run recorded it
        run_seconds[v] = {
            st: sum(rows[0]["seconds"] for rows in by_seed.values()) / len(by_seed)
            for st, by_seed in records.items()
        }
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
    plot(stats_by_switch, out / "ablation.png")
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
