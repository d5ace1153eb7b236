"""What a handler is given: the request's tenant, principal, parsed query and body, and services.

The endpoint wrapper (app/edge/endpoint.py) builds one per request from the route's rules, so
a handler is only: call a service with plain values, return its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from aiohttp import web

from app.runtime.bootstrap import Services
from domain.model.identity import Principal, Tenant
from domain.model.paging import Keyset, PageRequest
from domain.ports import IdempotencyClaim


@dataclass(slots=True)
class Call:
    request: web.Request
    services: Services
    tenant: Tenant | None
    principal: Principal | None
    query: dict[str, Any]
    body: Any
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

    @property
    def page(self) -> PageRequest:
        """`limit` and the opaque `cursor` of a list query."""
        cursor = self.query["cursor"]
        return PageRequest(self.query["limit"], Keyset.decode(cursor) if cursor else None)
