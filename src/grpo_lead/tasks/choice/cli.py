"""`grpo-lead eval --task mcq`: the flags the eval command gains, and the run they start.

    grpo-lead eval --task mcq --model M --data medqa -k 8 --out runs/medqa
    grpo-lead eval --task mcq --model M --data my.jsonl --options-column choices --answer-column label

Imports nothing heavy: `grpo-lead eval` adds these flags whatever the task (`grpo_lead.tasks`
owns --task and looks up `choice_eval` for mcq).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from grpo_lead.tasks.choice.data import ANSWER_FORMATS, CHOICE_INSTRUCTION, LAYOUTS

logger = logging.getLogger(__name__)

__all__ = ["add_choice_arguments", "choice_eval"]


def add_choice_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags `grpo-lead eval` gains for --task mcq (the others are shared with math)."""
    group = parser.add_argument_group("multiple choice (--task mcq)")
    group.add_argument(
        "--layout", choices=LAYOUTS, default="auto", help="row layout (default: from the columns)"
    )
    group.add_argument("--options-column", help="column with the options (dict, list or JSON text)")
    group.add_argument("--option-columns", nargs="+", help="one column per option, in letter order")
    group.add_argument(
        "--answer-index-base",
        type=int,
        default=0,
        help="what index the first option has (default 0)",
    )
    group.add_argument(
        "--answer-format",
        choices=ANSWER_FORMATS,
        help="how the answer column names the option (default: the layout's rule; a generic "
        "file's answer that reads two ways is an error naming the row)",
    )
    for column in ("subject", "step", "type"):
        group.add_argument(
            f"--{column}-column", help=f"group field {column} (auto-detected if omitted)"
        )
    group.add_argument(
        "--abstain", action="store_true", help="the prompt offers \\boxed{I don't know}"
    )
    group.add_argument(
        "--choice-instruction",
        default=CHOICE_INSTRUCTION,
        help="the prompt's last line (replaces --prompt-suffix for mcq)",
    )


def choice_eval(args: argparse.Namespace) -> int:
    """Run `run_choice_eval` from parsed `grpo-lead eval` arguments; print the table."""
    from grpo_lead.evaluation.runner import RunOptions, default_out_dir, settings_from_args
    from grpo_lead.tasks.choice.evaluation import ChoiceEvalSettings, run_choice_eval
    from grpo_lead.tasks.choice.metrics import choice_summary_markdown

    settings = settings_from_args(
        ChoiceEvalSettings,
        args,
        option_columns=tuple(args.option_columns) if args.option_columns else None,
        instruction=args.choice_instruction,
    )
    out = Path(args.out) if args.out else default_out_dir("eval", args.model, args.data)
    summary = run_choice_eval(settings, out, options=RunOptions.from_args(args))
    print(choice_summary_markdown(summary, title=f"{args.data}: {args.model}"))
    print(f"wrote {out}")
    return 0
