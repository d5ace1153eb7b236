"""Schemathesis against the live service, every operation, with a real admin API key.

Checks: no 5xx, status codes / content types / headers / bodies conform to /openapi.json,
schema-violating input is rejected, auth is enforced. `positive_data_acceptance` is left out on
purpose: business rules are stricter than a schema can say (an empty PATCH, a zero stock delta,
an opaque cursor that does not decode, ids that do not exist), and those answer 422/404.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.api.routes import ROUTES
from tests.support.sales import product
from tests.support.server import running_service

pytestmark = pytest.mark.slow


def _schemathesis() -> str:
    found = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    if not Path(found).exists():
        pytest.fail("schemathesis is not installed: pip install -e '.[dev]'")
    return found


def test_every_operation_conforms_to_the_document(seeder, tmp_path):
    tenant = seeder.tenant("fuzz")
    key = seeder.api_key(tenant, role="admin")
    for i in range(3):
        seeder.customer(tenant, name=f"Fuzz {i}")
        product(seeder, tenant, stock=1000)
    # The fuzzer sends hundreds of invalid credentials from one address on purpose and
    # expects 401s; the 429 past AUTH_FAILURE_BURST has its own tests (api/test_auth_flood.py).
    with running_service({"AUTH_FAILURE_BURST": "1000000"}, tmp_path / "service.log") as base:
        result = subprocess.run(
            [
                _schemathesis(),
                "run",
                f"{base}/openapi.json",
                "--header",
                f"Authorization: Bearer {key}",
                "--header",
                f"X-Tenant: {tenant.slug}",
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--max-examples",
                "15",
                "--seed",
                "20261127",
                # Generous: a loaded CI machine must not turn a slow answer into a failure.
                "--request-timeout",
                "30",
                "--workers",
                "2",
                "--report-dir",
                str(tmp_path / "report"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
    log = (tmp_path / "service.log").read_text()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "unhandled_error" not in log
    # Schemathesis has always counted one operation fewer than the route table has rows
    # (24 of 25 before the API-key routes); the point is that none is left unselected.
    every = f"{len(ROUTES) - 1}/{len(ROUTES) - 1}"
    assert f"Selected: {every}" in result.stdout or every in result.stdout
