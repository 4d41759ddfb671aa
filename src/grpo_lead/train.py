"""`grpo-lead train`: a recipe (YAML) + overrides -> a trained model, with checkpoints and resume.

    grpo-lead train --config recipes/qwen2.5-1.5b-single-gpu.yaml [--learning_rate 2e-6 ...] [--resume]

Arguments follow TRL's parser (`TrlParser`): every field of `GRPOLeadConfig` (so every TRL
`GRPOConfig` option), of `trl.ModelConfig` (model, dtype, LoRA) and of `LeadScriptArguments`
(data, rewards, resume) is a `--flag` and a YAML key; flags override the YAML.
Multi-GPU / multi-node: `accelerate launch --config_file recipes/accelerate/zero2.yaml -m
grpo_lead.cli train --config ...` (see the README); we add no distributed code of our own.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from grpo_lead.checkpoints import (  # noqa: F401 - checkpoint_problem, check_model_path: public here too
    check_model_path,
    checkpoint_problem,
    checkpoints,
)
from grpo_lead.tasks.math.train import build_train_dataset  # noqa: F401 - the math task's, public here too

logger = logging.getLogger(__name__)


def check_output_dir(
    output_dir: str, resume: bool, overwrite: bool = False
) -> tuple[str | None, list[tuple[str, str]]]:
    """(the checkpoint to resume from or None, [(skipped checkpoint, why)]).

    `--resume` takes the newest *complete* checkpoint; the incomplete ones above it (a kill
    inside a checkpoint write) are skipped and written again when training reaches them. With
    only incomplete ones it starts from step 0. A fresh run never writes over checkpoints that
    are already there, nor (without `--overwrite_output_dir`) over a finished run or files that
    are not a run's: nothing is lost by a forgotten --resume or a mistyped folder."""
    from grpo_lead.paths import folder_problem

    path = Path(output_dir)
    problem = folder_problem(path)
    if problem:
        raise ValueError(f"output_dir {output_dir}: {problem}")
    folders = checkpoints(path) if path.is_dir() else []
    if resume and not folders:
        raise ValueError(f"--resume: no checkpoint-* folder in output_dir {output_dir}")
    if not resume and folders:
        raise ValueError(
            f"output_dir {output_dir} already holds {folders[0].name}: pass --resume to continue "
            "it, or choose another output_dir"
        )
    if not resume and not overwrite and path.is_dir():
        _check_nothing_to_overwrite(path)
    skipped = []
    for folder in folders:
        problem = checkpoint_problem(folder)
        if problem is None:
            return str(folder), skipped
        skipped.append((str(folder), problem))
    return None, skipped


# What a run writes before its end (a run killed early may be started again over them).
_RUN_STARTED = {"grpo_lead_recipe.yaml", "training.png", "runs"}
# What only a finished run holds.
_RUN_FINISHED = ("trainer_state.json", "model.safetensors", "adapter_model.safetensors")


def _check_nothing_to_overwrite(path: Path) -> None:
    """Refuse a fresh run into a folder holding a finished run or anything else not ours."""
    names = sorted(p.name for p in path.iterdir() if not p.name.startswith("."))
    finished = [n for n in _RUN_FINISHED if n in names]
    if finished and "grpo_lead_recipe.yaml" in names:
        raise ValueError(
            f"output_dir {path} holds a finished run ({finished[0]}): choose another "
            "output_dir, or pass --overwrite_output_dir true to replace it"
        )
    foreign = [n for n in names if n not in _RUN_STARTED]
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise ValueError(
            f"output_dir {path} holds files that are not a grpo-lead run's ({shown}): choose "
            "an empty or new folder, or pass --overwrite_output_dir true to write over them"
        )


