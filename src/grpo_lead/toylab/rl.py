"""RL on the toy task: `train_method` trains one row of a method table from a warm-up model.

The rows are `toylab.grid.Method`s; the paper grid's (`grid.PAPER_METHODS`, named by
`METHODS`) are the paper's ablation steps plus a TRL baseline:

1. ``grpo``: plain GRPO (0/1 reward, group normalisation): `GRPOLeadTrainer` with every LEAD
   option off;
2. ``+length``: the length-dependent reward exp(-alpha z) among correct answers (wrong: 0);
3. ``+difficulty``: and the logistic difficulty weight;
4. ``lead``: and the explicit -1 for wrong answers (= GRPO-LEAD, the paper's defaults);
5. ``lead-no-difficulty``: GRPO-LEAD without the difficulty weight;
6. ``trl-length``: a strong length baseline built only from TRL's own options, with the stock
   ``GRPOTrainer``: batch-level reward scaling (``scale_rewards="batch"``), DAPO's soft overlong
   punishment, truncated completions masked (``mask_truncated_completions``) and clip-higher.

Every run shares the CPU configuration of `rl_config_kwargs` and differs only in its row
(`Method.config_kwargs`, its extra rewards and its trainer): the table is the one place where a
name becomes options.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from grpo_lead.toylab.files import read_jsonl
from grpo_lead.toylab.grid import PAPER_METHODS, TRL_BASELINE, Method
from grpo_lead.toylab.settings import LabSettings

__all__ = [
    "METHODS",
    "TRL_BASELINE",
    "build_trainer",
    "preload",
    "rl_config_kwargs",
    "row",
    "train_in_parallel",
    "train_method",
]

METHODS = tuple(PAPER_METHODS)  # the paper grid's names, in order


def preload() -> threading.Thread:
    """Import TRL and the trainer in a background thread and return it (join it before use).

    Importing TRL takes most of the ~15 s before the first RL step (building the trainer takes
    ~1 s): started before the warm-up, the import overlaps it instead of following it.
    """
    thread = threading.Thread(
        target=importlib.import_module, args=("grpo_lead.trainer",), name="preload-trl"
    )
    thread.start()
    return thread


def rl_config_kwargs(settings: LabSettings, output_dir: Path, seed: int) -> dict[str, Any]:
    """The options every toy run shares (a `GRPOConfig`'s keyword arguments)."""
    return dict(
        output_dir=str(output_dir),
        # CPU settings (where a toy step's time goes: benchmarks/bench_toylab.py, docs/benchmarks.md)
        use_cpu=True,
        bf16=False,
        # transformers 5 renamed gradient_checkpointing (TRL's default: True); the old name warns
        activation_checkpointing=False,
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


def row(name: str, method: Method | None = None, soft_punish_cache: int | None = None) -> Method:
    """The method-table row a run trains: `method`, or the paper grid's row `name`; with
    `soft_punish_cache` (the ablation passes its recorded budget: 96, the paper grid's), a row on
    the stock trainer gets that soft overlong window. Raises ValueError for an unknown name."""
    if method is None:
        if name not in PAPER_METHODS:
            raise ValueError(f"unknown RL method {name!r}; choose one of {list(METHODS)}")
        method = PAPER_METHODS[name]
    if soft_punish_cache is not None and method.trainer == "trl":
        options = method.options.replace(soft_punish_cache=soft_punish_cache)
        method = replace(method, options=options)
    return method


def build_trainer(
    name: str,
    *,
    warmup_dir: str | Path,
    problems_path: str | Path,
    run_dir: str | Path,
    settings: LabSettings,
    seed: int,
    method: Method | None = None,
    soft_punish_cache: int | None = None,
):
    """The trainer of method `name`, from the warm-up model, on the problems file (console
    callbacks removed); `train_method` trains it. `method` is its row of a method table
    (default: the paper grid's row `name`); `soft_punish_cache` replaces the soft overlong window
    of a row on the stock trainer (see `row`)."""
    from datasets import Dataset
    from transformers import PrinterCallback, ProgressCallback
    from trl import GRPOConfig, GRPOTrainer

    from grpo_lead.configs import GRPOLeadConfig
    from grpo_lead.hf import load_tokenizer
    from grpo_lead.rewards import accuracy_reward, get_reward
    from grpo_lead.toylab import sampling
    from grpo_lead.trainer import GRPOLeadTrainer

    columns = ("prompt", "answer", "level")
    data = Dataset.from_list([{k: r[k] for k in columns} for r in read_jsonl(problems_path)])
    chosen = row(name, method, soft_punish_cache)
    options = {**rl_config_kwargs(settings, Path(run_dir), seed), **chosen.config_kwargs()}
    if chosen.trainer == "trl":
        config, cls = GRPOConfig(**options), GRPOTrainer
    else:
        config, cls = GRPOLeadConfig(**options), GRPOLeadTrainer
    # extra rewards take their LEAD options from the row (the soft overlong window) and the
    # generation limit from the config
    rewards = [accuracy_reward]
    rewards += [get_reward(r, config, options=chosen.options) for r in chosen.rewards]
    trainer = cls(
        model=str(warmup_dir),
        reward_funcs=rewards,
        args=config,
        train_dataset=data,
        processing_class=load_tokenizer(warmup_dir),
    )
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    sampling.install(trainer.model)  # finished answers leave the batch (toylab.sampling)
    return trainer


def train_method(
    name: str,
    *,
    warmup_dir: str | Path,
    problems_path: str | Path,
    out_dir: str | Path,
    settings: LabSettings,
    seed: int,
    num_threads: int = 1,
    progress: bool = False,
    position: int = 0,
    method: Method | None = None,
    soft_punish_cache: int | None = None,
) -> dict[str, Any]:
    """Train method `name` (its row: `method`, or the paper grid's) from the warm-up model on
    the problems file; `soft_punish_cache`: see `row`.
    Saves the model and tokenizer to ``out_dir/models/<name>`` and the trainer's log history to
    ``out_dir/runs/<name>/log_history.json``; returns ``{"model_dir", "seconds", "steps"}``.
    """
    import torch
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(num_threads)
    hf_logging.disable_progress_bar()
    # TRL 1.16 reads transformers' deprecated `model.is_gradient_checkpointing` inside its own
    # generation context: a FutureWarning no option of ours can avoid.
    warnings.filterwarnings(
        "ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning
    )
    out_dir = Path(out_dir)
    run_dir = out_dir / "runs" / name
    trainer = build_trainer(
        name,
        warmup_dir=warmup_dir,
        problems_path=problems_path,
        run_dir=run_dir,
        settings=settings,
        seed=seed,
        method=method,
        soft_punish_cache=soft_punish_cache,
    )
    if progress:
        trainer.add_callback(_progress_bar(f"RL {name:9s}", settings.rl_steps, position))
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    model_dir = out_dir / "models" / name
    trainer.save_model(str(model_dir))
    trainer.processing_class.save_pretrained(str(model_dir))
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "log_history.json").write_text(json.dumps(trainer.state.log_history, indent=1))
    return {"model_dir": str(model_dir), "seconds": seconds, "steps": settings.rl_steps}


def _progress_bar(desc: str, total: int, position: int):
    """A tqdm bar per RL run showing the batch accuracy and answer length (TrainerCallback)."""
    from tqdm.auto import tqdm
    from transformers import TrainerCallback

    class _Bar(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.bar = tqdm(total=total, desc=desc, position=position, dynamic_ncols=True)

        def on_step_end(self, args, state, control, **kwargs):
            self.bar.update(1)

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            accuracy = logs.get("lead/accuracy", logs.get("rewards/accuracy_reward/mean"))
            if accuracy is not None:
                self.bar.set_postfix(
                    acc=f"{accuracy:.2f}",
                    len=f"{logs.get('completions/mean_length', float('nan')):.0f}",
                )

        def on_train_end(self, args, state, control, **kwargs):
            self.bar.close()

    return _Bar()


def _worker(kwargs: dict[str, Any]) -> None:
    """Entry point of a spawned RL process: its result goes to runs/<name>/result.json."""
    result = train_method(**kwargs)
    path = Path(kwargs["out_dir"]) / "runs" / kwargs["name"] / "result.json"
    path.write_text(json.dumps(result))


def train_in_parallel(names: Sequence[str], **common: Any) -> dict[str, dict[str, Any]]:
    """`train_method` for each name in its own spawned process, one thread each; `common` holds
    the other keyword arguments. Raises RuntimeError when a process fails."""
    ctx = multiprocessing.get_context("spawn")
    procs = []
    for position, name in enumerate(names):
        kwargs = dict(common, name=name, num_threads=1, position=position)
        proc = ctx.Process(target=_worker, args=(kwargs,), name=f"rl-{name}")
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
