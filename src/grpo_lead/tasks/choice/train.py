"""`grpo-lead train` on a multiple-choice set: a recipe with ``task: mcq`` (or ``--task mcq``).

    grpo-lead train --config recipes/medical/qwen2.5-1.5b-medqa.yaml

The arguments are the math command's (`LeadScriptArguments`, `GRPOLeadConfig`,
`trl.ModelConfig`) plus the fields of `ChoiceScriptArguments`; the run is the math command's
(`grpo_lead.train`: runtime checks, no overwritten checkpoints, the resolved recipe saved next
to the model, resume) with the questions loaded by `load_choices` and prompted with their
options. The task's reward table (`grpo_lead.tasks.choice.rewards.REWARDS`: math's plus
``choice_accuracy`` and ``abstain``) resolves the recipe's names; `grpo_lead.tasks` wires it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from grpo_lead.configs import LeadScriptArguments
from grpo_lead.tasks.choice.data import CHOICE_INSTRUCTION, LAYOUTS

logger = logging.getLogger(__name__)

__all__ = [
    "ChoiceScriptArguments",
    "build_choice_train_dataset",
]


@dataclass
class ChoiceScriptArguments(LeadScriptArguments):
    """`LeadScriptArguments` plus what a multiple-choice set needs."""

    task: str = field(default="mcq", metadata={"help": "'mcq': a multiple-choice set."})
    layout: str = field(
        default="auto",
        metadata={"help": f"Row layout, one of {LAYOUTS} (auto: from the set or the columns)."},
    )
    options_column: str | None = field(
        default=None, metadata={"help": "Column with the options (dict, list or JSON text)."}
    )
    option_columns: list[str] | None = field(
        default=None, metadata={"help": "One column per option, in letter order (opa opb ...)."}
    )
    answer_index_base: int = field(
        default=0, metadata={"help": "Index of the first option when answers are indices."}
    )
    answer_format: str | None = field(
        default=None,
        metadata={
            "help": "How the answer column names the option: letter, index or text (default: "
            "the layout's rule; a generic file's answer that reads two ways is an error)."
        },
    )
    abstain: bool = field(
        default=False,
        metadata={"help": "Offer \\boxed{I don't know} in the prompt (pair with 'abstain')."},
    )
    choice_instruction: str = field(
        default=CHOICE_INSTRUCTION,
        metadata={"help": "The prompt's last line (replaces prompt_suffix for mcq)."},
    )
    skip_invalid_rows: bool = field(
        default=False, metadata={"help": "Drop rows with bad options or answers (logged)."}
    )

    def __post_init__(self):
        super().__post_init__()
        if self.task != "mcq":
            raise ValueError(f"task must be 'mcq' for a multiple-choice run, got {self.task!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {self.layout!r}")


def build_choice_train_dataset(script_args: ChoiceScriptArguments):
    """Questions -> a TRL prompt dataset: `prompt` (options listed), `options`, `answer`, `id`,
    and the group fields. Raises `grpo_lead.tasks.math.data.DataError` on bad input."""
    from grpo_lead.tasks.choice.data import ChoiceColumns, load_choices, to_prompt

    columns = ChoiceColumns(
        question=script_args.question_column,
        options=script_args.options_column,
        option_columns=tuple(script_args.option_columns) if script_args.option_columns else None,
        answer=script_args.answer_column,
        answer_index_base=script_args.answer_index_base,
        answer_format=script_args.answer_format,
    )
    questions = load_choices(
        script_args.dataset,
        layout=script_args.layout,
        split=script_args.dataset_split,
        columns=columns,
        limit=script_args.max_train_samples,
        on_error="skip" if script_args.skip_invalid_rows else "raise",
    )

    def prompt(row):
        return {
            "prompt": to_prompt(
                row,
                chat=script_args.chat_template,
                system_prompt=script_args.system_prompt,
                abstain=script_args.abstain,
                instruction=script_args.choice_instruction,
            )
        }

    return questions.map(prompt, remove_columns=["question", "context"])
