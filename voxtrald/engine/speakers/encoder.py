"""The GE2E speaker encoder run by onnxruntime (a faster-whisper dependency; no torch).

One session for the worker's life, on as many threads as the whisper model
uses, fed batches of 1.6 s mel windows; returns unit-length 256-d vectors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voxtrald.models import speaker as pin

FRAMES = 160  # 1.6 s of 10 ms frames
BATCH = 64


class SpeakerEncoder:
    def __init__(self, threads: int = 0, path: Path | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(0, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        model = pin.verified_path(path) if path else pin.verified_path()
        self._session = ort.InferenceSession(str(model), options,
                                             providers=["CPUExecutionProvider"])

    def embed(self, mels: np.ndarray) -> np.ndarray:
        """(n, 160, 40) mel windows → (n, 256) unit vectors, in batches."""
        out = [self._session.run(None, {"mels": mels[i:i + BATCH].astype(np.float32)})[0]
               for i in range(0, len(mels), BATCH)]
        return np.concatenate(out) if out else np.zeros((0, 256), np.float32)
