"""What kind of image a photo is, told from its bytes."""

from __future__ import annotations


def sniff_image_type(data: bytes) -> str | None:
    """The image type from magic bytes (never from the name or the client's Content-Type)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
