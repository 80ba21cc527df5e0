"""Streaming decode of any audio/video file to 16 kHz mono float32.

Decoding a two-hour recording whole costs hundreds of megabytes before the
model even starts; decoding frame by frame and handing out bounded blocks
keeps the worker's memory flat whatever the file's length. Samples match
faster-whisper's own decoder (s16 resampling, scaled to [-1, 1)).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16000
log = logging.getLogger("voxtrald.audio")


class MediaError(Exception):
    """The file cannot be decoded as audio; retrying will not help."""


@dataclass
class DecodeStats:
    duration: float | None = None
    bad_packets: int = 0
    samples: int = 0
    warnings: list[str] = field(default_factory=list)


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.InvalidDataError as exc:
        raise MediaError("not a readable audio or video file (invalid data)") from exc
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot open as audio or video: {exc.strerror or exc}") from exc


def probe_duration(container: av.container.InputContainer) -> float | None:
    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def decode_blocks(path: Path, stats: DecodeStats) -> Iterator[np.ndarray]:
    """Yield float32 mono 16 kHz blocks; damaged packets are skipped and counted."""
    container = _open(path)
    try:
        if not container.streams.audio:
            raise MediaError("the file has no audio stream")
        stream = container.streams.audio[0]
        stream.codec_context.thread_type = "AUTO"
        stats.duration = probe_duration(container)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                # A truncated or damaged container: keep what decoded so far.
                stats.bad_packets += 1
                stats.warnings.append(f"stopped reading at a damaged part: {exc}")
                break
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                stats.bad_packets += 1
                continue
            for frame in frames:
                frame.pts = None
                for out in resampler.resample(frame):
                    yield _to_float(out, stats)
        for out in resampler.resample(None):
            yield _to_float(out, stats)
    finally:
        container.close()
    if stats.bad_packets and not stats.warnings:
        stats.warnings.append(f"skipped {stats.bad_packets} damaged packet(s)")
    if stats.samples == 0 and stats.bad_packets:
        raise MediaError("no decodable audio (the file is damaged or truncated)")


def _to_float(frame: av.AudioFrame, stats: DecodeStats) -> np.ndarray:
    data = frame.to_ndarray().reshape(-1)
    stats.samples += data.size
    return data.astype(np.float32) / 32768.0
