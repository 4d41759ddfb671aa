"""grpo_lead.hf: loading a local model shows our output, not transformers' progress bar."""

from __future__ import annotations


def test_a_local_folder_loads_without_the_loading_weights_bar(tmp_path, capfd):
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    from grpo_lead.hf import load_causal_lm
    from grpo_lead.toylab.model import save_tiny_model

    folder = save_tiny_model(tmp_path / "tiny")
    capfd.readouterr()
    AutoModelForCausalLM.from_pretrained(folder)
    assert "Loading weights" in capfd.readouterr().err  # what the helper hides
    model = load_causal_lm(folder)
    assert "Loading weights" not in capfd.readouterr().err
    assert model.config.vocab_size > 0
    assert hf_logging.is_progress_bar_enabled()  # a hub download still gets its bar
