"""docs/configuration.md documents exactly the keys voxtrald/config.py accepts.

The reference is hand-written for people, the schema is code: without this
check a new key ships undocumented, or a removed one stays in the docs and
the daemon refuses a file its own reference told the user to write.
"""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from pathlib import Path

from voxtrald.config import Config

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"
SECTION = re.compile(r"^#+ `\[(\w+)\]`")
KEY_ROW = re.compile(r"^\| `(\w+)` \|")


def schema() -> set[tuple[str, str]]:
    """Every (section, key) a config file may set: the dataclass sections of Config."""
    cfg = Config()
    keys = set()
    for section in fields(cfg):
        body = getattr(cfg, section.name)
        if is_dataclass(body):
            keys |= {(section.name, key.name) for key in fields(body)}
    return keys


def documented() -> set[tuple[str, str]]:
    """Every (section, key) in a key table of the reference, under its `[section]` heading."""
    keys: set[tuple[str, str]] = set()
    section = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if heading := SECTION.match(line):
            section = heading.group(1)
        elif line.startswith("#"):
            section = None
        elif (row := KEY_ROW.match(line)) and section is not None:
            keys.add((section, row.group(1)))
    return keys


def test_every_key_of_the_schema_is_documented() -> None:
    missing = sorted(f"[{s}] {k}" for s, k in schema() - documented())
    assert not missing, f"keys missing from {DOC.name}: {', '.join(missing)}"


def test_no_key_is_documented_that_the_daemon_would_refuse() -> None:
    unknown = sorted(f"[{s}] {k}" for s, k in documented() - schema())
    assert not unknown, f"{DOC.name} documents keys config.py does not know: {', '.join(unknown)}"


def test_the_reader_finds_the_tables() -> None:
    """The check itself can fail: a heading or row format it no longer reads is an error."""
    assert len(documented()) >= 40
    assert {s for s, _ in documented()} == {s for s, _ in schema()}
