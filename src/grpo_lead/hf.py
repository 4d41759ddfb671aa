"""Loading Hugging Face tokenizers the way they were saved.

transformers 5 maps some model types to a fixed tokenizer class whatever the saved
`tokenizer_config.json` says: a "qwen2" folder always loads as `Qwen2Tokenizer`, which rebuilds
the pre-tokenizer. For a tokenizer saved as a plain fast tokenizer (the demo's character-level
one: `tokenizer_class` "TokenizersBackend" / "PreTrainedTokenizerFast") that dropped every space
and newline. `load_tokenizer` loads such a folder with the class it was saved as, and anything
else (hub ids, real models) with `AutoTokenizer`.

Also what our saved Hugging Face folders share: `make_readable` (export, import-gguf),
`safetensors_problem` (a weights file cut short: `train --resume`, export), `load_causal_lm`
(eval, serve, export: no progress bar for a local folder) and the filter of transformers'
gradient-checkpointing deprecation (trainer, export).
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

PLAIN_FAST = {"TokenizersBackend", "PreTrainedTokenizerFast"}


def make_readable(root: Path) -> None:
    """Folders 755 and files 644 under ``root`` (itself included), whatever the umask or a
    library's modes (`mkdtemp` makes folders 700, safetensors writes files 600): a saved model
    folder that a server running as another user can read."""
    root.chmod(0o755)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            (Path(dirpath) / d).chmod(0o755)
        for f in filenames:
            (Path(dirpath) / f).chmod(0o644)


# transformers 5 deprecates `model.is_gradient_checkpointing` and `gradient_checkpointing_*`,
# which TRL 1.16 (around each generation) and peft 0.x (`merge_and_unload`) still call.
GC_DEPRECATION = r"`(is_)?gradient_checkpointing\w*` is deprecated"


@contextlib.contextmanager
def no_gc_deprecation_warning() -> Iterator[None]:
    """Hide transformers' gradient-checkpointing deprecation raised inside TRL's or peft's
    code: nothing a user can change, so a user's run should not show it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", GC_DEPRECATION, FutureWarning)
        yield


def load_causal_lm(name_or_path: str | Path, **kwargs):
    """`AutoModelForCausalLM.from_pretrained`, without transformers' "Loading weights" bar for a
    local folder: it reads in a second, and a user's run shows our output, not a dependency's
    (a hub download keeps its progress bars)."""
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    quiet = Path(name_or_path).is_dir() and hf_logging.is_progress_bar_enabled()
    if quiet:
        hf_logging.disable_progress_bar()
    try:
        return AutoModelForCausalLM.from_pretrained(name_or_path, **kwargs)
    finally:
        if quiet:
            hf_logging.enable_progress_bar()


def rendered_prompt(tokenizer, prompt: str | list[dict[str, str]]) -> str:
    """What the model sees for a prompt: a conversation through the tokenizer's chat template
    (with the assistant's turn opened, as TRL and the evaluation render it), a text as it is."""
    if isinstance(prompt, str):
        return prompt
    return tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)


def saved_as_plain_fast(name_or_path: str | Path) -> bool:
    """True for a local folder whose tokenizer was saved as a plain fast tokenizer."""
    config = Path(name_or_path) / "tokenizer_config.json"
    if not (config.is_file() and (config.parent / "tokenizer.json").is_file()):
        return False
    try:
        return json.loads(config.read_text()).get("tokenizer_class") in PLAIN_FAST
    except (OSError, ValueError):
        return False


def load_tokenizer(name_or_path: str | Path, **kwargs):
    """`AutoTokenizer.from_pretrained`, except for plain fast tokenizers saved locally."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    if saved_as_plain_fast(name_or_path):
        return PreTrainedTokenizerFast.from_pretrained(str(name_or_path), **kwargs)
    return AutoTokenizer.from_pretrained(str(name_or_path), **kwargs)


def clip_for_log(text: str, limit: int = 2000) -> str:
    """``text`` for a log line: as it is up to ``limit`` characters, else its start and its end
    around the number of characters left out (a 1 MB question must not fill the log)."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit * 3 // 4], text[-(limit // 4) :]
    return f"{head}[... {len(text) - len(head) - len(tail)} characters ...]{tail}"


def model_folder_problem(path: Path) -> str | None:
    """Why a local model folder would not load, or None (a hub id, not a folder, is None): no
    config.json (not a model folder), or a safetensors file cut short. Headers only."""
    if not path.is_dir():
        return None
    if not (path / "config.json").is_file():
        return "not a model folder (no config.json)"
    for weights in sorted(path.glob("*.safetensors")):
        problem = safetensors_problem(weights)
        if problem:
            return problem
    return None


def safetensors_problem(path: Path) -> str | None:
    """Why a safetensors file would not load (cut short, not one), or None. Reads its header:
    8 bytes of length, the JSON header, then exactly as many bytes as its tensors' offsets say."""
    size = path.stat().st_size
    try:
        with path.open("rb") as f:
            n = int.from_bytes(f.read(8), "little")
            if size < 8 or 8 + n > size:
                return f"{path.name} is cut short ({size} bytes)"
            header = json.loads(f.read(n))
        ends = [t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"]
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return f"{path.name} is not a safetensors file"
    want = 8 + n + max(ends, default=0)
    if size != want:
        return f"{path.name} is cut short ({size} of {want} bytes)"
    return None
