"""Job photos: size- and type-checked upload, storage through the `Storage` interface, guarded download."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.core.auth import Principal
from dispatch.core.clock import utcnow
from dispatch.core.errors import FieldError, NotFound, Unprocessable
from dispatch.core.types import Role, VisitStatus
from dispatch.photos.images import sniff_image_type
from dispatch.photos.storage import Storage
from dispatch.portal.models import TicketPhoto
from dispatch.tickets.models import Visit
from dispatch.visits.models import JobPhoto
from technician_api.jobs.service import lock_own_visit

#: Photos are taken on site, or after completion to document the result.
PHOTO_STATES = (VisitStatus.on_site, VisitStatus.paused, VisitStatus.completed)
STAFF = (Role.dispatcher, Role.manager, Role.agent, Role.admin)


def upload_photo(
    session: Session,
    storage: Storage,
    *,
    principal: Principal,
    visit_id: int,
    data: bytes,
    taken_at: datetime | None = None,
    now: datetime | None = None,
) -> JobPhoto:
    """Store a photo of the caller's job; commits. Size is checked by the caller while reading. `taken_at` is the
    phone's time of the picture, kept unless it is later than the upload."""
    assert principal.technician_id is not None
    visit = lock_own_visit(session, visit_id=visit_id, technician_id=principal.technician_id)
    if visit.status not in PHOTO_STATES:
        raise Unprocessable(
            f"Photos can be added once on site (the job is '{visit.status.value}').",
            errors=[FieldError("/file", "job not on site")],
            key="error.photo.not-on-site",
            params={"state": visit.status.value},
        )
    # The same picture sent again for the same job (a phone retrying an upload whose answer it never got)
    # is the photo already stored: the app may resend safely, nothing is counted twice.
    digest = hashlib.sha256(data).hexdigest()
    same = session.scalar(select(JobPhoto).where(JobPhoto.visit_id == visit.id, JobPhoto.sha256 == digest).limit(1))
    if same is not None:
        session.rollback()  # the visit's lock
        return same
    content_type = sniff_image_type(data)
    if content_type is None:
        raise Unprocessable(
            "Only JPEG, PNG or WebP photos are accepted.",
            errors=[FieldError("/file", "not a JPEG, PNG or WebP image", key="error.photo.type")],
            key="error.photo.type",
        )
    photo_id = secrets.token_urlsafe(24)
    key = f"photos/{photo_id[:2]}/{photo_id}"
    storage.put(key, data, content_type)
    photo = JobPhoto(
        id=photo_id,
        visit_id=visit.id,
        ticket_id=visit.ticket_id,
        content_type=content_type,
        size_bytes=len(data),
        sha256=digest,
        storage_key=key,
        uploaded_by_user_id=principal.user_id,
        taken_at=min(taken_at, now or utcnow()) if taken_at is not None else None,
    )
    session.add(photo)
    try:
        session.commit()
    except Exception:
        storage.delete(key)
        raise
    return photo


@dataclass(frozen=True)
class PhotoBytes:
    content_type: str
    data: bytes
    sha256: str


def read_photo(session: Session, storage: Storage, *, principal: Principal, photo_id: str) -> PhotoBytes:
    """A photo for office staff or the technician of its job; anyone else gets 404."""
    photo = session.get(JobPhoto, photo_id)
    if photo is None:
        raise NotFound("Photo not found.", key="error.photo.not-found")
    if principal.role not in STAFF:
        owner = session.scalar(select(Visit.technician_id).where(Visit.id == photo.visit_id))
        if principal.technician_id is None or owner != principal.technician_id:
            raise NotFound("Photo not found.", key="error.photo.not-found")
    return PhotoBytes(photo.content_type, storage.get(photo.storage_key), photo.sha256)


def read_customer_photo(
    session: Session, storage: Storage, *, principal: Principal, visit_id: int, photo_id: str
) -> PhotoBytes:
    """A photo the customer attached to the complaint behind one of the caller's jobs; otherwise 404."""
    assert principal.technician_id is not None
    visit = session.scalar(select(Visit).where(Visit.id == visit_id, Visit.technician_id == principal.technician_id))
    photo = session.get(TicketPhoto, photo_id)
    if visit is None or photo is None or photo.ticket_id != visit.ticket_id:
        raise NotFound("Photo not found.", key="error.photo.not-found")
    return PhotoBytes(content_type=photo.content_type, data=storage.get(photo.storage_key), sha256=photo.sha256)
