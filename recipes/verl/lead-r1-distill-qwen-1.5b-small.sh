#!/usr/bin/env bash
# GRPO-LEAD, a small verl run to try the set-up: DeepSeek-R1-Distill-Qwen-1.5B on one GPU
# (>= 40 GB), 2,000 DeepScaleR problems, 8 prompts a step x G = 8 answers, 4k generated tokens,
# the paper's LEAD constants (the estimator's defaults) and optimiser settings otherwise.
#
# Needs: one CUDA GPU, `pip install -e ".[verl]" "verl[vllm]==0.9.1"`, and the data:
#   grpo-lead verl-data --dataset deepscaler --max_train_samples 2000 \
#     --output data/verl/deepscaler-2k.parquet
#   grpo-lead verl-data --dataset math500 --split test --max_train_samples 100 \
#     --output data/verl/math500-100.parquet
# Then: bash recipes/verl/lead-r1-distill-qwen-1.5b-small.sh [more key=value overrides]
set -euo pipefail

MODEL=${MODEL:-deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B}
TRAIN_FILES=${TRAIN_FILES:-data/verl/deepscaler-2k.parquet}
VAL_FILES=${VAL_FILES:-data/verl/math500-100.parquet}
for f in "$TRAIN_FILES" "$VAL_FILES"; do
  [[ -f $f ]] || { echo "error: $f not found: make it with grpo-lead verl-data (see the top of $0)" >&2; exit 2; }
done

python3 -m verl.trainer.main_ppo \
  algorithm.adv_estimator=grpo_lead \
  algorithm.use_kl_in_reward=False \
  reward.custom_reward_function.path=pkg://grpo_lead.integrations.verl \
  reward.custom_reward_function.name=compute_score \
  data.train_files="$TRAIN_FILES" \
  data.val_files="$VAL_FILES" \
  data.train_batch_size=8 \
  data.max_prompt_length=1024 \
  data.max_response_length=4096 \
  data.filter_overlong_prompts=True \
  actor_rollout_ref.model.path="$MODEL" \
  actor_rollout_ref.model.use_remove_padding=True \
  actor_rollout_ref.model.enable_gradient_checkpointing=True \
  actor_rollout_ref.actor.optim.lr=1e-6 \
  actor_rollout_ref.actor.optim.weight_decay=0.0 \
  actor_rollout_ref.actor.ppo_mini_batch_size=8 \
  actor_rollout_ref.actor.use_dynamic_bsz=True \
  actor_rollout_ref.actor.ppo_max_token_len_per_gpu=16384 \
  actor_rollout_ref.actor.use_kl_loss=False \
  actor_rollout_ref.actor.entropy_coeff=0.001 \
  actor_rollout_ref.actor.clip_ratio=0.2 \
  actor_rollout_ref.actor.loss_agg_mode=token-mean \
  actor_rollout_ref.rollout.name=vllm \
  actor_rollout_ref.rollout.n=8 \
  actor_rollout_ref.rollout.temperature=0.8 \
  actor_rollout_ref.rollout.tensor_model_parallel_size=1 \
  actor_rollout_ref.rollout.gpu_memory_utilization=0.5 \
  trainer.n_gpus_per_node=1 \
  trainer.nnodes=1 \
  trainer.total_training_steps=50 \
  trainer.save_freq=25 \
  trainer.test_freq=25 \
  trainer.project_name=grpo-lead \
  trainer.experiment_name=lead-r1-distill-qwen-1.5b-small \
  trainer.logger='["console"]' \
  "$@"
