"""`grpo-lead export`: a training checkpoint -> a servable Hugging Face folder.

    grpo-lead export --checkpoint outputs/run/checkpoint-500 --out exported/lead \
        [--recipe outputs/run/grpo_lead_recipe.yaml] [--eval outputs/eval/lead]

What the folder holds, and why:
1. The weights as safetensors only (`model*.safetensors`), LoRA merged into the base where the
   checkpoint is an adapter (`adapter_config.json`): vLLM, `transformers` and Bedrock Custom
   Model Import all load it as a plain model. Optimizer, scheduler, RNG state and
   `training_args.bin` (a pickle: never loaded) stay behind.
2. The tokenizer with its chat template.
3. `generation_config.json` with the evaluation protocol's sampling (grpo_lead.protocol): temperature 0.6,
   min-p 0.01, no top-k / top-p cut; `max_new_tokens` is the training's `max_completion_length`
   (from the recipe) and is left unset when no recipe says it: a model trained to answer in
   128 tokens gets no 8,192-token default. `grpo-lead serve` and `vllm serve
   --generation-config auto` use it as request defaults.
4. `README.md`: a model card with the training step and the last logged metrics
   (`trainer_state.json`), the recipe, the evaluation table when an evaluation summary is given
   (`--eval DIR` of `grpo-lead eval --out DIR`) and the `serve` command for the folder's path.

5. `grpo_lead_export.json`: the marker that makes the folder an export (the checkpoint it came
   from). `--force` replaces only a folder holding it; the new export is written to a temporary
   folder beside `--out` and swapped in only when complete, after every input was checked, so a
   failed export never costs the earlier one.

6. Files are world-readable (644, folders 755): a server running as another user loads them.

A checkpoint is a folder with `config.json` and model weights, or with `adapter_config.json` and
adapter weights. A run folder (`output_dir`) exports its final save (what `grpo-lead train` writes
there when training ends: the finished model), or, when the run stopped before it, its newest
complete `checkpoint-N` (`trainer_state.json` written, the last file a checkpoint gets). Weights
cut short (a copy or a checkpoint write killed mid-way) are refused, naming the file, before
anything is written.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from grpo_lead.cli import OneLineUsage, UsageError
from grpo_lead.hf import (
    load_causal_lm,
    load_tokenizer,
    make_readable,
    no_gc_deprecation_warning,
    safetensors_problem,
)
from grpo_lead.paths import out_problem
from grpo_lead.protocol import EVAL_MIN_P, EVAL_TEMPERATURE

logger = logging.getLogger(__name__)

# The paper's evaluation protocol (grpo_lead.protocol): temperature 0.6, min-p 0.01 (its 14k tokens are eval's, not a
# default for every model: `max_new_tokens` is the training's completion length).
EVAL_SAMPLING = {"do_sample": True, "temperature": EVAL_TEMPERATURE, "min_p": EVAL_MIN_P,
                 "top_p": 1.0, "top_k": 0}  # fmt: skip
WEIGHT_PATTERNS = ("model.safetensors", "model-*.safetensors", "pytorch_model*.bin")
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
RECIPE_NAMES = ("grpo_lead_recipe.yaml", "recipe.yaml", "config.yaml")
MAX_EMBEDDED_CHARS = 20_000  # a recipe or summary larger than this is cut in the card
EXPORT_MARKER = "grpo_lead_export.json"  # what makes a folder an export --force may replace
DTYPES = ("auto", "float32", "bfloat16", "float16")


class ExportError(Exception):
    """A problem with the export's input or output; its message is one line for the user."""


def is_checkpoint(path: Path) -> bool:
    """A full model (config.json + weights) or a LoRA adapter (adapter_config.json + weights)."""
    if not path.is_dir():
        return False
    has_weights = any(any(path.glob(p)) for p in WEIGHT_PATTERNS)
    if (path / "config.json").is_file() and has_weights:
        return True
    return (path / "adapter_config.json").is_file() and any(
        (path / w).is_file() for w in ADAPTER_WEIGHTS
    )


