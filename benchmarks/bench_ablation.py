"""The paper's ablation on the toy task (issue 8): 6 methods x 5 seeds x 2 task switches.

    .venv/bin/python benchmarks/bench_ablation.py [--seeds 5] [--out outputs/ablation]

Resumable (each run is saved when it ends); copies ablation.md / .json / .png to
benchmarks/results/. About 60 RL runs of 60 steps: roughly an hour on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from grpo_lead.ablation import METHODS, run_ablation


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out", default="outputs/ablation")
    ap.add_argument("--verbosity", nargs="+", default=["redundant", "useful"])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    run_ablation(
        args.out, seeds=range(args.seeds), verbosities=args.verbosity, methods=list(METHODS),
        workers=args.workers,
    )  # fmt: skip
    results = Path("benchmarks/results")
    results.mkdir(parents=True, exist_ok=True)
    for name in ("ablation.md", "ablation.json", "ablation.png"):
        shutil.copy(Path(args.out) / name, results / name)


if __name__ == "__main__":
    main()
