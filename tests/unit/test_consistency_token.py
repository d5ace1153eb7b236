"""The Consistency-Token: only this deployment can issue one, and it stops mattering after its
horizon, so no token can pin a client's reads to the primary for long."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infrastructure.db.consistency import (
    ConsistencyTokens,
    InvalidConsistencyToken,
    WalGeometry,
    parse_lsn,
)

NOW = 1_800_000_000.0


def test_a_fresh_token_carries_its_position_back() -> None:
    tokens = ConsistencyTokens("a-secret-of-16-chars", horizon=2.0)
    assert tokens.read_after(tokens.issue(0x16B374D848, now=NOW), now=NOW + 0.5) == 0x16B374D848


def test_a_token_past_its_horizon_no_longer_asks_for_anything() -> None:
    tokens = ConsistencyTokens("a-secret-of-16-chars", horizon=2.0)
    token = tokens.issue(2**62, now=NOW)
    assert tokens.read_after(token, now=NOW + 2.5) is None
    assert tokens.read_after(token, now=NOW - 2.5) is None  # a clock far off either way


def test_another_deployments_token_is_refused() -> None:
    ours = ConsistencyTokens("a-secret-of-16-chars", horizon=2.0)
    theirs = ConsistencyTokens("another-secret-16-chars", horizon=2.0)
    with pytest.raises(InvalidConsistencyToken):
        ours.read_after(theirs.issue(100, now=NOW), now=NOW)


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t.replace("1.", "2.", 1),
        lambda t: ".".join([*t.split(".")[:1], "FFFFFFFF", *t.split(".")[2:]]),
        lambda t: ".".join([*t.split(".")[:2], str(int(t.split(".")[2]) + 1), t.split(".")[3]]),
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t + "=",
        lambda t: "",
        lambda t: "1.0.0." + "A" * 22,
        lambda t: t * 3,
    ],
)
def test_a_changed_or_made_up_token_is_refused(forge: Callable[[str], str]) -> None:
    tokens = ConsistencyTokens("a-secret-of-16-chars", horizon=2.0)
    with pytest.raises(InvalidConsistencyToken):
        tokens.read_after(forge(tokens.issue(0x1000, now=NOW)), now=NOW)


def test_lsns_parse_as_postgresql_prints_them() -> None:
    assert parse_lsn("0/0") == 0
    assert parse_lsn("16/B374D848") == (0x16 << 32) | 0xB374D848


def test_an_insert_position_just_past_a_page_header_compares_as_the_page_boundary() -> None:
    wal = WalGeometry(block_size=8192, segment_size=16 * 1024 * 1024)
    page = 5 * 8192
    segment = 3 * 16 * 1024 * 1024
    assert wal.record_boundary(page + 24) == page
    assert wal.record_boundary(segment + 40) == segment
    assert wal.record_boundary(page + 40) == page + 40  # a record may end there: kept
    assert wal.record_boundary(page + 1000) == page + 1000
