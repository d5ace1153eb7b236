"""Hostile bodies at every write endpoint: random bytes, wrong types, huge numbers, deep nesting,
over-long strings. The service must answer 4xx (never 5xx) and leave no connection checked out."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.sales import product
from tests.support.server import serving

pytestmark = pytest.mark.slow

ZERO = "00000000-0000-4000-8000-000000000000"
WRITE_ENDPOINTS = [
    ("POST", "/api/sales/customers"),
    ("PATCH", "/api/sales/customers/{customer}"),
    ("POST", "/api/sales/products"),
    ("PATCH", "/api/sales/products/{product}"),
    ("POST", "/api/sales/products/{product}/stock-adjustments"),
    ("POST", "/api/sales/orders"),
    ("POST", "/api/sales/orders/" + ZERO + "/cancel"),
    ("POST", "/api/sales/invoices/" + ZERO + "/pay"),
    ("POST", "/api/sales/auth/login"),
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=300),
    st.just("x" * 100_000),
    st.just("12.345"),
    st.just("-1"),
    st.just(ZERO),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "name",
        "email",
        "phone",
        "sku",
        "unit_price",
        "stock",
        "active",
        "delta",
        "note",
        "customer_id",
        "lines",
        "product_id",
        "quantity",
        "password",
        "id",
        "tenant_id",
    ]
)
shaped_bodies = st.dictionaries(field_names, json_values, max_size=6).map(
    lambda d: json.dumps(d).encode()
)
deep = st.integers(min_value=50, max_value=5000).map(lambda n: b"[" * n + b"]" * n)
bodies = st.one_of(
    st.binary(max_size=512), shaped_bodies, deep, st.just(b'{"lines": ' + b"[" * 100_000 + b"}")
)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", ""]
)


@pytest.fixture(scope="module")
def live(seeder, tmp_path_factory):
    """The real service, plus an admin token and ids to aim at."""
    tenant = seeder.tenant("fz")
    token = seeder.session(tenant, tenant.users["admin"])
    ids = {"customer": seeder.customer(tenant), "product": product(seeder, tenant, stock=5)}
    log = tmp_path_factory.mktemp("fuzz") / "service.log"
    with serving({"DB_POOL_MAX": "4"}, log) as service:
        auth = {"X-Tenant": tenant.slug, "Authorization": f"Bearer {token}"}
        yield service.base, auth, ids, service.admin
    assert "unhandled_error" not in log.read_text()


def send(
    base: str, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str]:
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", "")


@settings(
    max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@given(endpoint=st.sampled_from(WRITE_ENDPOINTS), body=bodies, content_type=content_types)
def test_hostile_bodies_never_cause_a_server_error(live, endpoint, body, content_type):
    base, auth, ids, _ = live
    method, path = endpoint
    headers = {**auth, "Content-Type": content_type, "Idempotency-Key": uuid.uuid4().hex}
    status, ctype = send(base, method, path.format(**ids), body, headers)
    assert status < 500, (method, path, body[:200], status)
    if status >= 400:
        assert ctype.startswith("application/problem+json")


def test_no_connection_is_left_checked_out_after_the_fuzzing(live):
    _, _, _, admin = live
    with urllib.request.urlopen(admin + "/metrics", timeout=5) as resp:
        text = resp.read().decode()
    in_use = [line for line in text.splitlines() if line.startswith("db_pool_in_use{")]
    assert in_use == ['db_pool_in_use{worker="1"} 0.0']
