"""W3C traceparent: what continues the caller's trace and what starts a new one."""

from __future__ import annotations

import pytest

from app.edge.trace_context import _own_ids, parse

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


def test_a_valid_traceparent_gives_its_trace_id_and_flags() -> None:
    assert parse(f"00-{TRACE}-{PARENT}-01") == (TRACE, "01")
    assert parse(f" 00-{TRACE}-{PARENT}-00 ") == (TRACE, "00")


def test_a_later_version_may_append_fields() -> None:
    assert parse(f"01-{TRACE}-{PARENT}-01-what-comes-next") == (TRACE, "01")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"ff-{TRACE}-{PARENT}-01",  # version ff is invalid
        f"00-{TRACE}-{PARENT}-01-extra",  # version 00 has exactly four fields
        f"00-{'0' * 32}-{PARENT}-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero parent id
        f"00-{TRACE.upper()}-{PARENT}-01",  # lower-case hex only
        f"00-{TRACE[:-1]}-{PARENT}-01",
    ],
)
def test_an_invalid_traceparent_starts_a_new_trace(header: str | None) -> None:
    assert parse(header) is None


def test_our_span_continues_the_callers_trace_with_an_id_of_its_own() -> None:
    ids = _own_ids(f"00-{TRACE}-{PARENT}-01")
    assert (ids.trace_id, ids.flags) == (TRACE, "01")
    assert ids.span_id != PARENT and len(ids.span_id) == 16 and int(ids.span_id, 16)
    assert ids.header == f"00-{TRACE}-{ids.span_id}-01"


def test_without_a_caller_a_new_unsampled_trace_begins() -> None:
    first, second = _own_ids(None), _own_ids(None)
    assert first.trace_id != second.trace_id and int(first.trace_id, 16)
    assert parse(first.header) == (first.trace_id, "00")
