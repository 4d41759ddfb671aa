"""The documentation site (mkdocs.yml, docs/) builds strictly: no broken link or anchor, no page
left out of the navigation; the README is its home page and links to every page."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted(p.name for p in (REPO / "docs").glob("*.md"))


def test_the_site_builds_strictly(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO,
        env=os.environ | {"NO_MKDOCS_2_WARNING": "1"},  # the theme's banner, not a warning
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Aborted" not in result.stderr
    home = (site / "index.html").read_text()
    assert "Quick start: two commands" in home  # the README
    for page in PAGES:
        assert (site / page.removesuffix(".md") / "index.html").exists(), page
    # the figures the pages show are in the site
    for figure in re.findall(r"\]\(\.\./benchmarks/results/([\w.-]+\.png)\)", _docs_text()):
        assert (site / "results" / figure).exists(), figure


def _docs_text() -> str:
    return "\n".join((REPO / "docs" / page).read_text() for page in PAGES)


def test_the_readme_links_to_every_page():
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)", (REPO / "README.md").read_text()))
    assert linked == set(PAGES)


def _options_table_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "options_table", REPO / "docs" / "options_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_option_tables_are_generated_from_the_dataclasses():
    """docs/training.md's LEAD option, GRPOLeadConfig and preset tables are what
    docs/options_table.py prints from the code: a new field, a changed default or preset fails."""
    from grpo_lead.options import PRESETS, lead_option_names

    tables = _options_table_module()
    page = (REPO / "docs" / "training.md").read_text()
    assert tables.page_tables(page) == tables.tables(), "run: python docs/options_table.py --write"
    shown = tables.page_tables(page)
    for name in (*lead_option_names(), *PRESETS, "correctness_reward", "extraction"):
        assert f"| `{name}" in shown or f"(`LeadOptions.{name}`)" in shown, name
    # the dler preset's row names everything it sets (issue 33: incorrect_reward and the weight)
    dler = next(line for line in shown.splitlines() if line.startswith("| `dler`"))
    assert "`incorrect_reward: 0`" in dler and "`difficulty_weight: none`" in dler


def test_the_option_table_sees_a_changed_default(monkeypatch):
    import grpo_lead.options as options

    tables = _options_table_module()
    before = tables.tables()
    monkeypatch.setattr(tables, "PAPER", options.PAPER.replace(alpha=0.07))
    assert tables.tables() != before and "| `alpha` | 0.07 |" in tables.tables()


def test_every_benchmark_script_saves_under_benchmarks_results():
    """docs/benchmarks.md: every script saves its figures under benchmarks/results/ (issue 33:
    bench_serve.py saved nothing without --json)."""
    for script in sorted((REPO / "benchmarks").glob("bench_*.py")):
        source = script.read_text()
        assert re.search(r"benchmarks/results/|\"results\"|/ \"results\"", source), script.name
    import bench_serve

    assert "benchmarks/results/serve.json" in (REPO / "benchmarks" / "bench_serve.py").read_text()
    assert bench_serve.__doc__ and "benchmarks/results/serve.json" in bench_serve.__doc__


def _recipe(name: str) -> dict:
    import yaml

    return yaml.safe_load((REPO / name).read_text())


def test_the_batch_table_is_each_recipes_arithmetic():
    """docs/recipes.md: B, GA, G and the prompts per optimizer step (B x processes x GA / G) of
    every recipe, and TRL's rule that a generation batch holds whole groups."""
    page = (REPO / "docs" / "recipes.md").read_text()
    table = page.split("<!-- the batch table", 1)[1]
    rows = re.findall(
        r"^\| `(recipes/[\w.-]+\.yaml)` \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|",
        table,
        re.M,
    )
    assert {r[0] for r in rows} == {f"recipes/{p.name}" for p in (REPO / "recipes").glob("*.yaml")}
    for name, processes, b, ga, g, prompts in rows:
        recipe = _recipe(name)
        processes, b, ga, g, prompts = map(int, (processes, b, ga, g, prompts))
        assert recipe["per_device_train_batch_size"] == b, name
        assert recipe.get("gradient_accumulation_steps", 1) == ga, name
        assert recipe["num_generations"] == g, name
        assert b * processes * ga == prompts * g, name
        steps_per_generation = recipe.get("steps_per_generation") or ga
        assert (b * processes * steps_per_generation) % g == 0, name


