"""Configuration: one TOML file, a default for every key, flags on top.

A config mistake should stop start-up with one line naming the key and what is
allowed, instead of a daemon that half-works; so every key is declared here
with its type and its check, and anything undeclared is refused.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from voxtrald import paths
from voxtrald.config_checks import (  # noqa: F401 - the choices, under their old names
    AFTER_CHOICES,
    CHANNELS,
    COMPUTE_TYPES,
    OUTPUT_FORMATS,
)
from voxtrald.config_checks import CHECKS as _CHECKS


class ConfigError(Exception):
    """A config problem worth one line to the user; the daemon does not start."""


@dataclass
class PathsConfig:
    inbox: Path = field(default_factory=lambda: paths.default_folder("Inbox"))
    transcripts: Path = field(default_factory=lambda: paths.default_folder("Transcripts"))
    processed: Path = field(default_factory=lambda: paths.default_folder("Processed"))
    failed: Path = field(default_factory=lambda: paths.default_folder("Failed"))
    state_dir: Path = field(default_factory=paths.default_state_dir)


@dataclass
class EngineConfig:
    model: str = "default"
    device: str = "cpu"
    compute_type: str = "int8"
    threads: int = 0
    beam_size: int = 5
    # Beam of the batched first pass (windows the checks doubt are decoded again with
    # beam_size). 1 (greedy) is cheaper per window but wrote more wrong words on hard audio.
    first_pass_beam: int = 5
    language: str = ""
    # The languages detection may choose from (e.g. ["en", "fr"]); empty: any the model knows.
    languages: list[str] = field(default_factory=list)
    # Names and jargon to expect (comma-separated); a NAME.vocab.txt beside a file adds more.
    hotwords: str = ""
    initial_prompt: str = ""
    # Windows decoded at once; 0 lets the memory available choose (1 at critical).
    batch_size: int = 0
    word_timestamps: bool = True
    # Speaker labels: "auto", "off" or the number of speakers; NAME.speakers.txt overrides.
    speakers: str = "auto"
    idle_unload_seconds: float = 300.0
    chunk_seconds_low: float = 60.0
    chunk_seconds_mid: float = 90.0
    chunk_seconds_high: float = 120.0
    chunk_low_below_gb: float = 4.0
    chunk_mid_below_gb: float = 8.0


@dataclass
class InboxConfig:
    settle_seconds: float = 2.0
    recursive: bool = True
    scan_interval_seconds: float = 30.0


@dataclass
class JobsConfig:
    max_attempts: int = 3
    retry_backoff_seconds: float = 30.0
    after: str = "move"
    # A job whose worker says nothing for this long is stopped and the attempt fails.
    stall_seconds: float = 600.0


@dataclass
class OutputsConfig:
    formats: list[str] = field(default_factory=lambda: list(OUTPUT_FORMATS))
    # Speech that could not be transcribed shows as [inaudible] in txt, srt and vtt.
    mark_gaps: bool = True
    # Also write the English translation (NAME.en.txt/srt/vtt; both texts in the JSON).
    translate: bool = False


@dataclass
class HooksConfig:
    # A command (no shell) run when a job ends: ["/path/to/cmd", "{json}", ...]; empty: none.
    on_done: list[str] = field(default_factory=list)
    on_failed: list[str] = field(default_factory=list)
    timeout_seconds: float = 60.0
    # What a hook prints is logged up to this many bytes; the rest is read and dropped.
    max_output_bytes: int = 16384


@dataclass
class MemoryConfig:
    warning_percent: float = 80.0
    critical_percent: float = 90.0
    hysteresis_percent: float = 5.0
    interval_seconds: float = 5.0
    reminder_minutes: float = 10.0
    pause_new_jobs_at_critical: bool = False
    model_memory_factor: float = 2.5
    model_memory_margin_mb: float = 200.0


@dataclass
class UpdatesConfig:
    repo: str = "debrockb/transcribe-voxtral"
    api_url: str = "https://api.github.com"
    check_interval_hours: float = 24.0
    channel: str = "stable"
    token: str = ""
    max_download_mb: float = 200.0
    # Keys that may sign releases; empty trusts the maintainers' key pinned in the package.
    public_keys: list[str] = field(default_factory=list)
    # How long a newly applied version has to report healthy before it is rolled back.
    health_timeout_seconds: float = 60.0


@dataclass
class ApiConfig:
    socket: str = ""
    max_connections: int = 64
    request_timeout_seconds: float = 10.0
    max_body_bytes: int = 65536
    transport: str = "unix"


@dataclass
class TrayConfig:
    poll_seconds: float = 2.0
    notify_job_failed: bool = True
    notify_back_to_normal: bool = False


@dataclass
class QueueConfig:
    # "sqlite" (this machine alone), or the team queue on PostgreSQL: a DSN
    # ("postgresql://role@host/db") or the path of a file holding one (the password then
    # stays out of the config).
    backend: str = "sqlite"
    # This daemon's name in the team ("" = the host name); unique within a team.
    machine_name: str = ""
    # A machine not heard from for this long loses its running job to another machine.
    lease_seconds: float = 60.0
    # The shared inbox is scanned this often: other machines' files raise no event here.
    scan_seconds: float = 10.0


@dataclass
class Config:
    paths: PathsConfig = field(default_factory=PathsConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    inbox: InboxConfig = field(default_factory=InboxConfig)
    jobs: JobsConfig = field(default_factory=JobsConfig)
    outputs: OutputsConfig = field(default_factory=OutputsConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    hooks: HooksConfig = field(default_factory=HooksConfig)
    updates: UpdatesConfig = field(default_factory=UpdatesConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    tray: TrayConfig = field(default_factory=TrayConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    source: Path | None = None
    explicit: set[str] = field(default_factory=set)
    # Keys set by command-line flags: a flag outranks the environment, the file does not.
    flags: set[str] = field(default_factory=set)

    def socket_path(self) -> Path:
        """`--socket` > VOXTRAL_SOCKET > `[api] socket` > the platform default."""
        flag = self.api.socket if "api.socket" in self.flags else None
        return paths.resolve_socket(flag, self.api.socket)


# Config fields that record where values came from rather than hold a [section].
_NOT_SECTIONS = ("source", "explicit", "flags")


def _type_name(tp: Any) -> str:
    return {
        "str": "a string",
        "int": "an integer",
        "float": "a number",
        "bool": "true or false",
        "Path": "a folder path",
        "list[str]": "a list of strings",
    }.get(str(tp).replace("pathlib.", ""), str(tp))


# Text settings that also take a bare number (`speakers = 2`).
_NUMBER_OR_TEXT = frozenset({"engine.speakers"})


def coerce(key: str, tp: str, value: Any) -> Any:
    """Turn a TOML value into the field's type, or say what was expected.

    Public because folder rules (`jobs.rules`) check their keys with the same words.
    """
    texts = value if isinstance(value, list) else [value]
    if any(isinstance(t, str) and "\0" in t for t in texts):
        raise ConfigError(f"config key '{key}': contains a NUL character")
    ok = True
    if tp == "bool":
        ok = isinstance(value, bool)
    elif tp == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
        if ok and not math.isfinite(value):
            raise ConfigError(f"config key '{key}': expected a finite number, got {value!r}")
    elif tp == "str":
        if key in _NUMBER_OR_TEXT and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        ok = isinstance(value, str)
    elif tp == "Path":
        ok = isinstance(value, str) and bool(value.strip())
        # Absolute: jobs record paths, and a restart from another directory must find them.
        value = Path(value).expanduser().absolute() if ok else value
    elif tp == "list[str]":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    if not ok:
        raise ConfigError(f"config key '{key}': expected {_type_name(tp)}, got {value!r}")

    return value


def check(key: str, value: Any) -> None:
    """The key's extra check beyond its type (shared with folder rules)."""
    check = _CHECKS.get(key)
    if check and not check[0](value):
        raise ConfigError(f"config key '{key}': {value!r} is not allowed; use {check[1]}")


