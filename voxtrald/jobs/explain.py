"""`voxtrald explain FILE`: the settings a file would get, and where each one came from.

Folder rules, the global config and a vocabulary sidecar all shape one file's
transcription; when the result surprises, the user needs one answer that
names the file each setting came from, not three places to read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from voxtrald.config import Config
from voxtrald.jobs import rules, vocabulary


class NotInInbox(ValueError):
    """Rules apply only to files in the inbox."""


def explain(source: Path, cfg: Config) -> dict[str, Any]:
    # Normalised first: "INBOX/../elsewhere" is not in the inbox, whatever its spelling.
    source = Path(os.path.normpath(Path(source).absolute()))
    inbox = cfg.paths.inbox
    if source != inbox and not source.is_relative_to(inbox):
        raise NotInInbox(f"{source} is not in the inbox {inbox}; folder rules apply only "
                         "to files in it")
    settings = rules.resolve(source, cfg)
    out: dict[str, Any] = {
        key: {"value": s.value, "from": s.origin} for key, s in settings.values.items()
    }
    sidecar = vocabulary.sidecar_for(source)
    if sidecar is not None:
        vocab = vocabulary.for_source(source, settings.value("hotwords"))
        out["hotwords"] = {"value": vocab.hotwords or "",
                           "from": f"{out['hotwords']['from']} + sidecar {sidecar}",
                           "warnings": list(vocab.warnings)}
    rules_files = [str(p) for p in rules.rules_files(source, inbox) if p.exists()]
    return {"file": str(source), "settings": out, "rules_files": rules_files,
            "held": settings.held, "ignored": list(settings.ignored)}


def render(doc: dict[str, Any]) -> str:
    """The explanation for a person: one line per setting, then any hold or ignored file."""
    lines = [f"{doc.get('file', '')}:"]
    for key, setting in (doc.get("settings") or {}).items():
        lines.append(f"  {key:<15} = {setting.get('value')!r:<30} from {setting.get('from')}")
    if doc.get("held"):
        lines.append(f"  HELD: {doc['held']}; the file waits until it is fixed")
    lines.extend(f"  ignored: {reason}" for reason in doc.get("ignored") or [])
    return "\n".join(lines)
