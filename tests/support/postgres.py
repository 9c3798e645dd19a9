"""A real PostgreSQL server for the tests: a cluster of our own, on loopback, torn down after.

PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user (created by Debian's package); otherwise as the caller.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.support.resources import refuse_if_servers_off


class PostgresError(RuntimeError):
    pass


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise PostgresError("PostgreSQL is not installed: apt-get install postgresql")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Postgres:
    root: Path
    port: int
    bin_dir: Path

    def _as_owner(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)

    def psql(self, sql: str) -> None:
        done = subprocess.run(
            self._as_owner(
                str(self.bin_dir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ),
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise PostgresError(done.stderr.decode(errors="replace"))

    def new_database(self, template: str | None = None) -> str:
        """A fresh database, empty or a copy of the database at the URL ``template`` (which
        nothing may be connected to); its SQLAlchemy URL."""
        name = f"asgard_{uuid.uuid4().hex[:12]}"
        copied = "" if template is None else f" TEMPLATE {template.rsplit('/', 1)[-1]}"
        self.psql(f"CREATE DATABASE {name}{copied}")
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        command = [str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), *args]
        return subprocess.run(
            self._as_owner(*command), capture_output=True, check=False, timeout=120
        )

    def start_server(self) -> None:
        """Start the server on its data folder and port (again, after ``stop_server``),
        waiting until it accepts connections."""
        done = self._pg_ctl(
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off",
            "start",
        )
        if done.returncode != 0:
            raise PostgresError(f"pg_ctl start failed: {done.stderr.decode(errors='replace')}")

    def stop_server(self) -> None:
        """Stop the server as an operator would (fast: sessions are cut, nothing is
        lost), keeping its data for ``start_server``."""
        done = self._pg_ctl("-m", "fast", "-w", "stop")
        if done.returncode != 0:
            raise PostgresError(f"pg_ctl stop failed: {done.stderr.decode(errors='replace')}")

    def stop(self) -> None:
        """The end: the server stopped and its data deleted."""
        self._pg_ctl("-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> Postgres:
    refuse_if_servers_off("PostgreSQL")
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="asgpg"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    server = Postgres(root=root, port=_free_port(), bin_dir=bin_dir)
    initdb = [
        str(bin_dir / "initdb"),
        "-D",
        str(root / "data"),
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
    ]
    try:
        done = subprocess.run(
            server._as_owner(*initdb), capture_output=True, check=False, timeout=120
        )
        if done.returncode != 0:
            raise PostgresError(f"initdb failed: {done.stderr.decode(errors='replace')}")
        server.start_server()
    except PostgresError as error:
        log = root / "server.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        server.stop()
        raise PostgresError(f"{error}\n{text}") from None
    return server
