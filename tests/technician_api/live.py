"""A real API process for tests that cross process boundaries (kill -9, a browser)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.harness.net import free_port
from tests.harness.wait import wait_for

ROOT = Path(__file__).resolve().parents[2]


def api_log(api_dir: Path) -> str:
    """What the API processes printed (for failure messages)."""
    return "\n".join(p.read_text(errors="replace")[-4000:] for p in sorted(api_dir.glob("api-*.log")))


@dataclass
class ApiProcess:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_api(database_url: str, upload_dir: Path, *, port: int | None = None) -> ApiProcess:
    """`python -m dispatch serve` against the test database; returns once /healthz answers."""
    port = port or free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ONSITE24_ENVIRONMENT": "test",
        "ONSITE24_DATABASE_URL": database_url,
        "ONSITE24_UPLOAD_DIR": str(upload_dir),
        "ONSITE24_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ONSITE24_LOG_LEVEL": "WARNING",
    }
    upload_dir.mkdir(parents=True, exist_ok=True)
    log = (upload_dir.parent / f"api-{port}.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dispatch", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    api = ApiProcess(proc, port)

    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"API exited with {proc.returncode}")
        try:
            return httpx.get(f"{api.base_url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, timeout=120, interval=0.02, what="the API to start")
    return api


def stop_api(api: ApiProcess) -> None:
    if api.process.poll() is None:
        api.process.terminate()
        try:
            api.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            api.process.kill()
            api.process.wait()
