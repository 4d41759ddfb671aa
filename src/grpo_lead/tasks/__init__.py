"""The tasks `grpo-lead train` and `grpo-lead eval` know, in one table: math and multiple choice.

Each task is a package here of the same shape (`grpo_lead.tasks.math`, `grpo_lead.tasks.choice`):
``data`` (loader and prompt), ``train`` (script arguments, prompt dataset), ``rewards`` (its
reward table), ``evaluation`` (its settings, extending `grpo_lead.evaluation.RunSettings`, and
its run) and ``cli`` (the run `grpo-lead eval` starts, and its own eval flags if any).

A `Task` row names pieces of its own package, as ``"module:attr"`` strings loaded on first use
(so importing this module imports nothing heavy, and nothing of a task that does not run):

1. ``script_arguments``: the dataclass `grpo-lead train` parses next to `GRPOLeadConfig`;
2. ``build_dataset``: script arguments -> the TRL prompt dataset;
3. ``rewards``: the reward table a recipe's ``reward_funcs`` names are looked up in
   (`grpo_lead.rewards.get_reward(name, args, rewards=table)`); nothing is registered at run time;
4. ``evaluate``: parsed `grpo-lead eval` arguments -> exit code; ``eval_arguments`` adds the
   task's own eval flags (every task's flags are on the parser: argparse reads --task with them).

`grpo-lead train` takes the task from ``--task`` or the recipe's ``task:`` key (the recipe is read
once, here: `read_recipe`), `grpo-lead eval` (`grpo_lead.eval_cli`) from ``--task``. This table
is the only place that knows the tasks: `grpo_lead.evaluation` and `grpo_lead.rewards` never
import a task's package. A third task is one new package here and one row of `TASKS`
(docs/extending.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_TASK", "TASKS", "Task", "lookup", "read_recipe", "task_of"]


@dataclass(frozen=True)
class Task:
    """One task: where its pieces live (``"module:attr"``), loaded when used."""

    name: str
    help: str
    script_arguments: str
    build_dataset: str
    rewards: str
    evaluate: str
    eval_arguments: str | None = None

    def load(self, part: str) -> Any:
        """The object a field names: ``task.load("build_dataset")(script_args)``."""
        module, _, attr = getattr(self, part).partition(":")
        return getattr(importlib.import_module(module), attr)

    def add_eval_arguments(self, parser) -> None:
        if self.eval_arguments:
            self.load("eval_arguments")(parser)

    def run_eval(self, args) -> int:
        return self.load("evaluate")(args)


TASKS: dict[str, Task] = {
    "math": Task(
        name="math",
        help="math problems, the answer in \\boxed{} checked by grpo_lead.answers (default)",
        script_arguments="grpo_lead.tasks.math.train:LeadScriptArguments",
        build_dataset="grpo_lead.tasks.math.train:build_train_dataset",
        rewards="grpo_lead.tasks.math.rewards:REWARDS",
        evaluate="grpo_lead.tasks.math.cli:math_eval",
    ),
    "mcq": Task(
        name="mcq",
        help="multiple choice: options listed with letters; --data may be a named set "
        "(medqa, medmcqa, pubmedqa)",
        script_arguments="grpo_lead.tasks.choice.train:ChoiceScriptArguments",
        build_dataset="grpo_lead.tasks.choice.train:build_choice_train_dataset",
        rewards="grpo_lead.tasks.choice.rewards:REWARDS",
        evaluate="grpo_lead.tasks.choice.cli:choice_eval",
        eval_arguments="grpo_lead.tasks.choice.cli:add_choice_arguments",
    ),
}
DEFAULT_TASK = "math"


def lookup(name: str) -> Task:
    """The task of that name; a ValueError lists the known ones."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known: {', '.join(TASKS)}")
    return TASKS[name]


def read_recipe(argv: Sequence[str]) -> tuple[list[str], dict[str, Any] | None]:
    """(argv without ``--config PATH``, the recipe as a dict or None): the one read of the YAML.

    A missing file, YAML that does not parse or is not a mapping: a one-line ValueError."""
    from pathlib import Path

    import yaml

    argv = list(argv)
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            path, rest = arg.split("=", 1)[1], argv[:i] + argv[i + 1 :]
            break
        if arg == "--config" and i + 1 < len(argv):
            path, rest = argv[i + 1], argv[:i] + argv[i + 2 :]
            break
    else:
        return argv, None
    try:
        recipe = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the recipe ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({_yaml_problem(exc)})") from None
    if recipe is None:
        raise ValueError(
            f"{path}: the recipe is empty; write option: value lines, e.g. alpha: 0.05"
        )
    if not isinstance(recipe, dict):
        raise ValueError(
            f"{path}: the recipe is a YAML {type(recipe).__name__}, not a mapping of "
            "option: value lines (e.g. alpha: 0.05)"
        )
    return rest, recipe


def _yaml_problem(exc) -> str:
    """'expected ... at line 3, column 5' from a PyYAML error (its str() spans lines)."""
    problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


def task_of(argv: Sequence[str], recipe: Mapping[str, Any] | None) -> Task:
    """The task ``--task`` names (the last one given), else the recipe's ``task:``, else math."""
    name = None
    for i, arg in enumerate(argv):
        if arg.startswith("--task="):
            name = arg.split("=", 1)[1]
        elif arg == "--task" and i + 1 < len(argv):
            name = argv[i + 1]
    if name is None and recipe is not None:
        name = recipe.get("task")
    return lookup(str(name) if name is not None else DEFAULT_TASK)
