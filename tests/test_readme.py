"""The README and the pages under docs/ are the user's manual: their Python examples run and print
what they say, and every command they show names a real command, flags it accepts and files that
exist. A Python block that needs the Hub, a GPU or a running server is marked with
``<!-- not run by the tests: why -->`` on the line before it; its imports are still checked."""

from __future__ import annotations

import ast
import contextlib
import functools
import io
import re
import shlex
from pathlib import Path

import pytest
import torch

from grpo_lead.cli import COMMANDS, main

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
PAGES = {"README.md": README} | {
    f"docs/{p.name}": p.read_text() for p in sorted((REPO / "docs").glob("*.md"))
}
NOT_RUN = "<!-- not run by the tests"
# flags a command takes that its --help does not name (none now)
NOT_IN_HELP: dict[str, set[str]] = {}
# a path in the repository, as a command names it
REPO_PATH = re.compile(r"^(recipes|benchmarks|deploy|docs|src|tests)/[\w./-]+$")


def _blocks(lang: str) -> list[tuple[str, str, bool]]:
    """(page, code, runs) of every fenced `lang` block."""
    pattern = re.compile(
        r"(" + re.escape(NOT_RUN) + r"[^\n]*-->\n)?```" + lang + r"\n(.*?)```", re.S
    )
    return [
        (page, m.group(2), m.group(1) is None)
        for page, text in PAGES.items()
        for m in pattern.finditer(text)
    ]


def _command_lines() -> list[tuple[str, str]]:
    """(page, command) for each line of the bash blocks (continuations joined) and each inline
    code span that is a command (`grpo-lead ...`, `.venv/bin/python benchmarks/...`)."""
    found = []
    for page, code, _ in _blocks("bash"):
        for line in code.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                found.append((page, line))
    for page, text in PAGES.items():
        for span in re.findall(r"(?<!`)`([^`]+)`(?!`)", text):
            span = " ".join(span.split())
            if "<" not in span and re.match(
                r"(grpo-lead |(\.venv/bin/)?python3? benchmarks/)", span
            ):
                found.append((page, span))
    return found


