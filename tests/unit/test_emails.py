"""Look-alike emails: one stored form, invisible characters and mixed scripts refused."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from domain.model.emails import comparable_email, normalize_email


@pytest.mark.parametrize(
    "raw",
    [
        " Wile@Desert.TEST ",
        "\uff57\uff49\uff4c\uff45@desert.test",  # fullwidth wile
        "wile@\uff44\uff45\uff53\uff45\uff52\uff54.test",  # fullwidth desert
    ],
)
def test_variants_of_one_address_have_one_form(raw: str) -> None:
    assert normalize_email(raw) == "wile@desert.test"


@pytest.mark.parametrize(
    "raw",
    [
        "wile@desert.test\u200b",  # zero-width space
        "wi\u200dle@desert.test",  # zero-width joiner
        "\u202ewile@desert.test",  # right-to-left override
        "wile@desert\u2066.test",  # left-to-right isolate
        "wile@d\u0435sert.test",  # Cyrillic e among Latin letters
        "w\u0456le@desert.test",  # Cyrillic i in the local part
        "wile@\u03b1lpha-beta.test",  # Greek alpha with Latin
        "wile@-bad-.test",
        "no-at-sign",
    ],
)
def test_invisible_characters_look_alikes_and_bad_domains_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalize_email(raw)
    assert "email" in refused.value.errors


def test_an_international_domain_keeps_its_unicode_form() -> None:
    assert normalize_email("Anna@B\u00fccher.Example") == "anna@b\u00fccher.example"
    assert normalize_email("user@\u043f\u0440\u0438\u043c\u0435\u0440.test") == (
        "user@\u043f\u0440\u0438\u043c\u0435\u0440.test"  # all Cyrillic: no look-alike mix
    )


def test_a_login_with_an_unusable_address_matches_nothing_rather_than_failing() -> None:
    assert comparable_email(" Odd\u200b@X.test ") == "odd\u200b@x.test"
