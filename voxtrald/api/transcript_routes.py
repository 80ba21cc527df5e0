"""Routes about transcripts and the rules behind them: search, reindex, explain.

GET /api/search?q=&limit=   segments matching the query, best first
POST /api/search/reindex    the index made again from the transcripts' JSON files
GET /api/explain?file=PATH  the settings a file in the inbox would get, and from where

A hit is shown only when its transcript is still there and the caller could
open it: the server talks only to its own user (SO_PEERCRED), so "could open"
is asked of the file system as that user (os.access). A transcript the user
deleted is dropped from the index as soon as a search meets it.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

from voxtrald import _platform
from voxtrald.api.router import ApiError, Request, Router
from voxtrald.config import Config
from voxtrald.jobs import explain as explaining
from voxtrald.store.jobs import JobStore
from voxtrald.store.search import Hit, Line, json_output, lines_of_json
from voxtrald.store.searchtext import QueryError

log = logging.getLogger("voxtrald")
DEFAULT_LIMIT = 20
MAX_LIMIT = 200
# A JSON transcript larger than this is not read back for the index (hours of words are
# a few MB).
MAX_JSON_BYTES = 64 * 1024 * 1024


def can_read(st: os.stat_result, uid: int, gids: frozenset[int]) -> bool:
    """Whether a user (uid, groups) may open a file, by its permission bits, as POSIX does.

    Asked of the bits rather than of os.access, so the rule holds (and is tested) for
    any caller, not only the one the daemon runs as; root reads everything.
    """
    if uid == 0:
        return True
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IRUSR)
    if st.st_gid in gids:
        return bool(st.st_mode & stat.S_IRGRP)
    return bool(st.st_mode & stat.S_IROTH)


def _caller() -> tuple[int, frozenset[int]] | None:
    """The caller's uid and groups: the server answers only its own user (SO_PEERCRED)."""
    return _platform.current_ids()  # None: no bits to go by, the file system decides


def _readable(outputs: tuple[str, ...]) -> bool | None:
    """True: every transcript file there can be read; False: one cannot; None: all gone."""
    caller = _caller()
    present = 0
    for path in outputs:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        except OSError:
            return False  # a folder on the way the caller cannot enter
        present += 1
        if caller is not None and not can_read(st, *caller):
            return False
    return None if present == 0 else True


def _hit(hit: Hit) -> dict[str, Any]:
    return {"job_id": hit.job_id, "file": hit.file, "start": round(hit.start, 3),
            "end": round(hit.end, 3), "text": hit.text, "speaker": hit.speaker,
            "transcript": str(json_output(hit.outputs) or (hit.outputs[0] if hit.outputs
                                                            else "")),
            "place": hit.place}


def search(store: JobStore, query: str, limit: int) -> dict[str, Any]:
    try:
        # More than asked, as some may be hidden from this caller.
        found = store.search(query, min(limit * 4, MAX_LIMIT * 4))
    except QueryError as exc:
        raise ApiError(400, "bad_query", str(exc)) from exc
    hits: list[dict[str, Any]] = []
    seen: dict[int, bool | None] = {}
    for hit in found:
        if hit.job_id not in seen:
            seen[hit.job_id] = _readable(hit.outputs)
            if seen[hit.job_id] is None:
                log.info("the transcript of job %d (%s) is gone; taken out of the search "
                         "index", hit.job_id, hit.file)
                store.unindex_job(hit.job_id)
        if seen[hit.job_id] and len(hits) < limit:
            hits.append(_hit(hit))
    # "relevance" (bm25), or "newest" for words too common to rank (store.search).
    order = "relevance" if not found or found[0].ranked else "newest"
    return {"query": query, "hits": hits, "count": len(hits), "order": order}


def _read_lines(path: Path) -> list[Line] | None:
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_JSON_BYTES + 1)
        if len(raw) > MAX_JSON_BYTES:
            return None
        return lines_of_json(json.loads(raw))
    except (OSError, ValueError):
        return None


def reindex(store: JobStore) -> dict[str, Any]:
    """Every finished job's JSON transcript read again; jobs without one are left out."""
    documents: list[tuple[int, list[Line]]] = []
    missing: list[int] = []
    for job_id, outputs in store.done_outputs():
        path = json_output(outputs)
        lines = _read_lines(path) if path is not None else None
        if lines is None:
            missing.append(job_id)
            continue
        documents.append((job_id, lines))
    segments = store.rebuild_index(documents)
    log.info("search index rebuilt: %d transcripts, %d segments; %d finished job(s) without "
             "a readable JSON transcript left out", len(documents), segments, len(missing))
    return {"transcripts": len(documents), "segments": segments,
            "left_out": missing}


def register(router: Router, cfg: Config, store: JobStore) -> None:
    def search_route(req: Request) -> dict[str, Any]:
        query = req.query.get("q", "")
        if not query.strip():
            raise ApiError(400, "bad_query", "give a query: /api/search?q=WORDS")
        return search(store, query, req.int_query("limit", DEFAULT_LIMIT, 1, MAX_LIMIT))

    def reindex_route(req: Request) -> dict[str, Any]:
        req.json()
        return reindex(store)

    def explain_route(req: Request) -> dict[str, Any]:
        file = req.query.get("file", "")
        if not file or "\0" in file:
            raise ApiError(400, "bad_parameter", "give the file: /api/explain?file=PATH")
        try:
            return explaining.explain(Path(file), cfg)
        except explaining.NotInInbox as exc:
            raise ApiError(400, "not_in_inbox", str(exc)) from exc

    router.add("GET", "/api/search", search_route)
    router.add("POST", "/api/search/reindex", reindex_route)
    router.add("GET", "/api/explain", explain_route)
