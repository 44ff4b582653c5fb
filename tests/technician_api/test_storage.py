"""The photo storage backend on local disk."""

from __future__ import annotations

import pytest

from technician_api.storage import LocalDiskStorage, StoredObjectMissing


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
