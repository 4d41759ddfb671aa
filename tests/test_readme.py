"""The README is the user's manual: its Python example runs and prints what it says, and its
command list is the CLI's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from grpo_lead.cli import COMMANDS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_the_first_python_example_runs_and_prints_what_it_says():
    code = next(b for b in _python_blocks() if "lead_rewards" in b)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # our own README, not model output
    # "check_answer(...)   # True"
    call = next(line for line in code.splitlines() if line.startswith("check_answer("))
    assert call.rstrip().endswith("# True")
    assert eval(call.split("#")[0], namespace) is True  # noqa: S307 (README text, not model output)
    # "# tensor([ 1.0513,  1.0000,  0.9512, -1.0000])"
    shown = re.search(r"# tensor\(\[(.*?)\]\)", code).group(1)
    expected = torch.tensor([float(x) for x in shown.split(",")])
    assert torch.allclose(namespace["rewards"].float(), expected, atol=1e-4)
    adv = namespace["advantages"]
    assert adv.shape == (4,) and adv[0] > adv[1] > adv[2] > 0 > adv[3]


def test_the_command_list_is_the_clis():
    block = README.split("## The command line", 1)[1].split("```", 2)[1]
    listed = re.findall(r"^grpo-lead ([a-z-]+)", block, flags=re.M)
    assert listed == list(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_the_readme_names_has_help(name, capsys):
    from grpo_lead.cli import main

    try:
        code = main([name, "--help"])
    except SystemExit as exc:  # argparse's own --help exits; some commands return instead
        code = exc.code
    assert code == 0
    assert "usage:" in capsys.readouterr().out