def check_runtime(training_args, model_args) -> None:
    """Say at once what a GPU-only option needs, instead of failing deep inside TRL."""
    import importlib.util

    import torch

    if training_args.use_vllm:
        if importlib.util.find_spec("vllm") is None:
            raise ValueError('use_vllm needs vLLM: pip install -e ".[vllm]" (CUDA GPUs only)')
        if not torch.cuda.is_available():
            raise ValueError("use_vllm needs a CUDA GPU; on CPU set --use_vllm false")
    if model_args.use_peft and importlib.util.find_spec("peft") is None:
        raise ValueError('use_peft needs peft: pip install -e ".[peft]"')


def make_trainer(
    script_args, training_args, model_args, train_dataset, *, reward_table=None, **kwargs
):
    """GRPOLeadTrainer (or stock GRPOTrainer for baselines) from parsed arguments; the reward
    names are looked up in ``reward_table`` (the task's; default `grpo_lead.rewards.REWARDS`)."""
    from trl import GRPOTrainer, get_peft_config

    from grpo_lead.guards import FiniteGuard
    from grpo_lead.hf import load_tokenizer, no_gc_deprecation_warning, saved_as_plain_fast
    from grpo_lead.plots import TrainingPlotCallback
    from grpo_lead.rewards import get_reward
    from grpo_lead.trainer import GRPOLeadTrainer

    reward_funcs = [
        get_reward(name, training_args, rewards=reward_table) for name in script_args.reward_funcs
    ]
    if model_args.dtype not in (None, "auto") and training_args.model_init_kwargs is None:
        training_args.model_init_kwargs = {"dtype": model_args.dtype}
    cls = GRPOLeadTrainer if script_args.trainer == "lead" else GRPOTrainer
    callbacks = kwargs.pop("callbacks", None) or [TrainingPlotCallback(script_args.trainer)]
    kwargs["callbacks"] = [*callbacks, FiniteGuard()]
    if "processing_class" not in kwargs and saved_as_plain_fast(model_args.model_name_or_path):
        # e.g. the demo's character tokenizer: AutoTokenizer (TRL's default) would garble it
        tokenizer = load_tokenizer(model_args.model_name_or_path)
        tokenizer.padding_side = "left"
        kwargs["processing_class"] = tokenizer
    # peft (LoRA) reads transformers' deprecated `is_gradient_checkpointing` while wrapping
    with no_gc_deprecation_warning():
        return cls(
            model=model_args.model_name_or_path,
            reward_funcs=reward_funcs,
            args=training_args,
            train_dataset=train_dataset,
            peft_config=get_peft_config(model_args),
            **kwargs,
        )


def write_recipe(output_dir: str, script_args, training_args, model_args) -> Path:
    """Save the resolved arguments as `grpo_lead_recipe.yaml` in the output folder: a rerunnable
    record (`grpo-lead train --config` takes it) that `grpo-lead export` puts in the model card."""
    from dataclasses import asdict

    import yaml

    from grpo_lead.configs import GRPOLeadConfig

    lead_fields = set(GRPOLeadConfig.__dataclass_fields__) - set(
        GRPOLeadConfig.__mro__[1].__dataclass_fields__
    )
    training = training_args.to_dict()
    model = {k: v for k, v in asdict(model_args).items() if v is not None}
    recipe = {
        **model,
        **{k: v for k, v in asdict(script_args).items() if k not in _RUN_ONLY},
        **{k: training[k] for k in sorted(lead_fields)},
        # every other GRPOConfig field with a value, so the file reruns as --config
        **{k: v for k, v in training.items() if k not in lead_fields and _settable(k, v)},
    }
    path = Path(output_dir) / "grpo_lead_recipe.yaml"
    if training_args.process_index == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(recipe, sort_keys=False, default_flow_style=None))
    return path


# Script arguments that say how to start this run, not what it is: not in the recipe.
_RUN_ONLY = {"resume", "overwrite_output_dir"}

# Fields GRPOConfig derives from others in __post_init__: setting them too is an error.
_DERIVED = {"generation_batch_size"}


