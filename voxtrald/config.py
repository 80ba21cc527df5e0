"""Configuration: one TOML file, a default for every key, flags on top.

A config mistake should stop start-up with one line naming the key and what is
allowed, instead of a daemon that half-works; so every key is declared here
with its type and its check, and anything undeclared is refused.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from voxtrald import paths
from voxtrald.engine.speakers import choice as speaker_choice
from voxtrald.transcripts import outputs

OUTPUT_FORMATS = outputs.FORMATS  # the formats are the renderers
AFTER_CHOICES = ("move", "keep", "delete")
COMPUTE_TYPES = ("int8", "int8_float32", "int16", "float32", "float16", "int8_float16", "default")
CHANNELS = ("stable", "prerelease")


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
    # Beam of the fast batched first pass; windows the checks doubt get beam_size.
    first_pass_beam: int = 1
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
class Config:
    paths: PathsConfig = field(default_factory=PathsConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    inbox: InboxConfig = field(default_factory=InboxConfig)
    jobs: JobsConfig = field(default_factory=JobsConfig)
    outputs: OutputsConfig = field(default_factory=OutputsConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    updates: UpdatesConfig = field(default_factory=UpdatesConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    tray: TrayConfig = field(default_factory=TrayConfig)
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


def _range(lo: float, hi: float, unit: str, integer: bool = False) -> tuple[Any, str]:
    """A check that a number lies in [lo, hi], with the words that say so."""
    kind = "an integer" if integer else unit

    def fmt(v: float) -> str:
        return f"{v:g}"

    return (lambda v: lo <= v <= hi), f"{kind} from {fmt(lo)} to {fmt(hi)}" + (
        f" ({unit})" if integer and unit else "")


_DAY = 86400.0

# Extra checks beyond the type: (predicate, what is allowed). Every number has an upper
# bound too: a value that passes its type but breaks the daemon (an infinite timeout)
# must stop start-up with the key's name, not later with a traceback.
_CHECKS: dict[str, tuple[Any, str]] = {
    "engine.device": (lambda v: v in ("cpu", "cuda", "auto"), "one of cpu, cuda, auto"),
    "engine.compute_type": (lambda v: v in COMPUTE_TYPES, "one of " + ", ".join(COMPUTE_TYPES)),
    "engine.model": (lambda v: bool(v.strip()), "a non-empty model name or folder"),
    "engine.languages": (
        lambda v: len(v) <= 20 and all(re.fullmatch(r"[a-z]{2,3}", c) for c in v),
        "a list of up to 20 language codes such as \"en\" or \"fr\"",
    ),
    "engine.threads": _range(0, 256, "0 = automatic", integer=True),
    "engine.beam_size": _range(1, 20, "", integer=True),
    "engine.first_pass_beam": _range(1, 20, "", integer=True),
    "engine.speakers": (speaker_choice.is_valid, speaker_choice.ALLOWED),
    "engine.batch_size": _range(0, 64, "0 = chosen from the memory available", integer=True),
    "engine.idle_unload_seconds": _range(0, 7 * _DAY, "seconds"),
    "engine.chunk_seconds_low": _range(10, 3600, "seconds"),
    "engine.chunk_seconds_mid": _range(10, 3600, "seconds"),
    "engine.chunk_seconds_high": _range(10, 3600, "seconds"),
    "engine.chunk_low_below_gb": _range(0, 4096, "GB"),
    "engine.chunk_mid_below_gb": _range(0, 4096, "GB"),
    "inbox.settle_seconds": _range(0, 3600, "seconds"),
    "inbox.scan_interval_seconds": _range(0.1, _DAY, "seconds"),
    "jobs.max_attempts": _range(1, 100, "", integer=True),
    "jobs.retry_backoff_seconds": _range(0, _DAY, "seconds"),
    "jobs.after": (lambda v: v in AFTER_CHOICES, "one of " + ", ".join(AFTER_CHOICES)),
    "jobs.stall_seconds": _range(1, _DAY, "seconds"),
    "outputs.formats": (
        lambda v: bool(v) and all(f in OUTPUT_FORMATS for f in v),
        "a non-empty list drawn from " + ", ".join(OUTPUT_FORMATS),
    ),
    "memory.warning_percent": (lambda v: 0 < v <= 100, "a percentage above 0 and up to 100"),
    "memory.critical_percent": (lambda v: 0 < v <= 100, "a percentage above 0 and up to 100"),
    "memory.hysteresis_percent": (lambda v: 0 <= v < 50, "a number from 0 to 50"),
    "memory.interval_seconds": _range(0.1, 3600, "seconds"),
    "memory.reminder_minutes": _range(0.1, 7 * 24 * 60, "minutes"),
    "memory.model_memory_factor": _range(0.1, 100, "a factor"),
    "memory.model_memory_margin_mb": _range(0, 1024 * 1024, "MB"),
    "updates.check_interval_hours": _range(0, 24 * 365, "hours; 0 turns checks off"),
    "updates.channel": (lambda v: v in CHANNELS, "one of " + ", ".join(CHANNELS)),
    "updates.api_url": (
        lambda v: v.startswith(("https://", "http://")),
        "an http(s) URL",
    ),
    "updates.repo": (
        lambda v: v.count("/") == 1 and all(p and p not in (".", "..") for p in v.split("/")),
        "OWNER/NAME",
    ),
    "updates.max_download_mb": _range(1, 10240, "MB"),
    "updates.public_keys": (
        lambda v: len(v) <= 8 and _minisign_keys(v),
        "up to 8 minisign public keys (\"RW...\", the second line of a minisign .pub file)",
    ),
    "updates.health_timeout_seconds": _range(5, 3600, "seconds"),
    "api.max_connections": _range(1, 10000, "", integer=True),
    "api.request_timeout_seconds": _range(0.1, 3600, "seconds"),
    "api.max_body_bytes": (lambda v: 1024 <= v <= 16 * 1024 * 1024, "bytes from 1024 to 16 MiB"),
    "api.transport": (lambda v: v in ("unix", "tcp"), "one of unix, tcp"),
    "tray.poll_seconds": _range(0.2, 600, "seconds"),
}


def _minisign_keys(values: list[str]) -> bool:
    from voxtrald.updates.keys import parse_keys  # cryptography only when keys are set
    from voxtrald.updates.minisign import SignatureError

    try:
        parse_keys(values)
    except SignatureError:
        return False
    return True


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


def _coerce(key: str, tp: str, value: Any) -> Any:
    """Turn a TOML value into the field's type, or say what was expected."""
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


def _check(key: str, value: Any) -> None:
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
            value = _coerce(key, str(known[name].type), value)
            _check(key, value)
            setattr(target, name, value)
            cfg.explicit.add(key)


def _cross_checks(cfg: Config) -> None:
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
