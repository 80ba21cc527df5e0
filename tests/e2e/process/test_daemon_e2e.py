"""The daemon end to end: a real subprocess, the real model, real files dropped in."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DaemonProc
from tests.support.waiting import wait_for
from voxtrald.transcripts.outputs import TEMP_PREFIX

FOX_WORDS = ("quick", "fox", "lazy", "dog")


def words(text: str) -> list[str]:
    return [w.strip(".,!?;:\"'").lower() for w in text.split()]


def outputs_of(d: DaemonProc, stem: str) -> dict[str, str]:
    return {fmt: (d.transcripts / f"{stem}.{fmt}").read_text(encoding="utf-8")
            for fmt in ("txt", "srt", "vtt", "json")}


def start_and_fail(tmp_path: Path, *args: str, config: str = "") -> str:
    """Run `voxtrald run` expected to refuse to start; returns the one line saying why."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(config)
    env = dict(os.environ, VOXTRAL_CONFIG=str(cfg), VOXTRAL_SOCKET=str(tmp_path / "s.sock"))
    defaults = {"--state-dir": str(tmp_path / "st"), "--inbox": str(tmp_path / "in")}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        defaults[flag] = value
    argv = [sys.executable, "-m", "voxtrald", "run"]
    for flag, value in defaults.items():
        argv += [flag, value]
    res = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr, res.stderr
    # Log lines may come first; the reason itself is one line of its own.
    (reason,) = [line for line in res.stderr.splitlines() if line.startswith("voxtrald: ")]
    return reason


def assert_no_temp_files(folder: Path) -> None:
    leftovers = [p for p in folder.rglob("*") if p.name.startswith(TEMP_PREFIX)]
    assert leftovers == []


def test_drop_a_file_get_all_four_transcripts(daemon: DaemonProc, data_dir: Path) -> None:
    daemon.drop(data_dir / "fox.wav", "meeting notes é.wav")
    (job,) = daemon.wait_jobs(1)
    out = outputs_of(daemon, "meeting notes é")
    for word in FOX_WORDS:
        assert word in words(out["txt"]), out["txt"]
    assert "-->" in out["srt"] and out["srt"].startswith("1\n00:00:0")
    assert out["vtt"].startswith("WEBVTT")
    doc = json.loads(out["json"])
    assert doc["language"] == "en"
    assert doc["model"] == "tiny.en"
    assert 3.0 < doc["duration"] < 4.0
    assert doc["segments"] and all(s["end"] > s["start"] for s in doc["segments"])
    assert doc["timing"]["wall_seconds"] > 0
    # The source moves on right after the job is recorded done.
    daemon.wait_for((daemon.processed / "meeting notes é.wav").exists, 30, "the source moved")
    assert not (daemon.inbox / "meeting notes é.wav").exists()
    assert job["percent"] == 100 and job["attempts"] == 1
    assert_no_temp_files(daemon.transcripts)
    # Logged just after the move: waited for, not read the moment the file moved.
    daemon.wait_for(lambda: "real-time factor" in daemon.log(), 30, "the job's log line")


def test_a_file_written_slowly_is_taken_once_complete(
    daemon_factory, data_dir: Path
) -> None:
    d = daemon_factory({"inbox": {"settle_seconds": 1.5}})
    data = (data_dir / "fox.wav").read_bytes()
    target = d.inbox / "slow.wav"
    with target.open("wb") as fh:
        step = len(data) // 8
        for i in range(0, len(data), step):
            fh.write(data[i:i + step])
            fh.flush()
            time.sleep(0.5)
    (job,) = d.wait_jobs(1)
    assert len(d.jobs()) == 1
    assert job["size"] == len(data)
    for word in FOX_WORDS:
        assert word in words((d.transcripts / "slow.txt").read_text())


