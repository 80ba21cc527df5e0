"""Streaming decode of any audio/video file to 16 kHz mono float32.

Decoding a two-hour recording whole costs hundreds of megabytes before the
model even starts; decoding frame by frame and handing out bounded blocks
keeps the worker's memory flat whatever the file's length. Samples match
faster-whisper's own decoder (s16 resampling, scaled to [-1, 1)).

A resumed job skips audio by decoding and discarding it, not by seeking: a
seek lands on a packet boundary and restarts the resampler, so the samples
after it would differ slightly from an uninterrupted run's, and with them the
chunk cuts and the text. Decoding is a small fraction of transcribing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from voxtrald.files import hashing

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
    # SHA-256 of the very bytes decoded (read again through the same descriptor).
    sha256: str | None = None


def _open(fh: BinaryIO) -> av.container.InputContainer:
    try:
        return av.open(fh, mode="r", metadata_errors="ignore")
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


def decode_blocks(path: Path, stats: DecodeStats, skip: int = 0) -> Iterator[np.ndarray]:
    """Yield float32 mono 16 kHz blocks; damaged packets are skipped and counted.

    The first `skip` samples are decoded (and counted in `stats`) but not yielded.
    The file is opened without following a link and must be a plain file, checked
    on the descriptor that is then decoded and hashed: what the daemon hashed at
    intake and what is transcribed are compared by the job runner.
    """
    try:
        fh = hashing.open_regular(path)
    except hashing.NotRegular as exc:
        raise MediaError(f"{exc}; links and special files are not read") from exc
    with fh:
        yield from _decode(fh, stats, skip)
        fh.seek(0)
        stats.sha256 = hashing.sha256_stream(fh)


def _decode(fh: BinaryIO, stats: DecodeStats, skip: int) -> Iterator[np.ndarray]:
    container = _open(fh)
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
                    block = _skipped(_to_float(out, stats), stats.samples, skip)
                    if block.size:
                        yield block
        for out in resampler.resample(None):
            block = _skipped(_to_float(out, stats), stats.samples, skip)
            if block.size:
                yield block
    finally:
        container.close()
    if stats.bad_packets and not any("damaged" in w for w in stats.warnings):
        stats.warnings.append(f"skipped {stats.bad_packets} damaged packet(s)")
    if stats.samples == 0:
        raise MediaError("no decodable audio (the file is empty, damaged or truncated)")
    shortfall = shortfall_warning(stats.samples / SAMPLE_RATE, stats.duration)
    if shortfall:
        stats.warnings.append(shortfall)


def _skipped(block: np.ndarray, decoded: int, skip: int) -> np.ndarray:
    """The part of `block` (which ends at sample `decoded`) that lies at or after `skip`."""
    start = decoded - block.size
    if decoded <= skip:
        return block[:0]
    return block[max(0, skip - start):]


def shortfall_warning(decoded_s: float, container_s: float | None) -> str | None:
    """A warning when far less audio decoded than the container announces.

    Containers without an exact length (MP3 without a header of frame counts)
    estimate it from the bit rate, so small differences are normal: only a
    shortfall of over 2 s and over 5 % is reported.
    """
    if container_s is None or container_s <= 0:
        return None
    missing = container_s - decoded_s
    if missing > 2.0 and missing > 0.05 * container_s:
        return (f"decoded {decoded_s:.1f} s of {container_s:.1f} s: "
                "the file looks truncated or damaged")
    return None


def _to_float(frame: av.AudioFrame, stats: DecodeStats) -> np.ndarray:
    data = frame.to_ndarray().reshape(-1)
    stats.samples += data.size
    return data.astype(np.float32) / 32768.0
