"""`grpo-lead serve`: an OpenAI-compatible server for a trained model.

    grpo-lead serve --model outputs/export/lead [--host 127.0.0.1] [--port 8000]

Engines: vLLM's OpenAI server on a GPU with vLLM installed (`vllm.py`: we proxy to it, it
batches), else the embedded transformers engine on CPU (`engines.py`). What grpo-lead adds
with either: reasoning and answer apart, the extracted `final_answer`, a response cache with a
TTL (`cache.py`: SQLite by default, Redis for replicas), limits, API keys, Prometheus metrics
(`metrics.py`) and an access log. See docs/serving.md.

- `protocol.py`  the OpenAI wire format: request shapes, response and stream shapes, errors
- `app.py`       the server's request handling: routes, keys, limits, cache glue, access log
- `cli.py`       the `grpo-lead serve` command line
- `engines.py`, `vllm.py`   the engines; `local.py` a scripted engine and an in-thread server
  for tests and the load benchmark; `lambda_handler.py` the AWS Lambda handler

This package's `__init__` imports nothing: the AWS Lambda handler
(`grpo_lead.serve.lambda_handler`) ships without FastAPI or torch.
"""
