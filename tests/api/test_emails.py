"""Look-alike emails over HTTP (issue 19, item 6): one stored form, so a twin is a conflict;
invisible characters and mixed scripts are a 422."""

from __future__ import annotations

import uuid

import pytest

from tests.support.sales import assert_problem, headers_for
from tests.support.seeder import PASSWORD

CUSTOMERS = "/api/sales/customers"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


async def test_a_fullwidth_or_upper_case_twin_of_a_customer_email_is_a_conflict(
    client, tenant, seeder
):
    headers = headers_for(seeder, tenant)
    local = f"wile{uuid.uuid4().hex[:6]}"
    first = await client.post(
        CUSTOMERS,
        json={"name": "Wile", "email": f"{_fullwidth(local)}@Desert.TEST"},
        headers=headers,
    )
    assert first.status == 201
    assert (await first.json())["email"] == f"{local}@desert.test"  # stored in its one form
    twin = await client.post(
        CUSTOMERS, json={"name": "Twin", "email": f"{local.upper()}@desert.test"}, headers=headers
    )
    await assert_problem(twin, 409)
    found = await client.get(
        CUSTOMERS, params={"email": f"{_fullwidth(local)}@desert.test"}, headers=headers
    )
    assert [c["email"] for c in (await found.json())["items"]] == [f"{local}@desert.test"]


@pytest.mark.parametrize(
    "email",
    [
        "wile@desert.test\u200b",
        "wi\u200dle@desert.test",
        "\u202ewile@desert.test",
        "wile@d\u0435sert.test",
    ],
)
async def test_invisible_characters_and_look_alike_letters_are_refused(
    client, tenant, seeder, email
):
    resp = await client.post(
        CUSTOMERS, json={"name": "Look-alike", "email": email}, headers=headers_for(seeder, tenant)
    )
    problem = await assert_problem(resp, 422)
    assert "email" in problem["errors"]


async def test_a_user_logs_in_with_any_variant_of_the_stored_form(client, tenant):
    email = tenant.users["sales"].email
    resp = await client.post(
        "/api/sales/auth/login",
        json={
            "email": _fullwidth(email.split("@")[0]).upper() + "@" + email.split("@")[1],
            "password": PASSWORD,
        },
        headers={"X-Tenant": tenant.slug},
    )
    assert resp.status == 200
