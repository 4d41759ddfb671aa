"""`grpo-lead export`: full and LoRA checkpoints -> a servable folder (safetensors only, tokenizer
and chat template, LEAD's sampling defaults, a model card); bad inputs get one line."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest
import torch

from grpo_lead.export import (
    EVAL_SAMPLING,
    ExportError,
    export_checkpoint,
    export_main,
    find_checkpoint,
)

SUMMARY_MD = "| run | pass@1 | cons@4 | len |\n|---|---|---|---|\n| lead | 0.500 | 0.600 | 41 |\n"


def _trainer_files(folder):
    """What a TRL checkpoint holds beside the model: state, optimizer, a pickled args file."""
    state = {
        "global_step": 40,
        "epoch": 1.0,
        "log_history": [
            {"step": 20, "reward": 0.1, "loss": 0.5},
            {"step": 40, "reward": 0.4, "loss": 0.3, "completions/mean_length": 39.0},
            {"step": 40, "train_runtime": 12.0, "train_loss": 0.4},  # the end-of-run summary
        ],
    }
    (folder / "trainer_state.json").write_text(json.dumps(state))
    torch.save({"state": {}}, folder / "optimizer.pt")
    with zipfile.ZipFile(folder / "training_args.bin", "w") as z:  # whole, but no pickle to load
        z.writestr("archive/data.pkl", b"\x80\x04not-to-be-unpickled")
    torch.save({"rng": 0}, folder / "rng_state.pth")


@pytest.fixture
def run_dir(tmp_path, tiny_model_dir):
    """A training output_dir with checkpoint-20 and checkpoint-40 (full weights)."""
    run = tmp_path / "run"
    for step in (20, 40):
        ckpt = run / f"checkpoint-{step}"
        shutil.copytree(tiny_model_dir, ckpt)
        _trainer_files(ckpt)
    (run / "grpo_lead_recipe.yaml").write_text("learning_rate: 1.0e-6\nlead_alpha: 0.05\n")
    return run


def _eval_dir(tmp_path):
    folder = tmp_path / "eval"
    folder.mkdir()
    (folder / "summary.md").write_text(SUMMARY_MD)
    (folder / "summary.json").write_text(json.dumps({"overall": {"pass@1": 0.5}}))
    return folder


def test_export_full_checkpoint(run_dir, tmp_path):
    out = export_checkpoint(run_dir, tmp_path / "exported", eval_dir=_eval_dir(tmp_path))
    names = {p.name for p in out.iterdir()}
    assert "model.safetensors" in names and "config.json" in names
    assert "tokenizer.json" in names or "tokenizer_config.json" in names
    assert not any(n.endswith((".bin", ".pt", ".pth")) for n in names)
    assert "trainer_state.json" not in names
    gen = json.loads((out / "generation_config.json").read_text())
    for key, value in EVAL_SAMPLING.items():
        assert gen[key] == value
    assert "max_new_tokens" not in gen  # the recipe does not say the training's length
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: transformers")
    assert "checkpoint-40" in card and "Training step 40" in card  # the last checkpoint
    assert "Last logged training metrics (step 40): " in card and "reward 0.4" in card
    assert "train_runtime" not in card and "train_loss" not in card
    assert f"grpo-lead serve --model {tmp_path / 'exported'} " in card  # its path, not its name
    assert "| lead | 0.500 | 0.600 | 41 |" in card  # the evaluation table
    assert "lead_alpha: 0.05" in card  # the recipe found beside the checkpoints
    assert "temperature=0.6" in card and "min_p=0.01" in card


def test_exported_folder_is_servable_with_the_protocol_defaults(run_dir, tmp_path):
    from transformers import AutoTokenizer

    from grpo_lead.serve.engines import TransformersEngine

    out = export_checkpoint(run_dir / "checkpoint-20", tmp_path / "exported")
    assert AutoTokenizer.from_pretrained(out).chat_template
    engine = TransformersEngine(str(out))
    assert engine.defaults == {"temperature": 0.6, "top_p": 1.0, "min_p": 0.01, "top_k": 0}


def test_export_merges_lora(tmp_path, tiny_model_dir):
    import peft
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])
    from grpo_lead.hf import no_gc_deprecation_warning

    with no_gc_deprecation_warning():  # peft reads transformers' deprecated property
        model = peft.get_peft_model(base, config)
    with torch.no_grad():  # LoRA B starts at zero: make the adapter change the model
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    ckpt = tmp_path / "lora" / "checkpoint-5"
    model.save_pretrained(ckpt)
    adapter = json.loads((ckpt / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == str(tiny_model_dir)
    _trainer_files(ckpt)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = export_checkpoint(ckpt, tmp_path / "merged")
    # peft's merge reads transformers' deprecated gradient-checkpointing property: not shown
    assert not [w for w in caught if "gradient_checkpointing" in str(w.message)]
    assert not (out / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(out)
    ids = torch.tensor([[5, 9, 12, 30, 7]])
    with torch.no_grad():
        expected = model(input_ids=ids).logits
        plain = AutoModelForCausalLM.from_pretrained(tiny_model_dir)(input_ids=ids).logits
        got = merged(input_ids=ids).logits
    assert torch.allclose(got, expected, atol=1e-4)
    assert not torch.allclose(got, plain, atol=1e-3)  # the adapter really was merged in
    assert f"base_model: {tiny_model_dir}" in (out / "README.md").read_text()


def test_not_a_checkpoint_is_one_line(tmp_path, capsys):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("hi")
    code = export_main(["--checkpoint", str(tmp_path / "junk"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error:") and "not a checkpoint" in err
    assert err.count("\n") == 1
    assert export_main(["--checkpoint", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_out_folder_rules(run_dir, tmp_path, capsys):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("keep")
    args = ["--checkpoint", str(run_dir), "--out", str(busy)]
    assert export_main(args) == 2 and "--force" in capsys.readouterr().err
    assert (busy / "x").exists()
    # --force replaces only an earlier export: a folder of anything else is never deleted
    assert export_main([*args, "--force"]) == 2
    err = capsys.readouterr().err
    assert "not an earlier export" in err and err.count("\n") == 1
    assert (busy / "x").read_text() == "keep"
    with pytest.raises(ExportError, match="must not be the checkpoint"):
        export_checkpoint(run_dir, run_dir / "checkpoint-40" / "inner")
    with pytest.raises(ExportError, match="--eval"):
        export_checkpoint(run_dir, tmp_path / "o2", eval_dir=tmp_path)
    with pytest.raises(ExportError, match="--recipe"):
        export_checkpoint(run_dir, tmp_path / "o3", recipe=tmp_path / "missing.yaml")


def test_find_checkpoint_accepts_a_saved_model_folder(tiny_model_dir):
    # the demo's models/<name>/ folders (save_model + tokenizer) are checkpoints as they are
    assert find_checkpoint(tiny_model_dir) == tiny_model_dir


def _beside(folder):
    """Everything in the folder's parent except the folder and the fixtures' own folders."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name not in {folder.name, "run"})


