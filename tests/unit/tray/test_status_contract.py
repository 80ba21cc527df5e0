"""The tray reads only what the daemon's status body declares, and the desktop tests'
stand-in daemon answers with that same body.

The status JSON is declared once (`voxtrald.bodies`). The tray parses it field by field
(`tray.model`), and the tray's end-to-end tests talk to a stand-in daemon
(`tests/support/traybus/fake_daemon.py`). If either drifts from the declaration, a
key the tray waits for would never come from the real daemon, or the tests would pass
against a body the daemon never sends: this test names the key.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from tests.support.traybus.fake_daemon import base_status
from tray.model import Status
from voxtrald import bodies
from voxtrald.states import JobState

MODEL = Path(__file__).resolve().parents[3] / "tray" / "model.py"
# Which declared body each of the parser's local names holds.
READS = {
    ("Status", "data"): bodies.Status,
    ("Status", "job_raw"): bodies.CurrentJob,
    ("Status", "update_raw"): bodies.UpdateSummary,
    ("Memory", "data"): bodies.MemorySummary,
}


def keys_of(body: Any) -> set[str]:
    return set(body.__annotations__)


def reads_in_parsers() -> dict[tuple[str, str], set[str]]:
    """The keys each parser asks of each of its local dicts: `name.get("key")`."""
    found: dict[tuple[str, str], set[str]] = {}
    tree = ast.parse(MODEL.read_text(encoding="utf-8"))
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for node in ast.walk(cls):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "get" and isinstance(node.func.value, ast.Name)
                    and node.args and isinstance(node.args[0], ast.Constant)):
                found.setdefault((cls.name, node.func.value.id), set()).add(
                    str(node.args[0].value))
    return found


def test_every_key_the_tray_reads_is_in_the_declared_body() -> None:
    found = reads_in_parsers()
    for where, body in READS.items():
        assert found.get(where), f"the tray's parser no longer reads {where}: update READS"
        unknown = found[where] - keys_of(body)
        assert not unknown, f"{where[0]}.parse reads {sorted(unknown)} from a " \
                            f"{body.__name__}, which has no such key"
    queue_keys = found.get(("Status", "queue"), set())
    assert queue_keys <= {str(s) for s in JobState}, queue_keys


def test_the_stand_in_daemon_answers_with_the_declared_status() -> None:
    fake = base_status({"inbox": "/i", "transcripts": "/t", "processed": "/p",
                        "failed": "/f"})
    # `team` is there only when the daemon shares a team queue.
    assert set(fake) == keys_of(bodies.Status) - {"team"}
    assert set(fake["queue"]) == {str(s) for s in JobState}
    assert set(fake["memory"]) <= keys_of(bodies.MemorySummary)
    parsed = Status.parse(fake)
    assert parsed.version == fake["version"] and parsed.state == "idle"
