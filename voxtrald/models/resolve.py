"""From a configured model name to a folder faster-whisper can load, checked and offline.

This is what the engine calls before loading: our pinned models are
assembled if needed and verified (cheaply, through the stamp); a folder is
checked to hold what loading needs; a faster-whisper size name is looked up
in the Hugging Face cache first, so a model downloaded once loads offline
afterwards, and is only downloaded because the user named it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from voxtrald.files.private import NotPrivate, private_folder
from voxtrald.models.assembly import assemble
from voxtrald.models.integrity import ModelError, verify_files
from voxtrald.models.local import (
    MODELS_DIR_ENV,
    bundled_folder,
    check_folder,
    describe,
    folder_is_multilingual,
    models_root,
    remedy,
    stamp_path,
)
from voxtrald.models.pins import PINNED, PinnedModel

log = logging.getLogger("voxtrald.models")


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # as configured
    path: str  # a local folder, or a size name that faster-whisper will download
    multilingual: bool | None  # None: not known until the model is loaded
    verified: bool  # every file matched its pinned SHA-256
    local: bool = True  # loads without the network (the hub may be told to stay offline)


def resolve(name: str, root: Path | None = None, rehash: bool = False) -> ResolvedModel:
    """The model to load for `name`; ModelError says why there is none."""
    spec = describe(name)
    if spec.pinned is not None:
        folder = ensure_pinned(spec.pinned, root, rehash)
        return ResolvedModel(name, str(folder), spec.pinned.multilingual, verified=True)
    if spec.folder is not None:
        folder = spec.folder.resolve()
        check_folder(folder)
        return ResolvedModel(name, str(folder), folder_is_multilingual(folder), verified=False)
    assert spec.size_name is not None
    cached = cached_download(spec.size_name)
    if cached is not None:
        return ResolvedModel(name, str(cached), folder_is_multilingual(cached), verified=False)
    log.info("model %r is not on this machine: faster-whisper will download it", name)
    multilingual = False if spec.size_name.endswith(".en") else None
    return ResolvedModel(name, spec.size_name, multilingual, verified=False, local=False)


def resolve_model(name: str) -> str:
    """The path (or size name) to hand to WhisperModel; see `resolve` for the details."""
    return resolve(name).path


def ensure_pinned(model: PinnedModel, root: Path | None = None, rehash: bool = False) -> Path:
    """The verified folder of one of our models, assembled first if it has to be."""
    root = root or models_root()
    # Stamps vouch for files without hashing them, and assembled models are loaded from
    # here: both only count in a folder nobody else can change.
    try:
        private_folder(root, "models folder")
        private_folder(stamp_path(root, model).parent, "models folder")
        stamp: Path | None = stamp_path(root, model)
    except NotPrivate as exc:
        if model.assembled:
            raise ModelError(f"{exc}; or set {MODELS_DIR_ENV} to a folder of your own"
                             ) from None
        log.warning("%s; verifying the %s model by hashing it at every start", exc,
                    model.name)
        stamp = None
    except OSError:
        stamp = None  # cannot be made: assembling says why, a bundled model is hashed
    folder = assemble(model, root) if model.assembled else bundled_folder(model)
    verify_files(folder, model.files, stamp, remedy(model, folder), rehash=rehash)
    return folder


def available_size_names() -> list[str]:
    from faster_whisper.utils import available_models

    return list(available_models())


def cached_download(size_name: str) -> Path | None:
    """The folder of a faster-whisper model already in the Hugging Face cache, or None.

    Raises ModelError for a name faster-whisper does not know, rather than letting it
    fail later with a hub error.
    """
    try:
        from faster_whisper.utils import download_model
    except ImportError as exc:
        raise ModelError(f"faster-whisper is not installed: {exc}") from None
    try:
        folder = Path(download_model(size_name, local_files_only=True))
    except ValueError:
        names = ", ".join(n for n in available_size_names() if n not in PINNED)
        raise ModelError(
            f"unknown model {size_name!r}: use 'default' (Whisper base, 99 languages), "
            f"'tiny.en' (English only, fastest), a CTranslate2 model folder, or a "
            f"faster-whisper size to download ({names})") from None
    except Exception:
        return None
    try:
        check_folder(folder)
    except ModelError:
        return None  # a download cut short: let faster-whisper finish it
    return folder
