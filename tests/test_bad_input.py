"""Every command, every bad input: one line on stderr, exit code 2, no traceback (issue 24).

A table of (command line, bad files to set up, a fragment the message must hold), each row run
as its own `python -m grpo_lead.cli ...` process, rows in parallel. Only rows that fail before
any model loads: a command that needs a model gets a folder that does not exist. Most rows cost
0.1 s of CPU; `train` and `verl-data` import TRL (about 7 s), so they have few rows. A new command joins by adding a row; `test_every_command_has_a_row`
holds every command of `grpo_lead.cli.COMMANDS` to at least one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grpo_lead.cli import COMMANDS

NO_MODEL = "{tmp}/no-model"  # a model folder that does not exist


def _problems(tmp: Path) -> None:
    rows = [{"question": f"{i}+{i}", "answer": str(2 * i)} for i in range(4)]
    (tmp / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def _bad_yaml(tmp: Path) -> None:
    (tmp / "bad.yaml").write_text("alpha: [0.1\nbeta: 2\n")


def _foreign_summary(tmp: Path) -> None:
    (tmp / "summary.json").write_text(json.dumps({"not": "a summary"}))


def _cut_archive(tmp: Path) -> None:
    (tmp / "runs.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")


def _not_a_checkpoint(tmp: Path) -> None:
    (tmp / "ckpt").mkdir()
    (tmp / "ckpt" / "notes.txt").write_text("x")


def _finished_run(tmp: Path) -> None:
    (tmp / "out").mkdir()
    for name in ("model.safetensors", "trainer_state.json", "grpo_lead_recipe.yaml"):
        (tmp / "out" / name).write_text("x")


def _user_files(tmp: Path) -> None:
    (tmp / "out").mkdir()
    for name in ("config.json", "README.md", "tokenizer.json"):
        (tmp / "out" / name).write_text("mine")


def _a_file_out(tmp: Path) -> None:
    (tmp / "out").write_text("x")


def _no_keys(tmp: Path) -> None:
    (tmp / "keys").write_text("# none yet\n")


def _a_file(tmp: Path) -> None:
    (tmp / "f").write_text("x")


def _problems_and_a_file(tmp: Path) -> None:
    _problems(tmp)
    _a_file(tmp)


def _not_gguf(tmp: Path) -> None:
    (tmp / "fake.gguf").write_text('{"not": "gguf"}')


TRAIN_CPU = "train --model_name_or_path " + NO_MODEL + " --output_dir {tmp}/out --use_cpu true "
TRAIN_CPU += "--bf16 false"

# (command line with {tmp}, set-up of bad files or None, fragment of the one error line)
ROWS = [
    ("train --config {tmp}/bad.yaml", _bad_yaml, "bad.yaml: not valid YAML"),
    ("train --model_name_or_path " + NO_MODEL + " --output_dir {tmp}/out --use_cpu true "
     "--bf16 false", None, "no-model: no such folder"),
    # issue 32: values that trained to NaN or failed deep in TRL, folders written over
    (TRAIN_CPU + " --learning_rate inf", None, "learning_rate must be a finite number"),
    (TRAIN_CPU + " --learning_rate -1", None, "learning_rate must be >= 0"),
    (TRAIN_CPU + " --max_completion_length 0", None, "max_completion_length must be at least"),
    (TRAIN_CPU + " --num_generations 1", None, "num_generations must be at least 2"),
    (TRAIN_CPU + " --num_generations 3 --per_device_train_batch_size 8", None,
     "per_device_train_batch_size 8"),
    (TRAIN_CPU, _a_file_out, "out is a file, not a folder"),
    (TRAIN_CPU, _finished_run, "holds a finished run"),
    (TRAIN_CPU, _user_files, "--overwrite_output_dir"),
    ("eval --model " + NO_MODEL + " --data {tmp}/p.jsonl --check-timeout 0", _problems,
     "check-timeout must be > 0"),
    ("eval --data math500", None, "--model"),
    ("estimate-difficulty --model m --data {tmp}/p.jsonl -k zero", _problems, "-k"),
    ("estimate-difficulty --model " + NO_MODEL + " --data {tmp}/p.jsonl --num-workers 0",
     _problems, "num-workers must be at least 1"),
    ("compare {tmp}/missing.json", None, "missing.json"),
    ("compare {tmp}/summary.json", _foreign_summary, "summary.json"),
    ("demo --seed abc", None, "--seed"),
    ("demo --verbosity chatty", None, "chatty"),
    ("ablation --seeds 0 --out {tmp}/abl", None, "--seeds must be >= 1"),
    ("ablation --archive {tmp}/runs.jsonl.gz --out {tmp}/abl --quick", _cut_archive,
     "runs.jsonl.gz"),
    ("demo --ablation --methods lead --out {tmp}/abl --quick", None, "must include 'grpo'"),
    ("export --checkpoint {tmp}/missing --out {tmp}/exp", None, "missing"),
    ("export --checkpoint {tmp}/ckpt --out {tmp}/exp", _not_a_checkpoint, "ckpt"),
    ("serve --model " + NO_MODEL, None, "no-model: no such folder"),
    ("serve --model " + NO_MODEL + " --port 99999", None, "--port must be 1..65535"),
    ("serve --model m --max-n zero", None, "--max-n"),
    ("serve --model m --upstream http://127.0.0.1:9 --api-key-file {tmp}/keys", _no_keys,
     "--api-key-file"),
    ("serve --model " + NO_MODEL + " --host no-such-host.invalid", None, "--host"),
    ("serve --model m --upstream http://127.0.0.1:9 --cache {tmp}/f/c.sqlite", _a_file,
     "f is a file, not a folder"),
    ("serve --model {tmp}/ckpt", _not_a_checkpoint, "not a model folder (no config.json)"),
    ("verl-data --dataset {tmp}/p.jsonl --output {tmp}/out.csv", _problems, ".parquet"),
    ("verl-data --output {tmp}/o.parquet", None, "--dataset"),
    ("import-gguf {tmp}/fake.gguf --out {tmp}/m", _not_gguf, "fake.gguf: not a GGUF file"),
    ("import-gguf --out {tmp}/m --bogus", None, "--bogus"),
    ("eval --model " + NO_MODEL + " --data {tmp}/p.jsonl --threads 0", _problems,
     "--threads: must be at least 1"),
    ("frobnicate --help", None, "unknown command 'frobnicate'"),
    # issue 32, item 11: an --out under a file, before any work (was a raw errno after it)
    ("eval --model " + NO_MODEL + " --data {tmp}/p.jsonl --out {tmp}/f/run", _problems_and_a_file,
     "f is a file, not a folder"),
    ("export --checkpoint {tmp}/missing --out {tmp}/f/exp", _a_file, "f is a file, not a folder"),
    ("demo --quick --out {tmp}/f/demo", _a_file, "f is a file, not a folder"),
    ("ablation --quick --out {tmp}/f/abl", _a_file, "f is a file, not a folder"),
]  # fmt: skip


def _run(row, tmp: Path) -> subprocess.CompletedProcess:
    argv, setup, _ = row
    tmp.mkdir(parents=True)
    if setup is not None:
        setup(tmp)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    args = argv.format(tmp=tmp).split()
    cmd = [sys.executable, "-m", "grpo_lead.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp, timeout=600)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> list[subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("bad-input")
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda i: _run(ROWS[i], root / f"row{i}"), range(len(ROWS))))


@pytest.mark.parametrize("i", range(len(ROWS)), ids=[r[0].split(" --")[0] for r in ROWS])
def test_bad_input_is_one_line_and_exit_2(results, i):
    argv, _, fragment = ROWS[i]
    proc = results[i]
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, (argv, proc.returncode, proc.stderr[-2000:])
    assert len(lines) == 1, (argv, proc.stderr[-2000:])
    assert lines[0].startswith("error: ") and fragment in lines[0], (argv, lines[0])
    assert proc.stdout == "", (argv, proc.stdout[-2000:])


def test_every_command_has_a_row():
    covered = {argv.split()[0] for argv, _, _ in ROWS}
    assert set(COMMANDS) <= covered, sorted(set(COMMANDS) - covered)
