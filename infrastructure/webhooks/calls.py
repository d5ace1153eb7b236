"""One webhook call: the signed POST of one event, bounded by WEBHOOK_TIMEOUT, to an address
that is checked first and again by the resolver the connection uses (no DNS-rebinding gap).
No database connection is involved here: the deliverer records the outcome afterwards.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from types import TracebackType

import aiohttp
import orjson

from infrastructure.encoding import json_bytes
from infrastructure.webhooks import signing
from infrastructure.webhooks.addresses import GuardedResolver, refusal
from infrastructure.webhooks.redaction import redacted_url
from infrastructure.webhooks.store import Item


@dataclass(frozen=True, slots=True)
class CallSettings:
    timeout: float
    allow_private: bool
    concurrency: int


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Caller:
    """The deliverer's HTTP client (one connection per call: endpoints are many and sparse)."""

    def __init__(self, settings: CallSettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Caller:
        connector = aiohttp.TCPConnector(
            limit=self._settings.concurrency,
            force_close=True,
            resolver=GuardedResolver(self._settings.allow_private),
        )
        self._session = aiohttp.ClientSession(connector=connector)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, url: str, secret: str, item: Item) -> Outcome:
        """The HTTP call; no connection of the pool is held here."""
        body = json_bytes(
            {
                "id": item.event_id,
                "type": item.event_type,
                "occurred_at": item.occurred_at,
                "data": orjson.Fragment(item.data_json),
            }
        )
        started = time.monotonic()
        headers = signing.headers(secret, str(item.event_id), int(time.time()), body)
        assert self._session is not None
        try:
            async with asyncio.timeout(self._settings.timeout):
                # Again at every call, inside its time budget: DNS answers change.
                reason = await refusal(url, self._settings.allow_private)
                if reason is not None:
                    return Outcome(None, 0, f"refused: {reason}")
                async with self._session.post(
                    url, data=body, headers=headers, allow_redirects=False
                ) as resp:
                    await resp.content.read(65536)  # a receiver's answer is not ours to keep
                    status: int | None = resp.status
            error = None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
        except TimeoutError:
            status, error = None, f"no answer within {self._settings.timeout:g} s"
        except (aiohttp.ClientError, OSError) as exc:
            status, error = None, described(exc, url)
        return Outcome(status, round((time.monotonic() - started) * 1000), error)


# aiohttp errors whose text is the URL itself.
_NAMED_BY_THEIR_URL = (
    aiohttp.InvalidURL,
    aiohttp.NonHttpUrlClientError,
    aiohttp.RedirectClientError,
)


def described(exc: Exception, url: str) -> str:
    """A failed call as the delivery log and the log line say it. aiohttp's response and URL
    errors spell out the whole URL, tokens and all: those say only its redacted form."""
    if isinstance(exc, aiohttp.ClientResponseError):
        detail = f"{exc.status}, message={exc.message!r}, url={redacted_url(url)!r}"
    elif isinstance(exc, _NAMED_BY_THEIR_URL):
        detail = redacted_url(url)
    else:
        detail = str(exc)
    return f"{type(exc).__name__}: {detail}"[:500]
