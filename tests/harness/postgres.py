"""A throwaway PostgreSQL cluster with PostGIS for one test session (initdb, free port, fsync off)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.harness.net import free_port


def _bin_dir() -> Path:
    root = Path("/usr/lib/postgresql")
    versions = sorted((p for p in root.iterdir() if (p / "bin" / "initdb").exists()), key=lambda p: int(p.name))
    if not versions:
        raise RuntimeError("PostgreSQL server binaries not found: run `make test` (it installs them)")
    return versions[-1] / "bin"


def _as_owner(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; run them as the postgres system user then.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class PostgresServer:
    directory: Path
    port: int
    user: str = "postgres"
    bin_dir: Path = field(default_factory=_bin_dir)

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{self.user}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={database}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        with psycopg.connect(self.dsn(database), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB"
        )
        subprocess.run(
            _as_owner(
                [
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.directory / "data"),
                    "-o",
                    options,
                    "-l",
                    str(self.directory / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_owner([str(self.bin_dir / "pg_ctl"), "-D", str(self.directory / "data"), "-m", mode, "-w", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def restart(self) -> None:
        self.stop()
        self.start()


def start_postgres() -> PostgresServer:
    directory = Path(tempfile.mkdtemp(prefix="onsite24-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    server = PostgresServer(
        directory=directory,
        port=free_port(),
        user="postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres"),
    )
    subprocess.run(
        _as_owner(
            [
                str(server.bin_dir / "initdb"),
                "-D",
                str(directory / "data"),
                "-U",
                server.user,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    server.start()
    return server


def destroy_postgres(server: PostgresServer) -> None:
    server.stop("immediate")
    shutil.rmtree(server.directory, ignore_errors=True)
