"""How many 30 s windows the model decodes at once: a pure choice from memory.

Each window in a batch holds its own encoder output and beam states, so a
batch costs memory in proportion to its size (Whisper base, int8, beam 5, on
a 5.7-minute recording: 490 MB peak with batch 1, 820 MB with batch 4, about
90 MB a window on top of the model). The text is the same whatever the batch
size. On 2 CPU cores batch 4 took 34-42 s against 49-51 s for batch 1, for the
same CPU time (it keeps both cores busy); batch 8 was no faster than 4 in
faster-whisper's own pipeline. So the automatic choice stops at 4 on a CPU,
higher on a GPU, and lower whenever memory is short.
"""

from __future__ import annotations

from voxtrald.states import MemoryLevel

MiB = 1024**2
#: Memory left untouched for the rest of the machine before batch items are counted.
RESERVE_BYTES = 1024 * MiB
AUTO_MAX_CPU = 4
AUTO_MAX_ACCELERATOR = 16
#: When memory cannot be read, a size that is safe on any machine that loaded the model.
UNKNOWN_MEMORY_BATCH = 2


def item_bytes(model_bytes: int | None) -> int:
    """Memory one more window in a batch takes, from the model's size on disk.

    Measured: Whisper base (145 MB of int8 weights) takes about 90 MB a window;
    the encoder output and the decoder's cache grow with the model's width,
    which its file size tracks. Unknown size: assume a mid-sized model.
    """
    if not model_bytes:
        return 256 * MiB
    return max(64 * MiB, int(model_bytes * 0.65))


def choose_batch_size(
    requested: int,
    available_bytes: int | None,
    level: MemoryLevel | str,
    model_bytes: int | None,
    device: str = "cpu",
) -> int:
    """Windows per batch: `requested` (0 = automatic), halved at warning, 1 at critical.

    The automatic size is what the memory available now can hold after a
    reserve, capped by what still speeds up the device.
    """
    if level == MemoryLevel.CRITICAL:
        return 1
    if requested > 0:
        size = requested
    elif available_bytes is None:
        size = UNKNOWN_MEMORY_BATCH
    else:
        cap = AUTO_MAX_CPU if device == "cpu" else AUTO_MAX_ACCELERATOR
        fits = (available_bytes - RESERVE_BYTES) // item_bytes(model_bytes)
        size = int(min(cap, max(1, fits)))
    if level == MemoryLevel.WARNING:
        size = max(1, size // 2)
    return size
