"""Webhook endpoints over HTTP: admins manage them, the secret is shown once and kept sealed,
private targets are refused, and one tenant never sees another's."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import auth_headers
from tests.support.sales import assert_problem

HOOKS = "/api/sales/webhooks"
KEY = "test-webhook-sealing-key-0123456789"


@pytest.fixture
async def hooks(make_client):
    return await make_client(webhook_secret_key=KEY, webhook_allow_private=True)


def admin(seeder, tenant):
    return auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))


async def create(client, headers, **body):
    body.setdefault("url", "http://127.0.0.1:9/hook")
    return await client.post(HOOKS, json=body, headers=headers)


async def test_an_admin_creates_an_endpoint_and_sees_its_secret_only_once(hooks, tenant, seeder):
    headers = admin(seeder, tenant)
    resp = await create(hooks, headers, event_types=["order.placed"], description="ERP")
    assert resp.status == 201
    created = await resp.json()
    assert created["secret"].startswith("whsec_") and created["enabled"] is True
    assert resp.headers["Location"] == f"{HOOKS}/{created['id']}"

    fetched = await (await hooks.get(resp.headers["Location"], headers=headers)).json()
    listed = await (await hooks.get(HOOKS, headers=headers)).json()
    assert "secret" not in fetched and fetched["event_types"] == ["order.placed"]
    assert [e["id"] for e in listed["items"]] == [created["id"]]
    (stored,) = seeder.run(tenant.id, "select secret from webhook_endpoints")
    assert created["secret"].encode() not in bytes(stored[0]), "sealed, not stored in clear"


async def test_patch_changes_types_and_disables_then_delete_removes(hooks, tenant, seeder):
    headers = admin(seeder, tenant)
    created = await (await create(hooks, headers)).json()
    url = f"{HOOKS}/{created['id']}"
    patched = await hooks.patch(
        url, json={"enabled": False, "event_types": ["invoice.paid"]}, headers=headers
    )
    body = await patched.json()
    assert patched.status == 200 and body["enabled"] is False and body["disabled_at"]
    assert body["event_types"] == ["invoice.paid"]
    assert (await hooks.delete(url, headers=headers)).status == 204
    assert (await hooks.get(url, headers=headers)).status == 404


async def test_a_sales_user_cannot_manage_endpoints(hooks, tenant, seeder):
    carol = auth_headers(tenant, seeder.session(tenant, tenant.users["sales"]))
    await assert_problem(await create(hooks, carol), 403, "forbidden")
    await assert_problem(await hooks.get(HOOKS, headers=carol), 403, "forbidden")
    created = await (await create(hooks, admin(seeder, tenant))).json()
    await assert_problem(
        await hooks.get(f"{HOOKS}/{created['id']}/deliveries", headers=carol), 403, "forbidden"
    )
    await assert_problem(
        await hooks.delete(f"{HOOKS}/{created['id']}", headers=carol), 403, "forbidden"
    )


async def test_another_tenants_endpoints_and_deliveries_are_not_found_either_way(
    hooks, tenant, other_tenant, seeder
):
    for owner, stranger in ((tenant, other_tenant), (other_tenant, tenant)):
        mine = await (await create(hooks, admin(seeder, owner))).json()
        theirs = admin(seeder, stranger)
        for path in (f"{HOOKS}/{mine['id']}", f"{HOOKS}/{mine['id']}/deliveries"):
            await assert_problem(await hooks.get(path, headers=theirs), 404)
        listed = await (await hooks.get(HOOKS, headers=theirs)).json()
        assert mine["id"] not in [e["id"] for e in listed["items"]]
        url = f"{HOOKS}/{mine['id']}"
        await assert_problem(await hooks.patch(url, json={"enabled": False}, headers=theirs), 404)
        await assert_problem(await hooks.delete(url, headers=theirs), 404)
        assert seeder.count(owner, "webhook_endpoints", "id = %s and enabled", (mine["id"],)) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "ftp://example.com/hook",
    ],
)
async def test_private_loopback_and_link_local_targets_are_refused(
    make_client, tenant, seeder, url
):
    strict = await make_client(webhook_secret_key=KEY, webhook_allow_private=False)
    body = await assert_problem(await create(strict, admin(seeder, tenant), url=url), 422)
    assert "url" in body["errors"]
    assert seeder.count(tenant, "webhook_endpoints") == 0


async def test_without_a_sealing_key_no_endpoint_is_made(make_client, tenant, seeder):
    unkeyed = await make_client(webhook_allow_private=True)
    await assert_problem(await create(unkeyed, admin(seeder, tenant)), 503)
    assert seeder.count(tenant, "webhook_endpoints") == 0


async def test_retrying_an_unknown_delivery_is_404(hooks, tenant, seeder):
    headers = admin(seeder, tenant)
    created = await (await create(hooks, headers)).json()
    resp = await hooks.post(
        f"{HOOKS}/{created['id']}/deliveries/{uuid.uuid4()}/retry", headers=headers
    )
    await assert_problem(resp, 404)
