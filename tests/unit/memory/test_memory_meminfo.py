"""meminfo and PSI parsing, including what broken or hostile files look like."""

from __future__ import annotations

import pytest

from voxtrald.memory.fakeproc import meminfo_text
from voxtrald.memory.figures import BadReading, GiB
from voxtrald.memory.meminfo import parse_fields, parse_meminfo, parse_pressure

REAL = """MemTotal:       24684092 kB
MemFree:        24277728 kB
MemAvailable:   24307420 kB
Buffers:            2968 kB
Cached:           209240 kB
SwapTotal:       2097148 kB
SwapFree:        1048574 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
"""


def test_parse_real_layout() -> None:
    host = parse_meminfo(REAL)
    assert host.total == 24684092 * 1024
    assert host.available == 24307420 * 1024
    assert host.swap_total == 2097148 * 1024
    assert host.swap_free == 1048574 * 1024
    assert parse_fields(REAL)["HugePages_Total"] == 0


def test_fake_writer_round_trips() -> None:
    host = parse_meminfo(meminfo_text(16 * GiB, 4 * GiB))
    assert (host.total, host.available, host.swap_total) == (16 * GiB, 4 * GiB, 0)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "lacks MemTotal"),
        ("MemTotal: 1000 kB\n", "lacks MemAvailable"),
        ("MemAvailable: 1000 kB\n", "lacks MemTotal"),
        ("MemTotal: 0 kB\nMemAvailable: 0 kB\n", "MemTotal is 0"),
        ("MemTotal: lots kB\nMemAvailable: 10 kB\n", "lacks MemTotal"),
        ("MemTotal: -5 kB\nMemAvailable: 10 kB\n", "lacks MemTotal"),
        ("MemTotal: 100 kB\nMemAvailable: 200 kB\n", "MemAvailable"),
        ("\x00\xff garbage \n\n::::\n", "lacks"),
        ("MemTotal: 10 parsecs\nMemAvailable: 5 kB\n", "lacks MemTotal"),
        ("MemTotal: \u00b2 kB\nMemAvailable: 5 kB\n", "lacks MemTotal"),
    ],
)
def test_bad_meminfo_is_a_bad_reading(text: str, why: str) -> None:
    with pytest.raises(BadReading, match=why):
        parse_meminfo(text)


def test_missing_swap_means_no_swap() -> None:
    host = parse_meminfo("MemTotal: 100 kB\nMemAvailable: 50 kB\n")
    assert (host.swap_total, host.swap_free) == (0, 0)


def test_pressure() -> None:
    text = (
        "some avg10=1.50 avg60=0.25 avg300=0.00 total=123\n"
        "full avg10=0.75 avg60=0.10 avg300=0.00 total=45\n"
    )
    p = parse_pressure(text)
    assert p is not None
    assert (p.some_avg10, p.some_avg60, p.full_avg10, p.full_avg60) == (1.5, 0.25, 0.75, 0.1)


def test_pressure_without_full_line_and_garbage() -> None:
    p = parse_pressure("some avg10=2.00 avg60=1.00 avg300=0.00 total=1\n")
    assert p is not None and p.full_avg10 is None
    assert parse_pressure("") is None
    assert parse_pressure("some avg10=x avg60=y\n") is None
    assert parse_pressure("full avg10=1.0 avg60=1.0\n") is None
