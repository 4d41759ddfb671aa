"""Run by tests/test_distributed.py under `torch.distributed.run` (2 CPU processes, gloo).

Each process trains one step of GRPOLeadTrainer with 6 completions per process and G = 4, so
the middle group is split across the two processes, and writes what it saw to JSON."""

from __future__ import annotations

import json
import sys

import torch
from datasets import Dataset

from grpo_lead.configs import GRPOLeadConfig
from grpo_lead.trainer import GRPOLeadTrainer


def accuracy_reward(completions, answer, **kwargs):
    return [float(sum(map(ord, c)) % 2 == 0) for c in completions]


class Recording(GRPOLeadTrainer):
    def _generate_and_score_completions(self, inputs):
        out = super()._generate_and_score_completions(inputs)
        self.record = {
            "rank": self.accelerator.process_index,
            "world": self.accelerator.num_processes,
            "local_advantages": out["advantages"].tolist(),
            "rewards_per_func": self._lead_rewards_per_func.tolist(),
            "lengths": self._lead_flags[:, 0].tolist(),
        }
        return out


def main(model_dir: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    cfg = GRPOLeadConfig(
        output_dir=out_dir,
        per_device_train_batch_size=6,
        num_generations=4,
        max_completion_length=10,
        max_steps=1,
        learning_rate=1e-3,
        use_cpu=True,
        bf16=False,
        gradient_checkpointing=False,
        report_to="none",
        save_strategy="no",
        seed=0,
    )
    data = Dataset.from_list([{"prompt": f"{i}*{i}=", "answer": str(i * i)} for i in range(12)])
    trainer = Recording(
        model=model_dir, reward_funcs=[accuracy_reward], args=cfg, train_dataset=data
    )
    trainer.train()
    rank = trainer.accelerator.process_index
    with open(f"{out_dir}/rank{rank}.json", "w") as f:
        json.dump(trainer.record, f)
    # Tear the gloo group down before the interpreter exits: left to exit-time destructors, its
    # threads sometimes abort the process ("terminate called without an active exception").
    trainer.accelerator.wait_for_everyone()
    trainer.accelerator.end_training()
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
