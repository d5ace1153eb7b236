"""The Consistency-Token: only this deployment can issue one, it tells clients nothing, it is
bound to its tenant, and it stops mattering after its horizon, so no token can pin a client's
reads to the primary for long; a token that asks for nothing is ignored, never refused."""

from __future__ import annotations

import uuid

import pytest

from infrastructure.db.replicas.consistency import (
    ConsistencyTokens,
    InvalidConsistencyToken,
    UnusableConsistencyToken,
    WalGeometry,
    parse_lsn,
)

NOW = 1_800_000_000.0
TENANT = uuid.UUID("11111111-1111-4111-8111-111111111111")
OTHER_TENANT = uuid.UUID("22222222-2222-4222-8222-222222222222")


def _tokens(secret: str = "a-secret-of-16-chars") -> ConsistencyTokens:
    return ConsistencyTokens(secret, horizon=2.0)


def test_a_fresh_token_carries_its_position_back() -> None:
    tokens = _tokens()
    token = tokens.issue(0x16B374D848, TENANT, now=NOW)
    assert tokens.read_after(token, TENANT, now=NOW + 0.5) == 0x16B374D848


def test_the_position_cannot_be_read_from_the_token() -> None:
    tokens = _tokens()
    first, second = tokens.issue(0x1000, TENANT, now=NOW), tokens.issue(0x1000, TENANT, now=NOW)
    assert first != second  # a fresh nonce each time: equal positions look unrelated
    for token in (first, second):
        assert "1000" not in token.split(".", 2)[2].upper()
        assert len(token) < 100


def test_a_token_past_its_horizon_asks_for_nothing_whatever_its_secret() -> None:
    token = _tokens().issue(2**62, TENANT, now=NOW)
    for reader in (_tokens(), _tokens("a-new-secret-after-restart")):
        for now in (NOW + 2.5, NOW - 2.5):  # a clock far off either way
            with pytest.raises(UnusableConsistencyToken, match="stale"):
                reader.read_after(token, TENANT, now=now)


def test_a_token_of_another_secret_or_tenant_asks_for_nothing() -> None:
    token = _tokens("another-secret-16-chars").issue(100, TENANT, now=NOW)
    with pytest.raises(UnusableConsistencyToken, match="unverifiable"):
        _tokens().read_after(token, TENANT, now=NOW)
    ours = _tokens().issue(100, TENANT, now=NOW)
    with pytest.raises(UnusableConsistencyToken, match="unverifiable"):
        _tokens().read_after(ours, OTHER_TENANT, now=NOW)


def test_a_token_of_the_first_format_asks_for_nothing() -> None:
    with pytest.raises(UnusableConsistencyToken, match="old-format"):
        _tokens().read_after("1.16B374D848.1800000000000." + "A" * 22, TENANT, now=NOW)


def test_a_token_with_its_time_or_seal_changed_asks_for_nothing() -> None:
    tokens = _tokens()
    version, issued, sealed = tokens.issue(0x1000, TENANT, now=NOW).split(".")
    for forged in (
        f"{version}.{int(issued) + 1}.{sealed}",
        f"{version}.{issued}.{sealed[:-1]}{'A' if sealed[-1] != 'A' else 'B'}",
    ):
        with pytest.raises(UnusableConsistencyToken):
            tokens.read_after(forged, TENANT, now=NOW)


@pytest.mark.parametrize(
    "garbage", ["", "garbage", "2.1800000000000.short", "2.x." + "A" * 48, "2." + "9" * 40]
)
def test_what_is_no_token_at_all_is_invalid(garbage: str) -> None:
    with pytest.raises(InvalidConsistencyToken):
        _tokens().read_after(garbage, TENANT, now=NOW)


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
