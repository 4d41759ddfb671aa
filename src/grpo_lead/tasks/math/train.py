"""`grpo-lead train` on math problems (the default task): the script arguments and the prompt
dataset.

    grpo-lead train --config recipes/qwen2.5-1.5b-math.yaml

Math's script arguments are `grpo_lead.configs.LeadScriptArguments`, the base every task's
extend (the multiple-choice task's add its columns and prompt); the dataset is the problems of
`load_problems` with the paper's prompt (`build_prompt`), as a conversation unless
``chat_template: false``.
"""

from __future__ import annotations

from grpo_lead.configs import LeadScriptArguments
from grpo_lead.reader import to_conversation
from grpo_lead.tasks.math.data import build_prompt, load_problems

__all__ = ["LeadScriptArguments", "build_train_dataset"]


def build_train_dataset(script_args):
    """Problems -> a TRL prompt dataset: `prompt` (conversation or text), `answer`, `id`, and
    `difficulty` where known. Raises `grpo_lead.reader.DataError` on bad input."""
    problems = load_problems(
        script_args.dataset,
        split=script_args.dataset_split,
        question_column=script_args.question_column,
        answer_column=script_args.answer_column,
        difficulty_column=script_args.difficulty_column,
        limit=script_args.max_train_samples,
    )

    def to_prompt(row):
        text = build_prompt(row["question"], suffix=script_args.prompt_suffix)
        if script_args.chat_template:
            return {"prompt": to_conversation(text, script_args.system_prompt)}
        return {"prompt": text}

    return problems.map(to_prompt, remove_columns=["question"])
