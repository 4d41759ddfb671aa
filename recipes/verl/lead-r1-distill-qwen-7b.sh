#!/usr/bin/env bash
# GRPO-LEAD, the paper's 7B run (LEAD.md "Training recipe of the paper") on verl 0.9:
# DeepSeek-R1-Distill-Qwen-7B, Adam lr 1e-6, 32 prompts a step x G = 8 answers, no KL,
# rollout temperature 0.8, 8k generated tokens, entropy bonus 0.001, PPO clip 0.2, token-level
# mean loss, the reference code's group filter; one node of 8 GPUs, vLLM rollouts.
#
# Needs: 8 CUDA GPUs (the paper: 8 x H20, ~24 h for stage 1), `pip install -e ".[verl]"
# 'verl[vllm]==0.9.1'`, and the data in verl's parquet layout:
#   grpo-lead estimate-difficulty ...        # optional: the paper keeps problems solved <= 75%
#   grpo-lead verl-data --dataset deepscaler --output data/verl/deepscaler.parquet
#   grpo-lead verl-data --dataset aime24 --split test --output data/verl/aime24.parquet
# Then: bash recipes/verl/lead-r1-distill-qwen-7b.sh [more key=value overrides]
set -euo pipefail

MODEL=${MODEL:-deepseek-ai/DeepSeek-R1-Distill-Qwen-7B}
TRAIN_FILES=${TRAIN_FILES:-data/verl/deepscaler.parquet}
VAL_FILES=${VAL_FILES:-data/verl/aime24.parquet}
GPUS=${GPUS:-8}
for f in "$TRAIN_FILES" "$VAL_FILES"; do
  [[ -f $f ]] || { echo "error: $f not found: make it with grpo-lead verl-data (see the top of $0)" >&2; exit 2; }
done

python3 -m verl.trainer.main_ppo \
  algorithm.adv_estimator=grpo_lead \
  algorithm.use_kl_in_reward=False \
  +algorithm.lead.alpha=0.05 \
  +algorithm.lead.incorrect_reward=-1.0 \
  +algorithm.lead.weight_a=0.4 \
  +algorithm.lead.weight_b=1.5 \
  +algorithm.lead.weight_k=10.0 \
  +algorithm.lead.weight_x0=0.75 \
  +algorithm.lead.group_filter=True \
  reward.custom_reward_function.path=pkg://grpo_lead.integrations.verl \
  reward.custom_reward_function.name=compute_score \
  data.train_files="$TRAIN_FILES" \
  data.val_files="$VAL_FILES" \
  data.train_batch_size=32 \
  data.max_prompt_length=1024 \
  data.max_response_length=8192 \
  data.filter_overlong_prompts=True \
  data.truncation=error \
  actor_rollout_ref.model.path="$MODEL" \
  actor_rollout_ref.model.use_remove_padding=True \
  actor_rollout_ref.model.enable_gradient_checkpointing=True \
  actor_rollout_ref.actor.optim.lr=1e-6 \
  actor_rollout_ref.actor.optim.weight_decay=0.0 \
  actor_rollout_ref.actor.ppo_mini_batch_size=32 \
  actor_rollout_ref.actor.ppo_epochs=1 \
  actor_rollout_ref.actor.use_dynamic_bsz=True \
  actor_rollout_ref.actor.ppo_max_token_len_per_gpu=18432 \
  actor_rollout_ref.actor.use_kl_loss=False \
  actor_rollout_ref.actor.kl_loss_coef=0.0 \
  actor_rollout_ref.actor.entropy_coeff=0.001 \
  actor_rollout_ref.actor.clip_ratio=0.2 \
  actor_rollout_ref.actor.loss_agg_mode=token-mean \
  actor_rollout_ref.actor.fsdp_config.param_offload=False \
  actor_rollout_ref.actor.fsdp_config.optimizer_offload=False \
  actor_rollout_ref.rollout.name=vllm \
  actor_rollout_ref.rollout.n=8 \
  actor_rollout_ref.rollout.temperature=0.8 \
  actor_rollout_ref.rollout.tensor_model_parallel_size=2 \
  actor_rollout_ref.rollout.gpu_memory_utilization=0.6 \
  actor_rollout_ref.rollout.val_kwargs.do_sample=True \
  actor_rollout_ref.rollout.val_kwargs.temperature=0.6 \
  actor_rollout_ref.rollout.val_kwargs.n=8 \
  trainer.n_gpus_per_node="$GPUS" \
  trainer.nnodes=1 \
  trainer.total_training_steps=200 \
  trainer.save_freq=20 \
  trainer.test_freq=20 \
  trainer.project_name=grpo-lead \
  trainer.experiment_name=lead-r1-distill-qwen-7b \
  trainer.logger='["console","tensorboard"]' \
  "$@"
