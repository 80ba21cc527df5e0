"""The tray icon, drawn with Pillow at run time.

Drawing instead of shipping PNGs keeps every combination (activity, memory
level, progress, update badge) available without a file per case. The colour
carries the urgent part (amber warning, red critical, grey offline) and the
glyph the activity, so both read at 16 px.

`python -m tray.icon --render DIR` writes one PNG per look for a person to check.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from tray.view import IconLook
from voxtrald.states import MemoryLevel

SIZE = 64
_SCALE = 4  # drawn large and scaled down, for smooth edges

COLOURS: dict[str, tuple[int, int, int]] = {
    MemoryLevel.NORMAL: (37, 117, 214),
    MemoryLevel.WARNING: (232, 152, 20),
    MemoryLevel.CRITICAL: (212, 40, 40),
    "offline": (128, 128, 128),
}
WHITE = (255, 255, 255, 255)
BADGE = (40, 170, 80, 255)
FAILED = (212, 40, 40, 255)

# Every look worth checking by eye; the keys name the PNG files.
SAMPLE_LOOKS: dict[str, IconLook] = {
    "offline": IconLook("offline"),
    "idle": IconLook("idle"),
    "transcribing-0": IconLook("transcribing", progress=0.0),
    "transcribing-40": IconLook("transcribing", progress=40.0),
    "transcribing-75": IconLook("transcribing", progress=75.0),
    "paused": IconLook("paused"),
    "memory-warning": IconLook("idle", memory=MemoryLevel.WARNING),
    "memory-critical": IconLook("idle", memory=MemoryLevel.CRITICAL),
    "transcribing-40-warning": IconLook("transcribing", memory=MemoryLevel.WARNING, progress=40.0),
    "paused-critical": IconLook("paused", memory=MemoryLevel.CRITICAL),
    "idle-update": IconLook("idle", badge=True),
    "idle-failed": IconLook("idle", failed=True),
}


def _waveform(draw: ImageDraw.ImageDraw, s: int, heights: tuple[float, ...]) -> None:
    """A few rounded bars: the sound the daemon listens to."""
    bar = s * 0.07
    gap = s * 0.045
    total = len(heights) * bar + (len(heights) - 1) * gap
    x = (s - total) / 2
    for h in heights:
        half = s * h / 2
        draw.rounded_rectangle((x, s / 2 - half, x + bar, s / 2 + half), radius=bar / 2, fill=WHITE)
        x += bar + gap


def _pause(draw: ImageDraw.ImageDraw, s: int) -> None:
    w, h = s * 0.1, s * 0.34
    for cx in (s * 0.42, s * 0.58):
        draw.rounded_rectangle(
            (cx - w / 2, s / 2 - h / 2, cx + w / 2, s / 2 + h / 2), radius=w / 3, fill=WHITE
        )


def _offline(draw: ImageDraw.ImageDraw, s: int) -> None:
    _waveform(draw, s, (0.12, 0.12, 0.12, 0.12, 0.12))
    draw.line((s * 0.27, s * 0.73, s * 0.73, s * 0.27), fill=WHITE, width=int(s * 0.06))


def _progress_ring(
    draw: ImageDraw.ImageDraw, s: int, percent: float, colour: tuple[int, int, int]
) -> None:
    # Thick enough to read at 22 px: a thin ring in 5 % steps was a blur there.
    inset = s * 0.06
    box = (inset, inset, s - inset, s - inset)
    width = int(s * 0.13)
    # The track is the background lightened, drawn opaque (Pillow replaces, not blends).
    track = tuple(int(c + (255 - c) * 0.35) for c in colour)
    draw.ellipse(box, outline=(*track, 255), width=width)
    if percent > 0:
        draw.arc(box, -90, -90 + 360 * min(percent, 100) / 100, fill=WHITE, width=width)


@functools.lru_cache(maxsize=64)
def render(look: IconLook, size: int = SIZE, opaque: bool = False) -> Image.Image:
    """The icon for a look; cached because a poll usually asks for the same one.

    `opaque`: drawn edge to edge with no transparent pixel, for trays that lose the
    alpha channel (pystray's X11 backend pastes the icon onto black)."""
    s = size * _SCALE
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    key = "offline" if look.activity == "offline" else look.memory
    colour = COLOURS.get(key, COLOURS[MemoryLevel.NORMAL])
    if opaque:
        draw.rectangle((0, 0, s, s), fill=(*colour, 255))
    else:
        draw.ellipse((s * 0.02, s * 0.02, s * 0.98, s * 0.98), fill=(*colour, 255))
    if look.activity == "offline":
        _offline(draw, s)
    elif look.activity == "paused":
        _pause(draw, s)
    elif look.activity == "transcribing":
        _progress_ring(draw, s, look.progress or 0.0, colour)
        _waveform(draw, s, (0.12, 0.26, 0.36, 0.26, 0.12))
    else:
        _waveform(draw, s, (0.16, 0.3, 0.44, 0.3, 0.16))
    if look.memory == MemoryLevel.CRITICAL and look.activity != "offline":
        # An exclamation mark in the corner, so red is not the only clue.
        draw.ellipse((s * 0.0, s * 0.62, s * 0.36, s * 0.98), fill=WHITE)
        draw.rounded_rectangle(
            (s * 0.16, s * 0.68, s * 0.2, s * 0.84), radius=s * 0.02, fill=(*colour, 255)
        )
        draw.ellipse((s * 0.155, s * 0.87, s * 0.205, s * 0.92), fill=(*colour, 255))
    if look.badge:
        draw.ellipse((s * 0.62, s * 0.0, s * 0.98, s * 0.36), fill=WHITE)
        draw.ellipse((s * 0.67, s * 0.05, s * 0.93, s * 0.31), fill=BADGE)
    if look.failed:
        # A red mark with a white cross in the lower right: jobs failed for good.
        draw.ellipse((s * 0.6, s * 0.6, s * 1.0, s * 1.0), fill=WHITE)
        draw.ellipse((s * 0.65, s * 0.65, s * 0.95, s * 0.95), fill=FAILED)
        w = int(s * 0.05)
        draw.line((s * 0.73, s * 0.73, s * 0.87, s * 0.87), fill=WHITE, width=w)
        draw.line((s * 0.73, s * 0.87, s * 0.87, s * 0.73), fill=WHITE, width=w)
    img = img.resize((size, size), Image.Resampling.LANCZOS)
    if opaque:
        # Resampling leaves soft alpha at the badges' edges: flatten onto the colour.
        back = Image.new("RGBA", img.size, (*colour, 255))
        img = Image.alpha_composite(back, img)
    return img


def render_all(folder: Path, size: int = SIZE) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, look in SAMPLE_LOOKS.items():
        path = folder / f"{name}.png"
        render(look, size).save(path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tray.icon", description=__doc__)
    parser.add_argument(
        "--render",
        metavar="DIR",
        type=Path,
        required=True,
        help="write every icon look as DIR/<look>.png",
    )
    parser.add_argument("--size", type=int, default=SIZE, help="pixels per side (default 64)")
    args = parser.parse_args(argv)
    for path in render_all(args.render, args.size):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
