"""Models as a user meets them: `voxtrald models`, an offline load, the daemon's default model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DaemonProc, flip_byte
from tests.support.recordings import AUDIO, needs_recordings
from voxtrald.models import resolve
from voxtrald.models.local import MODELS_DIR_ENV, assembled_folder, bundled_folder
from voxtrald.models.pins import BASE, TINY_EN

ROOT = Path(__file__).resolve().parents[2].parent
# Any attempt to reach the network fails at once instead of waiting for a timeout.
NO_NETWORK = {"HF_HUB_OFFLINE": "1", "HTTPS_PROXY": "http://127.0.0.1:9",
              "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}

def voxtrald(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voxtrald", *args], env=dict(os.environ, **env),
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def listing(env: dict[str, str]) -> tuple[int, dict[str, dict[str, Any]]]:
    res = voxtrald("models", "--json", env=env)
    assert "Traceback" not in res.stderr, res.stderr
    doc = json.loads(res.stdout)
    return res.returncode, {m["name"]: m for m in doc["models"]}


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """A models folder of its own and an empty Hugging Face cache: a fresh user."""
    (tmp_path / "hf").mkdir()
    return {MODELS_DIR_ENV: str(tmp_path / "models"), "HF_HUB_CACHE": str(tmp_path / "hf")}


def test_models_lists_base_and_tiny_en_before_and_after_assembly(
        cli_env: dict[str, str]) -> None:
    res = voxtrald("models", env=cli_env)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["NAME", "SIZE", "LANGUAGES", "STATE", "FOLDER"]
    assert lines[1].split()[:6] == ["base", "(default)", "148", "MB", "99", "languages"]
    assert "ready (assembled at first use)" in lines[1]
    assert lines[2].split() == ["tiny.en", "78", "MB", "English", "only", "verified",
                                str(bundled_folder(TINY_EN))]
    # The speaker encoder ships in the package, verified like the Whisper models.
    assert lines[3].split()[0] == "speakers-ge2e" and "verified" in lines[3]
    assert len(lines) == 4

    code, models = listing(cli_env)
    assert code == 0
    assert models["base"]["status"] == "not assembled" and not models["base"]["verified"]
    resolve("default", Path(cli_env[MODELS_DIR_ENV]))
    code, models = listing(cli_env)
    folder = assembled_folder(BASE, Path(cli_env[MODELS_DIR_ENV]))
    assert code == 0
    assert models["base"] == {
        "name": "base", "aliases": ["default"], "path": str(folder), "size_bytes": 147882941,
        "multilingual": True, "languages": "99 languages", "verified": True,
        "status": "verified", "problem": None}
    assert models["tiny.en"]["multilingual"] is False and models["tiny.en"]["verified"] is True


def test_models_reports_a_damaged_file_by_name_and_fails(cli_env: dict[str, str]) -> None:
    folder = Path(resolve("default", Path(cli_env[MODELS_DIR_ENV])).path)
    flip_byte(folder / "model.bin", 123_456)
    message = (f"model file {folder / 'model.bin'} does not match its pinned SHA-256; "
               f"delete {folder} to reassemble it")
    res = voxtrald("models", env=cli_env)
    assert res.returncode == 1
    assert "DAMAGED" in res.stdout.splitlines()[1]
    assert f"base: {message}" in res.stderr
    code, models = listing(cli_env)
    assert code == 1
    assert (models["base"]["status"], models["base"]["verified"], models["base"]["problem"]) == \
        ("damaged", False, message)
    assert models["tiny.en"]["status"] == "verified"


def test_models_lists_a_model_downloaded_earlier_and_it_resolves_offline(
        cli_env: dict[str, str]) -> None:
    """A faster-whisper model already in the Hugging Face cache is available offline too."""
    repo = Path(cli_env["HF_HUB_CACHE"]) / "models--Systran--faster-whisper-tiny"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    for file in bundled_folder(TINY_EN).iterdir():  # the hub cache holds symlinks to blobs
        (snapshot / file.name).symlink_to(file)
    code, models = listing(cli_env)
    assert code == 0
    assert models["tiny"]["status"] == "not pinned" and models["tiny"]["path"] == str(snapshot)
    assert models["tiny"]["size_bytes"] == TINY_EN.size and not models["tiny"]["verified"]
    code_text = ("from voxtrald.models import resolve; m = resolve('tiny');"
                 "print(m.path, m.local, m.verified)")
    res = subprocess.run([sys.executable, "-c", code_text], capture_output=True, text=True,
                         env=dict(os.environ, **cli_env, **NO_NETWORK), cwd=ROOT, timeout=60)
    assert res.stdout.split() == [str(snapshot), "True", "False"], res.stderr


OFFLINE_LOAD = textwrap.dedent("""
    import json, sys
    from voxtrald.models import resolve
    from faster_whisper import WhisperModel
    model = resolve("default")
    whisper = WhisperModel(model.path, device="cpu", compute_type="int8", cpu_threads=2)
    out = {"multilingual": whisper.model.is_multilingual}
    segments, info = whisper.transcribe(sys.argv[1] + "/bonjour.wav", language="fr")
    out["bonjour"] = "".join(s.text for s in segments)
    segments, info = whisper.transcribe(sys.argv[1] + "/punctuations.mp3")
    out["detected"] = [info.language, info.language_probability]
    out["punctuations"] = "".join(s.text for s in segments)
    print(json.dumps(out))
""")


@needs_recordings
def test_the_default_model_loads_offline_and_transcribes_french() -> None:
    res = subprocess.run([sys.executable, "-c", OFFLINE_LOAD, str(AUDIO)], capture_output=True,
                         text=True, env=dict(os.environ, **NO_NETWORK), cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["multilingual"] is True
    assert out["bonjour"].strip().lower().startswith("bonjour")
    # A French sentence is recognised as French, not forced into English.
    assert out["detected"][0] == "fr" and out["detected"][1] > 0.8
    assert "avion" in out["punctuations"].lower()


@needs_recordings
def test_the_daemon_transcribes_french_with_the_default_model(
        daemon_factory: Callable[..., DaemonProc]) -> None:
    d = daemon_factory({"engine": {"model": "default"}})
    d.drop(AUDIO / "punctuations.mp3")
    (job,) = d.wait_jobs(1, timeout=120)
    doc = json.loads((d.transcripts / "punctuations.json").read_text(encoding="utf-8"))
    assert (doc["model"], doc["language"]) == ("default", "fr")
    assert "avion" in (d.transcripts / "punctuations.txt").read_text(encoding="utf-8").lower()


def test_the_daemon_refuses_a_damaged_default_model_naming_the_file(tmp_path: Path) -> None:
    models = tmp_path / "models"
    folder = Path(resolve("default", models).path)
    flip_byte(folder / "config.json", 10)
    (tmp_path / "config.toml").write_text("")
    env = dict(os.environ, VOXTRAL_CONFIG=str(tmp_path / "config.toml"),
               VOXTRAL_SOCKET=str(tmp_path / "s.sock"), **{MODELS_DIR_ENV: str(models)})
    res = subprocess.run(
        [sys.executable, "-m", "voxtrald", "run", "--state-dir", str(tmp_path / "state"),
         "--inbox", str(tmp_path / "in"), "--outbox", str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    assert (f"voxtrald: cannot load model 'default': model file {folder / 'config.json'} does not "
            f"match its pinned SHA-256; delete {folder} to reassemble it") in res.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