def test_force_replaces_an_earlier_export_only_once_the_new_one_is_complete(
    run_dir, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "exported"
    assert export_main(["--checkpoint", str(run_dir / "checkpoint-20"), "--out", str(out)]) == 0
    assert (out / "grpo_lead_export.json").is_file()  # the marker that makes it an export
    first = (out / "model.safetensors").read_bytes()
    # a bad input after --force: refused before anything is touched
    bad = ["--checkpoint", str(run_dir), "--out", str(out), "--force", "--recipe", "/nope.yaml"]
    assert export_main(bad) == 2 and "--recipe /nope.yaml" in capsys.readouterr().err
    assert (out / "model.safetensors").read_bytes() == first
    # a failure while writing the new export: the earlier one is still whole, no debris beside
    from transformers import PreTrainedModel

    def disk_full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(PreTrainedModel, "save_pretrained", disk_full)
        with pytest.raises(OSError, match="No space left"):
            export_checkpoint(run_dir, out, force=True)
    assert (out / "model.safetensors").read_bytes() == first
    assert "checkpoint-20" in (out / "README.md").read_text() and _beside(out) == []
    # a complete export replaces it
    assert export_main(["--checkpoint", str(run_dir), "--out", str(out), "--force"]) == 0
    assert "checkpoint-40" in (out / "README.md").read_text() and _beside(out) == []
    marker = json.loads((out / "grpo_lead_export.json").read_text())
    assert marker["checkpoint"] == str((run_dir / "checkpoint-40").resolve())


def test_an_empty_out_folder_is_used_without_force(run_dir, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert export_checkpoint(run_dir, out) == out and (out / "model.safetensors").is_file()


@pytest.mark.parametrize("problem", ["out is a file", "bogus dtype"])
def test_bad_export_flags_are_one_line(run_dir, tmp_path, capsys, problem):
    out = tmp_path / "o"
    args = ["--checkpoint", str(run_dir), "--out", str(out)]
    if problem == "out is a file":
        out.write_text("a file")
        expected = f"--out {out} is a file"
    else:
        args += ["--dtype", "bogus"]
        expected = "argument --dtype: invalid choice: 'bogus'"
    assert export_main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and err.count("\n") == 1, err
    assert "usage:" not in err


def test_a_wrong_type_is_one_line_with_where_to_find_help(run_dir, tmp_path, capsys):
    assert export_main(["--checkpoint", str(run_dir)]) == 2  # --out missing
    err = capsys.readouterr().err
    assert err == (
        "error: the following arguments are required: --out "
        "(grpo-lead export --help lists the options)\n"
    )


def test_a_finished_run_exports_its_final_save_with_the_last_state(run_dir, tmp_path):
    # what `grpo-lead train` leaves: checkpoints, then the final save in output_dir itself
    for f in (run_dir / "checkpoint-40").iterdir():
        if f.name in (
            "config.json",
            "model.safetensors",
            "tokenizer.json",
            "tokenizer_config.json",
        ):
            shutil.copy(f, run_dir / f.name)
    out = export_checkpoint(run_dir, tmp_path / "final")
    marker = json.loads((out / "grpo_lead_export.json").read_text())
    assert marker["checkpoint"] == str(run_dir.resolve())
    card = (out / "README.md").read_text()
    assert (
        "from `run`" in card
        and "Training step 40, epoch 1.0 (the state of `checkpoint-40`)" in card
    )
    assert "Last logged training metrics (step 40)" in card


def test_a_killed_run_exports_its_newest_complete_checkpoint(run_dir, tmp_path, caplog):
    cut = run_dir / "checkpoint-60"  # killed while writing: no trainer_state.json yet
    shutil.copytree(run_dir / "checkpoint-40", cut)
    (cut / "trainer_state.json").unlink()
    out = export_checkpoint(run_dir, tmp_path / "o")
    marker = json.loads((out / "grpo_lead_export.json").read_text())
    assert marker["checkpoint"] == str((run_dir / "checkpoint-40").resolve())
    assert "skipping checkpoint-60: incomplete (no trainer_state.json)" in caplog.text


def test_exported_files_are_readable_by_everyone(run_dir, tmp_path):
    import stat

    out = export_checkpoint(run_dir, tmp_path / "o")
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes["model.safetensors"] == 0o644 and set(modes.values()) == {0o644}, modes


def test_max_new_tokens_is_the_trainings_completion_length(run_dir, tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("max_completion_length: 128\nlearning_rate: 1.0e-6\n")
    out = export_checkpoint(run_dir, tmp_path / "o", recipe=recipe)
    assert json.loads((out / "generation_config.json").read_text())["max_new_tokens"] == 128
    assert "max_new_tokens=128" in (out / "README.md").read_text()


@pytest.mark.parametrize("cut", ["half", "header"])
def test_cut_weights_are_one_line_and_nothing_is_written(run_dir, tmp_path, capsys, cut):
    weights = run_dir / "checkpoint-40" / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2] if cut == "half" else data[:5])
    out = tmp_path / "o"
    assert export_main(["--checkpoint", str(weights.parent), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {weights.parent}: model.safetensors is cut short"), err
    assert err.count("\n") == 1
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    # the run folder: its newest *complete* checkpoint
    marker = json.loads((export_checkpoint(run_dir, out) / "grpo_lead_export.json").read_text())
    assert marker["checkpoint"] == str((run_dir / "checkpoint-20").resolve())
