"""Which stretches of a chunk the model reads: speech, in windows of at most 30 s.

faster-whisper's batched pipeline glues every speech stretch of a file
together, silences cut out, into 30 s windows. Across a long silence that
glues unrelated speech (another speaker, another language, the end of one
talk and the start of the next) into one window, and the decoder, writing
the window without timestamps, then often stops after the first part: on a
5-minute test file built from several recordings, 130 of 797 words were
lost that way. Here a window is one contiguous stretch of the original
audio: it ends before it would pass 30 s, and before a pause of MAX_GAP
seconds or more (silence or noise that long is not worth decoding, and is
where the model invents words), so the decoder sees speech as it was spoken
and times need no mapping back. Shorter pauses stay inside: a window per
word of a slowly read list cost twice the time for the same text. Pure
function.
"""

from __future__ import annotations

from collections.abc import Sequence

from voxtrald.engine.audio import SAMPLE_RATE

WINDOW_SECONDS = 30.0
#: A pause this long (or longer) between speech stretches starts a new window.
MAX_GAP_SECONDS = 5.0


def plan_windows(
    spans: Sequence[tuple[int, int]],
    max_seconds: float = WINDOW_SECONDS,
    max_gap_seconds: float = MAX_GAP_SECONDS,
) -> list[tuple[int, int]]:
    """Group speech spans (sample ranges, in order) into contiguous windows.

    A span longer than a window (VAD splits speech at 30 s, so only by a
    few samples) is cut into window-sized parts.
    """
    limit = int(max_seconds * SAMPLE_RATE)
    gap = int(max_gap_seconds * SAMPLE_RATE)
    windows: list[tuple[int, int]] = []
    for start, end in spans:
        if end <= start:
            continue
        if windows:
            w_start, w_end = windows[-1]
            if start - w_end < gap and end - w_start <= limit:
                windows[-1] = (w_start, max(w_end, end))
                continue
        while end - start > limit:
            windows.append((start, start + limit))
            start += limit
        windows.append((start, end))
    return windows
