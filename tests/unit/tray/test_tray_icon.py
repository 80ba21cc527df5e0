"""Every icon look is drawn, written by the render CLI, and tells itself apart."""

from __future__ import annotations

from tests.support.tray_icon import differs
from tray import icon
from tray.view import IconLook


def test_memory_levels_change_the_colour() -> None:
    def centre_ring(look: IconLook) -> tuple[int, ...]:
        return icon.render(look).getpixel((32, 6))

    normal = centre_ring(IconLook("idle"))
    warning = centre_ring(IconLook("idle", memory="warning"))
    critical = centre_ring(IconLook("idle", memory="critical"))
    offline = centre_ring(IconLook("offline"))
    assert len({normal, warning, critical, offline}) == 4
    assert warning[0] > warning[2]  # amber: more red than blue
    assert critical[0] > 150 and critical[1] < 100


def test_progress_is_visible() -> None:
    low = icon.render(IconLook("transcribing", progress=10.0))
    high = icon.render(IconLook("transcribing", progress=90.0))
    assert differs(low, high)
