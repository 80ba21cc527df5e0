"""The job store's tables and the steps that bring an older store up to date.

The store carries its schema version in SQLite's `user_version`, so a newer
daemon migrates an older store in place (each step in one transaction) and an
older daemon can tell a store it does not understand instead of misreading it.
"""

from __future__ import annotations

import sqlite3

#: The version this code writes; a store with a higher one is refused.
SCHEMA_VERSION = 5

_V1 = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_path TEXT NOT NULL,
    file TEXT NOT NULL,
    rel_dir TEXT NOT NULL DEFAULT '',
    sha256 TEXT,
    size INTEGER,
    mtime REAL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    duration REAL,
    wall_seconds REAL,
    percent REAL NOT NULL DEFAULT 0,
    eta_seconds REAL,
    error TEXT,
    duplicate_of INTEGER,
    output_stem TEXT,
    outputs TEXT NOT NULL DEFAULT '[]',
    language TEXT
);
CREATE INDEX IF NOT EXISTS jobs_sha ON jobs(sha256);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, next_attempt_at);
CREATE INDEX IF NOT EXISTS jobs_source ON jobs(source_path);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Version 2: language confidence and warnings per job; finished chunks kept for resuming.
_V2 = """
ALTER TABLE jobs ADD COLUMN language_probability REAL;
ALTER TABLE jobs ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';
CREATE TABLE IF NOT EXISTS chunks (
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    end_seconds REAL NOT NULL,
    sha256 TEXT,
    segments TEXT NOT NULL,
    language TEXT,
    language_probability REAL,
    PRIMARY KEY (job_id, idx)
);
"""

# Version 3: each chunk's voice windows (speaker embeddings), and the names a user gave
# a job's speakers (JSON {"1": "Alice"}), kept so a later render keeps them.
_V3 = """
ALTER TABLE chunks ADD COLUMN voices TEXT NOT NULL DEFAULT '[]';
ALTER TABLE jobs ADD COLUMN speaker_names TEXT NOT NULL DEFAULT '{}';
"""

# Version 4: the transcript search index (segments, and their words in FTS5; diacritics
# folded so "reunion" finds "réunion"). Without per-row sizes (columnsize=0): ranking
# a query of common words reads half as much, and segments are short enough that
# bm25's length normalisation changes little.
_V4 = """
CREATE TABLE IF NOT EXISTS transcript_segments (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    start_seconds REAL NOT NULL,
    end_seconds REAL NOT NULL,
    speaker TEXT,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transcript_segments_job ON transcript_segments(job_id);
CREATE VIRTUAL TABLE IF NOT EXISTS transcript_fts USING fts5(
    terms, content='', columnsize=0, tokenize='unicode61 remove_diacritics 2'
);
"""

# Version 5: which machine holds or held a job, and the claim it holds it by (a token
# that grows with each claim, and until when the claim lasts unless renewed). One
# machine alone never loses a claim; the team queue's tables carry the same columns.
_V5 = """
ALTER TABLE jobs ADD COLUMN host TEXT;
ALTER TABLE jobs ADD COLUMN claim_token INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN lease_until REAL;
"""

_STEPS = {1: _V1, 2: _V2, 3: _V3, 4: _V4, 5: _V5}


class NewerSchema(Exception):
    """The store was written by a newer version of the daemon."""


def migrate(db: sqlite3.Connection) -> int:
    """Bring the store to SCHEMA_VERSION; returns the version it had before."""
    found = int(db.execute("PRAGMA user_version").fetchone()[0])
    if found == 0 and db.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='jobs'"
    ).fetchone():
        found = 1  # written before the store carried a version
    if found > SCHEMA_VERSION:
        raise NewerSchema(
            f"the job store has schema version {found}, newer than this voxtrald "
            f"understands ({SCHEMA_VERSION})"
        )
    for version in range(found + 1, SCHEMA_VERSION + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _STEPS[version].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return found
