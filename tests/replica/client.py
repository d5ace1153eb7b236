"""What the replica tests do over HTTP: create and read customers with or without the
Consistency-Token, as a bearer client or a cookie client, and read the service's metrics."""

from __future__ import annotations

import re
import uuid
from typing import Any

import aiohttp

from tests.faults.service import API, Answer, Service

TOKEN = "Consistency-Token"


def new_customer() -> dict[str, str]:
    tag = uuid.uuid4().hex[:12]
    return {"name": f"Replica {tag}", "email": f"{tag}@replica.test"}


async def create_customer(service: Service, headers: dict[str, str]) -> Answer:
    return await service.request(
        "create", "POST", f"{API}/customers", json=new_customer(), headers=headers
    )


async def get_customer(service: Service, customer_id: str, headers: dict[str, str]) -> Answer:
    return await service.request("read", "GET", f"{API}/customers/{customer_id}", headers=headers)


async def login_as(service: Service, tenant: str, email: str) -> dict[str, str]:
    """Bearer headers for a demo user (the login's own token is in `headers[TOKEN]`)."""
    answer = await service.post_login(tenant, email)
    assert answer.status == 200, answer
    return {
        "X-Tenant": tenant,
        "Authorization": f"Bearer {answer.body['token']}",
        TOKEN: answer.headers[TOKEN],
    }


class CookieClient:
    """A browser-like client: it keeps whatever cookies the service sets, and nothing else."""

    def __init__(self, service: Service, tenant: str = "acme") -> None:
        self.base = f"http://127.0.0.1:{service.port}"
        self.tenant = tenant
        # unsafe: keep cookies of an IP-address host (127.0.0.1)
        self.session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=aiohttp.ClientTimeout(total=10)
        )

    async def request(self, method: str, path: str, **kw: Any) -> Answer:
        headers = {"X-Tenant": self.tenant, **kw.pop("headers", {})}
        async with self.session.request(method, self.base + path, headers=headers, **kw) as resp:
            body = await resp.json(content_type=None)
            return Answer(method, resp.status, dict(resp.headers), body)

    async def close(self) -> None:
        await self.session.close()


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")


async def metrics(service: Service) -> dict[str, float]:
    """`name{labels}` -> value of every sample on the admin port's /metrics."""
    samples = {}
    for line in (await service.metrics_text()).splitlines():
        match = _SAMPLE.match(line)
        if match:
            samples[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return samples


async def dashboard(service: Service) -> dict[str, Any]:
    """The admin port's /dashboard.json (what the live dashboard polls)."""
    url = f"http://127.0.0.1:{service.admin_port}/dashboard.json"
    async with aiohttp.ClientSession() as admin, admin.get(url) as resp:
        assert resp.status == 200, f"/dashboard.json answered {resp.status}"
        body: dict[str, Any] = await resp.json()
        return body
