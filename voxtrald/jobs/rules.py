"""Folder rules: a `.voxtral.toml` in an inbox folder sets how the files below it are done.

A person who drops German interviews in one folder and English lectures in
another should not edit the global config between drops. The nearest rules
file wins key by key, over the rules of folders above it, over the global
config; a per-file vocabulary sidecar adds to the hotwords on top of all
(`vocabulary`). Rules are checked with the config's own words (`config.coerce`
and `config.check`), so a mistake names the file and the key.

A rules file comes from the same untrusted folder as the audio. One that is
broken (not TOML, binary, too big, an unknown key, a bad value) *holds* its
folder's files: transcribing them with settings the user did not mean would
waste the run and put transcripts where they were not wanted. One that is a
link, or belongs to another user of a shared inbox, is ignored with a logged
reason: another user must not change how your files are transcribed.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from voxtrald import _platform
from voxtrald import config as config_mod
from voxtrald.config import Config, ConfigError

RULES_NAME = ".voxtral.toml"
MAX_BYTES = 64 * 1024
# Folder depth looked at above a file: an inbox nested deeper than this is not a user's.
MAX_DEPTH = 64

# The keys a rules file may set, and the config key each one stands for (its type, its
# check and its global value come from there).
KEYS: dict[str, str] = {
    "language": "engine.language",
    "languages": "engine.languages",
    "speakers": "engine.speakers",
    "hotwords": "engine.hotwords",
    "initial_prompt": "engine.initial_prompt",
    "model": "engine.model",
    "formats": "outputs.formats",
    "translate": "outputs.translate",
}


@dataclass(frozen=True)
class Setting:
    value: Any
    origin: str  # "default", "global config (PATH)", or the rules file's path


@dataclass(frozen=True)
class FileSettings:
    """The settings one file gets, where each came from, and whether its folder is held."""

    values: dict[str, Setting]
    held: str | None = None  # why the file must wait (a broken rules file), else None
    held_by: Path | None = None
    ignored: tuple[str, ...] = field(default=())  # rules files left out, with the reason
    read: tuple[Path, ...] = field(default=())  # rules files that apply

    def value(self, key: str) -> Any:
        return self.values[key].value


# The config's shape, for the type of each key (the defaults are never used).
_TYPES = Config()


class RulesError(Exception):
    """A rules file that holds its folder: the message names the file and the key."""


class RulesIgnored(Exception):
    """A rules file that is not the user's to trust (a link, another owner): left out."""


def _config_value(cfg: Config, dotted: str) -> Any:
    section, name = dotted.split(".", 1)
    return getattr(getattr(cfg, section), name)


def _field_type(cfg: Config, dotted: str) -> str:
    section, name = dotted.split(".", 1)
    return str(next(f.type for f in fields(getattr(cfg, section)) if f.name == name))


def parse_rules(raw: bytes, origin: str) -> dict[str, Any]:
    """The checked settings of a rules file's bytes; RulesError says what is wrong."""
    if len(raw) > MAX_BYTES:
        raise RulesError(f"rules file {origin} is larger than {MAX_BYTES // 1024} KiB")
    if b"\0" in raw:
        raise RulesError(f"rules file {origin} is not text")
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise RulesError(f"rules file {origin} is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"rules file {origin} is not valid TOML: {exc}") from exc
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in KEYS:
            known = ", ".join(sorted(KEYS))
            raise RulesError(f"rules file {origin}: unknown key '{key}'; known: {known}")
        dotted = KEYS[key]
        try:
            value = config_mod.coerce(dotted, _field_type(_TYPES, dotted), value)
            config_mod.check(dotted, value)
        except ConfigError as exc:
            # The config's words, with the rules file's key in place of the config's.
            message = str(exc).replace(f"config key '{dotted}'", f"key '{key}'")
            raise RulesError(f"rules file {origin}: {message}") from exc
        out[key] = value
    return out


def read_rules(path: Path, uid: int | None) -> dict[str, Any]:
    """Read one rules file without following a link; RulesIgnored or RulesError on trouble."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        st = path.lstat()
    except OSError as exc:
        raise RulesError(f"rules file {path} cannot be read: {exc.strerror or exc}") from exc
    if stat.S_ISLNK(st.st_mode):
        raise RulesIgnored(f"rules file {path} is a link; ignored (only a plain file "
                           "in the folder itself sets its rules)")
    if not stat.S_ISREG(st.st_mode):
        raise RulesError(f"rules file {path} is not a regular file")
    if uid is not None and st.st_uid != uid:
        raise RulesIgnored(f"rules file {path} belongs to another user (uid {st.st_uid}); "
                           "ignored: only your own rules change how your files are done")
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise RulesError(f"rules file {path} cannot be read: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # swapped since the look
            raise RulesError(f"rules file {path} is not a regular file")
        raw = fh.read(MAX_BYTES + 1)
    return parse_rules(raw, str(path))


def rules_files(source: Path, inbox: Path) -> list[Path]:
    """Candidate rules files for `source`, from the inbox down to the file's own folder.

    Only the folders named in the path itself, never a link's target: a folder
    linked to itself cannot make this loop, and rules outside the inbox never apply.
    """
    try:
        rel = source.parent.relative_to(inbox)
    except ValueError:
        return []
    if ".." in rel.parts:
        return []  # a path that climbs out again is not a place in the inbox
    parts = rel.parts[:MAX_DEPTH]
    folders = [inbox]
    for part in parts:
        folders.append(folders[-1] / part)
    return [folder / RULES_NAME for folder in folders]


def _present(path: Path) -> bool:
    try:
        path.lstat()
    except OSError:
        return False
    return True


def current_uid() -> int | None:
    """Whose rules count: the user the daemon runs as (None where there are no uids)."""
    return _platform.current_uid()


def resolve(source: Path, cfg: Config, uid: int | None = None) -> FileSettings:
    """The settings `source` gets: defaults, global config, then rules from the top down."""
    if uid is None:
        uid = current_uid()
    values: dict[str, Setting] = {}
    for key, dotted in KEYS.items():
        origin = (f"global config ({cfg.source})" if dotted in cfg.explicit and cfg.source
                  else "command line" if dotted in cfg.flags else "default")
        values[key] = Setting(_config_value(cfg, dotted), origin)
    ignored: list[str] = []
    read: list[Path] = []
    for path in rules_files(source, cfg.paths.inbox):
        if not _present(path):
            continue
        try:
            rules = read_rules(path, uid)
        except RulesIgnored as exc:
            ignored.append(str(exc))
            continue
        except RulesError as exc:
            return FileSettings(values, held=str(exc), held_by=path, ignored=tuple(ignored))
        read.append(path)
        for key, value in rules.items():
            values[key] = Setting(value, str(path))
        if (values["translate"].value and config_mod.english_only(values["model"].value)
                and ("translate" in rules or "model" in rules)):
            model = values["model"].value
            return FileSettings(values, held=(
                f"rules file {path}: key 'translate': the model {model} knows only English "
                "and cannot translate; use a multilingual model or set translate = false"),
                held_by=path, ignored=tuple(ignored))
    return FileSettings(values, ignored=tuple(ignored), read=tuple(read))
