"""`FiniteGuard`: a training step whose gradient or weights are not finite stops the run.

A loss of NaN or inf (a learning rate too high, a reward that overflowed) gives NaN gradients,
and one optimizer step with them makes every weight NaN; the trainer would then go on and save
them, over a good checkpoint. The guard checks the gradient before each optimizer step (and
drops it: the step changes nothing), and the weights before each save; either failing stops
the run and cancels the save. `grpo-lead train` then prints `guard.failure` and saves nothing.
"""

from __future__ import annotations

import torch
from transformers import TrainerCallback


def first_non_finite(tensors) -> str | None:
    """The name of the first tensor holding NaN or inf, from ``(name, tensor)`` pairs."""
    for name, tensor in tensors:
        if tensor is not None and not bool(torch.isfinite(tensor).all()):
            return name
    return None


class FiniteGuard(TrainerCallback):
    """Stops training at the first non-finite gradient or weight; ``failure`` says where."""

    def __init__(self):
        self.failure: str | None = None

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        if model is None or self.failure:
            return control
        bad = first_non_finite((n, p.grad) for n, p in model.named_parameters())
        if bad is not None:
            model.zero_grad(set_to_none=True)  # the optimizer skips parameters without a grad
            self._fail(
                control,
                f"step {state.global_step + 1}: the gradient of {bad} is not "
                "finite (the loss was NaN or inf)",
            )
        return control

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if self.failure:
            control.should_save = False
        elif model is not None and (control.should_save or control.should_training_stop):
            bad = first_non_finite((n, p.detach()) for n, p in model.named_parameters())
            if bad is not None:
                self._fail(control, f"step {state.global_step}: weight {bad} is not finite")
                control.should_save = False
        return control

    def _fail(self, control, failure: str) -> None:
        self.failure = failure
        control.should_training_stop = True
