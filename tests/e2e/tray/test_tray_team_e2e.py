# ruff: noqa: F811 - pytest fixtures imported from traybus.fixtures are parameters here
"""The team in the real tray's menu, on the private desktop: each machine and what it
does, and a queue that cannot be reached said so, as the daemon's status tells it."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.traybus.dbusmenu import MenuItem
from tests.support.traybus.fake_daemon import FakeDaemon
from tests.support.traybus.fixtures import (  # noqa: F401 - fixtures
    Tray,
    desktop,
    fake,
    services,
    shared_desktop,
    start_tray,
)
from tests.support.traybus.session import desktop_marks
from voxtrald import bodies

pytestmark = desktop_marks(timeout=120)


def member(name: str, running: int | None, ago: float = 1.0) -> bodies.TeamMember:
    return bodies.TeamMember(name=name, version="1.0.0", seen_seconds_ago=ago,
                             running=running, memory_level="normal")


def under(items: list[MenuItem], parent: MenuItem) -> list[MenuItem]:
    return [i for i in items if i.parent == parent.id and i.visible]


def test_the_team_and_an_unreachable_queue_are_in_the_menu(
        fake: FakeDaemon, start_tray: Callable[..., Tray]) -> None:
    with fake.cond:
        fake.status["team"] = bodies.Team(
            queue="postgresql://voxtral@db.lan/voxtral", machine="spare", reachable=True,
            members=[member("spare", 4), member("studio", None)])
    tray = start_tray(fake.socket_path)
    items = tray.wait_menu(lambda m: any(i.label == "Team: 2 machines" for i in m),
                           "the team in the menu")
    team = next(i for i in items if i.label == "Team: 2 machines")
    assert [i.label for i in under(items, team)] == ["spare (this machine): transcribing",
                                                     "studio: idle"]
    with fake.cond:
        fake.status["team"]["reachable"] = False
        fake.cond.notify_all()
    tray.wait_menu(lambda m: any(i.label == "Team queue unreachable: no new job is taken"
                                 for i in m), "the outage in the menu")
    assert fake.errors == []
