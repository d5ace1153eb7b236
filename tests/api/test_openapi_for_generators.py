"""The document is good enough for client generators: required output fields, enums, response
headers, described parameters and a server (issue 10). The generated-client flow itself is in
tests/contract/test_generated_client.py."""

from __future__ import annotations

import pytest


@pytest.fixture
async def doc(client):
    return await (await client.get("/openapi.json")).json()


def operations(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, op


async def test_output_schemas_require_every_field(doc):
    schemas = doc["components"]["schemas"]
    for name in ("CustomerOut", "OrderOut", "InvoiceOut", "ApiKeyCreated", "CustomerPage"):
        assert set(schemas[name]["required"]) == set(schemas[name]["properties"]), name


async def test_statuses_and_roles_are_enums(doc):
    schemas = doc["components"]["schemas"]
    assert schemas["OrderOut"]["properties"]["status"]["enum"] == ["placed", "cancelled"]
    assert schemas["InvoiceOut"]["properties"]["status"]["enum"] == ["open", "paid", "void"]
    assert schemas["ApiKeyOut"]["properties"]["role"]["enum"] == ["admin", "sales"]


async def test_response_headers_are_documented_where_they_are_sent(doc):
    ref = "#/components/headers/"
    for method, path, op in operations(doc):
        for status, response in op["responses"].items():
            headers = {h for h, v in response.get("headers", {}).items() if v["$ref"] == ref + h}
            assert "X-Request-ID" in headers, (method, path, status)
            if status == "401":
                assert "WWW-Authenticate" in headers
            if status in ("429", "503"):
                assert "Retry-After" in headers
    created = doc["paths"]["/api/sales/customers"]["post"]["responses"]["201"]["headers"]
    assert {"Location", "Idempotent-Replayed"} <= set(created)


async def test_every_parameter_has_a_description_and_servers_is_set(doc):
    for method, path, op in operations(doc):
        for param in op["parameters"]:
            if param["in"] != "path":
                assert param.get("description"), (method, path, param["name"])
    assert doc["servers"][0]["url"] == "/"
