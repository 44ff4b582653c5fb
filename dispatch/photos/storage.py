"""The storage interface and its local-disk implementation (keys are ours, never user-supplied)."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

from dispatch.core.errors import Unavailable
from dispatch.core.settings import Settings

log = logging.getLogger("onsite24.storage")

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}(/[A-Za-z0-9_.-]{1,128})*$")


class StoredObjectMissing(LookupError):
    """The object's bytes are not in the storage (deleted or lost)."""


def checked_key(key: str) -> str:
    """The key, if it is one of ours (`photos/ab/<random id>`); nothing a caller sends can climb out of the store."""
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


def unreachable(exc: Exception) -> Unavailable:
    """What the caller is told when the store fails (a full disk, an unreachable bucket): 503, retry later.
    The cause goes to the log, where an operator finds a wrong bucket name or a full disk."""
    log.warning("photo store failed: %s", exc)
    return Unavailable(f"The photo store cannot be reached ({type(exc).__name__}).", key="error.storage.unavailable")


class Storage(Protocol):
    """Opaque byte storage addressed by a key such as `photos/ab/<random id>`."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class LocalDiskStorage:
    """Files under a root directory (settings.upload_dir), written atomically, never served statically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / checked_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        except OSError as exc:
            raise unreachable(exc) from exc
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise unreachable(exc) from exc
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise StoredObjectMissing(key) from exc
        except OSError as exc:
            raise unreachable(exc) from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    """Objects in a bucket of an S3-compatible store (AWS S3, MinIO, Ceph RGW, …), under a key prefix.

    The bucket stays private: photos are served through the API, which checks who asks, never by a bucket URL.
    boto3 retries throttling and dropped connections itself (standard retry mode).
    """

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return self.prefix + checked_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        name = self._key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=name, Body=data, ContentType=content_type)
        except self._failures as exc:
            raise unreachable(exc) from exc

    def get(self, key: str) -> bytes:
        name = self._key(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=name)
            body: bytes = answer["Body"].read()
        except self.client.exceptions.NoSuchKey as exc:
            raise StoredObjectMissing(key) from exc
        except self._failures as exc:
            raise unreachable(exc) from exc
        return body

    def delete(self, key: str) -> None:
        name = self._key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)  # a missing key is not an error
        except self._failures as exc:
            raise unreachable(exc) from exc

    @property
    def _failures(self) -> tuple[type[Exception], ...]:
        from botocore.exceptions import BotoCoreError, ClientError

        return (BotoCoreError, ClientError)


def s3_client(settings: Settings) -> Any:
    """A boto3 S3 client for the configured endpoint; credentials from the settings, else boto3's own chain
    (AWS_* variables, the instance's role)."""
    import boto3
    from botocore.config import Config

    secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url or None,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=secret,
        config=Config(
            # Path-style addressing works with every S3-compatible server; virtual hosts need DNS per bucket.
            s3={"addressing_style": "path"},
            retries={"mode": "standard", "max_attempts": 4},
            connect_timeout=5,
            read_timeout=30,
        ),
    )


def storage_from_settings(settings: Settings) -> Storage:
    """The configured backend: local disk under `upload_dir` (default) or an S3-compatible bucket."""
    if settings.storage_backend == "s3":
        assert settings.s3_bucket  # the settings refuse s3 without a bucket
        return S3Storage(s3_client(settings), settings.s3_bucket, settings.s3_prefix)
    return LocalDiskStorage(settings.upload_dir)