def _settable(name: str, value) -> bool:
    from grpo_lead.configs import GRPOLeadConfig

    f = GRPOLeadConfig.__dataclass_fields__.get(name)
    ok = f is not None and f.init and value is not None and not name.startswith("_")
    return ok and name not in _DERIVED


TRAIN_USAGE = "grpo-lead train --config RECIPE.yaml [--task {math,mcq}] [--option VALUE ...]"
# What `train --help` says first, before the ~300 options of ours, TRL's and the model's.
TRAIN_FIRST_FLAGS = """\
Start with a recipe (recipes/*.yaml); every option below is also a YAML key, and a flag
overrides the recipe:
  --config RECIPE.yaml           the recipe
  --task {math,mcq}              math (default) or multiple choice; the recipe's `task:` key
                                 does the same. `--task mcq --help` adds the multiple-choice
                                 options (--options_column, --layout, --abstain, ...)
The options most runs set first:
  --model_name_or_path M         a hub id or a local model folder
  --dataset D                    a name (deepscaler, math500, gsm8k, ...), a local
                                 .jsonl/.json/.parquet/.csv file or a hub dataset id
  --output_dir DIR               checkpoints and the final model
  --max_steps N                  RL steps
  --learning_rate LR
  --num_generations G            completions per prompt (the group)
  --per_device_train_batch_size B
                                 completions per process and micro-step; B x processes x
                                 --steps_per_generation (default: --gradient_accumulation_steps)
                                 must be a multiple of G
  --max_completion_length T      tokens per completion
  --length_reward, --alpha, --incorrect_reward, --difficulty_weight
                                 the LEAD options (docs/training.md lists them all)
  --use_vllm, --use_peft, --bf16 GPU generation, LoRA, precision
  --resume                       continue from the last checkpoint in --output_dir
Every option follows: ours (data, rewards, LEAD), then TRL's GRPOConfig, then trl.ModelConfig."""


def _train_help_formatter():
    import argparse

    class Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
        """The description as written; each option's default shown, as TRL's parser does."""

    return Formatter


def parse_train_args(argv: list[str], script_cls=None, recipe: dict | None = None):
    """(script, training, model) arguments; a bad flag, value type or YAML file raises a
    ValueError with one line (never argparse's 221-line usage, never a YAML traceback).
    ``script_cls``: the script arguments' dataclass (default `LeadScriptArguments`);
    ``recipe``: the YAML already read (`grpo_lead.tasks.read_recipe`), else read here from
    ``--config``."""
    import os

    from trl import ModelConfig, TrlParser

    from grpo_lead.cli import OneLineUsage
    from grpo_lead.configs import GRPOLeadConfig, LeadScriptArguments
    from grpo_lead.tasks import read_recipe

    class Parser(OneLineUsage, TrlParser):
        pass

    if recipe is None:
        argv, recipe = read_recipe(argv)
    script_cls = script_cls or LeadScriptArguments
    parser = Parser(
        (script_cls, GRPOLeadConfig, ModelConfig),
        prog="grpo-lead train",
        usage=TRAIN_USAGE,
        description=TRAIN_FIRST_FLAGS,
        formatter_class=_train_help_formatter(),
    )
    unknown: list[str] = []
    if recipe is not None:  # what TrlParser does with --config, on the recipe read once
        recipe = dict(recipe)
        env = recipe.pop("env", {})
        if not isinstance(env, dict):
            raise ValueError("`env` field should be a dict in the YAML file.")
        os.environ.update({key: str(value) for key, value in env.items()})
        unknown = parser.set_defaults_with_config(**recipe)
    try:
        parsed = parser.parse_args_and_config(args=argv)
    except ValueError as exc:
        raise ValueError(_precision_hint(str(exc))) from None
    if unknown:
        raise ValueError(f"Unknown arguments from config file: {unknown}")
    return parsed