def _complete_checkpoints(run: Path) -> list[Path]:
    """The complete `checkpoint-N` folders of a run folder, newest (highest N) first; the
    incomplete ones (a checkpoint write killed mid-way) are logged and left out."""
    from grpo_lead.checkpoints import checkpoint_problem, checkpoints

    complete = []
    for p in (c for c in checkpoints(run) if is_checkpoint(c)):
        problem = checkpoint_problem(p)
        if problem is None:
            complete.append(p)
        else:
            logger.warning("skipping %s: incomplete (%s)", p.name, problem)
    return complete


def _newest_weights(folder: Path) -> float:
    return max((f.stat().st_mtime for f in folder.glob("*.safetensors")), default=0.0)


def find_checkpoint(path: str | Path) -> Path:
    """What `export --checkpoint path` exports: a checkpoint folder itself (a `checkpoint-N`, a
    folder saved with `save_model`, or a finished run folder: its final save), else the newest
    complete `checkpoint-N` of a run folder."""
    path = Path(path)
    if not path.is_dir():
        raise ExportError(f"{path}: no such folder")
    if is_checkpoint(path):
        newer = [
            c for c in _complete_checkpoints(path) if _newest_weights(c) > _newest_weights(path)
        ]
        if newer:  # e.g. a resumed run that went on past its final save and was killed
            logger.warning(
                "%s holds a final save, exported; %s is newer: pass --checkpoint %s to export it",
                path, newer[0].name, newer[0],
            )  # fmt: skip
        return path
    complete = _complete_checkpoints(path)
    if complete:
        logger.info(
            "%s has no final save: exporting its newest checkpoint, %s", path, complete[0].name
        )
        return complete[0]
    raise ExportError(
        f"{path} is not a checkpoint: it needs config.json and model weights (*.safetensors), "
        "or adapter_config.json and adapter weights, or checkpoint-N folders holding them"
    )


def is_export(path: Path) -> bool:
    """A folder `export_checkpoint` wrote: it holds the marker file `EXPORT_MARKER`."""
    return (path / EXPORT_MARKER).is_file()