def test_the_rule_of_whole_groups_is_trls():
    """The rule the page states: B x processes x steps_per_generation must be a multiple of G."""
    import pytest

    from grpo_lead.configs import GRPOLeadConfig

    common = {"output_dir": "unused", "use_cpu": True, "bf16": False, "num_generations": 4}
    GRPOLeadConfig(per_device_train_batch_size=2, steps_per_generation=2, **common)  # 4 = 1 x G
    with pytest.raises(ValueError, match="divisible by num_generations"):
        GRPOLeadConfig(per_device_train_batch_size=6, steps_per_generation=1, **common)


def test_the_recipes_without_gradient_checkpointing_are_named():
    """docs/training.md names every recipe that turns gradient checkpointing off (issue 33: the
    SmolLM2 recipe did too, and the page said only the toy ones)."""
    memory = (REPO / "docs" / "training.md").read_text().split("## Memory", 1)[1].split("\n## ")[0]
    off = [p for p in sorted((REPO / "recipes").rglob("*.yaml")) if p.parent.name != "accelerate"]
    off = [
        p for p in off if _recipe(str(p.relative_to(REPO))).get("gradient_checkpointing") is False
    ]
    assert off
    for path in off:
        if path.parent.name != "medical":  # the multiple-choice page's tiny recipe
            assert f"`{path.name}`" in memory, path.name


def test_the_recipes_page_says_what_each_recipe_reads_first():
    """A recipe whose model or data is a local path names the command that writes it."""
    writers = {"outputs/demo/": "grpo-lead demo", "outputs/real-compare/": "bench_real_compare.py"}
    page = (REPO / "docs" / "recipes.md").read_text()
    for path in sorted((REPO / "recipes").glob("*.yaml")):
        row = next(
            line for line in page.splitlines() if line.startswith(f"| `recipes/{path.name}`")
        )
        recipe = _recipe(f"recipes/{path.name}")
        for key in ("model_name_or_path", "dataset"):
            value = str(recipe.get(key, ""))
            if value.startswith("outputs/"):
                writer = next(w for prefix, w in writers.items() if value.startswith(prefix))
                assert f"`{value}`" in row and writer in row and "first" in row, (path.name, key)


def test_every_verl_launch_script_the_docs_run_has_its_data_written_first():
    """docs/verl.md: each `bash recipes/verl/X.sh` reads TRAIN_FILES and VAL_FILES by default;
    a `verl-data --output` line before it on the page writes each (issue 33: the small run's
    two files were not)."""
    page = (REPO / "docs" / "verl.md").read_text()
    launches = re.findall(r"^bash (recipes/verl/[\w.-]+\.sh)", page, re.M)
    assert len(launches) == 2
    for script in launches:
        before = page.split(f"bash {script}", 1)[0]
        written = set(re.findall(r"verl-data .*--output (\S+)", before))
        source = (REPO / script).read_text()
        for var in ("TRAIN_FILES", "VAL_FILES"):
            default = re.search(rf"{var}=\$\{{{var}:-([^}}]+)\}}", source).group(1)
            assert default in written, (script, default)


def test_one_install_form_everywhere():
    """The package is installed from its source (`pip install -e ".[extra]"`), never PyPI-style."""
    texts = {"README.md": (REPO / "README.md").read_text()}
    for folder in ("docs", "recipes"):
        for path in (REPO / folder).rglob("*"):
            if path.suffix in (".md", ".yaml", ".sh"):
                texts[str(path.relative_to(REPO))] = path.read_text()
    for name, text in texts.items():
        assert not re.search(r"grpo-lead\[|install grpo-lead", text), name


def test_the_length_method_example_registers_and_shapes_rewards():
    """docs/extending.md's length method, run here (it registers a name, removed after)."""
    import torch

    from grpo_lead.advantages import LENGTH_REWARDS
    from grpo_lead.rewards import get_reward

    page = (REPO / "docs" / "extending.md").read_text()
    code = re.search(r"```python\n(.*?register_length_reward.*?)```", page, re.S).group(1)
    namespace: dict = {}
    try:
        exec(compile(code, "docs/extending.md", "exec"), namespace)  # our own docs
        shown = re.search(r"# tensor\(\[(.*)\]\)", code).group(1)
        expected = torch.tensor([float(x) for x in shown.split(",")])
        assert torch.allclose(namespace["rewards"], expected)
    finally:
        LENGTH_REWARDS.pop("capped", None)
    # --reward_funcs takes the built-in names only: a new function's name is an error there
    with pytest.raises(ValueError, match="known: "):
        get_reward("boxed_once")


