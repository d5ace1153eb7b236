"""What of a webhook URL the events and the logs show: scheme, host and port, never a token."""

from __future__ import annotations

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from infrastructure.webhooks.calls import described
from infrastructure.webhooks.redaction import redacted_url

TOKENED = "https://user:pa55@erp.example.com:8443/services/T0/s3cret?key=s3cret#s3cret"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (TOKENED, "https://erp.example.com:8443/…"),
        ("https://hooks.example.com/services/T0/B0/s3cret", "https://hooks.example.com/…"),
        ("https://erp.example.com?key=s3cret", "https://erp.example.com/…"),
        ("HTTP://erp.example.com/", "http://erp.example.com"),
        ("https://erp.example.com", "https://erp.example.com"),
        ("http://[2001:db8::1]:8080/s3cret", "http://[2001:db8::1]:8080/…"),
        ("https://s3cret@/path", "…"),  # userinfo and no host
        ("http://[2001:db8::1/s3cret", "…"),  # unparseable
        ("s3cret", "…"),
    ],
)
def test_a_url_is_shown_only_as_far_as_its_host(url: str, shown: str) -> None:
    assert redacted_url(url) == shown


def _response_error(url: str) -> aiohttp.ClientResponseError:
    """What aiohttp raises when a receiver answers something that is not HTTP."""
    info = aiohttp.RequestInfo(URL(url), "POST", CIMultiDictProxy(CIMultiDict()), URL(url))
    return aiohttp.ClientResponseError(info, (), status=400, message="Bad status line")


@pytest.mark.parametrize(
    "error",
    [
        _response_error(TOKENED),
        aiohttp.InvalidUrlClientError(TOKENED),
        aiohttp.NonHttpUrlClientError(TOKENED),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_failed_calls_description_never_carries_the_urls_tokens(
    error: aiohttp.ClientError,
) -> None:
    assert str(error).count("s3cret") > 0, "aiohttp's own text names the whole URL"
    text = described(error, TOKENED)
    assert "s3cret" not in text and "pa55" not in text
    assert "https://erp.example.com:8443/…" in text and type(error).__name__ in text


def test_a_failed_calls_description_keeps_what_names_no_url() -> None:
    refused = aiohttp.ServerDisconnectedError()
    assert described(refused, TOKENED) == "ServerDisconnectedError: Server disconnected"
