"""Where the toy lab's time goes, per phase, at the demo's settings (issue 17).

    .venv/bin/python benchmarks/bench_toylab.py [--against REF] [--model DIR] [--rounds 2]

Phases, each in a fresh subprocess with the demo's thread count (2 cores):

- ``import``: seconds to import TRL and the trainer (what the demo pays before RL starts);
- ``build``: seconds to build the LEAD trainer from the warm-up model;
- ``warmup``: s/step of the warm-up loop at the demo's batch (32), after 3 untimed steps;
- ``rl``: s/step of GRPO-LEAD at the demo's settings (8 prompts x 8 answers, max 128 tokens),
  steps 3.. of a short run, split into generation (``model.generate``), loss forward + backward
  (``compute_loss`` + ``backward``) and other (rewards, advantages, optimizer, logging), with the
  mean completion length and the decoded width (tokens a batch decoded);
- ``eval``: seconds to evaluate one model on the demo's held-out set (200 problems x 4 samples).

The RL and evaluation phases start from one warm-up model (``--model``; default: a 500-step
warm-up trained once into ``--out``), so both source trees see the same answers' lengths.

``--against REF`` also runs every phase on git ref REF's ``src/`` (extracted with ``git
archive``), alternating the two trees round by round, so that the speed-ups are ratios measured
in one run under the same machine load; absolute seconds on a busy machine are inflated.
Prints a table and writes benchmarks/results/toylab_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PHASES = ("import", "build", "warmup", "rl", "eval")


# -- the phases (run inside a worker process) ------------------------------------------------------


def _settings(args):
    from grpo_lead.toylab.settings import LabSettings

    return LabSettings(rl_steps=args.rl_steps)


def phase_import(args) -> dict:
    start = time.perf_counter()
    import trl  # noqa: F401

    import grpo_lead.trainer  # noqa: F401

    return {"seconds": time.perf_counter() - start}


def phase_build(args) -> dict:
    import grpo_lead.trainer  # noqa: F401  (imports are the import phase's)

    start = time.perf_counter()
    _build(args, Path(args.tmp))
    return {"seconds": time.perf_counter() - start}


def _build(args, tmp: Path):
    from grpo_lead.toylab.files import write_jsonl
    from grpo_lead.toylab.rl import build_trainer
    from grpo_lead.toylab.task import make_problems

    s = _settings(args)
    problems = tmp / "problems.jsonl"
    write_jsonl(problems, make_problems(s.rl_problems, seed=1000))
    return build_trainer(
        "lead",
        warmup_dir=args.model,
        problems_path=problems,
        run_dir=tmp / "run",
        settings=s,
        seed=0,
    )


def phase_warmup(args) -> dict:
    from grpo_lead.toylab import warmup as w
    from grpo_lead.toylab.task import make_sft_dataset

    s = _settings(args)
    sft = make_sft_dataset(s.sft_examples, seed=0, verbosity=s.verbosity)
    times = []
    original = w._lr_factor  # called once a step, before the step's forward pass

    def timed(step, *a, **kw):
        times.append(time.perf_counter())
        return original(step, *a, **kw)

    w._lr_factor = timed
    w.warmup(
        sft,
        Path(args.tmp) / "warm",
        steps=args.warmup_steps + 3,
        batch_size=s.warmup_batch_size,
        lr=s.warmup_lr,
        progress=False,
    )
    times.append(time.perf_counter())  # ~ the end of the last step (saving is not timed)
    steps = [b - a for a, b in zip(times[3:-1], times[4:], strict=True)]
    return {"s_per_step": statistics.mean(steps), "steps": len(steps)}


def phase_rl(args) -> dict:
    from transformers import TrainerCallback

    trainer = _build(args, Path(args.tmp))
    clock = {"generation": 0.0, "loss": 0.0, "width": 0}
    steps: list[dict] = []

    def timed(fn, key):
        def wrapper(*a, **kw):
            start = time.perf_counter()
            out = fn(*a, **kw)
            clock[key] += time.perf_counter() - start
            if key == "generation":
                clock["width"] += out.shape[1] - kw.get("input_ids", a[0] if a else None).shape[1]
            return out

        return wrapper

    model = trainer.model
    model.generate = timed(model.generate, "generation")
    trainer.compute_loss = timed(trainer.compute_loss, "loss")
    trainer.accelerator.backward = timed(trainer.accelerator.backward, "loss")

    class Steps(TrainerCallback):
        def on_step_begin(self, a, state, control, **kw):
            clock.update(generation=0.0, loss=0.0, width=0, start=time.perf_counter())

        def on_step_end(self, a, state, control, **kw):
            steps.append({**clock, "total": time.perf_counter() - clock["start"]})

    trainer.add_callback(Steps())
    trainer.train()
    timed_steps = steps[2:]  # the first steps warm caches and allocators up
    lengths = [
        h["completions/mean_length"]
        for h in trainer.state.log_history[2:]
        if "completions/mean_length" in h
    ]
    out = {
        k: statistics.mean(s[k] for s in timed_steps)
        for k in ("total", "generation", "loss", "width")
    }
    out["other"] = out["total"] - out["generation"] - out["loss"]
    out["mean_completion_length"] = statistics.mean(lengths)
    out["steps"] = len(timed_steps)
    return out


def phase_eval(args) -> dict:
    from grpo_lead.toylab.evaluate import evaluate_model, held_out_problems

    s = _settings(args)
    start = time.perf_counter()
    summary, _ = evaluate_model(
        args.model,
        held_out_problems(s.eval_problems),
        samples=s.eval_samples,
        max_new_tokens=s.max_completion_length,
        temperature=s.temperature,
        seed=0,
    )
    return {"seconds": time.perf_counter() - start, "pass@1": summary["overall"]["pass@1"]}


def worker(args) -> None:
    import torch
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(args.threads)
    hf_logging.disable_progress_bar()
    with tempfile.TemporaryDirectory() as tmp:
        args.tmp = tmp
        result = globals()[f"phase_{args.worker}"](args)
    print("RESULT " + json.dumps(result))


# -- the driver --------------------------------------------------------------------------------------


def run_phase(phase: str, src: Path, args) -> dict:
    cmd = [sys.executable, __file__, "--worker", phase, "--model", str(args.model)]
    cmd += ["--threads", str(args.threads), "--rl-steps", str(args.rl_steps)]
    cmd += ["--warmup-steps", str(args.warmup_steps)]
    env = dict(os.environ, PYTHONPATH=str(src), PYTHONWARNINGS="ignore")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"phase {phase} failed on {src}:\n{proc.stderr[-3000:]}")
    return json.loads(line[len("RESULT ") :])


def ensure_model(args) -> Path:
    """The warm-up model the RL and evaluation phases start from (trained once if absent)."""
    if args.model is not None:
        return Path(args.model)
    model = Path(args.out) / "warmup"
    if not (model / "config.json").exists():
        sys.path.insert(0, str(ROOT / "src"))
        from grpo_lead.toylab.settings import LabSettings
        from grpo_lead.toylab.warmup import prepare

        print(f"training the warm-up model into {model} (once)", flush=True)
        prepare(LabSettings(), seed=0, model_dir=model, problems_path=Path(args.out) / "p.jsonl")
    return model


def extract(ref: str, into: Path) -> Path:
    """`src/` of git ref `ref`, extracted into `into`."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def summarise(runs: list[dict]) -> dict:
    """Mean of each figure over the rounds."""
    out: dict = {}
    for phase in PHASES:
        rows = [r[phase] for r in runs if phase in r]
        if rows:
            out[phase] = {k: statistics.mean(r[k] for r in rows) for k in rows[0]}
    return out


