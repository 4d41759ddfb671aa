"""The demo's claim, measured: GRPO-LEAD against plain GRPO over several seeds.

Runs ``grpo-lead demo --compare`` once per seed (a subprocess each; as many seeds at a time as
the cores allow, a compare run using two), then prints per seed and in total:
- LEAD's mean length of correct answers as a ratio of GRPO's and of the warm-up's (the paper's
  direction: below 1);
- accuracy (pass@1 at temperature 1.0 on the held-out set) of the warm-up, GRPO and LEAD,
  overall and on the hardest level.

    .venv/bin/python benchmarks/bench_demo.py [--seeds 0 1 2] [--verbosity redundant]
Writes benchmarks/results/demo.json (demo.<verbosity>.json for a non-default verbosity).

What the runs showed (2-core CPU, 100 RL steps, pass@1 at temperature 1.0 on 200 held-out
problems x 4 samples; levels 1-4, the hardest being 5 operands):
- ``redundant`` task, running sums first in every style (the default): LEAD's correct answers
  are 0.74x GRPO's length (0.67-0.78, 3/3 seeds) and 0.68x the warm-up's, with accuracy 85.4%
  against GRPO's 84.5% (+2.5, +0.5, -0.2 per seed) and level 4 66.7% against 71.8% (+0.0, -1.0,
  -14.5 per seed). Before the toy lab's faster sampler (different samples): 0.70x, 86.3% against
  84.6%, level 4 69.5% against 69.8%.
- An earlier ``redundant`` task opened the medium and verbose traces with a filler line ("Let
  me add.") *before* the sums. There LEAD was as short (0.69x GRPO) but lost accuracy on the
  hardest level: 55.5% against 62.0% (-11.0, -9.0, +0.5 per seed). On seed 0, LEAD without the
  difficulty weight was as bad (51.5%), LEAD without the length reward was not (56.5%; GRPO
  61.0%, LEAD 50.0%): the push to short answers was the cost. With words in front of the steps,
  a long correct answer and a short one differ in the context of every step, so the negative
  advantage that the length reward gives the long one lowers the probability of its *correct*
  steps too; with the steps first, the steps are the same tokens in the same context in every
  style, and within a group their pushes cancel, leaving the length signal on the words after
  them.
- ``useful`` task (``--verbosity useful``: the concise style writes no intermediate sums): RL
  gains less (warm-up 50.8%, GRPO 57.2%, LEAD 55.6%: -5.4, +3.0, -2.4 points per seed; level 4
  33.0% and 34.5%), and LEAD is again shorter (0.74x GRPO): there the length is partly useful
  computation, and LEAD's accuracy is no better than GRPO's (results/demo.useful.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
RUNS = ("warmup", "grpo", "lead")


def run_seed(seed: int, args: argparse.Namespace) -> subprocess.Popen:
    out = Path(args.out) / f"{args.verbosity}-seed{seed}"
    cmd = [
        sys.executable,
        "-m",
        "grpo_lead.demo",
        "--compare",
        "--no-progress",
        f"--seed={seed}",
        f"--out={out}",
        f"--verbosity={args.verbosity}",
    ]
    if args.steps is not None:
        cmd.append(f"--steps={args.steps}")
    log = open(Path(args.out) / f"{args.verbosity}-seed{seed}.log", "w")  # noqa: SIM115
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


def seed_figures(summary: dict) -> dict:
    res, h = summary["results"], summary["headline"]
    hardest = max(res["warmup"]["by_difficulty"], key=float)
    return {
        "lead_length_vs_grpo": h["lead_length_correct_vs_grpo"],
        "lead_length_vs_warmup": h["lead_length_correct_vs_warmup"],
        "length_correct": {r: res[r]["overall"]["mean_length_correct"] for r in RUNS},
        "accuracy": {r: res[r]["overall"]["pass@1"] for r in RUNS},
        "accuracy_hardest": {r: res[r]["by_difficulty"][hardest]["pass@1"] for r in RUNS},
        "hardest_level": hardest,
        "seconds_total": summary["seconds"]["total"],
    }


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return statistics.mean(xs) if xs else None


def totals(per_seed: dict[int, dict]) -> dict:
    figs = list(per_seed.values())
    return {
        "lead_length_vs_grpo": _mean([f["lead_length_vs_grpo"] for f in figs]),
        "lead_length_vs_warmup": _mean([f["lead_length_vs_warmup"] for f in figs]),
        "lead_shorter_than_grpo": sum(f["lead_length_vs_grpo"] < 1 for f in figs),
        "length_correct": {r: _mean([f["length_correct"][r] for f in figs]) for r in RUNS},
        "accuracy": {r: _mean([f["accuracy"][r] for f in figs]) for r in RUNS},
        "accuracy_hardest": {r: _mean([f["accuracy_hardest"][r] for f in figs]) for r in RUNS},
        "lead_minus_grpo_accuracy": [f["accuracy"]["lead"] - f["accuracy"]["grpo"] for f in figs],
        "lead_minus_grpo_accuracy_hardest": [
            f["accuracy_hardest"]["lead"] - f["accuracy_hardest"]["grpo"] for f in figs
        ],
        "seeds": len(figs),
    }


def line(label: str, f: dict) -> str:
    a, h = f["accuracy"], f["accuracy_hardest"]
    return (
        f"{label:>6s}  LEAD/GRPO {f['lead_length_vs_grpo']:.2f}  LEAD/warm-up "
        f"{f['lead_length_vs_warmup']:.2f}  | acc % warm {100 * a['warmup']:.1f} GRPO "
        f"{100 * a['grpo']:.1f} LEAD {100 * a['lead']:.1f}  | hardest warm "
        f"{100 * h['warmup']:.1f} GRPO {100 * h['grpo']:.1f} LEAD {100 * h['lead']:.1f}  | "
        f"tokens warm {f['length_correct']['warmup']:.1f} GRPO "
        f"{f['length_correct']['grpo']:.1f} LEAD {f['length_correct']['lead']:.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--verbosity", choices=("redundant", "useful"), default="redundant")
    parser.add_argument("--steps", type=int, default=None, help="RL steps (demo default)")
    parser.add_argument("--out", default="outputs/bench_demo")
    parser.add_argument(
        "--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2), help="seeds at a time"
    )
    args = parser.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    pending, running, failed = list(args.seeds), {}, []
    while pending or running:
        while pending and len(running) < args.jobs:
            seed = pending.pop(0)
            running[seed] = run_seed(seed, args)
        for seed, proc in list(running.items()):
            if proc.poll() is not None:
                del running[seed]
                if proc.returncode != 0:
                    failed.append(seed)
                print(f"seed {seed} done (exit {proc.returncode})", flush=True)
        time.sleep(2)
    if failed:
        print(f"seeds {failed} failed: see {args.out}/*.log", file=sys.stderr)
        return 1

    per_seed = {}
    for seed in args.seeds:
        path = Path(args.out) / f"{args.verbosity}-seed{seed}" / "summary.json"
        per_seed[seed] = seed_figures(json.loads(path.read_text()))
    total = totals(per_seed)
    for seed, f in per_seed.items():
        print(line(f"seed {seed}", f))
    print(line("mean", total))
    print(
        f"LEAD shorter than GRPO in {total['lead_shorter_than_grpo']}/{total['seeds']} seeds; "
        "LEAD - GRPO accuracy (points): "
        + ", ".join(f"{100 * d:+.1f}" for d in total["lead_minus_grpo_accuracy"])
        + "; hardest level: "
        + ", ".join(f"{100 * d:+.1f}" for d in total["lead_minus_grpo_accuracy_hardest"])
    )
    result = {
        "command": "python benchmarks/bench_demo.py " + " ".join(sys.argv[1:]),
        "verbosity": args.verbosity,
        "per_seed": per_seed,
        "total": total,
        "wall_seconds": time.perf_counter() - start,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    RESULTS.mkdir(exist_ok=True)
    name = "demo.json" if args.verbosity == "redundant" else f"demo.{args.verbosity}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2))
    print(f"wrote {RESULTS / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