def test_the_task_table_on_the_page_is_the_task_dataclass():
    from dataclasses import fields

    from grpo_lead.tasks import Task

    page = (REPO / "docs" / "extending.md").read_text()
    rows = set(re.findall(r"^\| `(\w+)` \|", page.split("## A task", 1)[1], re.M))
    assert rows == {f.name for f in fields(Task)} - {"name", "help"}


def _page_commands(page: str, command: str) -> list[list[str]]:
    import shlex

    text = (REPO / "docs" / page).read_text()
    lines = re.findall(rf"^grpo-lead {command} .*$", text, re.M)
    return [shlex.split(line, comments=True) for line in lines]


def _value(tokens: list[str], flag: str) -> str:
    return tokens[tokens.index(flag) + 1]


def test_every_folder_compare_reads_is_one_an_eval_above_writes():
    """docs/evaluation.md: `compare` reads the folders the evals on the page write by default
    (issue 33: it read outputs/eval/lead/aime24 where eval wrote outputs/eval/lead-7b/aime24)."""
    from grpo_lead.evaluation.runner import default_out_dir

    evals = _page_commands("evaluation.md", "eval")
    written = {
        str(default_out_dir("eval", _value(t, "--model"), _value(t, "--data"))) for t in evals
    }
    (compare,) = _page_commands("evaluation.md", "compare")
    read = [t for t in compare[2:] if not t.startswith("--")][:-1]  # the last is --out's value
    assert len(read) == 2 and set(read) <= written, (read, written)
    page = (REPO / "docs" / "evaluation.md").read_text()
    for folder in written:
        assert f"`{folder}`" in page, folder  # the page says where each went


def test_the_filtered_set_of_estimate_difficulty_trains(tiny_model_dir, tmp_path, monkeypatch):
    """docs/training.md's two commands, on a tiny model and four problems: estimate-difficulty
    writes filtered.jsonl where the page says, and train --dataset reads it with its solve_rate."""
    from grpo_lead.cli import main
    from grpo_lead.evaluation.runner import default_out_dir
    from grpo_lead.train import build_train_dataset, parse_train_args

    estimate, train = _page_commands("training.md", "estimate-difficulty")[0], None
    train = next(t for t in _page_commands("training.md", "train") if "--difficulty_column" in t)
    model, data = _value(estimate, "--model"), _value(estimate, "--data")
    assert _value(train, "--dataset") == str(
        default_out_dir("difficulty", model, data) / "filtered.jsonl"
    )

    monkeypatch.chdir(tmp_path)
    problems = tmp_path / "deepscaler.jsonl"  # the same stem as the page's data
    problems.write_text(
        "".join(json.dumps({"question": f"{i}+{i}", "answer": str(2 * i)}) + "\n" for i in range(4))
    )
    argv = [
        "estimate-difficulty",
        "--model",
        str(tiny_model_dir),
        "--data",
        str(problems),
        "-k",
        "2",
    ]
    argv += [
        "--max-new-tokens",
        "4",
        "--min-solve-rate",
        "-1",
        "--max-solve-rate",
        "1",
        "--no-progress",
    ]
    argv += [
        "--backend",
        "transformers",
        "--no-chat-template",
        "--threads",
        "1",
        "--num-workers",
        "1",
    ]
    assert main(argv) == 0
    filtered = default_out_dir("difficulty", str(tiny_model_dir), str(problems)) / "filtered.jsonl"
    assert filtered.is_file()
    rest = [
        "--dataset",
        str(filtered),
        "--difficulty_column",
        "solve_rate",
        "--chat_template",
        "false",
    ]
    rest += ["--output_dir", str(tmp_path / "run"), "--use_cpu", "true", "--bf16", "false"]
    script, _, _ = parse_train_args(["--model_name_or_path", str(tiny_model_dir), *rest])
    dataset = build_train_dataset(script)
    assert len(dataset) == 4 and {"prompt", "answer", "difficulty"} <= set(dataset.column_names)
    assert all(0.0 <= d <= 1.0 for d in dataset["difficulty"])


def test_the_extras_table_names_real_extras_and_every_command():
    import tomllib

    from grpo_lead.cli import COMMANDS

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    readme = (REPO / "README.md").read_text()
    table = readme.split("<!-- the extras table", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"`\[(\w+)\]`", table)) | set(
        re.findall(r"includes `(\w+)`, `(\w+)` and `(\w+)`", table)[0]
    )
    assert named and named <= set(extras), named - set(extras)
    assert {f"`{c}`" for c in COMMANDS} <= set(re.findall(r"`[\w-]+`", table))
    for extra in ("serve", "peft", "gguf"):  # the test extra includes them, as the table says
        assert set(extras[extra]) <= set(extras["test"]), extra
