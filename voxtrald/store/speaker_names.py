"""The names a user gave a job's speakers ({1: "Alice"}), kept with the job.

A later render of the job (a rename, a retry) takes its labels from here,
so a name given once is never lost to "Speaker 1" again.
"""

from __future__ import annotations

import json

from voxtrald.store.db import Database


class SpeakerNameLog(Database):
    def speaker_names(self, job_id: int) -> dict[int, str]:
        with self._lock:
            row = self._db.execute("SELECT speaker_names FROM jobs WHERE id=?",
                                   (job_id,)).fetchone()
        try:
            raw = json.loads(row["speaker_names"]) if row else {}
        except ValueError:
            return {}
        if not isinstance(raw, dict):
            return {}
        return {int(k): str(v) for k, v in raw.items() if str(k).isdigit() and v}

    def set_speaker_names(self, job_id: int, names: dict[int, str]) -> None:
        with self._tx() as db:
            db.execute("UPDATE jobs SET speaker_names=? WHERE id=?",
                       (json.dumps({str(k): v for k, v in sorted(names.items())}), job_id))
