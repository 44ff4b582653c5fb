"""An S3-compatible object store for the test session: moto's S3 server, spoken to over HTTP with SigV4.

moto emulates the S3 protocol (buckets, objects, errors) in memory; the storage backend talks to it exactly as
to AWS S3 or MinIO, through boto3 over a real socket. A deployment should still check its own provider once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from tests.harness.net import free_port


@dataclass
class S3Server:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    server: Any  # moto's ThreadedMotoServer


def start_s3() -> S3Server:
    from moto.server import ThreadedMotoServer  # only when a test asks for the store

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return S3Server(f"http://127.0.0.1:{port}", "test-" + secrets.token_hex(4), secrets.token_urlsafe(24), server)


def stop_s3(s3: S3Server) -> None:
    s3.server.stop()
