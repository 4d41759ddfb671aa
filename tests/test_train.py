"""`grpo-lead train` end to end on a tiny local model: errors, checkpoints, SIGKILL and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file, save_file

CLI = [sys.executable, "-m", "grpo_lead.cli", "train"]


def write_problems(path: Path, n: int = 16, bad_row: int | None = None) -> Path:
    with path.open("w") as f:
        for i in range(n):
            row = {"question": f"{i}+{i}", "answer": str(2 * i)}
            if i == bad_row:
                row["answer"] = ""
            f.write(json.dumps(row) + "\n")
    return path


def train_args(model_dir, data, out, *extra):
    return [
        "--model_name_or_path", str(model_dir), "--dataset", str(data), "--output_dir", str(out),
        "--chat_template", "false", "--prompt_suffix", "=",
        "--use_cpu", "true", "--bf16", "false", "--gradient_checkpointing", "false",
        "--per_device_train_batch_size", "8", "--num_generations", "4",
        "--max_completion_length", "8", "--learning_rate", "1e-2", "--report_to", "none",
        "--logging_steps", "1", "--seed", "0", "--disable_tqdm", "true", *extra,
    ]  # fmt: skip


def run(args, **kw):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(CLI + args, capture_output=True, text=True, env=env, timeout=300, **kw)


def test_bad_config_value_is_one_line_and_exit_2(tiny_model_dir, tmp_path):
    data = write_problems(tmp_path / "p.jsonl")
    proc = run(
        train_args(tiny_model_dir, data, tmp_path / "out", "--alpha", "-1", "--max_steps", "1")
    )
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last == "error: alpha must lie in [0, 10], got -1.0"


def test_bad_data_row_is_one_line_and_exit_2(tiny_model_dir, tmp_path):
    data = write_problems(tmp_path / "p.jsonl", bad_row=3)
    proc = run(train_args(tiny_model_dir, data, tmp_path / "out", "--max_steps", "1"))
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "p.jsonl" in last and "4" in last, last


def test_missing_column_names_it(tiny_model_dir, tmp_path):
    data = write_problems(tmp_path / "p.jsonl")
    proc = run(train_args(tiny_model_dir, data, tmp_path / "out", "--answer_column", "target"))
    assert proc.returncode == 2
    assert "target" in proc.stderr.strip().splitlines()[-1]


def _only_error_line(proc) -> str:
    """The one line of stderr a refused command prints: no traceback, no usage dump."""
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "usage:" not in proc.stderr, proc.stderr[-2000:]
    # only the error line of ours (a library's warning may precede it: issue 18 item 12)
    lines = [line for line in proc.stderr.strip().splitlines() if "warn" not in line.lower()]
    assert len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(("flag", "scale"), [("True", "group"), ("false", "none")])
def test_scale_rewards_takes_the_booleans_trl_documents(tmp_path, flag, scale):
    from grpo_lead.train import parse_train_args

    argv = ["--output_dir", str(tmp_path), "--use_cpu", "true", "--bf16", "false"]
    _, training, _ = parse_train_args([*argv, "--scale_rewards", flag])
    assert training.scale_rewards == scale and training.lead_options().scale == scale


def _train_help(*extra: str) -> str:
    import contextlib
    import io

    from grpo_lead.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as info:
        main(["train", *extra, "--help"])
    assert info.value.code == 0
    return out.getvalue()


def test_train_help_opens_with_the_recipe_the_task_and_the_first_options():
    """Issue 33: `train --help` (1,500 lines) names --config and --task in its first lines, then
    the options a user sets first, each one a real option of the parser, then the full list."""
    import re

    from grpo_lead.train import TRAIN_FIRST_FLAGS

    text = _train_help()
    head, options = text.split("\noptions:\n", 1)
    assert head.splitlines()[0].startswith("usage: grpo-lead train --config RECIPE.yaml")
    assert "--task {math,mcq}" in head and len(head.splitlines()) < 40
    named = set(re.findall(r"--[a-z0-9_]+", TRAIN_FIRST_FLAGS)) - {"--config", "--help"}
    mcq = {"--options_column", "--layout", "--abstain"}  # with --task mcq only
    assert mcq <= named and len(named - mcq) >= 15
    mcq_options = _train_help("--task", "mcq").split("\noptions:\n", 1)[1]
    for flag in named:  # each exists, in the full list below
        listed = options if flag not in mcq else mcq_options
        assert re.search(rf"^  {flag}(?![\w-])", listed, flags=re.M), flag
    assert "--options_column" not in options


@pytest.mark.parametrize("task", ["math", "mcq"])
def test_train_takes_task_on_the_command_line_and_in_the_recipe(tmp_path, task):
    # `--task math` was refused by the parser ("arguments are not used"): --task is a real option
    from grpo_lead.tasks import read_recipe, task_of
    from grpo_lead.train import parse_train_args

    argv = ["--output_dir", str(tmp_path), "--use_cpu", "true", "--bf16", "false"]
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"task: {task}\n")
    for line in ([*argv, "--task", task], [*argv, "--config", str(recipe)]):
        rest, read = read_recipe(line)
        script_cls = task_of(rest, read).load("script_arguments")
        script, _, _ = parse_train_args(rest, script_cls, read)
        assert script.task == task


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU takes bf16: nothing to refuse")
def test_bf16_without_a_gpu_says_what_to_change_in_the_recipe(tmp_path):
    # transformers says "You need to assign use_cpu", a flag our recipes never name
    from grpo_lead.train import parse_train_args

    with pytest.raises(ValueError) as info:
        parse_train_args(["--output_dir", str(tmp_path), "--bf16", "true"])
    assert "bf16: false" in str(info.value) and "use_cpu" not in str(info.value)


def test_a_wrong_type_is_one_line_with_where_to_find_help(tiny_model_dir, tmp_path):
    data = write_problems(tmp_path / "p.jsonl")
    proc = run(train_args(tiny_model_dir, data, tmp_path / "out", "--alpha", "abc"))
    line = _only_error_line(proc)
    assert "--alpha" in line and "'abc'" in line and "grpo-lead train --help" in line


def test_missing_model_path_is_one_line(tmp_path):
    data = write_problems(tmp_path / "p.jsonl")
    missing = tmp_path / "models" / "nope"
    proc = run(train_args(missing, data, tmp_path / "out", "--max_steps", "1"))
    assert str(missing) in _only_error_line(proc)
    assert not (tmp_path / "out").exists()


def test_yaml_syntax_error_is_one_line(tiny_model_dir, tmp_path):
    data = write_problems(tmp_path / "p.jsonl")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("learning_rate: 1.0e-6\nalpha: [0.05\nbeta: 1\n")
    proc = run(["--config", str(recipe), *train_args(tiny_model_dir, data, tmp_path / "out")])
    line = _only_error_line(proc)
    assert str(recipe) in line and "not valid YAML" in line and "line 3" in line, line


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the recipe is empty; write option: value lines, e.g. alpha: 0.05"),
        ("# only a comment\n", "the recipe is empty; write option: value lines, e.g. alpha: 0.05"),
        ("- alpha: 0.05\n", "the recipe is a YAML list, not a mapping of option: value lines"),
    ],
)
def test_an_empty_or_non_mapping_recipe_is_our_one_line_form(tmp_path, text, problem):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(text)
    line = _only_error_line(run(["--config", str(recipe)]))
    assert line.startswith(f"error: {recipe}: {problem}"), line


def test_vllm_without_vllm_or_gpu_says_what_it_needs(tiny_model_dir, tmp_path):
    data = write_problems(tmp_path / "p.jsonl")
    proc = run(train_args(tiny_model_dir, data, tmp_path / "out", "--use_vllm", "true"))
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: use_vllm needs"), last


def test_lora_training_changes_only_the_adapter(tiny_model_dir, tmp_path):
    out = tmp_path / "lora"
    data = write_problems(tmp_path / "p.jsonl")
    proc = run(
        train_args(
            tiny_model_dir, data, out, "--max_steps", "2", "--use_peft", "true", "--lora_r", "4",
            "--lora_target_modules", "q_proj", "v_proj", "--save_strategy", "no",
            # a random model is never right: reasoning_quality varies and gives a signal
            "--reward_funcs", "accuracy", "reasoning_quality",
        )
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    # peft and TRL read transformers' deprecated property: nothing a user can change, not shown
    assert "is_gradient_checkpointing" not in proc.stderr, proc.stderr[-2000:]
    adapter = load_file(out / "adapter_model.safetensors")
    assert adapter and all("lora_" in k for k in adapter)
    # LoRA B starts at zero: a non-zero B means the adapter trained
    assert any(v.abs().sum() > 0 for k, v in adapter.items() if "lora_B" in k)
    assert not (out / "model.safetensors").exists()


def _wait_for(path: Path, proc, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"training ended before {path.name}: {proc.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} not written within {timeout}s")
        time.sleep(0.2)


@pytest.mark.slow
def test_sigkill_then_resume_continues_with_optimizer_state(tiny_model_dir, tmp_path):
    data = write_problems(tmp_path / "p.jsonl")
    steps = ["--max_steps", "6", "--save_strategy", "steps", "--save_steps", "2"]
    # reference: the same run, uninterrupted
    ref = run(train_args(tiny_model_dir, data, tmp_path / "ref", *steps))
    assert ref.returncode == 0, ref.stderr[-2000:]

    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        CLI + train_args(tiny_model_dir, data, out, *steps),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(out / "checkpoint-2" / "trainer_state.json", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    killed_at = max(int(p.name.split("-")[1]) for p in out.glob("checkpoint-*"))
    assert (out / f"checkpoint-{killed_at}" / "optimizer.pt").exists()

    # a fresh run must not overwrite the checkpoints
    fresh = run(train_args(tiny_model_dir, data, out, *steps))
    assert fresh.returncode == 2 and "pass --resume" in fresh.stderr

    resumed = run(train_args(tiny_model_dir, data, out, *steps, "--resume"))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming from {out / f'checkpoint-{killed_at}'}" in resumed.stderr
    assert (out / "training.png").stat().st_size > 0
    recipe = yaml.safe_load((out / "grpo_lead_recipe.yaml").read_text())
    assert recipe["alpha"] == 0.05 and recipe["dataset"] == str(data)
    state = json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    logged = [e["step"] for e in state["log_history"] if "loss" in e]
    assert logged == [1, 2, 3, 4, 5, 6]
    # nothing lost: model, optimizer and RNG state restored, so the result equals the
    # uninterrupted run's
    got, want = (
        load_file(out / "model.safetensors"),
        load_file(tmp_path / "ref" / "model.safetensors"),
    )
    assert got.keys() == want.keys()
    for k in want:
        assert torch.allclose(got[k], want[k], atol=1e-6), k


def _checkpoint(out: Path, step: int, *, weights=True, state: str | None = "ok") -> Path:
    folder = out / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    if weights:
        (folder / "config.json").write_text("{}")
        save_file({"w": torch.zeros(4)}, str(folder / "model.safetensors"))
    if state == "ok":
        (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    elif state is not None:
        (folder / "trainer_state.json").write_text(state)
    return folder


def test_resume_takes_the_newest_complete_checkpoint(tmp_path, caplog):
    from grpo_lead.train import check_output_dir

    out = tmp_path / "out"
    two = _checkpoint(out, 2)
    _checkpoint(out, 4, state='{"global_step": 4, "log_hi')  # killed while writing the state
    _checkpoint(out, 6, state=None)  # killed while writing the optimizer: no state yet
    _checkpoint(out, 8, weights=False, state=None)  # killed while writing the model
    last, skipped = check_output_dir(str(out), resume=True)
    assert last == str(two)
    assert [(Path(p).name, why) for p, why in skipped] == [
        ("checkpoint-8", "no trainer_state.json"),
        ("checkpoint-6", "no trainer_state.json"),
        ("checkpoint-4", "trainer_state.json is not valid JSON"),
    ]
    # a fresh run still never writes over them
    with pytest.raises(ValueError, match="pass --resume"):
        check_output_dir(str(out), resume=False)


def _cut(path: Path, keep: int = 40) -> None:
    """What a kill (or a full disk) leaves of a file: its first `keep` bytes."""
    path.write_bytes(path.read_bytes()[:keep])


def test_resume_skips_checkpoints_with_cut_weights_or_optimizer(tmp_path):
    """trainer_state.json is whole but a file it needs is cut: skipped, the previous taken."""
    from grpo_lead.train import check_output_dir

    out = tmp_path / "out"
    folders = {}
    for step in (2, 4, 6, 8, 10):
        folders[step] = _checkpoint(out, step)
        torch.save({"state": {0: {"exp_avg": torch.ones(64)}}}, folders[step] / "optimizer.pt")
        torch.save({"last_epoch": step}, folders[step] / "scheduler.pt")
    _cut(folders[4] / "model.safetensors", keep=70)  # 80 bytes: cut inside the tensor data
    _cut(folders[6] / "optimizer.pt", keep=300)
    _cut(folders[8] / "scheduler.pt", keep=0)
    (folders[10] / "model.safetensors").write_bytes(b"\xff" * 8)  # a header 2^64 - 1 long
    last, skipped = check_output_dir(str(out), resume=True)
    assert last == str(folders[2])
    assert [(Path(p).name, why) for p, why in skipped] == [
        ("checkpoint-10", "model.safetensors is cut short (8 bytes)"),
        ("checkpoint-8", "scheduler.pt is cut short or not a torch file"),
        ("checkpoint-6", "optimizer.pt is cut short or not a torch file"),
        ("checkpoint-4", "model.safetensors is cut short (70 of 80 bytes)"),
    ]


def test_resume_skips_a_sharded_checkpoint_with_a_missing_shard(tmp_path):
    from grpo_lead.train import checkpoint_problem

    folder = _checkpoint(tmp_path, 2)
    index = {"weight_map": {"w": "model-00001-of-00002.safetensors", "v": "model.safetensors"}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    assert checkpoint_problem(folder) == (
        "model.safetensors.index.json names model-00001-of-00002.safetensors, which is not there"
    )


def test_resume_with_no_complete_checkpoint_starts_from_step_0(tmp_path):
    from grpo_lead.train import check_output_dir

    out = tmp_path / "out"
    _checkpoint(out, 2, state=None)  # killed inside the first checkpoint write
    last, skipped = check_output_dir(str(out), resume=True)
    assert last is None and [Path(p).name for p, _ in skipped] == ["checkpoint-2"]
    with pytest.raises(ValueError, match="no checkpoint-\\* folder"):
        check_output_dir(str(tmp_path / "empty"), resume=True)


# Runs `grpo-lead train` with the checkpoint write of step KILL_STEP stopped half way: the model
# is saved, then the optimizer save signals the test (a file) and sleeps until it is killed.
SLOW_WRITE = """
import sys, time
from pathlib import Path
import transformers
from grpo_lead.cli import main

