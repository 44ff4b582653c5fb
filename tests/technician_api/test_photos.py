"""Job photos: checked on the way in, served only to those allowed."""

from __future__ import annotations

from dispatch.core.types import Role
from tests.factories import auth_header, make_user
from tests.technician_api.conftest import drive_to_site, make_job, tiny_jpeg


def test_photo_upload_is_type_checked_by_content_and_served_only_to_authorised_users(
    client, db_session, settings, job, dispatcher_headers
):
    """A real JPEG is stored under a random id; its technician and the office can fetch it, a colleague cannot."""
    drive_to_site(client, job)
    url = f"/api/v1/jobs/{job.visit.id}/photos"
    fake = client.post(url, files={"file": ("x.jpg", b"<html>not an image</html>", "image/jpeg")}, headers=job.headers)
    assert fake.status_code == 422
    r = client.post(url, files={"file": ("x.bin", tiny_jpeg(), "application/octet-stream")}, headers=job.headers)
    assert r.status_code == 201, r.text
    photo = r.json()
    assert photo["content_type"] == "image/jpeg" and len(photo["id"]) >= 32
    own = client.get(photo["url"], headers=job.headers)
    assert own.status_code == 200 and own.content == tiny_jpeg() and own.headers["content-type"] == "image/jpeg"
    assert client.get(photo["url"], headers=dispatcher_headers).status_code == 200
    other = make_job(db_session, settings)
    assert client.get(photo["url"], headers=other.headers).status_code == 404
    assert client.get(photo["url"]).status_code == 401
    # never under a public static path
    assert client.get(f"/uploads/{photo['id']}").status_code == 404


def test_photo_size_limit_from_settings(client, db_session, settings, job):
    """A photo larger than the configured limit is refused with 413."""
    drive_to_site(client, job)
    big = b"\xff\xd8\xff" + b"0" * (settings.max_upload_bytes + 10)
    r = client.post(f"/api/v1/jobs/{job.visit.id}/photos", files={"file": ("big.jpg", big)}, headers=job.headers)
    assert r.status_code == 413


def test_photos_only_once_on_site(client, job):
    """Before arriving there is nothing to photograph: refused."""
    r = client.post(f"/api/v1/jobs/{job.visit.id}/photos", files={"file": ("x.jpg", tiny_jpeg())}, headers=job.headers)
    assert r.status_code == 422


def test_agents_may_view_photos(client, db_session, settings, job):
    """Customer-service agents answering a call can see the job's photos."""
    drive_to_site(client, job)
    r = client.post(f"/api/v1/jobs/{job.visit.id}/photos", files={"file": ("x.jpg", tiny_jpeg())}, headers=job.headers)
    agent = auth_header(settings, make_user(db_session, role=Role.agent))
    assert client.get(r.json()["url"], headers=agent).status_code == 200
