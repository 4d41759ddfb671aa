"""Step time of GRPOLeadTrainer against stock trl.GRPOTrainer (target: ratio <= 1.01).

Same tiny model, data, seed and reward; learning rate 0 so both trainers generate exactly the
same completions and the only difference is LEAD's work (gathering lengths, the group math,
its metrics). Rounds alternate LEAD / GRPO in one process to share the machine's noise; the
ratio is of the median step times over rounds.

    .venv/bin/python benchmarks/bench_trainer.py [--rounds 7 --steps 10]
Writes benchmarks/results/trainer.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

from grpo_lead.configs import GRPOLeadConfig
from grpo_lead.options import PAPER
from grpo_lead.toylab.model import save_tiny_model
from grpo_lead.trainer import GRPOLeadTrainer


def accuracy_reward(completions, answer, **kwargs):
    return [float(c.strip().startswith(a)) for c, a in zip(completions, answer)]


def parity_reward(completions, **kwargs):
    return [float(sum(map(ord, c)) % 2) for c in completions]


def make(cls, cfg_cls, model_dir, out, steps):
    cfg = cfg_cls(
        output_dir=out, per_device_train_batch_size=64, num_generations=8, steps_per_generation=1,
        max_completion_length=48, max_steps=steps, learning_rate=0.0, use_cpu=True, bf16=False,
        gradient_checkpointing=False, report_to="none", save_strategy="no", seed=0,
        disable_tqdm=True, logging_steps=10_000,  # no per-step printing inside the timing
    )  # fmt: skip
    data = Dataset.from_list([{"prompt": f"{i}+{i}=", "answer": str(2 * i)} for i in range(64)])
    return cls(
        model=str(model_dir),
        reward_funcs=[accuracy_reward, parity_reward],
        args=cfg,
        train_dataset=data,
    )


def time_lead_math(repeats: int = 2000) -> float:
    """What LEAD adds per step, timed alone (ms): the group math and its metrics on 64 rows."""
    from grpo_lead.trainer import lead_batch_advantages

    rewards = torch.rand(64, 2)
    lengths = torch.randint(1, 48, (64,)).float()
    start = time.perf_counter()
    for _ in range(repeats):
        batch = lead_batch_advantages(
            rewards, reward_weights=torch.ones(2), correct_index=0, lengths=lengths, group_size=8,
            options=PAPER,
        )  # fmt: skip
        torch.quantile(batch.solve_rate, torch.tensor([0.1, 0.5, 0.9]))
    return (time.perf_counter() - start) / repeats * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--out", default="benchmarks/results/trainer.json")
    args = ap.parse_args()
    torch.set_num_threads(2)
    tmp = Path(tempfile.mkdtemp())
    model_dir = save_tiny_model(tmp / "model")
    times: dict[str, list[float]] = {"lead": [], "grpo": []}
    kinds = [("lead", GRPOLeadTrainer, GRPOLeadConfig), ("grpo", GRPOTrainer, GRPOConfig)]
    for r in range(args.rounds):
        for name, cls, cfg_cls in kinds if r % 2 == 0 else kinds[::-1]:
            trainer = make(cls, cfg_cls, model_dir, str(tmp / name), args.steps)
            t0 = time.perf_counter()
            trainer.train()
            times[name].append((time.perf_counter() - t0) / args.steps)
        print(
            f"round {r + 1}/{args.rounds}: lead {times['lead'][-1]:.4f} s/step, grpo {times['grpo'][-1]:.4f} s/step"
        )
    lead, grpo = statistics.median(times["lead"]), statistics.median(times["grpo"])
    lead_math_ms = time_lead_math()
    result = {
        "lead_s_per_step": lead, "grpo_s_per_step": grpo, "ratio": lead / grpo,
        "lead_math_ms_per_step": lead_math_ms,
        "per_round_ratio": [a / b for a, b in zip(times["lead"], times["grpo"])],
        "rounds": args.rounds, "steps_per_round": args.steps, "per_round": times,
        "setup": "tiny Qwen2 0.45M params, 64 completions/step (8 prompts x G=8), <=48 tokens, lr 0, 2 threads",
    }  # fmt: skip
    print(
        f"LEAD's own work (lead_batch_advantages + metrics) on the 64-row batch: {lead_math_ms:.3f} ms/step"
    )
    print(
        f"\nGRPOLeadTrainer {lead:.4f} s/step | GRPOTrainer {grpo:.4f} s/step | ratio {lead / grpo:.3f} (target <= 1.01)"
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