@functools.cache
def _help(name: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            code = main([name, "--help"])
        except SystemExit as exc:  # argparse's own --help exits; some commands return instead
            code = exc.code
    assert code == 0, f"grpo-lead {name} --help exited {code}"
    return out.getvalue()


def _flags(tokens: list[str]) -> list[str]:
    flags = [t.strip("[]").split("=")[0] for t in tokens if t.lstrip("[").startswith("-")]
    return [f for f in flags if re.fullmatch(r"--?[A-Za-z][\w-]*", f)]


def _check_imports(code: str, where: str) -> None:
    """Run only the import statements of `code` (the rest may need the Hub, a GPU, a server)."""
    tree = ast.parse(code, filename=where)
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    exec(compile(ast.Module(body=imports, type_ignores=[]), where, "exec"), {})  # our own docs


def _check_command(line: str) -> None:
    tokens = shlex.split(line, comments=True)
    for token in tokens:  # every file a command names exists
        path = token.strip("[]").split("=")[-1]  # `[--recipe recipes/x.yaml]` names one too
        if REPO_PATH.match(path) and not re.search(r"[*{}]", path):
            assert (REPO / path).exists(), f"{path} does not exist"
    if "grpo-lead" in tokens or "grpo_lead.cli" in tokens:
        at = tokens.index("grpo-lead" if "grpo-lead" in tokens else "grpo_lead.cli")
        name, rest = tokens[at + 1], tokens[at + 2 :]
        if name == "demo" and "--ablation" in rest:  # as grpo_lead.cli.main reads it
            name, rest = "ablation", [t for t in rest if t != "--ablation"]
        assert name in COMMANDS, f"grpo-lead has no command {name!r}"
        for flag in set(_flags(rest)) - NOT_IN_HELP.get(name, set()):
            assert re.search(rf"(?<![\w-]){flag}(?![\w-])", _help(name)), f"{name} has no {flag}"
    elif tokens[0] == "./run":
        cases = re.findall(r"^  (\w+)\)", (REPO / "run").read_text(), flags=re.M)
        assert tokens[1] in cases, f"./run has no {tokens[1]!r}"
    elif tokens[0].endswith(("python", "python3")) and tokens[1] == "-c":
        _check_imports(tokens[2], "python -c")
    elif tokens[0].endswith(("python", "python3")) and tokens[1].endswith(".py"):
        source = (REPO / tokens[1]).read_text()
        for flag in _flags(tokens[2:]):
            assert f'"{flag}"' in source, f"{tokens[1]} has no {flag}"


def _check_printed(code: str, namespace: dict) -> None:
    """`expr   # True` lines, and `# tensor([...])` lines after `name = ...`, say what they print."""
    name = None
    for line in code.splitlines():
        if m := re.match(r"(\w+) = ", line):
            name = m.group(1)
        if m := re.fullmatch(r"# tensor\(\[(.*)\]\)", line.strip()):
            expected = torch.tensor([float(x) for x in m.group(1).split(",")])
            assert torch.allclose(namespace[name].float(), expected, atol=1e-4), (name, line)
        elif m := re.fullmatch(r"(\S.*?)\s+# (True|False)", line):
            assert eval(m.group(1), namespace) is (m.group(2) == "True"), line  # noqa: S307


@pytest.mark.parametrize(
    "page, code", [(p, c) for p, c, runs in _blocks("python") if runs], ids=lambda x: x[:40]
)
def test_every_python_example_runs_and_prints_what_it_says(page, code):
    namespace: dict = {}
    exec(compile(code, page, "exec"), namespace)  # our own docs, not model output
    _check_printed(code, namespace)


@pytest.mark.parametrize(
    "page, code", [(p, c) for p, c, runs in _blocks("python") if not runs], ids=lambda x: x[:40]
)
def test_the_examples_not_run_compile_and_import(page, code):
    _check_imports(code, page)


def test_the_readmes_python_example_is_checked():
    code = next(c for p, c, runs in _blocks("python") if p == "README.md" and runs)
    assert "# True" in code and "# tensor([ 1.0513,  1.0000,  0.9512, -1.0000])" in code
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    adv = namespace["advantages"]
    assert adv.shape == (4,) and adv[0] > adv[1] > adv[2] > 0 > adv[3]


@pytest.mark.parametrize("page, line", _command_lines(), ids=lambda x: x[:60])
def test_every_command_shown_exists_with_its_flags_and_files(page, line):
    _check_command(line)


def test_the_command_list_is_the_clis():
    block = README.split("## The command line", 1)[1].split("```", 2)[1]
    listed = re.findall(r"^grpo-lead ([a-z-]+)", block, flags=re.M)
    assert listed == list(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_the_readme_names_has_help(name):
    assert "usage:" in _help(name)


def _help_entry(name: str, flag: str) -> str:
    """The help of one flag of `grpo-lead name --help`, joined onto one line."""
    text = _help(name).split(f"  {flag}", 1)[1]
    entry = re.split(r"\n  -", text, maxsplit=1)[0]
    return " ".join(entry.split())


def test_the_help_says_where_output_goes():
    from grpo_lead.evaluation.runner import default_out_dir

    for name, folder in (("eval", "eval"), ("estimate-difficulty", "difficulty")):
        entry = _help_entry(name, "--out")
        assert f"outputs/{folder}/<model folder name>/<data file stem>" in entry, entry
        assert default_out_dir(folder, "runs/lead-7b", "x/aime24.jsonl").parts[:2] == (
            "outputs",
            folder,
        )


def test_eval_help_is_written_for_users():
    head = _help("eval").split("\noptions:", 1)[0]
    assert "``" not in head and "tasks`" not in head and "pass@1" in head


def test_demo_help_describes_every_verbosity():
    from grpo_lead.toylab.task import VERBOSITIES

    entry = _help_entry("demo", "--verbosity")
    for verbosity in VERBOSITIES:
        assert f"{verbosity}:" in entry or f"{verbosity} (default):" in entry, verbosity


def test_serve_help_states_the_prompt_character_limit_the_server_applies():
    from grpo_lead.serve.app import CHARS_PER_TOKEN_BOUND

    entry = _help_entry("serve", "--max-prompt-chars")
    assert f"{CHARS_PER_TOKEN_BOUND} x the smaller of --max-prompt-tokens and the model's" in entry
    # tests/test_serve_hostile.py checks the server applies exactly this bound
