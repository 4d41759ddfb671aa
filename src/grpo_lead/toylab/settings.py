"""`LabSettings`: every budget knob of a toy run, shared by the demo and the ablation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class LabSettings:
    """Task size, warm-up, RL and evaluation budgets; `quick()` is the sub-minute version the
    tests run. The demo runs the defaults; the ablation changes the RL and evaluation budgets."""

    verbosity: str = "redundant"
    sft_examples: int = 8000
    warmup_steps: int = 500
    warmup_batch_size: int = 32
    warmup_lr: float = 3e-3
    rl_steps: int = 100
    rl_lr: float = 2e-4
    prompts_per_step: int = 8
    num_generations: int = 8
    max_completion_length: int = 128
    temperature: float = 1.0
    eval_problems: int = 200  # cycled over the levels: 50 a level
    eval_samples: int = 4
    num_samples_md: int = 4
    model_kwargs: tuple[tuple[str, int], ...] = ()

    @classmethod
    def quick(cls, **overrides: Any) -> LabSettings:
        quick = cls(
            sft_examples=1000,
            warmup_steps=100,
            warmup_batch_size=16,
            warmup_lr=5e-3,
            rl_steps=3,
            max_completion_length=96,
            eval_problems=16,
            eval_samples=2,
        )
        return replace(quick, **overrides)

    @property
    def rl_problems(self) -> int:
        """Problems the RL run sees: one fresh batch of prompts a step."""
        return self.rl_steps * self.prompts_per_step
