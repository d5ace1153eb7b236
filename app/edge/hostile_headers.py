"""Small edges hostile callers probed (issue 19, item 8): `Expect: 100-continue` and repeated
identity headers (the admin port's `Host` is app/edge/admin_hosts.py).

- aiohttp answers `100 Continue` from the route's expect handler, before any middleware,
  that is before the caller is known: the client then sends its body to whoever asks. Routes
  get `deferred_expect` instead, and the receiving edge sends `100 Continue` only once the
  caller is authenticated (app/edge/receive.py calls `send_continue`).
- A header that names who is asking must be said once: two `X-Tenant`s (or `Authorization`s)
  that a proxy and a client each added are a 400, not "the first one wins".
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.http import HttpVersion11

SINGLE = ("X-Tenant", "Authorization")
_SENT_CONTINUE: web.RequestKey[bool] = web.RequestKey("sent_continue")


class DuplicateHeader(Exception):
    """An identity header said twice (400)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.detail = f"the {name} header must be sent once"


def single_headers(request: web.Request) -> None:
    for name in SINGLE:
        if len(request.headers.getall(name, ())) > 1:
            raise DuplicateHeader(name)


async def deferred_expect(request: web.Request) -> None:
    """The routes' expect handler: refuse an unknown expectation, promise nothing yet."""
    expect = request.headers.get("Expect", "")
    if expect.lower() != "100-continue":
        raise web.HTTPExpectationFailed(text=f"unknown expectation {expect[:40]!r}")


async def send_continue(request: web.Request) -> None:
    """`100 Continue`, now that the caller is known, if it asked and is still waiting."""
    if (
        request.version == HttpVersion11
        and request.headers.get("Expect", "").lower() == "100-continue"
        and not request.get(_SENT_CONTINUE)
    ):
        request[_SENT_CONTINUE] = True
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the answer proper has not started yet