def test_same_audio_under_two_names_is_transcribed_once(
    daemon: DaemonProc, data_dir: Path
) -> None:
    daemon.drop(data_dir / "stella.mp3", "first.mp3")
    daemon.drop(data_dir / "stella.mp3", "second copy.mp3")
    daemon.wait_for(lambda: len(daemon.jobs()) == 2 and all(
        j["state"] in ("done", "duplicate") for j in daemon.jobs()), 60, "both files handled")
    states = sorted(j["state"] for j in daemon.jobs())
    assert states == ["done", "duplicate"]
    dup = next(j for j in daemon.jobs() if j["state"] == "duplicate")
    done = next(j for j in daemon.jobs() if j["state"] == "done")
    assert dup["duplicate_of"] == done["id"]
    assert len(list(daemon.transcripts.glob("*.txt"))) == 1
    # Neither copy is lost: both leave the inbox for Processed/ (right after their records).
    daemon.wait_for(lambda: sorted(p.name for p in daemon.processed.iterdir())
                    == ["first.mp3", "second copy.mp3"], 30, "both copies in Processed/")


def test_kill_9_mid_job_then_restart_completes_without_partial_output(
    daemon_factory, data_dir: Path
) -> None:
    d = daemon_factory({"engine": {"chunk_seconds_low": 10, "chunk_seconds_mid": 10,
                                   "chunk_seconds_high": 10}})
    d.drop(data_dir / "story.flac")
    d.wait_for(lambda: (d.status()["current_job"] or {}).get("percent", 0) > 0, 60,
               "the job to be under way")
    worker_pid = d.status()["worker"]["pid"]
    d.kill()
    # The worker dies with the daemon instead of finishing the job unattended.
    wait_for(lambda: not Path(f"/proc/{worker_pid}").exists(), 10, "the orphaned worker to end")
    assert list(d.transcripts.glob("story*")) == []
    assert_no_temp_files(d.transcripts)
    assert (d.inbox / "story.flac").exists()
    d.start()
    (job,) = d.wait_jobs(1, timeout=90)
    assert job["state"] == "done"
    assert sorted(p.name for p in d.transcripts.iterdir()) == [
        "story.json", "story.srt", "story.txt", "story.vtt"]
    assert_no_temp_files(d.transcripts)


def test_sigterm_mid_job_stops_quickly_and_the_job_runs_at_next_start(
    daemon_factory, data_dir: Path
) -> None:
    d = daemon_factory({"engine": {"chunk_seconds_low": 10, "chunk_seconds_mid": 10,
                                   "chunk_seconds_high": 10}})
    d.drop(data_dir / "story.flac")
    d.wait_for(lambda: d.status()["state"] == "transcribing", 60, "transcribing")
    # Stopped mid-job: the job did not run on to its end (no transcript), and the daemon
    # ended of its own accord (0), not killed after the stop's grace.
    assert d.stop() == 0
    assert list(d.transcripts.glob("story*")) == []
    d.start()
    (job,) = d.wait_jobs(1, timeout=90)
    assert job["attempts"] == 1  # an interrupted attempt is not the file's fault


def test_long_audio_is_cut_in_chunks_without_losing_or_repeating_words(
    daemon_factory, data_dir: Path
) -> None:
    d = daemon_factory({"engine": {"chunk_seconds_low": 10, "chunk_seconds_mid": 10,
                                   "chunk_seconds_high": 10}})
    d.drop(data_dir / "story.flac")
    d.wait_jobs(1, timeout=90)
    doc = json.loads((d.transcripts / "story.json").read_text())
    assert doc["timing"]["chunks"] >= 3
    text = words(doc["text"])
    # Words the model hears right in every sentence, first to last.
    for word in ("once", "sunrise", "children", "square", "monsters", "storm", "together",
                 "water", "village"):
        assert word in text, f"{word!r} missing from {doc['text']!r}"
    for word in ("sunrise", "children", "monsters", "together", "water"):
        assert text.count(word) == 1, f"{word!r} repeated in {doc['text']!r}"
    starts = [s["start"] for s in doc["segments"]]
    assert starts == sorted(starts) and doc["segments"][-1]["end"] > 30


