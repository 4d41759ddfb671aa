"""`grpo-lead verl-data`: problems -> the parquet layout verl's trainer reads (needs no verl).

    grpo-lead verl-data --dataset deepscaler --output data/verl/train.parquet
    grpo-lead verl-data --dataset aime24 --output data/verl/aime24.parquet --split test

The problems come from the same sources and through the same code as `grpo-lead train`
(the math task's row of `grpo_lead.tasks.TASKS`: its script arguments and dataset builder; a
benchmark name, a local .jsonl/.json/.parquet/.csv file or a hub id, the same column flags and
the paper's prompt). One row per problem, as verl's
own ``examples/data_preprocess`` scripts write them:

    data_source   str     --data_source (default: the benchmark name, or the file's stem)
    prompt        list    chat messages: [system,] user = question + prompt suffix
    ability       str     "math"
    reward_model  struct  {"style": "rule", "ground_truth": reference answer}
    extra_info    struct  {"split", "index" (row number), "id", ["difficulty"]}

``grpo_lead.integrations.verl.compute_score`` scores against ``reward_model.ground_truth``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["to_verl_rows", "verl_data_main", "write_verl_parquet"]


def to_verl_rows(problems, *, data_source: str, split: str):
    """A `build_train_dataset` result (prompt, answer, id[, difficulty]) -> verl's columns."""
    has_difficulty = "difficulty" in problems.column_names

    def convert(row: dict[str, Any], index: int) -> dict[str, Any]:
        extra = {"split": split, "index": index, "id": str(row["id"])}
        if has_difficulty:
            extra["difficulty"] = float(row["difficulty"])
        return {
            "data_source": data_source,
            "prompt": row["prompt"],
            "ability": "math",
            "reward_model": {"style": "rule", "ground_truth": str(row["answer"])},
            "extra_info": extra,
        }

    return problems.map(convert, with_indices=True, remove_columns=problems.column_names)


def write_verl_parquet(script_args, output: Path, *, data_source: str, split: str) -> int:
    """Load problems as `grpo-lead train` does, write them to ``output``; returns the row count."""
    from grpo_lead.tasks import lookup

    build_dataset = lookup("math").load("build_dataset")
    rows = to_verl_rows(build_dataset(script_args), data_source=data_source, split=split)
    output.parent.mkdir(parents=True, exist_ok=True)
    rows.to_parquet(str(output))
    return len(rows)


def check_output(output: Path, *, overwrite: bool) -> None:
    """Refuse, before any data loads, an output that cannot be written: a ValueError, one line."""
    if output.suffix != ".parquet":
        raise ValueError(f"--output {output} must end in .parquet (verl reads parquet)")
    if output.is_dir():
        raise ValueError(f"--output {output} is a folder; give a .parquet file")
    if output.exists() and not overwrite:
        raise ValueError(f"--output {output} exists: pass --overwrite to replace it")
    parent = next((p for p in output.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise ValueError(f"--output {output}: {parent} is a file, not a folder")


def _parser() -> argparse.ArgumentParser:
    from grpo_lead.cli import OneLineUsage

    class Parser(OneLineUsage, argparse.ArgumentParser):
        pass

    p = Parser(prog="grpo-lead verl-data", description=verl_data_main.__doc__)
    # --question_column as in `grpo-lead train`, --question-column as in `grpo-lead eval` (and in
    # the loaders' hints): both spellings of every flag, as train's parser accepts them
    flags = [
        ("--dataset", {"required": True, "help": "benchmark name, local file or hub id"}),
        ("--output", {"required": True, "help": "the .parquet file to write"}),
        ("--dataset_split", {"help": "split of a hub dataset"}),
        ("--question_column", {"help": "column with the question (default: auto)"}),
        ("--answer_column", {"help": "column with the reference answer (default: auto)"}),
        ("--difficulty_column", {"help": "column kept as extra_info.difficulty"}),
        ("--max_train_samples", {"type": int, "help": "use the first N problems"}),
        ("--prompt_suffix", {"help": "appended to each question (default: the paper's)"}),
        ("--system_prompt", {"help": "optional system message"}),
        ("--data_source", {"help": "the data_source column (default: the dataset's name)"}),
        ("--split", {"default": "train", "help": "extra_info.split (default: train)"}),
        ("--overwrite", {"action": "store_true", "help": "replace an existing output file"}),
    ]
    for flag, kwargs in flags:
        dashed = flag.replace("_", "-")
        p.add_argument(*dict.fromkeys([flag, dashed]), **kwargs)
    return p


VERL_MCQ_HINT = (
    "verl-data writes math problems only; `grpo-lead train --task mcq` trains on such a set"
)


def verl_data_main(argv: Sequence[str] | None = None) -> int:
    """`grpo-lead verl-data`: write problems in the parquet layout verl's trainer reads."""
    from grpo_lead.cli import UsageError
    from grpo_lead.reader import DataError
    from grpo_lead.tasks import lookup
    from grpo_lead.tasks.math.data import MCQ_HINT

    script_arguments = lookup("math").load("script_arguments")

    try:
        args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    output = Path(args.output)
    try:
        check_output(output, overwrite=args.overwrite)
        given = {k: v for k, v in vars(args).items() if v is not None}
        script_args = script_arguments(
            chat_template=True,
            **{k: given[k] for k in _SCRIPT_FIELDS if k in given},
        )
        source = args.data_source or Path(args.dataset).stem or args.dataset
        n = write_verl_parquet(script_args, output, data_source=source, split=args.split)
    except (ValueError, DataError, FileNotFoundError) as exc:
        line = str(exc).splitlines()[0].replace(MCQ_HINT, VERL_MCQ_HINT)  # it has no --task
        print(f"error: {line}", file=sys.stderr)
        return 2
    print(f"wrote {n} problems to {output} (data_source={source!r})")
    return 0


# The flags shared with `grpo-lead train` (fields of LeadScriptArguments, same names).
_SCRIPT_FIELDS = (
    "dataset",
    "dataset_split",
    "question_column",
    "answer_column",
    "difficulty_column",
    "max_train_samples",
    "prompt_suffix",
    "system_prompt",
)
