"""The one atomic writer and every writer built on it, down to a really full disk."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import tmpfs
from tray import statefile
from voxtrald.api import endpoint
from voxtrald.files import atomic
from voxtrald.jobs import sources
from voxtrald.transcripts import outputs
from voxtrald.transcripts.segments import Segment, Word
from voxtrald.updates import state as update_state

POSIX_MODES = pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX")


def temps(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.startswith(atomic.TEMP_PREFIX)]


# -- the writer --------------------------------------------------------------------------


def test_write_atomic_replaces_and_is_private_by_default(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    atomic.write_atomic(target, "new")
    assert target.read_text() == "new"
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o600
    atomic.write_atomic(target, b"\x00bytes", mode=0o640)
    assert target.read_bytes() == b"\x00bytes"
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o640
    assert temps(tmp_path) == []


def test_staged_temps_are_unique_hidden_and_not_mistaken_for_the_file(tmp_path: Path) -> None:
    target = tmp_path / "voxtrald.service"
    a, b = atomic.stage(target, "a"), atomic.stage(target, "b")
    assert a != b and a.parent == b.parent == tmp_path
    for tmp in (a, b):
        assert tmp.name.startswith(".voxtral-tmp-") and tmp.suffix == ".tmp"
    atomic.discard([(a, target), (b, target)])
    assert list(tmp_path.iterdir()) == []


def test_commit_reports_what_it_placed_and_clears_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    targets = [tmp_path / f"{n}.txt" for n in "abc"]
    staged = [(atomic.stage(t, t.name), t) for t in targets]
    real_replace = os.replace

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst).name == "b.txt":
            raise OSError(errno.EIO, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    placed: list[Path] = []
    with pytest.raises(OSError):
        atomic.commit(staged, placed)
    assert placed == [targets[0]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_a_write_that_fails_removes_its_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    target = tmp_path / "x.json"
    with pytest.raises(OSError, match="No space"):
        atomic.write_atomic(target, "{}")
    assert list(tmp_path.iterdir()) == []


def test_stale_sweep_does_not_follow_links(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / f"{atomic.TEMP_PREFIX}keep.tmp").write_text("not ours to remove")
    folder = tmp_path / "Transcripts"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "link").symlink_to(elsewhere, target_is_directory=True)
    (folder / "sub" / f"{atomic.TEMP_PREFIX}abc.tmp").write_text("half")
    assert atomic.remove_stale(folder) == 1
    assert (elsewhere / f"{atomic.TEMP_PREFIX}keep.tmp").exists()


# -- writers built on it -----------------------------------------------------------------


@POSIX_MODES
def test_tcp_token_file_is_private_and_never_written_through_a_planted_link(
    tmp_path: Path,
) -> None:
    sock = tmp_path / "voxtrald.sock"
    victim = tmp_path / "victim"
    victim.write_text("precious")
    # The name the old writer used: a link planted there was followed and truncated.
    old_tmp = endpoint.endpoint_file(sock).with_name(
        endpoint.endpoint_file(sock).name + f".{os.getpid()}.tmp")
    old_tmp.symlink_to(victim)
    path = endpoint.write_tcp_endpoint(sock, endpoint.TcpEndpoint("127.0.0.1", 4242, "s3cret"))
    assert path.stat().st_mode & 0o777 == 0o600
    assert endpoint.read_tcp_endpoint(sock) == endpoint.TcpEndpoint("127.0.0.1", 4242, "s3cret")
    assert victim.read_text() == "precious"
    assert temps(tmp_path) == []


def test_update_state_and_tray_state_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "state" / "update-state.json"
    update_state.save(path, {"dismissed": ["1.2.0"], "etag": "W/1"})
    assert update_state.load(path)["dismissed"] == ["1.2.0"]
    tray_file = tmp_path / "tray" / "tray.json"
    assert statefile.save_announced(tray_file, frozenset({"1.1.0", "1.0.1"}))
    assert statefile.load_announced(tray_file) == {"1.1.0", "1.0.1"}
    assert temps(tmp_path) == []


def test_set_aside_report_is_atomic_and_fits(tmp_path: Path) -> None:
    inbox, failed = tmp_path / "Inbox", tmp_path / "Failed"
    inbox.mkdir()
    name = "ü" * 125 + ".wav"  # 254 bytes: fine as a source, too long with .error.json
    source = inbox / name
    source.write_bytes(b"RIFF")
    (failed / name).parent.mkdir()
    (failed / name).write_bytes(b"an earlier one")
    target = sources.free_path(failed / name)
    assert target.name != name and target.suffix == ".wav"
    assert len(os.fsencode(target.name)) <= 255
    sources.set_aside(source, target, {"file": name, "error": "no audio"})
    report = sources.report_path(target)
    assert report.name.endswith(".error.json") and len(os.fsencode(report.name)) <= 255
    assert json.loads(report.read_text())["error"] == "no audio"
    assert temps(tmp_path) == []
    back = sources.bring_back(target, inbox)
    assert back.exists() and not report.exists()


# -- a really full disk ------------------------------------------------------------------


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, so writes fail with ENOSPC for real (needs root, as in CI)."""
    with tmpfs(tmp_path / "tiny", "size=64k,mode=0755") as folder:
        yield folder


def big_transcript(n: int = 400) -> list[Segment]:
    words = tuple(Word(f" word{i}", i * 0.4, i * 0.4 + 0.3, 0.9) for i in range(n))
    return [Segment(0.0, n * 0.4, "".join(w.word for w in words), words=words)]


def test_a_full_disk_leaves_no_temp_and_no_part_of_a_set(full_disk: Path) -> None:
    keep = full_disk / "earlier.txt"
    keep.write_text("an earlier transcript\n")
    with pytest.raises(OSError) as failure:
        outputs.write_transcripts(full_disk, "talk", outputs.FORMATS, big_transcript(), {})
    assert failure.value.errno == errno.ENOSPC
    assert sorted(p.name for p in full_disk.iterdir()) == ["earlier.txt"]
    # A set that fits still goes in after the failure: nothing was left taking room.
    small = [Segment(0.0, 1.0, " Fits.")]
    outputs.write_transcripts(full_disk, "small", outputs.FORMATS, small, {})
    assert sorted(p.name for p in full_disk.iterdir()) == [
        "earlier.txt", "small.json", "small.srt", "small.txt", "small.vtt"]


def test_every_writer_cleans_up_on_a_full_disk(full_disk: Path) -> None:
    filler = full_disk / "filler"
    with pytest.raises(OSError), filler.open("wb") as fh:
        while True:
            fh.write(b"\0" * 4096)
            fh.flush()
    big = "x" * 8192
    with pytest.raises(OSError):
        atomic.write_atomic(full_disk / "a.json", big)
    with pytest.raises(OSError):
        update_state.save(full_disk / "update-state.json", {"error": big})
    assert statefile.save_announced(full_disk / "tray.json",
                                    frozenset(f"1.{i}.0" for i in range(2000))) is False
    source = full_disk / "in.wav"
    with pytest.raises(OSError):
        sources.set_aside(source, full_disk / "out.wav", {"error": big})
    assert temps(full_disk) == []
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]
