"""The transcriber's one handle on speakers: windows per chunk, speakers at the end.

The encoder is loaded the first time a file wants speakers, so a worker
with speakers off never pays for it. If the speaker model cannot be used
(a damaged file), the transcript is still written, without labels, and says
why in its warnings: speakers are never worth losing the text over.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from voxtrald.engine.speakers import choice
from voxtrald.engine.speakers.assign import speaker_windows
from voxtrald.engine.speakers.encoder import SpeakerEncoder
from voxtrald.engine.speakers.windows import chunk_voices
from voxtrald.models.integrity import ModelError
from voxtrald.transcripts.voices import Voice

log = logging.getLogger("voxtrald.speakers")


class Speakers:
    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._encoder: SpeakerEncoder | None = None
        self._broken: str | None = None

    def _ready(self) -> SpeakerEncoder | None:
        if self._encoder is None and self._broken is None:
            try:
                self._encoder = SpeakerEncoder(self.threads)
            except (ModelError, OSError, RuntimeError) as exc:
                self._broken = f"speakers were not told apart: {exc}"
                log.error("%s", self._broken)
        return self._encoder

    def chunk(self, setting: str, samples: np.ndarray, spans: list[tuple[int, int]],
              offset_s: float) -> tuple[Voice, ...]:
        """This chunk's voice windows, or () when speakers are off for the file."""
        if not _wanted(setting).enabled:
            return ()
        encoder = self._ready()
        if encoder is None:
            return ()
        try:
            return chunk_voices(encoder, samples, spans, offset_s)
        except Exception as exc:  # onnxruntime's own errors: the text goes on without labels
            self._broken = f"speakers were not told apart: the speaker model failed ({exc})"
            log.exception("speaker windows of a chunk failed")
            return ()

    def finish(self, setting: str, voices: Sequence[Voice]
               ) -> tuple[tuple[tuple[float, int], ...], list[str]]:
        """Every window's speaker, and the warnings for the transcript."""
        wanted = _wanted(setting)
        if not wanted.enabled:
            return (), []
        if self._broken:
            note = self._broken
            if self._encoder is not None:  # a failure while running: the next file tries again
                self._broken = None
            return (), [note]
        return speaker_windows(voices, wanted.count), []


def _wanted(setting: str) -> choice.SpeakerChoice:
    """The daemon checks settings; one that still is not valid here means off, not a crash."""
    try:
        return choice.parse(setting)
    except ValueError:
        log.warning("speakers setting %r not understood: speakers off for this file", setting)
        return choice.SpeakerChoice(False, None)
