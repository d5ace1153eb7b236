"""The type of a route table row (app/api/routes.py holds the table): a route and its rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from marshmallow import Schema

if TYPE_CHECKING:
    from app.edge.call import Call

ApiHandler = Callable[["Call[Any, Any]"], Awaitable[Any]]
Gate = Literal["reads", "commands"]

UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class Access(Enum):
    OPEN = "open"  # no tenant, no principal: health, metrics, the API document
    TENANT = "tenant"  # a tenant but no principal yet: login
    PRINCIPAL = "principal"  # a tenant and an authenticated principal


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # OpenAPI style: {id} (the router adds the UUID pattern)
    handler: ApiHandler
    name: str
    summary: str
    access: Access = Access.PRINCIPAL
    gate: Gate | None = None  # None: never queued (no database, or login's own limits)
    idempotent: bool = False  # takes an Idempotency-Key
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    body_required: bool = True  # False: an absent body reads as {} (every field optional)
    response: type[Schema] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()  # beyond the ones every route of its kind can answer
    location: str | None = None  # the route serving what this creates, by the result's id
    # Each call counts against the per-address login limit before its body is read (login).
    throttled: bool = False
    no_store: bool = False  # answers carry secrets or identity: Cache-Control: no-store
    # Seconds the route may wait for news beyond REQUEST_TIMEOUT (a long poll; it waits
    # outside its admission place and holds no connection meanwhile).
    long_poll: float = 0.0
    # The resource kinds (infrastructure/versions.py, or "dashboard": all of them) whose
    # versions validate a read's answer: ETag, 304 and the response cache (issue 22).
    depends_on: tuple[str, ...] = ()

    @property
    def router_path(self) -> str:
        path = self.path.replace("{id}", "{id:" + UUID_PATTERN + "}")
        return path.replace("{delivery_id}", "{delivery_id:" + UUID_PATTERN + "}")

    @property
    def tag(self) -> str:
        return self.name.split(".")[0]

    @property
    def changes_state(self) -> bool:
        return self.method not in ("GET", "HEAD")
