"""The photo storage backends: local disk, and an S3-compatible bucket."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import func, select

from dispatch.app import create_app
from dispatch.core import i18n
from dispatch.core.errors import Unavailable
from dispatch.core.settings import Settings
from dispatch.photos.storage import LocalDiskStorage, S3Storage, StoredObjectMissing, s3_client, storage_from_settings
from dispatch.visits.models import JobPhoto
from tests.harness.net import free_port
from tests.technician_api.conftest import drive_to_site, tiny_jpeg


def test_local_disk_round_trip_and_refuses_escaping_keys(tmp_path):
    """Bytes come back as stored; a key can never reach outside the upload directory."""
    store = LocalDiskStorage(tmp_path / "uploads")
    store.put("photos/ab/abcdef", b"data", "image/jpeg")
    assert store.get("photos/ab/abcdef") == b"data"
    assert not list((tmp_path / "uploads" / "photos" / "ab").glob(".upload-*"))  # no temp files left
    for bad in ("../etc/passwd", "photos/../../x", "/abs/path", "photos/a b"):
        with pytest.raises(ValueError):
            store.put(bad, b"x", "image/png")
    store.delete("photos/ab/abcdef")
    with pytest.raises(StoredObjectMissing):
        store.get("photos/ab/abcdef")


def test_a_disk_that_refuses_the_write_is_reported_as_unavailable(tmp_path):
    """A full or read-only disk is a temporary outage for the caller (503, send again), not a server bug."""
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("x")
    with pytest.raises(Unavailable):
        LocalDiskStorage(blocked).put("photos/ab/abcdef", b"data", "image/jpeg")


@pytest.fixture
def s3_settings(settings, s3_store):
    """Settings for a fresh private bucket on the test session's S3-compatible server."""
    import boto3

    bucket = f"onsite24-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=s3_store.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=s3_store.access_key_id,
        aws_secret_access_key=s3_store.secret_access_key,
    ).create_bucket(Bucket=bucket)
    return settings.model_copy(
        update={
            "storage_backend": "s3",
            "s3_bucket": bucket,
            "s3_endpoint_url": s3_store.endpoint_url,
            "s3_access_key_id": s3_store.access_key_id,
            "s3_secret_access_key": SecretStr(s3_store.secret_access_key),
        }
    )


def test_s3_round_trip_under_the_prefix_and_refuses_escaping_keys(s3_settings):
    """The same three operations against an S3-compatible bucket: bytes back as stored, under the prefix."""
    store = storage_from_settings(s3_settings)
    assert isinstance(store, S3Storage)
    store.put("photos/ab/abcdef", b"\xff\xd8\xffdata", "image/jpeg")
    assert store.get("photos/ab/abcdef") == b"\xff\xd8\xffdata"
    listed = s3_client(s3_settings).list_objects_v2(Bucket=s3_settings.s3_bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["onsite24/photos/ab/abcdef"]
    head = s3_client(s3_settings).head_object(Bucket=s3_settings.s3_bucket, Key="onsite24/photos/ab/abcdef")
    assert head["ContentType"] == "image/jpeg"
    for bad in ("../etc/passwd", "photos/../../x", "/abs/path", "photos/a b"):
        with pytest.raises(ValueError):
            store.put(bad, b"x", "image/png")
    store.delete("photos/ab/abcdef")
    store.delete("photos/ab/abcdef")  # deleting twice is not an error, as on disk
    with pytest.raises(StoredObjectMissing):
        store.get("photos/ab/abcdef")


def test_s3_needs_a_bucket_and_an_endpoint_url():
    """Choosing S3 without naming the bucket, or with an endpoint that is not a URL, is refused when the settings
    load, not at the first photo."""
    with pytest.raises(ValidationError, match="ONSITE24_S3_BUCKET"):
        Settings(environment="test", storage_backend="s3")
    with pytest.raises(ValidationError, match="ONSITE24_S3_ENDPOINT_URL"):
        Settings(environment="test", storage_backend="s3", s3_bucket="photos", s3_endpoint_url="minio:9000")


def test_a_job_photo_goes_to_the_bucket_and_is_served_from_it(s3_settings, session_factory, job, dispatcher_headers):
    """With the S3 backend a technician's photo lands in the bucket (not on disk) and the office downloads it."""
    app = create_app(s3_settings, session_factory=session_factory)
    with TestClient(app, raise_server_exceptions=False) as client:
        drive_to_site(client, job)
        r = client.post(
            f"/api/v1/jobs/{job.visit.id}/photos", files={"file": ("x.jpg", tiny_jpeg())}, headers=job.headers
        )
        assert r.status_code == 201, r.text
        got = client.get(r.json()["url"], headers=dispatcher_headers)
        assert got.status_code == 200 and got.content == tiny_jpeg()
    listed = s3_client(s3_settings).list_objects_v2(Bucket=s3_settings.s3_bucket)["Contents"]
    assert (
        len(listed) == 1 and listed[0]["Key"].startswith("onsite24/photos/") and listed[0]["Size"] == len(tiny_jpeg())
    )
    assert not s3_settings.upload_dir.exists() or not any(s3_settings.upload_dir.rglob("*.*"))


def test_an_unreachable_bucket_answers_503_and_keeps_nothing(s3_settings, session_factory, db_session, job, caplog):
    """The store is down: the phone is told to send the photo again later, and no half-stored photo is recorded."""
    down = s3_settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{free_port()}"})  # nobody listens
    app = create_app(down, session_factory=session_factory)
    with TestClient(app, raise_server_exceptions=False) as client:
        drive_to_site(client, job)
        url = f"/api/v1/jobs/{job.visit.id}/photos"
        r = client.post(url, files={"file": ("x.jpg", tiny_jpeg())}, headers={**job.headers, "Accept-Language": "ko"})
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["retry-after"] and r.json()["type"].endswith("/unavailable")
    assert r.json()["detail"] == i18n.gettext("error.storage.unavailable", "ko")
    assert db_session.scalar(select(func.count()).select_from(JobPhoto)) == 0
    assert "photo store failed" in caplog.text  # the operator sees why
