"""Where a source goes when its job ends: moved on, kept, deleted, or set aside.

Both intake (duplicates, files that cannot even be queued) and the job runner
(finished and failed jobs) end jobs, so the rule lives here once; the job
store always ends up pointing at wherever the file really is.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

from voxtrald.config import Config
from voxtrald.events import utc_now_iso
from voxtrald.files import atomic
from voxtrald.jobs import sources, vocabulary
from voxtrald.store.jobs import Job, JobStore

log = logging.getLogger("voxtrald")


class Disposal:
    def __init__(self, store: JobStore, cfg: Config) -> None:
        self.store = store
        self.cfg = cfg

    def finish(self, job: Job) -> None:
        """Apply `jobs.after` (move/keep/delete) to a finished or duplicate job's source."""
        source = Path(job.source_path)
        how = self.cfg.jobs.after
        try:
            if how == "delete":
                source.unlink(missing_ok=True)
            elif how == "move":
                sidecar = vocabulary.sidecar_for(source)
                folder = self.cfg.paths.processed / job.rel_dir
                atomic.ensure_folder(folder)
                target = sources.free_path(folder / source.name)
                # Recorded first, as for a set-aside file: a kill mid-move leaves the job
                # pointing where the file goes, and a file still in the inbox is known
                # again by its content.
                self.store.set_source(job.id, str(target))
                try:
                    sources.move_file(source, target)
                except OSError:
                    if source.exists() or source.is_symlink():
                        self.store.set_source(job.id, str(source))
                    raise
                if sidecar is not None:  # the vocabulary belongs with its recording
                    sources.move_into(sidecar, folder)
        except OSError as exc:
            log.warning("could not %s %s after transcription: %s", how, source.name, exc)

    def reconcile(self) -> int:
        """Finish what a stop cut short: a job recorded done whose source never moved on.

        Done is recorded before the source moves, so a kill in between leaves the
        file in the inbox with a finished job; it is moved (or deleted) now. A file
        that changed since is left for the inbox to take as new audio.
        """
        if self.cfg.jobs.after == "keep":
            return 0
        count = 0
        for job in [*self.store.ended_under(str(self.cfg.paths.inbox)), *self._cut_moves()]:
            if job.host not in (None, self.store.host):
                continue  # another machine of the team finishes its own moves
            try:
                st = Path(job.source_path).lstat()
            except OSError:
                continue
            if (st.st_size, st.st_mtime) == (job.size, job.mtime):
                log.info("job %d: %s was transcribed before the last stop; moving it on now",
                         job.id, job.file)
                self.finish(job)
                count += 1
        return count

    def _cut_moves(self) -> list[Job]:
        """Finished jobs recorded as moved to Processed/ whose file never got there.

        The destination is recorded before the move, so a kill during a move across
        disks leaves the job pointing at Processed/NAME while the file is still in
        the inbox. Pointed back at the inbox file, the move is simply finished:
        taken as new audio instead, it would become a spurious duplicate job.
        """
        cut = []
        for job in self.store.ended_under(str(self.cfg.paths.processed)):
            if os.path.lexists(job.source_path):
                continue
            left = self.cfg.paths.inbox / job.rel_dir / Path(job.source_path).name
            try:
                st = left.lstat()
            except OSError:
                left = self.cfg.paths.inbox / job.rel_dir / job.file
                try:
                    st = left.lstat()
                except OSError:
                    continue
            if (st.st_size, st.st_mtime) == (job.size, job.mtime):
                self.store.set_source(job.id, str(left))
                cut.append(replace(job, source_path=str(left)))
        return cut

    def set_aside(self, job: Job, error: str) -> None:
        """Move a source that failed for good to Failed/ with NAME.error.json beside it."""
        folder = self.cfg.paths.failed / job.rel_dir
        record = {"file": job.file, "job_id": job.id, "error": error,
                  "time": utc_now_iso(), "attempts": job.attempts}
        source = Path(job.source_path)
        try:
            # Already there (set aside before a kill cut the rest short): it stays put.
            target = source if source.parent == folder else sources.free_path(
                folder / source.name)
            # Recorded first: a crash mid-move leaves the job pointing where the file goes.
            self.store.set_source(job.id, str(target))
            try:
                sources.set_aside(source, target, record)
            except OSError:
                if source.exists():  # still where it was: the job must keep pointing at it
                    self.store.set_source(job.id, str(source))
                raise
        except OSError as exc:
            log.error("could not set %s aside in %s: %s", job.file, folder, exc)
