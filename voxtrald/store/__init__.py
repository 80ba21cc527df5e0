"""The job store (SQLite): the jobs table, finished chunks, the connection and migrations."""
