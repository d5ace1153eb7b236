"""What a handler is given: the request's tenant, principal, parsed query and body, and services.

The pipeline's parse stage (app/edge/endpoint.py) builds one per request from the route's
rules: the body and the query come already loaded into frozen domain objects by the row's
schemas (`Call[PlaceOrder, None]`, `Call[None, Listing[OrderFilter]]`), so a handler is only:
call a service with them, return its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

from aiohttp import web

from app.runtime.bootstrap import Services
from domain.model.identity import Principal, Tenant
from domain.ports import IdempotencyClaim

B = TypeVar("B")  # the body, as the row's body schema loads it (None: no body)
Q = TypeVar("Q")  # the query, as the row's query schema loads it (None: no query)


@dataclass(slots=True)
class Call(Generic[B, Q]):
    request: web.Request
    services: Services
    tenant: Tenant | None
    principal: Principal | None
    query: Q
    body: B
    idempotency: IdempotencyClaim | None = None

    @property
    def tenant_id(self) -> UUID:
        assert self.tenant is not None, "the route's access rule resolves a tenant"
        return self.tenant.id

    @property
    def caller(self) -> Principal:
        assert self.principal is not None, "the route's access rule authenticates"
        return self.principal

    @property
    def path_id(self) -> UUID:
        """The `{id}` of the route; the router's pattern already guarantees a UUID."""
        return UUID(self.request.match_info["id"])


# What a route without a body or query gets.
Plain = Call[None, None]
