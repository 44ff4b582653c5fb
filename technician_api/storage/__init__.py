"""Where photo bytes live: one `Storage` interface, a local-disk implementation.

An S3-compatible backend implements the same three methods (`put`, `get`, `delete`) with an object key;
it is not shipped yet because it could not be tested here (no S3-compatible server on the machine).
"""

from technician_api.storage.base import LocalDiskStorage, Storage, StoredObjectMissing, storage_from_settings

__all__ = ["LocalDiskStorage", "Storage", "StoredObjectMissing", "storage_from_settings"]
