"""One statement on an aiopg connection, waiting on aiopg's own poll future."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiopg


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


async def run_statement(
    raw: aiopg.Connection, text: str, params: Mapping[str, Any] | None, op_timeout: float
) -> list[tuple[Any, ...]]:
    """One statement on an aiopg connection, waiting on its poll callback directly.

    aiopg's Cursor.execute waits through asyncio.wait_for, which passes the result on through
    an extra future: one more turn of the event loop per statement, and under load every turn
    is spent with the connection checked out. Here the connection's own waiter (the future
    aiopg's reader callback completes when the server has answered) is awaited as is, with a
    plain timer for aiopg's per-operation timeout. As aiopg does, a statement whose wait is
    cut short (cancelled task, timer) leaves its connection closed: the server may still be
    running it, so that session can serve no one else.
    """
    cursor = raw.raw.cursor()
    waiter = raw._create_waiter("execute")
    timer = asyncio.get_running_loop().call_later(op_timeout, _expire, waiter)
    try:
        cursor.execute(text, params)
        raw._ready(raw._weakref)  # sends what is left and polls; may finish at once
        await waiter
    except (asyncio.CancelledError, TimeoutError):
        raw.close()
        raise
    finally:
        timer.cancel()
        raw._waiter = None
    return cursor.fetchall() if cursor.description is not None else []
