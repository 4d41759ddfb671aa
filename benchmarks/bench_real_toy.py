"""The real model on the toy task, part 1 (issue 23): measure first.

The demo's sums (`grpo_lead.toylab.task.make_problems`, levels 1-4 = 2-5 operands of 1-5) posed
in words ("What is three plus four plus two?") to SmolLM2-135M-Instruct through its chat
template, scored by `grpo-lead eval` as any benchmark is: pass@1 over k samples at the paper's
sampling (temperature 0.6, min-p 0.01), per level, with the correct answers' lengths.

    .venv/bin/python benchmarks/bench_real_toy.py [--model FOLDER] [--n 32] [-k 4]
        [--max-new-tokens 128] [--threads 2] [--out outputs/real-toy]

--model defaults to $GRPO_LEAD_SMOLLM2, else the folder `./run test` imports SmolLM2 into
(~/.cache/grpo-lead/smollm2-135m-instruct: `grpo_lead.import_gguf.default_smollm2`). The eval is
resumable (rerun the same command: the samples are reused, and rescored leniently too). Saves benchmarks/results/real_toy_baseline.json: the
solve rate per level is what decides whether GRPO-LEAD can be run on this model as it is
(a 20-80% solve rate gives mixed groups) or needs a warm-up first (issue 23's next part).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from grpo_lead.import_gguf import default_smollm2
from grpo_lead.toylab.task import make_problems

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
RESULT = Path(__file__).resolve().parent / "results" / "real_toy_baseline.json"


def pose_in_words(operands: list[int]) -> str:
    """'What is three plus four plus two?' for [3, 4, 2] (operands 0-9)."""
    return "What is " + " plus ".join(WORDS[n] for n in operands) + "?"


def write_problems(path: Path, n: int, seed: int, **problems) -> None:
    """`n` sums in words (`make_problems(n, seed=seed, **problems)`: levels, operand_range)."""
    rows = [
        {"id": f"toy-{seed}-{i}", "question": pose_in_words(p["operands"]),
         "answer": p["answer"], "level": p["level"]}
        for i, p in enumerate(make_problems(n, seed=seed, **problems))
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def rescore_lenient(samples: Path) -> dict[str, float]:
    """pass@1 per level of the same samples under ``extraction="lenient"`` (math-verify's last
    expression where no boxed or marked answer is found): what a model that never boxes scores."""
    from grpo_lead.answers import verify_answer

    hits: dict[str, list[bool]] = {}
    for line in samples.read_text().splitlines():
        r = json.loads(line)
        ok = verify_answer(r["text"], r["reference"], extraction="lenient").correct
        hits.setdefault(str(int(r["difficulty"])), []).append(ok)
    return {level: round(sum(v) / len(v), 4) for level, v in sorted(hits.items())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(default_smollm2()))
    ap.add_argument("--n", type=int, default=32, help="problems (levels cycled)")
    ap.add_argument("-k", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="outputs/real-toy")
    args = ap.parse_args()
    if not (Path(args.model) / "config.json").is_file():
        sys.exit(
            f"error: {args.model}: no model folder; `./run test` imports SmolLM2 there, or "
            "`grpo-lead import-gguf --out FOLDER` and --model FOLDER"
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = out / "problems.jsonl"
    write_problems(data, args.n, args.seed)
    cmd = [
        sys.executable, "-m", "grpo_lead.cli", "eval", "--model", args.model, "--data", str(data),
        "-k", str(args.k), "--max-new-tokens", str(args.max_new_tokens), "--seed", str(args.seed),
        "--difficulty-column", "level", "--out", str(out / "eval"), "--backend", "transformers",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    seconds = time.perf_counter() - start
    summary = json.loads((out / "eval" / "summary.json").read_text())
    lenient = rescore_lenient(out / "eval" / "samples.jsonl")
    result = {
        "model": args.model, "n": args.n, "k": args.k, "max_new_tokens": args.max_new_tokens,
        "seconds_this_call": round(seconds, 1), "overall": summary["overall"],
        "by_level": summary.get("by_difficulty", {}),
        "lenient_pass@1_by_level": lenient,
    }  # fmt: skip
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
