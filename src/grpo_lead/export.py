"""`grpo-lead export`: a training checkpoint -> a servable Hugging Face folder.

    grpo-lead export --checkpoint outputs/run/checkpoint-500 --out exported/lead \
        [--recipe recipes/qwen2.5-1.5b.yaml] [--eval outputs/eval/lead]

What the folder holds, and why:
1. The weights as safetensors only (`model*.safetensors`), LoRA merged into the base where the
   checkpoint is an adapter (`adapter_config.json`): vLLM, `transformers` and Bedrock Custom
   Model Import all load it as a plain model. Optimizer, scheduler, RNG state and
   `training_args.bin` (a pickle: never loaded) stay behind.
2. The tokenizer with its chat template.
3. `generation_config.json` with the evaluation protocol's sampling (LEAD.md): temperature 0.6,
   min-p 0.01, no top-k / top-p cut, up to 14,000 new tokens (capped by the model's context).
   `grpo-lead serve` and `vllm serve --generation-config auto` use it as request defaults.
4. `README.md`: a model card with the recipe, the training state and the evaluation table when
   an evaluation summary is given (`--eval DIR` of `grpo-lead eval --out DIR`).

5. `grpo_lead_export.json`: the marker that makes the folder an export (the checkpoint it came
   from). `--force` replaces only a folder holding it; the new export is written to a temporary
   folder beside `--out` and swapped in only when complete, after every input was checked, so a
   failed export never costs the earlier one.

A checkpoint is a folder with `config.json` and model weights, or with `adapter_config.json` and
adapter weights; a run folder (`output_dir`) with `checkpoint-N` folders exports its last one.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from grpo_lead.cli import OneLineUsage, UsageError
from grpo_lead.hf import load_tokenizer, no_gc_deprecation_warning

logger = logging.getLogger(__name__)

# LEAD.md, "Evaluation protocol": temperature 0.6, min-p 0.01, max 14k tokens.
EVAL_SAMPLING = {"do_sample": True, "temperature": 0.6, "min_p": 0.01, "top_p": 1.0, "top_k": 0}
EVAL_MAX_NEW_TOKENS = 14000
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


def find_checkpoint(path: str | Path) -> Path:
    """The checkpoint folder itself, or the last `checkpoint-N` of a run folder."""
    path = Path(path)
    if not path.is_dir():
        raise ExportError(f"{path}: no such folder")
    if is_checkpoint(path):
        return path
    numbered = [
        (int(m.group(1)), p)
        for p in path.iterdir()
        if (m := re.fullmatch(r"checkpoint-(\d+)", p.name)) and is_checkpoint(p)
    ]
    if numbered:
        last = max(numbered)[1]
        logger.info("%s is a run folder: exporting its last checkpoint, %s", path, last.name)
        return last
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
    from transformers import AutoModelForCausalLM

    adapter_config = checkpoint / "adapter_config.json"
    if not adapter_config.is_file():
        return AutoModelForCausalLM.from_pretrained(checkpoint, dtype=dtype), None
    try:
        from peft import PeftModel
    except ImportError:
        raise ExportError("a LoRA checkpoint needs peft: pip install 'grpo-lead[peft]'") from None
    base = base_model or json.loads(adapter_config.read_text()).get("base_model_name_or_path")
    if not base:
        raise ExportError(f"{adapter_config} names no base model: pass --base-model")
    logger.info("merging the LoRA adapter %s into %s", checkpoint, base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype)
    with no_gc_deprecation_warning():  # peft reads transformers' deprecated property
        merged = PeftModel.from_pretrained(model, checkpoint).merge_and_unload()
    return merged, base


def tokenizer_source(checkpoint: Path, base: str | None) -> Path | str:
    """The checkpoint when it saved a tokenizer (TRL saves one with each checkpoint), else the
    base model of a LoRA adapter."""
    has_own = any((checkpoint / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json"))
    return checkpoint if has_own or base is None else base


def eval_generation_config(model):
    """The model's generation config with the evaluation protocol's sampling."""
    from transformers import GenerationConfig

    config = GenerationConfig.from_dict(model.generation_config.to_dict())
    for key, value in EVAL_SAMPLING.items():
        setattr(config, key, value)
    context = getattr(model.config, "max_position_embeddings", None) or EVAL_MAX_NEW_TOKENS
    config.max_new_tokens = min(EVAL_MAX_NEW_TOKENS, context)
    return config


def training_state(checkpoint: Path) -> dict[str, Any]:
    """Step, epoch and the last logged metrics from `trainer_state.json` (cheap JSON; the
    pickled `training_args.bin` is never loaded)."""
    file = checkpoint / "trainer_state.json"
    if not file.is_file():
        return {}
    try:
        state = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    logs = [e for e in state.get("log_history", []) if isinstance(e, dict)]
    last: dict[str, Any] = {}
    for entry in logs:  # later entries win: the last value of every metric
        last.update({k: v for k, v in entry.items() if isinstance(v, (int, float))})
    keep = ("reward", "accuracy", "completions/mean_length", "loss", "learning_rate")
    metrics = {k: v for k, v in last.items() if any(s in k for s in keep)}
    return {"global_step": state.get("global_step"), "epoch": state.get("epoch"), "last": metrics}


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
    base: str | None,
    checkpoint: Path,
    lora: bool,
    state: dict[str, Any],
    recipe: Path | None,
    evaluation: str | None,
    generation: dict[str, Any],
    has_chat_template: bool,
) -> str:
    """The README.md of the exported folder."""
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
        f"grpo-lead serve --model {name}   # vLLM on a GPU, transformers on CPU",
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
        lines.append(f"- Training step {state['global_step']}, epoch {state.get('epoch')}.")
    if state.get("last"):
        shown = ", ".join(f"{k} {v:.4g}" for k, v in sorted(state["last"].items()))
        lines.append(f"- Last logged training metrics: {shown}.")
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
    ckpt = find_checkpoint(checkpoint)
    out = Path(out)
    _check_out(out, ckpt, force)
    recipe_file = find_recipe(ckpt, recipe)
    evaluation = eval_section(eval_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        _write_export(staged, ckpt, out.name, recipe_file, evaluation, base_model, dtype)
        _swap_in(staged, out)
    finally:
        if staged.exists():
            shutil.rmtree(staged)
    logger.info("exported %s -> %s", ckpt, out)
    return out


def _write_export(
    folder: Path,
    ckpt: Path,
    name: str,
    recipe_file: Path | None,
    evaluation: str | None,
    base_model: str | None,
    dtype: str,
) -> None:
    """Model, tokenizer, generation config, model card and the export marker, into `folder`."""
    model, base = load_merged_model(ckpt, base_model=base_model, dtype=dtype)
    tokenizer = load_tokenizer(tokenizer_source(ckpt, base))
    generation = eval_generation_config(model)
    model.generation_config = generation
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    for stray in [*folder.glob("*.bin"), *folder.glob("*.pt"), *folder.glob("*.pth")]:
        stray.unlink()  # safetensors only
    shown = {k: getattr(generation, k) for k in (*EVAL_SAMPLING, "max_new_tokens")}
    card = model_card(
        name=name,
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
    p.add_argument("--checkpoint", required=True, help="checkpoint-N folder or run output_dir")
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
