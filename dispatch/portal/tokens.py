"""Random tokens for links that are stored only as their SHA-256 (sign-in links, tracking links)."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """192 random bits, URL-safe: unguessable, short enough for an SMS."""
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
