"""Checkpoints and model folders: what train (resume), export and serve check before they load.

`checkpoints` lists a run's `checkpoint-N` folders, `checkpoint_problem` says why one cannot be
resumed or exported (headers only: cheap), `check_model_path` refuses a model that is neither a
folder nor a possible hub id, naming the flag.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from grpo_lead.hf import safetensors_problem

__all__ = ["check_model_path", "checkpoint_problem", "checkpoints"]


def checkpoint_problem(folder: Path) -> str | None:
    """Why a `checkpoint-N` folder cannot be resumed from, or None when it is complete.

    The trainer writes the model, then the optimizer, scheduler and RNG state, and
    `trainer_state.json` last: a folder whose state file is missing or cut short was being
    written when the run was killed. A folder is complete only when every file would load:
    each safetensors file is as long as its header says, each shard an index names is there,
    and each torch file (optimizer, scheduler, RNG state, .bin weights) ends with its zip
    directory -- a file cut by a kill (or a full disk) lacks it. Cheap: headers only."""
    state = folder / "trainer_state.json"
    if not state.is_file():
        return "no trainer_state.json"
    try:
        json.loads(state.read_text(encoding="utf-8"))["global_step"]  # noqa: B018
    except (ValueError, KeyError, TypeError):
        return "trainer_state.json is not valid JSON"
    if not any(folder.glob("*.safetensors")) and not any(folder.glob("pytorch_model*.bin")):
        return "no model weights"
    for index in sorted(folder.glob("*.safetensors.index.json")):
        try:
            shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
        except (ValueError, KeyError, TypeError, AttributeError):
            return f"{index.name} is not valid JSON"
        missing = sorted(name for name in shards if not (folder / name).is_file())
        if missing:
            return f"{index.name} names {missing[0]}, which is not there"
    for path in sorted(folder.iterdir()):
        problem = None
        if path.suffix == ".safetensors":
            problem = safetensors_problem(path)
        elif path.suffix in (".pt", ".pth", ".bin"):
            problem = _torch_file_problem(path)
        if problem:
            return problem
    return None


def _torch_file_problem(path: Path) -> str | None:
    """Why a `torch.save` file would not load, or None. Its zip directory is at the end (a cut
    file has none); an old non-zip file is loaded to be sure."""
    import zipfile

    if zipfile.is_zipfile(path):
        return None
    import pickle

    import torch

    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError):
        return f"{path.name} is cut short or not a torch file"
    return None


def checkpoints(path: Path) -> list[Path]:
    """The `checkpoint-N` folders of an output_dir, newest (highest N) first."""
    found = [
        (int(m.group(1)), p)
        for p in path.iterdir()
        if p.is_dir() and (m := re.fullmatch(r"checkpoint-(\d+)", p.name))
    ]
    return [p for _, p in sorted(found, reverse=True)]


def check_model_path(name: str, flag: str = "model_name_or_path") -> None:
    """A model that is neither a local folder nor a possible hub id is refused at once
    (transformers would say "Repo id must be in the form ..." deep inside TRL); `flag` names
    the option in the message."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    path = Path(name).expanduser()
    if path.is_dir():
        return
    if path.exists():
        raise ValueError(f"{flag} {name} is a file; give a model folder or a hub id")
    try:
        validate_repo_id(name)
    except HFValidationError:
        raise ValueError(f"{flag} {name}: no such folder (nor a hub id)") from None
