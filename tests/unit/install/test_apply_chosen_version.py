""""Install 1.1.0 and restart" installs 1.1.0 or nothing, even if 1.2.0 came out meanwhile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from voxtrald.config import Config
from voxtrald.events import EventLog
from voxtrald.install.apply import Applier, ApplyError
from voxtrald.install.layout import InstallRoot, Kind, Running
from voxtrald.updates.routes import _apply_status


class NewerAtClickTime:
    """The release check as it answers after 1.2.0 was published (the tray still shows 1.1.0)."""

    def check(self, refresh: bool = False) -> dict[str, Any]:
        return {"latest_version": "1.2.0", "update_available": True, "rolled_back": False}


def _applier(tmp_path: Path) -> Applier:
    root = InstallRoot(tmp_path / "install")
    root.path.mkdir()
    return Applier(Config(), NewerAtClickTime(), EventLog(), lambda: None,  # type: ignore[arg-type]
                   running=Running(Kind.ROOT, root))


def test_the_version_shown_is_the_version_installed(tmp_path: Path) -> None:
    with pytest.raises(ApplyError) as caught:
        _applier(tmp_path).apply(wanted="1.1.0")
    assert caught.value.code == "version_changed"
    assert _apply_status(caught.value) == 409  # a conflict with what is on offer
    assert "1.2.0" in str(caught.value) and "1.1.0" in str(caught.value)


def test_the_same_version_in_another_spelling_goes_ahead(tmp_path: Path) -> None:
    with pytest.raises(ApplyError) as caught:  # stopped later, by the fake root's pointer
        _applier(tmp_path).apply(wanted="1.2")
    assert caught.value.code == "not_current"
