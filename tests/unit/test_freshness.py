"""Validators, the version book and the response cache (issue 22), without a database."""

from __future__ import annotations

import tracemalloc
import uuid
from typing import Any

import orjson
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from app.api.routes import ROUTES
from app.edge.freshness import Freshness, matches
from app.edge.keys import TENANT
from app.edge.response_cache import ResponseCache
from domain.model.identity import Tenant
from infrastructure.db.replicas.consistency import ReadConsistency, current_consistency
from infrastructure.versions import VersionBook

LIST = next(r for r in ROUTES if r.name == "customers.list")
A, B = uuid.uuid4(), uuid.uuid4()


async def serving_book(*rows: tuple[str, str, int]) -> VersionBook:
    book = VersionBook()

    async def fetch(_: str) -> list[tuple[Any, ...]]:
        return list(rows)

    await book.load(fetch)
    book.resume()
    return book


def request(tenant_id: uuid.UUID, query: str = "limit=5", **headers: str) -> web.Request:
    req = make_mocked_request("GET", f"/api/sales/customers?{query}", headers=headers)
    req[TENANT] = Tenant(tenant_id, "t", "T")
    return req


def freshness(book: VersionBook, cache_bytes: int = 1 << 20) -> Freshness:
    return Freshness(book, ResponseCache(cache_bytes), clock_period=2.0)


async def test_the_book_keeps_the_highest_version_heard_in_any_order() -> None:
    book = await serving_book((str(A), "customers", 3))
    book.apply(f"{A}:customers:5:0")
    book.apply(f"{A}:customers:4:0")  # a late notification of an older write
    assert (book.version(A, "customers"), book.version(B, "customers")) == (5, 0)


async def test_the_book_serves_only_while_listening_after_reading_the_table() -> None:
    book = VersionBook()
    book.resume()
    assert not book.serving  # listening, but the table not read
    book = await serving_book()
    assert book.serving
    book.suspend()
    assert not book.serving and book.version(A, "customers") == 0


async def test_an_unreadable_notification_stops_the_shortcut() -> None:
    book = await serving_book((str(A), "customers", 3))
    book.apply("nonsense")
    assert not book.serving and book.version(A, "customers") == 0


async def test_the_etag_names_the_tenant_the_query_and_the_versions() -> None:
    book = await serving_book()
    fresh = freshness(book)
    ours = fresh.validator(request(A), LIST)
    assert ours == fresh.validator(request(A), LIST)
    assert ours != fresh.validator(request(B), LIST)
    assert ours != fresh.validator(request(A, "limit=6"), LIST)
    book.apply(f"{A}:products:1:0")  # a kind the list does not show
    assert ours == fresh.validator(request(A), LIST)
    book.apply(f"{A}:customers:1:0")
    assert ours != fresh.validator(request(A), LIST)


async def test_no_shortcut_while_the_book_cannot_be_trusted() -> None:
    book = await serving_book()
    fresh = freshness(book)
    etag = fresh.validator(request(A), LIST)
    assert etag is not None
    book.suspend()
    assert fresh.answer(request(A, **{"If-None-Match": etag}), LIST) is None


async def test_a_live_consistency_token_never_takes_the_shortcut() -> None:
    fresh = freshness(await serving_book())
    etag = fresh.validator(request(A), LIST)
    assert etag is not None
    token = current_consistency.set(ReadConsistency(after_lsn=0x16B374D848))
    try:
        assert fresh.answer(request(A, **{"If-None-Match": etag}), LIST) is None
    finally:
        current_consistency.reset(token)
    answered = fresh.answer(request(A, **{"If-None-Match": etag}), LIST)
    assert answered is not None and answered.status == 304


async def test_an_answer_read_on_a_replica_gets_no_etag_and_is_not_kept() -> None:
    fresh = freshness(await serving_book())
    req = request(A)
    token = current_consistency.set(ReadConsistency())
    try:
        assert fresh.answer(req, LIST) is None
        current_consistency.get().on_replica = True  # type: ignore[union-attr]
        answer = fresh.finish(req, web.Response(body=b"{}", content_type="application/json"))
    finally:
        current_consistency.reset(token)
    assert "ETag" not in answer.headers and len(fresh.cache) == 0
    assert answer.headers["Cache-Control"] == "private, no-cache"


def test_if_none_match_compares_weakly_and_takes_lists() -> None:
    assert matches('"a", W/"b"', '"b"')
    assert matches('"b"', '"b"')
    assert not matches('"c", "a"', '"b"')
    assert not matches(None, '"b"')


def test_the_response_cache_stays_under_its_bound_with_10000_distinct_queries() -> None:
    bound = 2 * 1024 * 1024
    tracemalloc.start()
    try:
        cache = ResponseCache(bound)
        before = tracemalloc.get_traced_memory()[0]
        for n in range(10_000):
            page = {"items": [{"id": str(uuid.UUID(int=n)), "name": "x" * (n % 900)}] * 3}
            cache.put(f'"{n:032x}"', orjson.dumps(page))
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert cache.size <= bound
    assert used <= bound, f"{used} bytes held for a bound of {bound}"
    assert cache.evictions > 0 and len(cache) + cache.evictions == 10_000


def test_a_body_larger_than_the_whole_cache_is_not_kept() -> None:
    cache = ResponseCache(1000)
    cache.put('"k"', b"x" * 2000)
    assert len(cache) == 0 and cache.size == 0