def table(results: dict[str, dict]) -> str:
    names = list(results)
    figures = [
        ("import TRL + trainer (s)", "import", "seconds"),
        ("build trainer (s)", "build", "seconds"),
        ("warm-up (s/step)", "warmup", "s_per_step"),
        ("RL step (s)", "rl", "total"),
        ("  generation (s)", "rl", "generation"),
        ("  loss fwd+bwd (s)", "rl", "loss"),
        ("  other (s)", "rl", "other"),
        ("  decoded width (tokens)", "rl", "width"),
        ("  mean completion (tokens)", "rl", "mean_completion_length"),
        ("evaluation 200x4 (s)", "eval", "seconds"),
    ]
    head = f"{'':28s}" + "".join(f"{n:>14s}" for n in names)
    if len(names) == 2:
        head += f"{'ratio':>10s}"
    lines = [head]
    for label, phase, key in figures:
        values = [results[n].get(phase, {}).get(key) for n in names]
        cells = "".join(f"{v:14.3f}" if v is not None else f"{'-':>14s}" for v in values)
        if len(names) == 2 and None not in values and values[1]:
            cells += f"{values[0] / values[1]:10.2f}"
        lines.append(f"{label:28s}{cells}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", default=None, help="git ref to compare with (e.g. main)")
    ap.add_argument("--model", default=None, help="warm-up model folder for the RL/eval phases")
    ap.add_argument("--out", default="outputs/bench_toylab")
    ap.add_argument("--rounds", type=int, default=2, help="repetitions of every phase")
    ap.add_argument("--phases", nargs="+", default=list(PHASES), choices=PHASES)
    ap.add_argument("--threads", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    ap.add_argument("--rl-steps", type=int, default=10, help="RL steps a run (2 untimed)")
    ap.add_argument("--warmup-steps", type=int, default=30, help="timed warm-up steps")
    ap.add_argument("--worker", choices=PHASES, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return 0
    args.model = ensure_model(args)
    trees = {"this tree": ROOT / "src"}
    with tempfile.TemporaryDirectory() as tmp:
        if args.against:
            trees = {args.against: extract(args.against, Path(tmp)), **trees}
        runs: dict[str, list[dict]] = {name: [] for name in trees}
        for r in range(args.rounds):
            for name, src in trees.items():
                row = {}
                for phase in args.phases:
                    row[phase] = run_phase(phase, src, args)
                    print(f"round {r + 1} {name:>10s} {phase:>7s}: {row[phase]}", flush=True)
                runs[name].append(row)
    results = {name: summarise(rows) for name, rows in runs.items()}
    print(table(results))
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "command": "python benchmarks/bench_toylab.py " + " ".join(sys.argv[1:]),
        "results": results,
        "rounds": runs,
        "machine": {
            "cpus": os.cpu_count(),
            "threads": args.threads,
            "python": platform.python_version(),
        },
        "note": "a busy shared machine: compare the trees' ratios, not absolute seconds",
    }
    (RESULTS / "toylab_speed.json").write_text(json.dumps(record, indent=1))
    print(f"wrote {RESULTS / 'toylab_speed.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
