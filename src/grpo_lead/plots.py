"""Plots of a training run from a Trainer's `log_history`: accuracy and answer length over steps.

`plot_training(histories, path)` draws one or several runs (e.g. GRPO and LEAD) side by side;
`TrainingPlotCallback` redraws `training.png` in the output folder at each log step's save and
at the end of training, so a long run can be watched.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from transformers import TrainerCallback

logger = logging.getLogger(__name__)

# (metric key in log_history, panel title); the first key found per panel is drawn.
PANELS = (
    (("lead/accuracy", "rewards/accuracy_reward/mean"), "accuracy (training samples)"),
    (("lead/length_correct",), "mean length of correct answers (tokens)"),
    (("lead/length_wrong",), "mean length of wrong answers (tokens)"),
    (("completions/mean_length",), "mean completion length (tokens)"),
)


def series(history: Sequence[Mapping], keys: Sequence[str]) -> tuple[list[int], list[float]]:
    """(steps, values) of the first key in `keys` present in the history."""
    for key in keys:
        points = [(h["step"], h[key]) for h in history if key in h and h[key] == h[key]]
        if points:
            steps, values = zip(*points)
            return list(steps), list(values)
    return [], []


def plot_training(histories: Mapping[str, Sequence[Mapping]], path: str | Path) -> Path:
    """Draw each run's accuracy and lengths over steps into a PNG; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 3.4))
    for ax, (keys, title) in zip(axes, PANELS):
        for name, history in histories.items():
            steps, values = series(history, keys)
            if steps:
                ax.plot(steps, values, label=name, linewidth=1.4)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


class TrainingPlotCallback(TrainerCallback):
    """Redraws `<output_dir>/training.png` on each save and at the end (main process only)."""

    def __init__(self, name: str = "run"):
        self.name = name

    def _draw(self, args, state) -> None:
        if state.is_world_process_zero and state.log_history:
            try:
                plot_training(
                    {self.name: state.log_history}, Path(args.output_dir) / "training.png"
                )
            except (OSError, ValueError) as exc:  # a plot must never stop training
                logger.warning("could not draw training.png: %s", exc)

    def on_save(self, args, state, control, **kwargs):
        self._draw(args, state)

    def on_train_end(self, args, state, control, **kwargs):
        self._draw(args, state)
