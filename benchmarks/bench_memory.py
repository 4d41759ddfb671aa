"""Peak memory and time of one GRPO-LEAD training step on a real model, full and LoRA.

Each configuration runs in a fresh subprocess (this script with --child): it loads the model,
builds `GRPOLeadTrainer`, trains one step (generation of G completions of exactly T tokens,
`min_new_tokens = T`, then the loss, its backward and the optimizer step) and reports its own
peak RSS (`resource.getrusage(RUSAGE_SELF).ru_maxrss`: loading, imports and the step, the
figure the OS must hold for the run), its RSS before the step, and the step's wall time.
The answer checker's math-verify workers are separate processes (about 0.1 GB each), not counted.

Configurations (names as in the JSON): gradient checkpointing on (the default) and off, each
full fine-tuning (AdamW, fp32) and LoRA (r 32, alpha 64, dropout 0.05, the seven projections of
every layer, as recipes/qwen2.5-7b-lora.yaml). CPU, float32, one torch thread by default (on
a shared 2-core machine one thread was faster than two).

    nice -n 10 .venv/bin/python benchmarks/bench_memory.py [--model DIR] [-G 16] [-T 128]

The model is --model, else $GRPO_LEAD_SMOLLM2, else ~/.cache/grpo-lead/smollm2-135m-instruct (SmolLM2-135M-Instruct
as a Hugging Face folder: `grpo-lead import-gguf`). Writes benchmarks/results/memory.json and,
with matplotlib, benchmarks/results/memory.png.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = {  # name -> (LoRA, gradient checkpointing)
    "full, checkpointing": (False, True),
    "LoRA, checkpointing": (True, True),
    "full, no checkpointing": (False, False),
    "LoRA, no checkpointing": (True, False),
}
QUESTIONS = [("What is 2 times 3?", "6"), ("What is 7 plus 5?", "12"), ("What is 9 minus 4?", "5")]


def default_model() -> str:
    from grpo_lead.import_gguf import default_smollm2

    return str(default_smollm2())


def _rss_gb() -> float:
    """This process's resident set now (VmRSS), in GB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1e6
    return float("nan")


def _peft_config():
    from peft import LoraConfig

    return LoraConfig(
        r=32,
        lora_alpha=64,
        lora_dropout=0.05,
        target_modules=[
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "gate_proj",
            "up_proj",
            "down_proj",
        ],
        task_type="CAUSAL_LM",
        bias="none",
    )


def child(model: str, g: int, t: int, lora: bool, checkpointing: bool) -> dict:
    """One training step in this process; what it measured."""
    import resource

    import torch
    from datasets import Dataset

    from grpo_lead.configs import GRPOLeadConfig
    from grpo_lead.rewards import get_reward
    from grpo_lead.trainer import GRPOLeadTrainer

    out = tempfile.mkdtemp(prefix="bench-memory-")
    args = GRPOLeadConfig(
        output_dir=out, per_device_train_batch_size=g, num_generations=g, steps_per_generation=1,
        max_completion_length=t, generation_kwargs={"min_new_tokens": t}, max_steps=1,
        learning_rate=1e-6, use_cpu=True, bf16=False, gradient_checkpointing=checkpointing,
        beta=0.0, report_to="none", save_strategy="no", logging_steps=1, disable_tqdm=True,
        seed=0, extraction="lenient",
    )  # fmt: skip
    rows = [{"prompt": [{"role": "user", "content": q}], "answer": a} for q, a in QUESTIONS]
    trainer = GRPOLeadTrainer(
        model=model,
        reward_funcs=[get_reward("accuracy", args)],
        args=args,
        train_dataset=Dataset.from_list(rows),
        peft_config=_peft_config() if lora else None,
    )
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    before = _rss_gb()
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    logged = trainer.state.log_history[0]
    return {
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,  # KB on Linux
        "rss_before_step_gb": before,
        "step_seconds": seconds,
        "completion_tokens_mean": logged.get("completions/mean_length"),
        "trainable_params": trainable,
        "torch_threads": torch.get_num_threads(),
    }


def run_config(name: str, args: argparse.Namespace) -> dict:
    """`child` in a fresh interpreter; its JSON line back."""
    lora, checkpointing = CONFIGS[name]
    cmd = [
        sys.executable, __file__, "--child", "--model", args.model, "-G", str(args.G),
        "-T", str(args.T), "--threads", str(args.threads),
    ] + (["--lora"] if lora else []) + (["--checkpointing"] if checkpointing else [])  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise SystemExit(f"{name}: the child failed (exit {done.returncode}):\n{tail}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"config": name, "lora": lora, "gradient_checkpointing": checkpointing, **result}


def plot(results: list[dict], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(6, 3))
    names = [r["config"] for r in results]
    bars = ax.barh(names, [r["peak_rss_gb"] for r in results], color="tab:blue")
    ax.bar_label(bars, [f"{r['peak_rss_gb']:.1f} GB, {r['step_seconds']:.0f} s" for r in results])
    ax.axvline(4.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("peak RSS of one training step (GB)")
    ax.invert_yaxis()
    ax.set_xlim(0, max(r["peak_rss_gb"] for r in results) * 1.45)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=default_model())
    ap.add_argument("-G", type=int, default=16, help="completions per step (one prompt)")
    ap.add_argument("-T", type=int, default=128, help="tokens per completion")
    ap.add_argument("--threads", type=int, default=1, help="torch threads of each child")
    ap.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=list(CONFIGS))
    ap.add_argument("--out", default="benchmarks/results/memory.json")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--lora", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--checkpointing", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        import torch

        torch.set_num_threads(args.threads)
        result = child(args.model, args.G, args.T, args.lora, args.checkpointing)
        print(json.dumps(result))
        return
    if not (Path(args.model) / "config.json").is_file():
        raise SystemExit(f"{args.model}: no model folder (set --model or $GRPO_LEAD_SMOLLM2)")
    results = []
    for name in args.configs:
        results.append(run_config(name, args))
        r = results[-1]
        print(f"{name:24s} peak RSS {r['peak_rss_gb']:5.2f} GB  step {r['step_seconds']:6.1f} s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    setting = {"model": args.model, "G": args.G, "T": args.T, "threads": args.threads}
    out.write_text(json.dumps({"setting": setting, "results": results}, indent=2) + "\n")
    png = plot(results, out.with_suffix(".png"))
    print(f"wrote {out}" + (f" and {png}" if png else ""))


if __name__ == "__main__":
    main()
