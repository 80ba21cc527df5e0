"""The team's part of `/api/status`: where the queue is and what each machine is doing.

Read on each status poll; while the queue is away the last members read are
shown, marked unreachable, so the tray and `voxtrald status` still say who
was doing what.
"""

from __future__ import annotations

from voxtrald import bodies
from voxtrald.store.errors import STORE_ERRORS
from voxtrald.store.pg.team import TeamStore


class TeamView:
    def __init__(self, store: TeamStore) -> None:
        self.store = store
        self._members: list[bodies.TeamMember] = []

    def __call__(self) -> bodies.Team:
        reachable = True
        try:
            self._members = [
                bodies.TeamMember(name=m.name, version=m.version,
                                  seen_seconds_ago=round(m.seen_seconds_ago, 1),
                                  running=m.running, memory_level=m.memory_level)
                for m in self.store.members()]
        except STORE_ERRORS:
            reachable = False
        return bodies.Team(queue=self.store.where, machine=self.store.host,
                           members=list(self._members), reachable=reachable)