def _apply(cfg: Config, data: dict[str, Any], origin: str) -> None:
    sections = {f.name: f for f in fields(Config) if f.name not in _NOT_SECTIONS}
    for section, body in data.items():
        if section not in sections:
            allowed = ", ".join(sorted(sections))
            raise ConfigError(f"{origin}: unknown section '[{section}]'; known: {allowed}")
        if not isinstance(body, dict):
            raise ConfigError(f"{origin}: '{section}' must be a table ([{section}])")
        target = getattr(cfg, section)
        known = {f.name: f for f in fields(target)}
        for name, value in body.items():
            key = f"{section}.{name}"
            if name not in known:
                allowed = ", ".join(sorted(known))
                raise ConfigError(f"{origin}: unknown key '{key}'; known in [{section}]: {allowed}")
            value = coerce(key, str(known[name].type), value)
            check(key, value)
            setattr(target, name, value)
            cfg.explicit.add(key)


def english_only(model: str) -> bool:
    """A model that knows only English (tiny.en, base.en, ...) cannot translate."""
    return Path(model.strip()).name.lower().endswith(".en")


def _cross_checks(cfg: Config) -> None:
    if cfg.outputs.translate and english_only(cfg.engine.model):
        raise ConfigError(f"config key 'outputs.translate': the model {cfg.engine.model} "
                          "knows only English and cannot translate; use the default "
                          "(multilingual) model or set translate = false")
    if cfg.memory.critical_percent <= cfg.memory.warning_percent:
        raise ConfigError(
            "config key 'memory.critical_percent': must be above memory.warning_percent "
            f"({cfg.memory.critical_percent} <= {cfg.memory.warning_percent})"
        )


