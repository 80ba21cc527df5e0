"""Client subcommands about transcripts: `search`, `reindex`, `explain`.

Each is one API call (`calls.call_and_print`), so the daemon's own config (its
inbox, its rules) answers, and `--json` gives scripts the API's answer as is.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from voxtrald.client.calls import add_options, call_and_print
from voxtrald.jobs.explain import render as render_explain


def _clock(seconds: Any) -> str:
    total = int(float(seconds or 0))
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def render_hits(doc: dict[str, Any]) -> str:
    hits = doc.get("hits") or []
    if not hits:
        return f"Nothing found for {doc.get('query', '')!r}."
    lines = []
    for hit in hits:
        speaker = f" [{hit['speaker']}]" if hit.get("speaker") else ""
        lines.append(f"{hit.get('file', '')}  {_clock(hit.get('start'))}-"
                     f"{_clock(hit.get('end'))}{speaker}")
        lines.append(f"    {hit.get('text', '')}")
    return "\n".join(lines)


def _cmd_search(args: argparse.Namespace) -> int:
    query = urlencode({"q": " ".join(args.query), "limit": args.limit})
    return call_and_print(args, lambda c: c.get(f"/api/search?{query}"), render_hits)


def _cmd_reindex(args: argparse.Namespace) -> int:
    return call_and_print(args, lambda c: c.post("/api/search/reindex"),
                          lambda d: f"Search index rebuilt: {d.get('transcripts', 0)} "
                                    f"transcripts, {d.get('segments', 0)} segments"
                                    + (f"; {len(d['left_out'])} finished job(s) without a JSON "
                                       "transcript left out" if d.get("left_out") else "."))


def _cmd_explain(args: argparse.Namespace) -> int:
    query = urlencode({"file": str(Path(args.file).absolute())})
    return call_and_print(args, lambda c: c.get(f"/api/explain?{query}"), render_explain)


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not 1 <= value <= 200:
        raise argparse.ArgumentTypeError("from 1 to 200")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="find words in every transcript (file, time, sentence)",
                       description='Words must all appear; "a phrase" in quotes; budg* for a '
                                   "prefix. Accents and case do not matter.")
    p.add_argument("query", nargs="+", help="words to find")
    p.add_argument("--limit", type=_limit, default=20, help="how many hits (1-200, default 20)")
    add_options(p, timeout=30.0)
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("reindex", help="make the search index again from the transcripts")
    add_options(p, timeout=600.0)
    p.set_defaults(func=_cmd_reindex)

    p = sub.add_parser("explain", help="the settings a file in the inbox would get, and "
                       "where each comes from (folder rules, config, sidecar)")
    p.add_argument("file", help="a file in the inbox (it need not exist yet)")
    add_options(p)
    p.set_defaults(func=_cmd_explain)