def test_worker_crash_fails_only_that_attempt(daemon_factory, data_dir: Path) -> None:
    d = daemon_factory({"engine": {"chunk_seconds_low": 10, "chunk_seconds_mid": 10,
                                   "chunk_seconds_high": 10}})
    d.drop(data_dir / "story.flac")
    d.wait_for(lambda: (d.status()["current_job"] or {}).get("percent", 0) > 0, 60, "running")
    os.kill(d.status()["worker"]["pid"], signal.SIGKILL)
    (job,) = d.wait_jobs(1, timeout=90)
    assert job["attempts"] == 2
    assert "SIGKILL" in d.log()
    assert d.api("GET", "/api/health")[0] == 200


def test_bad_inputs_each_get_a_clear_outcome(daemon: DaemonProc, data_dir: Path) -> None:
    d = daemon
    good = (data_dir / "fox.wav").read_bytes()
    mp3 = (data_dir / "stella.mp3").read_bytes()
    flac = (data_dir / "story.flac").read_bytes()
    (d.inbox / "empty.wav").write_bytes(b"")
    (d.inbox / "cut.mp3").write_bytes(mp3[: len(mp3) // 2])
    (d.inbox / "cut.flac").write_bytes(flac[: len(flac) // 3])
    d.drop(data_dir / "not_audio.wav", "text renamed.wav")
    d.drop(data_dir / "silence.flac", "long silence.flac")
    (d.inbox / "notes.txt").write_text("not media")
    (d.inbox / "download.mp3.part").write_bytes(mp3)
    (d.inbox / ".hidden.wav").write_bytes(good)
    (d.inbox / "sub folder").mkdir()
    d.drop(data_dir / "fox.wav", "sub folder/Ünïcode name.wav")
    gone = d.inbox / "gone.wav"
    gone.write_bytes(good[:1000])
    gone.unlink()

    d.wait_for(lambda: len(d.jobs()) == 6 and all(
        j["state"] in ("done", "failed") for j in d.jobs()), 120, "six jobs finished")
    by_file = {j["file"]: j for j in d.jobs()}
    assert set(by_file) == {"empty.wav", "cut.mp3", "cut.flac", "text renamed.wav",
                            "long silence.flac", "Ünïcode name.wav"}

    assert by_file["empty.wav"]["state"] == "failed"
    assert "empty" in by_file["empty.wav"]["error"]
    assert by_file["text renamed.wav"]["state"] == "failed"
    assert by_file["text renamed.wav"]["attempts"] == 1  # retrying cannot help
    error_doc = json.loads((d.failed / "text renamed.wav.error.json").read_text())
    assert error_doc["error"] == by_file["text renamed.wav"]["error"]
    assert error_doc["attempts"] == 1 and error_doc["time"]
    assert (d.failed / "text renamed.wav").exists() and (d.failed / "empty.wav").exists()

    # Truncated recordings keep what could be decoded.
    assert by_file["cut.flac"]["state"] == "done"
    assert "village" in words((d.transcripts / "cut.txt").read_text()) or \
        "village" in words((d.transcripts / "cut-2.txt").read_text())
    assert by_file["cut.mp3"]["state"] == "done"

    silence = by_file["long silence.flac"]
    assert silence["state"] == "done"
    assert (d.transcripts / "long silence.txt").read_text().strip() == ""
    assert json.loads((d.transcripts / "long silence.json").read_text())["duration"] == 90.0

    assert (d.transcripts / "sub folder" / "Ünïcode name.txt").exists()
    d.wait_for((d.processed / "sub folder" / "Ünïcode name.wav").exists, 30,
               "the source moved")

    # Left alone where they are, and said so once.
    for name in ("notes.txt", "download.mp3.part", ".hidden.wav"):
        assert (d.inbox / name).exists()
    assert d.log().count("ignoring notes.txt") == 1
    assert d.api("GET", "/api/health")[0] == 200


def test_two_sources_with_the_same_stem_never_overwrite(
    daemon: DaemonProc, data_dir: Path
) -> None:
    daemon.drop(data_dir / "fox.wav", "talk.wav")
    daemon.wait_jobs(1)
    daemon.drop(data_dir / "stella.mp3", "talk.mp3")
    daemon.wait_jobs(2)
    assert "fox" in words((daemon.transcripts / "talk.txt").read_text())
    assert "bring" in words((daemon.transcripts / "talk-2.txt").read_text())


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files whatever their mode")
def test_unreadable_file_fails_with_the_reason(daemon: DaemonProc, data_dir: Path) -> None:
    target = daemon.inbox / "locked.wav"
    shutil.copyfile(data_dir / "fox.wav", target)
    target.chmod(0)
    (job,) = daemon.wait_jobs(1, states=("failed",))
    assert "permission" in job["error"]


def test_unwritable_transcripts_folder_fails_jobs_and_keeps_sources(
    daemon_factory, data_dir: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the transcripts folder should be")
    d = daemon_factory({"jobs": {"max_attempts": 2}})
    d.stop()
    d.transcripts = blocker / "Transcripts"
    d.start()
    d.drop(data_dir / "fox.wav")
    (job,) = d.wait_jobs(1, states=("failed",))
    assert "cannot write transcripts" in job["error"]
    assert job["attempts"] == 2
    assert (d.inbox / "fox.wav").exists()
    assert not (d.failed / "fox.wav").exists()
    assert d.api("GET", "/api/health")[0] == 200


def test_inbox_missing_at_start_is_created_and_removed_inbox_recreated(
    daemon: DaemonProc, data_dir: Path
) -> None:
    assert daemon.inbox.is_dir()  # created at start: the fixture never made it
    shutil.rmtree(daemon.inbox)
    daemon.wait_for(daemon.inbox.is_dir, 10, "the inbox to be recreated")
    daemon.drop(data_dir / "fox.wav")
    daemon.wait_jobs(1)
    assert "disappeared" in daemon.log()


def test_files_dropped_while_down_are_picked_up_at_start(
    daemon_factory, data_dir: Path
) -> None:
    d = daemon_factory()
    d.stop()
    shutil.copyfile(data_dir / "fox.wav", d.inbox / "while down.wav")
    d.start()
    (job,) = d.wait_jobs(1)
    assert job["file"] == "while down.wav"


def test_bad_config_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    assert "engine.beam_sise" in start_and_fail(tmp_path, config="[engine]\nbeam_sise = 5\n")
    err = start_and_fail(tmp_path, config='[jobs]\nafter = "shred"\n')
    assert "jobs.after" in err and "move" in err


def test_a_model_that_cannot_load_is_a_start_up_error(tmp_path: Path) -> None:
    broken = tmp_path / "model"
    broken.mkdir()
    (broken / "model.bin").write_bytes(b"junk")
    assert f"cannot load model '{broken}'" in start_and_fail(tmp_path, "--model", str(broken))


def test_version_command_prints_the_version_file() -> None:
    res = subprocess.run([sys.executable, "-m", "voxtrald", "version"], capture_output=True,
                         text=True, timeout=30)
    root_version = (Path(__file__).resolve().parents[2].parent / "VERSION").read_text().strip()
    assert res.returncode == 0 and res.stdout.strip() == root_version


def test_second_daemon_on_the_same_state_folder_is_refused(
    daemon: DaemonProc, tmp_path: Path
) -> None:
    argv = [a if a != str(daemon.socket) else str(tmp_path / "other.sock") for a in daemon.argv]
    res = subprocess.run(argv, env=daemon.env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert "already using the state folder" in res.stderr



def test_retry_brings_a_fixed_source_back_from_failed(daemon: DaemonProc, data_dir: Path) -> None:
    d = daemon
    d.drop(data_dir / "not_audio.wav", "interview.wav")
    (job,) = d.wait_jobs(1, states=("failed",))
    assert (d.failed / "interview.wav.error.json").exists()
    # The user replaces the broken file with a good one and asks for another try.
    shutil.copyfile(data_dir / "fox.wav", d.failed / "interview.wav")
    res = subprocess.run([sys.executable, "-m", "voxtrald", "retry", str(job["id"])],
                         env=d.env, capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    d.wait_for(lambda: d.job(job["id"])["state"] == "done", 60, "the retried job to finish")
    assert "fox" in words((d.transcripts / "interview.txt").read_text())
    assert not (d.failed / "interview.wav").exists()
    assert not (d.failed / "interview.wav.error.json").exists()
    d.wait_for((d.processed / "interview.wav").exists, 30, "the source moved")
    assert len(d.jobs()) == 1  # the file coming back through the inbox is not a new job


def test_a_queued_file_touched_again_is_still_transcribed_once(
    daemon: DaemonProc, data_dir: Path
) -> None:
    d = daemon
    assert d.api("POST", "/api/pause")[0] == 200
    target = d.drop(data_dir / "fox.wav")
    d.wait_for(lambda: len(d.jobs()) == 1, 30, "the file to be queued")
    os.utime(target)  # a sync client or an editor touches it while it waits
    time.sleep(2.5)
    assert d.api("POST", "/api/resume")[0] == 200
    (job,) = d.wait_jobs(1)
    assert len(d.jobs()) == 1 and (d.transcripts / "fox.txt").exists()
    d.wait_for((d.processed / "fox.wav").exists, 30, "the source moved")


def test_a_file_that_grows_during_its_job_is_transcribed_again_in_full(
    daemon: DaemonProc, data_dir: Path
) -> None:
    d = daemon
    data = (data_dir / "story.flac").read_bytes()
    target = d.inbox / "dictation.flac"
    target.write_bytes(data[: len(data) // 2])
    d.wait_for(lambda: d.jobs() and d.jobs()[0]["state"] == "running", 30, "the job to start")
    with target.open("ab") as fh:  # the recorder was only pausing
        fh.write(data[len(data) // 2:])
    (job,) = d.wait_jobs(1, timeout=90)
    doc = json.loads((d.transcripts / "dictation.json").read_text())
    assert doc["duration"] > 37
    assert len(list(d.transcripts.glob("dictation*.txt"))) == 1


def test_a_name_that_is_not_utf8_is_skipped_and_the_inbox_goes_on(
    daemon: DaemonProc, data_dir: Path
) -> None:
    d = daemon
    with open(os.path.join(os.fsencode(d.inbox), b"caf\xe9.wav"), "wb") as fh:
        fh.write((data_dir / "fox.wav").read_bytes())
    d.drop(data_dir / "stella.mp3")
    (job,) = d.wait_jobs(1)
    assert job["file"] == "stella.mp3"
    assert "not valid UTF-8" in d.log()
    assert d.api("GET", "/api/health")[0] == 200


def test_corrupt_job_store_and_impossible_inbox_are_start_up_errors(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "jobs.sqlite3").write_bytes(os.urandom(4096))
    assert "job store" in start_and_fail(tmp_path, "--state-dir", str(state))
    (state / "jobs.sqlite3").unlink()
    (tmp_path / "a-file").write_text("not a folder")
    err = start_and_fail(tmp_path, "--inbox", str(tmp_path / "a-file" / "Inbox"))
    assert "cannot create the inbox" in err


def test_a_failed_file_that_cannot_be_set_aside_is_failed_once(
    daemon_factory, tmp_path: Path
) -> None:
    blocker = tmp_path / "failed-is-a-file"
    blocker.write_text("not a folder")
    d = daemon_factory({"inbox": {"scan_interval_seconds": 0.2}})
    d.stop()
    d.failed = blocker / "Failed"
    d.start()
    (d.inbox / "empty.wav").write_bytes(b"")
    d.wait_jobs(1, states=("failed",))
    time.sleep(1.2)  # several scans
    assert len(d.jobs()) == 1
    assert (d.inbox / "empty.wav").exists()
    assert d.jobs()[0]["source_path"] == str(d.inbox / "empty.wav")