signal_file, kill_step = Path(sys.argv[1]), int(sys.argv[2])
save = transformers.Trainer._save_optimizer_and_scheduler

def slow_save(self, output_dir):
    if self.state.global_step == kill_step:
        signal_file.write_text(output_dir)
        time.sleep(600)
    return save(self, output_dir)

transformers.Trainer._save_optimizer_and_scheduler = slow_save
sys.exit(main(["train", *sys.argv[3:]]))
"""


@pytest.mark.slow
def test_sigkill_inside_a_checkpoint_write_then_resume(tiny_model_dir, tmp_path):
    data = write_problems(tmp_path / "p.jsonl")
    out, signal_file = tmp_path / "out", tmp_path / "in-write"
    args = train_args(tiny_model_dir, data, out, "--max_steps", "6", "--save_steps", "2")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITE, str(signal_file), "4", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(signal_file, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    partial = out / "checkpoint-4"
    assert signal_file.read_text() == str(partial)
    assert (partial / "model.safetensors").exists() and not (
        partial / "trainer_state.json"
    ).exists()

    resumed = run([*args, "--resume"])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "skipping checkpoint-4: incomplete (no trainer_state.json)" in resumed.stderr
    assert f"resuming from {out / 'checkpoint-2'}" in resumed.stderr
    state = json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    assert [e["step"] for e in state["log_history"] if "loss" in e] == [1, 2, 3, 4, 5, 6]
    assert (partial / "trainer_state.json").exists()  # step 4 was written again, whole


# -- issue 32: values that trained to NaN, and folders that were written over ---------------------


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--learning_rate", "inf", "learning_rate must be a finite number, got inf"),
        ("--beta", "inf", "beta must be a finite number, got inf"),
        ("--epsilon", "-inf", "epsilon must be a finite number, got -inf"),
        ("--temperature", "inf", "temperature must be a finite number, got inf"),
        ("--max_grad_norm", "inf", "max_grad_norm must be a finite number, got inf"),
        ("--learning_rate", "-1", "learning_rate must be >= 0, got -1.0"),
        ("--max_completion_length", "0", "max_completion_length must be at least 1 token"),
        ("--num_generations", "1", "num_generations must be at least 2"),
    ],
)
def test_trl_values_that_cannot_train_are_refused_up_front(tmp_path, flag, value, message):
    # Before: --learning_rate inf trained and saved an all-NaN model (exit 0); -1 failed in torch
    # after the folder was made; max_completion_length 0 in generate; num_generations 1 in TRL's
    # words (issue 32, items 2 and 12)
    from grpo_lead.train import parse_train_args

    argv = ["--output_dir", str(tmp_path / "out"), "--use_cpu", "true", "--bf16", "false"]
    with pytest.raises(ValueError) as info:
        parse_train_args([*argv, f"{flag}={value}"])
    assert str(info.value).startswith(message), str(info.value)


def test_a_batch_that_num_generations_does_not_divide_names_the_flags_set(tmp_path):
    # Before: TRL's "generation_batch_size (8) must be divisible by num_generations (3)"
    from grpo_lead.train import parse_train_args

    argv = ["--output_dir", str(tmp_path), "--use_cpu", "true", "--bf16", "false"]
    with pytest.raises(ValueError) as info:
        parse_train_args([*argv, "--per_device_train_batch_size", "8", "--num_generations", "3"])
    message = str(info.value)
    assert "per_device_train_batch_size 8" in message and "num_generations 3" in message
    assert "generation_batch_size" not in message.replace("per_device_train_batch_size", "")


def test_a_bad_learning_rate_leaves_no_folder(tiny_model_dir, tmp_path):
    data = write_problems(tmp_path / "p.jsonl")
    proc = run(train_args(tiny_model_dir, data, tmp_path / "out", "--learning_rate", "-1"))
    assert "learning_rate" in _only_error_line(proc)
    assert not (tmp_path / "out").exists()


def _finished_run(out: Path) -> dict[str, bytes]:
    out.mkdir(parents=True)
    save_file({"w": torch.ones(4)}, str(out / "model.safetensors"))
    (out / "trainer_state.json").write_text(json.dumps({"global_step": 8}))
    (out / "grpo_lead_recipe.yaml").write_text("alpha: 0.05\n")
    return {p.name: p.read_bytes() for p in out.iterdir()}


def _user_files(out: Path) -> dict[str, bytes]:
    out.mkdir(parents=True)
    for name in ("config.json", "README.md", "tokenizer.json"):
        (out / name).write_text(f"the user's own {name}\n")
    return {p.name: p.read_bytes() for p in out.iterdir()}


@pytest.mark.parametrize(
    ("make", "fragment"),
    [(_finished_run, "holds a finished run"), (_user_files, "not a grpo-lead run's")],
    ids=["finished run", "user files"],
)
def test_a_fresh_run_does_not_write_over_a_folder(tiny_model_dir, tmp_path, make, fragment):
    # Before: a finished run (save_strategy: no, so no checkpoint-*) and the user's config.json,
    # README.md, tokenizer.json were all written over (issue 32, items 6 and 7)
    data = write_problems(tmp_path / "p.jsonl")
    out = tmp_path / "out"
    before = make(out)
    args = train_args(tiny_model_dir, data, out, "--max_steps", "1", "--save_strategy", "no")
    line = _only_error_line(run(args))
    assert fragment in line and str(out) in line and "--overwrite_output_dir" in line, line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_overwrite_output_dir_writes_over_a_finished_run(tiny_model_dir, tmp_path):
    data = write_problems(tmp_path / "p.jsonl")
    out = tmp_path / "out"
    before = _finished_run(out)
    args = train_args(tiny_model_dir, data, out, "--max_steps", "1", "--save_strategy", "no")
    proc = run([*args, "--overwrite_output_dir", "true"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "model.safetensors").read_bytes() != before["model.safetensors"]
    recipe = yaml.safe_load((out / "grpo_lead_recipe.yaml").read_text())
    assert "overwrite_output_dir" not in recipe and "resume" not in recipe


def test_an_output_dir_that_is_a_file_is_one_line(tiny_model_dir, tmp_path):
    # Before: a raw "[Errno 17] File exists" (issue 32, item 12)
    data = write_problems(tmp_path / "p.jsonl")
    (tmp_path / "out").write_text("x")
    for out in (tmp_path / "out", tmp_path / "out" / "run"):
        line = _only_error_line(run(train_args(tiny_model_dir, data, out, "--max_steps", "1")))
        assert f"{tmp_path / 'out'} is a file" in line, line


def test_a_non_finite_step_stops_the_run_and_keeps_the_good_checkpoint(
    tiny_model_dir, tmp_path, monkeypatch, capsys
):
    # Before: a NaN loss made every weight NaN, and the run saved them (exit 0) (issue 32,
    # item 2). Here step 1 is sound and saved; step 2's loss is NaN.
    from grpo_lead.train import train_main
    from grpo_lead.trainer import GRPOLeadTrainer

    stock = GRPOLeadTrainer.compute_loss

    def nan_from_step_2(self, *args, **kwargs):
        loss = stock(self, *args, **kwargs)
        return loss * float("nan") if self.state.global_step >= 1 else loss

    monkeypatch.setattr(GRPOLeadTrainer, "compute_loss", nan_from_step_2)
    data = write_problems(tmp_path / "p.jsonl")
    out = tmp_path / "out"
    steps = ["--max_steps", "3", "--save_strategy", "steps", "--save_steps", "1"]
    assert train_main(train_args(tiny_model_dir, data, out, *steps)) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and errors[0].startswith("error: step 2: the gradient of "), errors
    assert errors[0].endswith(
        "not finite (the loss was NaN or inf): training stopped; nothing saved"
    )
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-1"]
    assert not (out / "model.safetensors").exists()
    weights = load_file(out / "checkpoint-1" / "model.safetensors")
    assert all(bool(torch.isfinite(w).all()) for w in weights.values())


def test_the_guard_cancels_a_save_of_non_finite_weights():
    # a step with a finite gradient can still leave NaN weights (a huge learning rate): the
    # save of that step is cancelled, not written over a good checkpoint
    from transformers import TrainerControl, TrainerState

    from grpo_lead.guards import FiniteGuard

    model = torch.nn.Linear(2, 2)
    guard, state = FiniteGuard(), TrainerState(global_step=4)
    control = guard.on_step_end(None, state, TrainerControl(should_save=True), model=model)
    assert control.should_save and guard.failure is None
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    control = guard.on_step_end(None, state, TrainerControl(should_save=True), model=model)
    assert not control.should_save and control.should_training_stop
    assert guard.failure == "step 4: weight weight is not finite"
