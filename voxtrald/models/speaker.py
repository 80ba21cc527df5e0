"""The speaker encoder's file: shipped in the package, pinned, checked before use.

`voxtrald/engine/speakers/encoder.onnx` is resemblyzer 0.1.4's GE2E encoder
(Apache-2.0) converted without torch by packaging/speaker-model/rebuild.py,
which prints the hash pinned here. Like the Whisper models, a file whose
bytes differ is refused with an error that names it.
"""

from __future__ import annotations

from pathlib import Path

from voxtrald.files.hashing import sha256_file
from voxtrald.models.integrity import ModelError

NAME = "speakers-ge2e"
SOURCE = "resemblyzer 0.1.4 (Apache-2.0), converted to ONNX"
SHA256 = "ca2fa489e706018cc94f87c66d8e6fa95166b44cb26132bc8b58cf9ca3549ba8"
SIZE = 5695305
LANGUAGES = "speaker labels, any language"
PATH = Path(__file__).resolve().parents[1] / "engine" / "speakers" / "encoder.onnx"


def verified_path(path: Path = PATH) -> Path:
    """The encoder's path once its bytes match the pin; a ModelError naming it otherwise."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ModelError(f"speaker model {path} is missing ({exc.strerror}); "
                         "reinstall voxtral") from exc
    if size != SIZE or sha256_file(path) != SHA256:
        raise ModelError(f"speaker model {path} does not match its pinned SHA-256; "
                         "reinstall voxtral or rebuild it with "
                         "packaging/speaker-model/rebuild.py")
    return path
