"""A delivery's error names the endpoint's URL only as far as its host: the same text goes to
the deliverer's log line (`webhook_failed`), which is not only read by the tenant's admins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.webhooks.test_delivery import (
    admin,
    customers,
    delivering,
    endpoint,
    failed_attempts,
    until,
)


@pytest.fixture
async def not_http() -> AsyncIterator[int]:
    """A port whose server answers every request with a line that is not HTTP."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_a_receiver_answering_garbage_gets_an_error_without_the_urls_tokens(
    api, not_http, tenant, seeder
):
    headers = admin(seeder, tenant)
    url = f"http://127.0.0.1:{not_http}/hooks/s3cret-path-token?key=s3cret-query-token"
    hook = await endpoint(api, headers, url)
    await customers(api, headers, 1)
    async with delivering():
        await until(lambda: failed_attempts(seeder, tenant) >= 1, what="a failed attempt")

    log = f"/api/sales/webhooks/{hook['id']}/deliveries"
    error = (await (await api.get(log, headers=headers)).json())["items"][-1]["error"]
    assert error.startswith("ClientResponseError: 400"), error
    assert f"http://127.0.0.1:{not_http}/…" in error and "s3cret" not in error
