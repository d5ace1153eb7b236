"""Errors the domain raises; the HTTP edge maps each to one problem type in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """The thing does not exist for this tenant (another tenant's id looks the same)."""


def found(thing: T | None, what: str) -> T:
    """`thing`, or NotFound("<what> not found") when a lookup came back empty."""
    if thing is None:
        raise NotFound(f"{what} not found")
    return thing


class Conflict(DomainError):
    """The request clashes with current state (duplicate natural key, state transition)."""


class AuthenticationFailed(DomainError):
    """No valid credentials; always the same message so nothing leaks."""

    def __init__(self, detail: str = "invalid or missing credentials") -> None:
        super().__init__(detail)


class PermissionDenied(DomainError):
    """The principal is known but its role may not do this."""


class UnknownReferences(DomainError):
    """A command names ids that do not exist for the tenant (422: the request is wrong)."""

    def __init__(self, detail: str, missing: Mapping[str, Sequence[str]]) -> None:
        super().__init__(detail)
        self.missing = dict(missing)


class InsufficientStock(Conflict):
    """An order asks for more than is in stock; lists every short product."""

    def __init__(self, shortages: Sequence[Mapping[str, Any]]) -> None:
        super().__init__("not enough stock for one or more products")
        self.shortages = list(shortages)


class InvalidTransition(Conflict):
    """A state machine refuses the move (cancel a paid order, pay a void invoice)."""


class InvalidInput(DomainError):
    """Input that passed the schema but breaks a business rule (422)."""

    def __init__(self, detail: str, errors: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(detail)
        self.errors = {field: list(messages) for field, messages in (errors or {}).items()}


class Changes(Protocol):
    def is_empty(self) -> bool: ...


def require_changes(changes: Changes) -> None:
    """Refuse, before any work, a change that names no field (a PATCH of nothing)."""
    if changes.is_empty():
        raise InvalidInput("nothing to change", {"_schema": ["give at least one field"]})


class UnknownTenant(NotFound):
    """The request names no tenant we serve."""


class CursorExpired(DomainError):
    """A feed cursor points before what the retention still keeps (410): events were purged."""


class TooManyLoginAttempts(DomainError):
    """Login refused for a while (issue 19): this address failed too often, for this account
    or overall, or the account's own ceiling is reached (429 with Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after} s")
        self.retry_after = retry_after


class AlreadyPaid(Conflict):
    """A payment that differs from the one already recorded for the invoice (issue 19): a
    possible double charge, so it is refused (409) and the recorded payment is shown."""

    def __init__(self, method: str | None, reference: str | None, paid_at: Any) -> None:
        super().__init__("the invoice is already paid with another payment")
        self.recorded = {"method": method, "reference": reference, "paid_at": paid_at}
