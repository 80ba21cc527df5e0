"""Container limits from fake cgroup trees (v2 and v1), through the real readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxtrald.memory import available_bytes
from voxtrald.memory.cgroup import parse_limit, parse_self_cgroup, read_cgroup, walk_up
from voxtrald.memory.fakeproc import write_cgroup_v1, write_cgroup_v2, write_meminfo
from voxtrald.memory.figures import BadReading, GiB, HostMemory
from voxtrald.memory.reading import combine, read_system

MiB = 1024**2
V2_SELF = "0::/user.slice/voxtral.service\n"
V1_SELF = "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n"


@pytest.fixture
def hooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    procfs, root = tmp_path / "proc", tmp_path / "cgroup"
    procfs.mkdir()
    root.mkdir()
    monkeypatch.setenv("VOXTRAL_PROCFS", str(procfs))
    monkeypatch.setenv("VOXTRAL_CGROUP_ROOT", str(root))
    return procfs, root


def test_parse_self_cgroup() -> None:
    assert parse_self_cgroup(V2_SELF) == ("/user.slice/voxtral.service", "/")
    assert parse_self_cgroup(V1_SELF) == ("/", "/docker/abc")
    assert parse_self_cgroup("") == ("/", "/")
    assert parse_self_cgroup("garbage\n") == ("/", "/")


def test_walk_up_ends_at_root(tmp_path: Path) -> None:
    assert walk_up(tmp_path, "/a/b") == [tmp_path / "a" / "b", tmp_path / "a", tmp_path]
    assert walk_up(tmp_path, "/") == [tmp_path]
    assert walk_up(tmp_path, "/../x") == [tmp_path / "x", tmp_path]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2147483648\n", 2 * GiB), ("max\n", None), ("9223372036854771712\n", None),
     ("0\n", None), ("", None), ("-1", None), ("12abc", None), ("\u00b2", None)],
)
def test_parse_limit(text: str, expected: int | None) -> None:
    assert parse_limit(text) == expected


def test_v2_limit_2gb_on_16gb_host(hooks: tuple[Path, Path]) -> None:
    procfs, root = hooks
    write_meminfo(procfs, 16 * GiB, 12 * GiB)  # host only 25 % used
    write_cgroup_v2(root, 2 * GiB, current=1800 * MiB, inactive_file=100 * MiB)
    reading = read_system()
    assert reading.limit == "cgroup"
    assert reading.total == 2 * GiB
    # usage = current - inactive file cache = 1700 MiB of 2048 MiB
    assert reading.used == 1700 * MiB
    assert reading.percent == pytest.approx(100 * 1700 / 2048)
    assert reading.available == 348 * MiB
    assert available_bytes() == 348 * MiB
    assert reading.host.total == 16 * GiB


def test_v2_lowest_limit_up_the_tree_wins(tmp_path: Path) -> None:
    leaf = tmp_path / "user.slice" / "voxtral.service"
    write_cgroup_v2(tmp_path, 8 * GiB, current=3 * GiB)
    write_cgroup_v2(tmp_path / "user.slice", 3 * GiB, current=2 * GiB)
    write_cgroup_v2(leaf, "max", current=1 * GiB)
    group = read_cgroup(tmp_path, V2_SELF)
    assert group is not None
    assert (group.version, group.limit, group.path) == (2, 3 * GiB, "/user.slice")
    assert group.usage == 2 * GiB


def test_v2_max_everywhere_is_no_limit(tmp_path: Path) -> None:
    write_cgroup_v2(tmp_path, "max", current=1 * GiB)
    assert read_cgroup(tmp_path, V2_SELF) is None


def test_unreadable_limit_is_no_limit(tmp_path: Path) -> None:
    (tmp_path / "memory.max").mkdir()  # reading it fails with an OSError
    assert read_cgroup(tmp_path, V2_SELF) is None
    assert read_cgroup(tmp_path / "does-not-exist", V2_SELF) is None


def test_v1_limit(tmp_path: Path) -> None:
    folder = tmp_path / "memory" / "docker" / "abc"
    write_cgroup_v1(tmp_path / "memory", 9223372036854771712, usage=10 * GiB)
    write_cgroup_v1(folder, 2 * GiB, usage=1 * GiB, inactive_file=256 * MiB)
    group = read_cgroup(tmp_path, V1_SELF)
    assert group is not None
    assert (group.version, group.limit, group.path) == (1, 2 * GiB, "/docker/abc")
    assert group.used == 768 * MiB


def test_v1_unlimited_is_no_limit(tmp_path: Path) -> None:
    write_cgroup_v1(tmp_path / "memory", 9223372036854771712, usage=10 * GiB)
    assert read_cgroup(tmp_path, V1_SELF) is None


def test_limit_with_unreadable_usage_falls_back_to_host(hooks: tuple[Path, Path]) -> None:
    procfs, root = hooks
    write_meminfo(procfs, 16 * GiB, 8 * GiB)
    write_cgroup_v2(root, 2 * GiB, current=1 * GiB)
    (root / "memory.current").write_text("garbage\n")
    with pytest.raises(BadReading):
        read_cgroup(root, "")
    reading = read_system()
    assert reading.limit == "host"
    assert reading.percent == pytest.approx(50.0)
    assert reading.notes and "memory.current" in reading.notes[0]


def test_limit_above_host_ram_is_host(hooks: tuple[Path, Path]) -> None:
    procfs, root = hooks
    write_meminfo(procfs, 16 * GiB, 8 * GiB)
    write_cgroup_v2(root, 64 * GiB, current=1 * GiB)
    assert read_system().limit == "host"


def test_crowded_host_beats_generous_cgroup() -> None:
    from voxtrald.memory.figures import CgroupMemory

    host = HostMemory(16 * GiB, 1 * GiB)
    roomy = CgroupMemory(2, "/", 8 * GiB, 1 * GiB, 0)
    reading = combine(host, roomy)
    assert reading.limit == "host"
    assert reading.available == 1 * GiB
    tight = CgroupMemory(2, "/", 2 * GiB, int(1.5 * GiB), 0)
    assert combine(host, tight).limit == "cgroup"


def test_bad_host_reading_is_an_error_and_available_bytes_none(hooks: tuple[Path, Path]) -> None:
    procfs, _ = hooks
    (procfs / "meminfo").write_text("MemTotal: 0 kB\nMemAvailable: 0 kB\n")
    with pytest.raises(BadReading):
        read_system()
    assert available_bytes() is None
    (procfs / "meminfo").unlink()
    assert available_bytes() is None
