"""Domain errors: pure exceptions carrying what the HTTP edge needs to render RFC 9457 problems.

Nothing here imports the web framework; `dispatch.core.problem` turns these into responses.
Texts are translated at the edge, in the reader's language: the title from the catalogue key
`error.<code>.title`, the detail from `key` with `params` when the raiser gives one (the English `detail`
stays as the fallback and as the text of logs), field errors likewise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field; `pointer` is a JSON pointer such as `/impact/injury`."""

    pointer: str
    detail: str
    key: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


class DomainError(Exception):
    """Base of every error a user can cause; subclasses fix `code`, `title` and `status`."""

    code = "domain-error"
    title = "Request could not be processed"
    status = 400

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
        key: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.key = key
        self.params = params or {}
        self.errors = errors or []
        self.extra = extra or {}


class BadRequest(DomainError):
    code = "bad-request"
    title = "Bad request"
    status = 400


class Unauthorized(DomainError):
    code = "unauthorized"
    title = "Authentication required"
    status = 401


class Forbidden(DomainError):
    code = "forbidden"
    title = "Not allowed"
    status = 403


class NotFound(DomainError):
    code = "not-found"
    title = "Not found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    title = "Conflict with the current state"
    status = 409


class StaleUpdate(Conflict):
    code = "stale-update"
    title = "The resource changed since you read it"


class Unprocessable(DomainError):
    code = "validation-error"
    title = "Invalid input"
    status = 422


class TooManyRequests(DomainError):
    code = "too-many-requests"
    title = "Too many requests"
    status = 429


class Unavailable(DomainError):
    """Something the request needs (the photo store, …) cannot be reached right now: retry, nothing was kept."""

    code = "unavailable"
    title = "Service unavailable"
    status = 503


@dataclass
class IllegalTransition(Conflict):
    """A lifecycle action that the current state does not allow; lists the actions that are allowed."""

    state: str
    action: str
    allowed: list[str] = field(default_factory=list)

    code = "illegal-transition"
    title = "Action not allowed in the current state"

    def __post_init__(self) -> None:
        allowed = ", ".join(self.allowed) or "none"
        Conflict.__init__(
            self,
            f"Cannot '{self.action}' a ticket that is '{self.state}'. Allowed: {allowed}.",
            extra={"state": self.state, "action": self.action, "allowed": list(self.allowed)},
            # The edge names the state and actions in the reader's language (keys status.* and action.*).
            key="error.illegal-transition.detail",
            params={"state": self.state, "action": self.action, "allowed": list(self.allowed)},
        )