def _check_out(out: Path, checkpoint: Path, force: bool) -> None:
    """Refuse an --out that cannot take the export; nothing is written or deleted here."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out {out} is a file; give a folder for the exported model")
    out_r, ckpt_r = out.resolve(), checkpoint.resolve()
    if out_r == ckpt_r or ckpt_r in out_r.parents or out_r in ckpt_r.parents:
        raise ExportError(f"--out {out} must not be the checkpoint or contain it")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ExportError(f"--out {out} is not empty (pass --force to replace it)")
        if not is_export(out):
            raise ExportError(
                f"--out {out} is not an earlier export (no {EXPORT_MARKER}): --force replaces "
                "only those; remove it yourself or choose another --out"
            )


def _swap_in(staged: Path, out: Path) -> None:
    """Put the complete export `staged` (a folder beside `out`) in place of `out`.

    Two renames on one file system: the earlier export moves aside, the new one takes its name,
    then the earlier one is deleted. A kill between the renames leaves both folders whole."""
    if not out.exists():
        staged.rename(out)
        return
    if not any(out.iterdir()):
        out.rmdir()
        staged.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    out.rename(old)
    staged.rename(out)
    shutil.rmtree(old)


def load_merged_model(checkpoint: Path, *, base_model: str | None = None, dtype: str = "auto"):
    """(model, base model name or None): a full checkpoint as is, an adapter merged into its
    base (`base_model` overrides the adapter's `base_model_name_or_path`)."""
    adapter_config = checkpoint / "adapter_config.json"
    if not adapter_config.is_file():
        return load_causal_lm(checkpoint, dtype=dtype), None
    try:
        from peft import PeftModel
    except ImportError:
        raise ExportError('a LoRA checkpoint needs peft: pip install -e ".[peft]"') from None
    base = base_model or json.loads(adapter_config.read_text()).get("base_model_name_or_path")
    if not base:
        raise ExportError(f"{adapter_config} names no base model: pass --base-model")
    logger.info("merging the LoRA adapter %s into %s", checkpoint, base)
    model = load_causal_lm(base, dtype=dtype)
    with no_gc_deprecation_warning():  # peft reads transformers' deprecated property
        merged = PeftModel.from_pretrained(model, checkpoint).merge_and_unload()
    return merged, base


def tokenizer_source(checkpoint: Path, base: str | None) -> Path | str:
    """The checkpoint when it saved a tokenizer (TRL saves one with each checkpoint), else the
    base model of a LoRA adapter."""
    has_own = any((checkpoint / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json"))
    return checkpoint if has_own or base is None else base


def eval_generation_config(model, max_new_tokens: int | None = None):
    """The model's generation config with the evaluation protocol's sampling, and
    ``max_new_tokens`` (the training's completion length) where known: a 14,000-token default
    is the protocol's for long-reasoning models, not every model's."""
    from transformers import GenerationConfig

    config = GenerationConfig.from_dict(model.generation_config.to_dict())
    for key, value in EVAL_SAMPLING.items():
        setattr(config, key, value)
    if max_new_tokens is not None:
        context = getattr(model.config, "max_position_embeddings", None) or max_new_tokens
        config.max_new_tokens = min(max_new_tokens, context)
    return config


def training_max_length(recipe: Path | None) -> int | None:
    """The recipe's `max_completion_length` (None: no recipe, or it does not say)."""
    if recipe is None:
        return None
    import yaml

    try:
        values = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ExportError(
            f"--recipe {recipe}: not a YAML file ({str(exc).splitlines()[0]})"
        ) from None
    value = values.get("max_completion_length") if isinstance(values, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _state_file(checkpoint: Path) -> Path | None:
    """The checkpoint's `trainer_state.json`; for a run folder's final save (`save_model`
    writes none), that of its newest complete checkpoint."""
    if (checkpoint / "trainer_state.json").is_file():
        return checkpoint / "trainer_state.json"
    complete = _complete_checkpoints(checkpoint)
    return complete[0] / "trainer_state.json" if complete else None


def training_state(checkpoint: Path) -> dict[str, Any]:
    """Step, epoch and the metrics of the last training log entry (one with a loss or a reward)
    from `trainer_state.json` (cheap JSON; the pickled `training_args.bin` is never loaded)."""
    file = _state_file(checkpoint)
    if file is None:
        return {}
    try:
        state = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    logs = [e for e in state.get("log_history", []) if isinstance(e, dict)]
    steps = [e for e in logs if "loss" in e or "reward" in e]  # not the end-of-run summary
    last = steps[-1] if steps else {}
    keep = ("reward", "accuracy", "completions/mean_length", "loss", "learning_rate", "lead/")
    metrics = {
        k: v
        for k, v in last.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and any(s in k for s in keep)
    }
    return {
        "global_step": state.get("global_step"),
        "epoch": state.get("epoch"),
        "logged_step": last.get("step"),
        "last": metrics,
        "source": file.parent.name,
    }


def find_recipe(checkpoint: Path, recipe: str | Path | None) -> Path | None:
    if recipe is not None:
        path = Path(recipe)
        if not path.is_file():
            raise ExportError(f"--recipe {path}: no such file")
        return path
    for folder in (checkpoint, checkpoint.parent):
        for name in RECIPE_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def eval_section(eval_dir: str | Path | None) -> str | None:
    """The evaluation table from `summary.md` (or `summary.json`) of `grpo-lead eval --out`."""
    if eval_dir is None:
        return None
    folder = Path(eval_dir)
    folder = folder.parent if folder.is_file() else folder
    md, js = folder / "summary.md", folder / "summary.json"
    if md.is_file():
        return _cut(md.read_text(encoding="utf-8"))
    if js.is_file():
        overall = json.loads(js.read_text(encoding="utf-8")).get("overall", {})
        rows = [f"| {k} | {v} |" for k, v in overall.items() if not isinstance(v, (dict, list))]
        return "\n".join(["| metric | value |", "|---|---|", *rows])
    raise ExportError(f"--eval {eval_dir}: no summary.md or summary.json there")


def _cut(text: str) -> str:
    if len(text) <= MAX_EMBEDDED_CHARS:
        return text.strip()
    return text[:MAX_EMBEDDED_CHARS].rstrip() + "\n... (cut)"


def model_card(
    *,
    name: str,
    path: str,
    base: str | None,
    checkpoint: Path,
    lora: bool,
    state: dict[str, Any],
    recipe: Path | None,
    evaluation: str | None,
    generation: dict[str, Any],
    has_chat_template: bool,
) -> str:
    """The README.md of the exported folder (``path``: the folder as `serve --model` takes it)."""
    front = ["---", "library_name: transformers", "pipeline_tag: text-generation"]
    if base:
        front.append(f"base_model: {base}")
    front += ["tags:", "- grpo-lead", "- grpo", "- reasoning", "---", ""]
    lines = [*front, f"# {name}", ""]
    lines.append(
        "Trained with GRPO-LEAD (Zhang & Zuo, EMNLP 2025: length-regularised, difficulty-aware "
        "GRPO for concise reasoning) using grpo-lead on TRL."
    )
    lines += ["", "## Export", "", *_export_facts(base, checkpoint, lora, state)]
    if not has_chat_template:
        lines.append("- No chat template: use the completions endpoint.")
    lines += ["", "## Sampling defaults (`generation_config.json`)", ""]
    lines.append(
        "The evaluation protocol of the paper: "
        + ", ".join(f"{k}={v}" for k, v in generation.items())
        + "."
    )
    lines += [
        "",
        "## Serving",
        "",
        "```bash",
        f"grpo-lead serve --model {path}   # vLLM on a GPU, transformers on CPU",
        "```",
        "",
        "The reasoning inside `<think>...</think>` is returned in `reasoning` (and",
        "`reasoning_content`), the rest in `content`, and the extracted answer in `final_answer`.",
    ]
    if evaluation:
        lines += ["", "## Evaluation", "", evaluation]
    if recipe is not None:
        lines += [
            "",
            f"## Recipe (`{recipe.name}`)",
            "",
            "```yaml",
            _cut(recipe.read_text()),
            "```",
        ]
    return "\n".join(lines) + "\n"


def _export_facts(
    base: str | None, checkpoint: Path, lora: bool, state: dict[str, Any]
) -> list[str]:
    """The model card's "Export" bullets: date, source, base model, training state."""
    lines = [
        f"- Exported on {date.today().isoformat()} from `{checkpoint.name}`"
        f"{' (LoRA adapter merged into the base)' if lora else ''}."
    ]
    if base:
        lines.append(f"- Base model: `{base}`.")
    if state.get("global_step") is not None:
        source = state.get("source")
        where = "" if source == checkpoint.name else f" (the state of `{source}`)"
        lines.append(f"- Training step {state['global_step']}, epoch {state.get('epoch')}{where}.")
    if state.get("last"):
        shown = ", ".join(f"{k} {v:.4g}" for k, v in sorted(state["last"].items()))
        at = f" (step {state['logged_step']})" if state.get("logged_step") is not None else ""
        lines.append(f"- Last logged training metrics{at}: {shown}.")
    return lines


def export_checkpoint(
    checkpoint: str | Path,
    out: str | Path,
    *,
    recipe: str | Path | None = None,
    eval_dir: str | Path | None = None,
    base_model: str | None = None,
    dtype: str = "auto",
    force: bool = False,
) -> Path:
    """Export (see the module docstring); returns the output folder.

    Every input is checked before anything is written. The export is written to a temporary
    folder beside `out` and swapped in only once complete, so a failure leaves an earlier export
    at `out` whole; `force` replaces only an earlier export (a folder holding `EXPORT_MARKER`).
    """
    out = Path(out)
    problem = out_problem(out)
    if problem:  # before the checkpoint is looked for: the cheapest check first
        raise ExportError(problem)
    ckpt = find_checkpoint(checkpoint)
    _check_out(out, ckpt, force)
    check_weights(ckpt)
    recipe_file = find_recipe(ckpt, recipe)
    evaluation = eval_section(eval_dir)
    model, base = _load(ckpt, base_model, dtype)  # before anything is written
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        _write_export(staged, ckpt, out, model, base, recipe_file, evaluation, dtype)
        make_readable(staged)  # a server running as another user reads it
        _swap_in(staged, out)
    finally:
        if staged.exists():
            shutil.rmtree(staged)
    logger.info("exported %s -> %s", ckpt, out)
    return out


def check_weights(folder: Path) -> None:
    """Refuse a `*.safetensors` file cut short (by a killed copy or checkpoint write): its
    header must parse and its tensors' data end exactly at the end of the file (the header only
    is read, as `train --resume` checks a checkpoint)."""
    for file in sorted(folder.glob("*.safetensors")):
        problem = safetensors_problem(file)
        if problem:
            raise ExportError(f"{folder}: {problem}; export another checkpoint")


def _load(ckpt: Path, base_model: str | None, dtype: str):
    """`load_merged_model`, a damaged weights file one line (the base model of an adapter is
    not checked beforehand: it may be a hub id)."""
    from safetensors import SafetensorError

    try:
        return load_merged_model(ckpt, base_model=base_model, dtype=dtype)
    except SafetensorError as exc:
        raise ExportError(f"{ckpt}: damaged weights ({str(exc).splitlines()[0]})") from None


def _write_export(
    folder: Path,
    ckpt: Path,
    out: Path,
    model: Any,
    base: str | None,
    recipe_file: Path | None,
    evaluation: str | None,
    dtype: str,
) -> None:
    """Model, tokenizer, generation config, model card and the export marker, into `folder`."""
    tokenizer = load_tokenizer(tokenizer_source(ckpt, base))
    generation = eval_generation_config(model, training_max_length(recipe_file))
    model.generation_config = generation
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    for stray in [*folder.glob("*.bin"), *folder.glob("*.pt"), *folder.glob("*.pth")]:
        stray.unlink()  # safetensors only
    shown = {k: getattr(generation, k) for k in (*EVAL_SAMPLING, "max_new_tokens")}
    card = model_card(
        name=out.name,
        path=str(out),
        base=base,
        checkpoint=ckpt,
        lora=base is not None,
        state=training_state(ckpt),
        recipe=recipe_file,
        evaluation=evaluation,
        generation=shown,
        has_chat_template=bool(getattr(tokenizer, "chat_template", None)),
    )
    (folder / "README.md").write_text(card, encoding="utf-8")
    marker = {"checkpoint": str(ckpt.resolve()), "base_model": base, "dtype": dtype}
    (folder / EXPORT_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


class _Parser(OneLineUsage, argparse.ArgumentParser):
    pass


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="grpo-lead export",
        description="Turn a training checkpoint into a servable Hugging Face folder.",
    )
    p.add_argument(
        "--checkpoint",
        required=True,
        help="a checkpoint-N folder, or a run's output_dir: its final save (the finished model), "
        "else its newest complete checkpoint-N",
    )
    p.add_argument("--out", required=True, help="new folder for the exported model")
    p.add_argument("--recipe", help="the training recipe YAML, for the model card")
    p.add_argument("--eval", dest="eval_dir", help="`grpo-lead eval --out` folder (summary.md)")
    p.add_argument("--base-model", help="LoRA: base model instead of the adapter's own entry")
    p.add_argument(
        "--dtype", choices=DTYPES, default="auto", help="weights dtype (default: as trained)"
    )
    p.add_argument("--force", action="store_true", help="replace an earlier export at --out")
    return p


def export_main(argv: Sequence[str] | None = None) -> int:
    """`grpo-lead export`; a bad input is one line on stderr and exit code 2."""
    try:
        args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        out = export_checkpoint(
            args.checkpoint,
            args.out,
            recipe=args.recipe,
            eval_dir=args.eval_dir,
            base_model=args.base_model,
            dtype=args.dtype,
            force=args.force,
        )
    except (ExportError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"exported to {out}")
    return 0
