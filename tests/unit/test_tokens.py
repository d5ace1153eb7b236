"""Token formats: a session token can never read as an API key; a key names its tenant."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.model import tokens


def test_a_session_token_never_reads_as_an_api_key_even_when_its_random_part_starts_sk_(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("domain.model.tokens.secrets.token_urlsafe", lambda n: "sk_" + "a" * 40)
    token = tokens.new_session_token()
    assert not tokens.is_api_key(token)
    assert tokens.tenant_of_api_key(token) is None
    assert tokens.looks_like_token(token)


def test_an_api_key_carries_its_tenant() -> None:
    tenant_id = uuid4()
    key = tokens.new_api_key(tenant_id)
    assert tokens.is_api_key(key)
    assert tokens.tenant_of_api_key(key) == tenant_id
    assert tokens.looks_like_token(key)


def test_a_key_of_the_first_format_names_no_tenant() -> None:
    assert tokens.tenant_of_api_key("sk_" + "x" * 43) is None