def default_config_file() -> Path:
    return paths.default_config_dir() / "config.toml"


def load(path: Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Build the config: defaults, then the file (if any), then flag overrides.

    `path` None means VOXTRAL_CONFIG or the platform default, and a missing
    default file is fine; a file the user named explicitly must exist.
    """
    cfg = Config()
    explicit = path is not None or bool(os.environ.get("VOXTRAL_CONFIG"))
    if path is None:
        env = os.environ.get("VOXTRAL_CONFIG")
        path = Path(env).expanduser() if env else default_config_file()
    if path.exists() or explicit:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        _apply(cfg, data, str(path))
        cfg.source = path
    if overrides:
        nested: dict[str, dict[str, Any]] = {}
        for dotted, value in overrides.items():
            if value is None:
                continue
            section, name = dotted.split(".", 1)
            nested.setdefault(section, {})[name] = str(value) if isinstance(value, Path) else value
        _apply(cfg, nested, "command line")
        cfg.flags.update(f"{section}.{name}" for section, body in nested.items() for name in body)
    _cross_checks(cfg)
    # Processed/ and Failed/ sit beside the inbox unless named: moving the inbox moves them.
    for key, name in (("processed", "Processed"), ("failed", "Failed")):
        if f"paths.{key}" not in cfg.explicit:
            setattr(cfg.paths, key, cfg.paths.inbox.parent / name)
    _outside_the_inbox(cfg)
    return cfg


def _outside_the_inbox(cfg: Config) -> None:
    """Folders the daemon fills must not be inside the inbox: it would take its own files."""
    inbox = cfg.paths.inbox
    for key in ("transcripts", "processed", "failed", "state_dir"):
        folder: Path = getattr(cfg.paths, key)
        if folder == inbox or folder.is_relative_to(inbox):
            raise ConfigError(f"config key 'paths.{key}': {folder} is inside the inbox "
                              f"{inbox}; choose a folder outside it")


def client_socket(flag: str | None = None, path: Path | None = None) -> Path:
    """The socket a client (CLI, tray) talks to, by the daemon's own rule.

    The config file is read only for its `[api] socket`, so a user who moved
    the socket there need not repeat it on every command; a broken config is
    the daemon's business and does not stop a status query.
    """
    try:
        configured = load(path).api.socket
    except ConfigError:
        configured = ""
    return paths.resolve_socket(flag, configured)
