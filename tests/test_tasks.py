"""grpo_lead.tasks: one table of tasks for `grpo-lead train` and `grpo-lead eval`, and the
layering it keeps: evaluation/ and rewards.py never import a task's package (grpo_lead.tasks.choice),
and no task writes into math's reward table."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from grpo_lead.tasks import TASKS, read_recipe, task_of

SRC = Path(__file__).resolve().parents[1] / "src" / "grpo_lead"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (``import a.b``, ``from a.b import c``, ``from a import b``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


LOWER = sorted([*(SRC / "evaluation").glob("*.py"), SRC / "rewards.py"])


@pytest.mark.parametrize("path", LOWER, ids=lambda p: str(p.relative_to(SRC)))
def test_evaluation_and_rewards_never_import_choice(path):
    up = [
        m
        for m in imported_modules(path)
        if m == "grpo_lead.tasks.choice" or m.startswith("grpo_lead.tasks.choice.")
    ]
    assert not up, f"{path.relative_to(SRC)} imports {up}"


def test_importing_choice_leaves_maths_rewards_untouched():
    code = (
        "import grpo_lead.rewards as r; before = dict(r.REWARDS); "
        "import grpo_lead.tasks.choice, grpo_lead.tasks.choice.rewards, "
        "grpo_lead.tasks.choice.train, grpo_lead.tasks.choice.cli; "
        "assert r.REWARDS == before, sorted(set(r.REWARDS) - set(before))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_importing_tasks_is_light():
    code = (
        "import sys, grpo_lead.tasks; "
        "heavy = ('torch', 'trl', 'datasets', 'grpo_lead.tasks.choice', 'grpo_lead.tasks.math'); "
        "heavy = [m for m in heavy if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_tasks_parts_load(name):
    task = TASKS[name]
    for part in ("script_arguments", "build_dataset", "rewards", "evaluate"):
        assert task.load(part) is not None
    assert {"accuracy", "format"} <= set(task.load("rewards"))
    assert "--task" not in (task.eval_arguments or "")


def test_the_mcq_help_names_every_choice_set():
    from grpo_lead.tasks.choice.data import CHOICE_SETS

    assert all(name in TASKS["mcq"].help for name in CHOICE_SETS)


def test_the_task_comes_from_the_flag_else_the_recipe_else_math(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("task: mcq\nlearning_rate: 1.0e-6\n")
    rest, read = read_recipe(["--config", str(recipe), "--seed", "1"])
    assert rest == ["--seed", "1"] and read == {"task": "mcq", "learning_rate": 1e-6}
    assert task_of(rest, read).name == "mcq"
    assert task_of(["--task", "math"], read).name == "math"
    assert task_of([], None).name == "math"
    with pytest.raises(ValueError, match="unknown task 'chess'; known: math, mcq"):
        task_of(["--task=chess"], None)


def test_the_recipe_is_read_once(tmp_path, monkeypatch):
    import yaml

    from grpo_lead.train import parse_train_args

    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "task: mcq\nmodel_name_or_path: m\noutput_dir: " + str(tmp_path / "o") + "\n"
        "use_cpu: true\nbf16: false\nreward_funcs: [choice_accuracy]\n"
    )
    calls = []
    real = yaml.safe_load
    monkeypatch.setattr(yaml, "safe_load", lambda *a, **k: calls.append(1) or real(*a, **k))
    rest, read = read_recipe(["--config", str(recipe)])
    task = task_of(rest, read)
    script, _, _ = parse_train_args(rest, task.load("script_arguments"), read)
    assert calls == [1] and script.task == "mcq" and script.reward_funcs == ["choice_accuracy"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: [1\n", "not valid YAML"),
        ("- 1\n", "the recipe is a YAML list, not a mapping"),
        ("", "the recipe is empty"),
        (None, "cannot read"),
    ],
)
def test_bad_recipes_are_one_line_errors_with_exit_2(tmp_path, capsys, text, expected):
    from grpo_lead.cli import main

    recipe = tmp_path / "r.yaml"
    if text is not None:
        recipe.write_text(text)
    assert main(["train", "--config", str(recipe)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and expected in err and str(recipe) in err


def test_eval_knows_every_task(capsys):
    from grpo_lead.cli import main

    assert main(["eval", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--task {math,mcq}" in out and "--options-column" in out


def test_the_old_choice_name_still_imports_the_task_package():
    import grpo_lead.choice as old
    import grpo_lead.tasks.choice as new

    assert old.__all__ == new.__all__
    assert all(getattr(old, name) is getattr(new, name) for name in new.__all__)
