"""Which kinds of notification the user wants: the Notifications submenu's switches.

Kept in the tray's state file, so a choice survives restarts; read
forgivingly (an unknown or mistyped entry keeps its default).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

# Menu order and wording of the switches, by field name.
LABELS = {
    "memory": "Memory warnings",
    "updates": "New versions",
    "job_done": "Finished transcriptions",
    "job_failed": "Failed transcriptions",
}


@dataclass(frozen=True)
class NotifyPrefs:
    memory: bool = True
    updates: bool = True
    job_done: bool = True  # announced in batches: one summary for files finishing together
    job_failed: bool = True

    def allows(self, kind: str) -> bool:
        """Whether a notification of this kind ("memory", "update", ...) may be shown."""
        key = "updates" if kind == "update" else kind
        return bool(getattr(self, key, True))

    def toggled(self, key: str) -> NotifyPrefs:
        if key not in LABELS:
            return self
        return replace(self, **{key: not getattr(self, key)})

    def to_dict(self) -> dict[str, bool]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, raw: Any, default: NotifyPrefs | None = None) -> NotifyPrefs:
        base = default or cls()
        if not isinstance(raw, dict):
            return base
        chosen = {k: v for k, v in raw.items() if k in LABELS and isinstance(v, bool)}
        return replace(base, **chosen)
