"""A private PostgreSQL cluster for the tests: a temp folder, a Unix socket, no service.

`initdb` and `pg_ctl` from the distribution's server package (Debian's
postgresql-15, installed by `make test` from packaging/system-packages.txt)
start a cluster that listens on no TCP port at all, only on a socket in the
test's own folder, and is stopped when the test session ends. PostgreSQL
refuses to run as root, so as root the server runs as `nobody`.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ADMIN = "voxtral_admin"
# Password authentication, as a real server would have it: a wrong password must fail.
ADMIN_PASSWORD = "admin-" + uuid.uuid4().hex[:8]


def server_bin() -> Path | None:
    """The folder of initdb/pg_ctl: on PATH, or the newest under /usr/lib/postgresql."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def _as_server_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


class Cluster:
    """One running cluster; `dsn(db)` names a database on it for a client of this process."""

    def __init__(self, root: Path, bindir: Path, durable: bool = False) -> None:
        self.root = root
        self.bindir = bindir
        #: Whether commits reach the disk (fsync), as on a real server; the tests skip it.
        self.durable = durable
        self.data = root / "data"
        self.socket_dir = root / "sock"
        self.log = root / "server.log"

    def _run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*_as_server_user(), *argv], capture_output=True, text=True,
                              timeout=timeout, check=False)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            # Only the server's user may read its data; the socket folder lets us in.
            self.root.chmod(0o711)
            shutil.chown(self.root, "nobody", "nogroup")
            shutil.chown(self.socket_dir, "nobody", "nogroup")
        pwfile = self.root / "pw"
        pwfile.write_text(ADMIN_PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "nobody", "nogroup")
        done = self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", ADMIN,
                         "--auth=scram-sha-256", f"--pwfile={pwfile}", "--no-sync", "-E",
                         "UTF8", "--locale=C.UTF-8")
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr or done.stdout}")

    def start(self) -> None:
        options = (f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}'"
                   " -c max_connections=60" + ("" if self.durable else " -c fsync=off"))
        done = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
                         str(self.root / "data" / "server.log"), "-o", options, "-w", "start")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr or done.stdout}\n"
                               f"{self.server_log()}")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def server_log(self) -> str:
        path = self.data / "server.log"
        try:
            return path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def dsn(self, dbname: str = "postgres", user: str = ADMIN,
            password: str | None = None) -> str:
        password = ADMIN_PASSWORD if password is None and user == ADMIN else password
        auth = f"{user}:{password}@" if password else f"{user}@"
        return f"postgresql://{auth}/{dbname}?host={self.socket_dir}"

    @staticmethod
    def database_of(dsn: str) -> str:
        from psycopg.conninfo import conninfo_to_dict

        return str(conninfo_to_dict(dsn)["dbname"])

    def sql(self, statement: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.dsn(dbname), autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def new_database(self) -> str:
        """A fresh database on this cluster, owned by the admin; its DSN."""
        name = "vx_" + uuid.uuid4().hex[:12]
        self.sql(f"CREATE DATABASE {name}")
        return self.dsn(name)


@contextmanager
def running_cluster(durable: bool = False) -> Iterator[Cluster]:
    """A cluster for this block; `durable` keeps fsync on (a benchmark's, not the tests')."""
    bindir = server_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    root = Path(tempfile.mkdtemp(prefix="vx-pg-"))
    cluster = Cluster(root, bindir, durable)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