def _precision_hint(message: str) -> str:
    """transformers' refusal of bf16 where no GPU supports it ("You need to assign use_cpu"),
    said as what to change in our recipe's terms; any other message as it is."""
    if "support bf16" in message:
        return (
            "bf16: true needs a GPU with bf16 (none here): set `bf16: false` in the recipe "
            "or pass --bf16 false (the GPU recipes set it; recipes/cpu-tiny.yaml does not)"
        )
    return message


def train_main(argv: list[str] | None = None) -> int:
    """`grpo-lead train`: the task (`grpo_lead.tasks.TASKS`) from ``--task`` or the recipe's
    ``task:`` (math by default) gives the script arguments, the dataset and the rewards."""
    from grpo_lead.tasks import read_recipe, task_of

    argv = sys.argv[1:] if argv is None else argv
    try:
        rest, recipe = read_recipe(argv)
        task = task_of(rest, recipe)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run_training(
        rest,
        task.load("script_arguments"),
        task.load("build_dataset"),
        recipe=recipe,
        rewards=task.load("rewards"),
    )


def _log_first_prompt(trainer, dataset) -> None:
    """Say what the model sees: a chat template's default system prompt shows here."""
    from grpo_lead.hf import clip_for_log, rendered_prompt

    tokenizer = getattr(trainer.processing_class, "tokenizer", trainer.processing_class)
    text = rendered_prompt(tokenizer, dataset[0]["prompt"])
    logger.info("the model sees (the first prompt, rendered): %r", clip_for_log(text))


def _guard_failure(trainer) -> str | None:
    """Why `FiniteGuard` stopped the run, or None."""
    from grpo_lead.guards import FiniteGuard

    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, FiniteGuard) and callback.failure:
            return callback.failure
    return None


def run_training(
    argv: list[str], script_cls, build_dataset, *, recipe: dict | None = None, rewards=None
) -> int:
    """Parse, check everything before any model loads (one-line errors, exit 2), train, save.
    ``recipe``: the YAML read by the caller (else ``--config`` is read here); ``rewards``: the
    task's reward table (default `grpo_lead.rewards.REWARDS`)."""
    from grpo_lead.reader import DataError
    from grpo_lead.threads import set_torch_threads

    try:
        script_args, training_args, model_args = parse_train_args(argv, script_cls, recipe)
        last, skipped = check_output_dir(
            training_args.output_dir, script_args.resume, script_args.overwrite_output_dir
        )
        if not model_args.model_name_or_path:
            raise ValueError("model_name_or_path is required (a hub id or a local folder)")
        check_model_path(model_args.model_name_or_path)
        check_runtime(training_args, model_args)
        dataset = build_dataset(script_args)
        trainer = make_trainer(
            script_args, training_args, model_args, dataset, reward_table=rewards
        )
    except (ValueError, DataError, OSError, TypeError) as exc:  # OSError: a hub id not found
        print(
            f"error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            file=sys.stderr,
        )
        return 2
    write_recipe(training_args.output_dir, script_args, training_args, model_args)
    set_torch_threads(script_args.threads)  # after every check: an error stays one line
    _log_first_prompt(trainer, dataset)
    for folder, problem in skipped:
        print(f"skipping {Path(folder).name}: incomplete ({problem})", file=sys.stderr)
    if last:
        print(f"resuming from {last}", file=sys.stderr)
    elif script_args.resume:
        print("no complete checkpoint: starting from step 0", file=sys.stderr)
    from grpo_lead.hf import no_gc_deprecation_warning

    with no_gc_deprecation_warning():  # TRL's stock GRPOTrainer (trainer: grpo) reads it too
        trainer.train(resume_from_checkpoint=last)
        failure = _guard_failure(trainer)
        if failure:
            print(f"error: {failure}: training stopped; nothing saved", file=sys.stderr)
            return 1
        trainer.save_model(training_args.output_dir)
        trainer.save_state()  # trainer_state.json: the step and every logged metric, beside it
    return 0
