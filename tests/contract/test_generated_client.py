"""A client generated from /openapi.json by openapi-python-client works against the live service.

The client is generated once (no network: the document comes from a running service) into a
temporary directory, checked with `mypy --strict` together with the flows that use it
(generated_flow.py), then each flow runs in its own process: a bearer client, a plain client
whose cookie jar holds the session (body-less DELETE, pay and cancel), and read-your-writes
through a real streaming standby with the Consistency-Token sent back as the typed parameter
the document declares. A document a generator cannot use, or answers the generated models
cannot parse, fail here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infrastructure.seed import DEMO_PASSWORD
from tests.support.sales import product
from tests.support.seeder import PASSWORD
from tests.support.server import running_service
from tests.support.standby import running_primary_and_standby

pytestmark = pytest.mark.slow

FLOW = Path(__file__).with_name("generated_flow.py")
VENV_BIN = Path(sys.executable).parent


def _generator() -> str:
    found = shutil.which("openapi-python-client") or str(VENV_BIN / "openapi-python-client")
    if not Path(found).exists():
        pytest.fail("openapi-python-client is not installed: pip install -e '.[dev]'")
    return found


def run(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, **kwargs)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """The directory holding `sales_client`, generated from a live service's document."""
    where = tmp_path_factory.mktemp("generated")
    with running_service({}, where / "service.log") as base:
        done = run(
            [_generator(), "generate", "--url", f"{base}/openapi.json", "--meta", "none",
             "--output-path", str(where / "sales_client")],
            cwd=where,
            # Its post-generation hook runs ruff: the venv's, wherever pytest was started from.
            env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"},
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout, done.stdout
    return where


def test_the_generated_client_has_one_enum_per_filter_and_typed_problem_details(generated):
    models = generated / "sales_client" / "models"
    enums = [
        p.stem
        for p in models.glob("*.py")
        if re.search(r"^class \w+\(.*Enum\):", p.read_text(), re.M)
    ]
    # One enum type per filter parameter: no `..._type_0`, `..._type_1` copies.
    assert not [name for name in enums if re.search(r"_type_\d+$", name)], enums
    assert {"orders_list_status", "invoices_list_status"} <= set(enums)
    assert "dict[str, list[str]]" in (models / "problem_errors.py").read_text()
    problem = (models / "problem.py").read_text()
    assert "list[Shortage]" in problem and "ProblemErrors" in problem


def test_the_flows_type_check_under_mypy_strict_against_the_generated_client(generated):
    # The generated package is read for its types, not judged: its own client.py trips
    # --strict in code the generator owns (its __exit__ forwarding).
    checked = run(
        [str(VENV_BIN / "mypy"), "--strict", "--no-incremental", "--follow-imports=silent",
         str(FLOW)],
        cwd=generated,
        env={**os.environ, "MYPYPATH": str(generated)},
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


def flow(generated: Path, name: str, base: str, *args: str) -> None:
    done = run(
        [sys.executable, str(FLOW), name, base, *args],
        cwd=generated,
        env={"PYTHONPATH": str(generated), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "flow ok"


@pytest.mark.parametrize("name", ["bearer", "cookie"])
def test_a_generated_client_logs_in_creates_orders_and_pays(seeder, tmp_path, generated, name):
    tenant = seeder.tenant("gen")
    pid = product(seeder, tenant, stock=10, unit_price="12.50")
    with running_service({}, tmp_path / "service.log") as base:
        flow(generated, name, base, tenant.slug, tenant.users["sales"].email, PASSWORD, str(pid))
    assert "unhandled_error" not in (tmp_path / "service.log").read_text()


def test_a_generated_client_reads_its_writes_on_a_replica_with_the_consistency_token(
    tmp_path, generated
):
    with running_primary_and_standby() as pair:
        settings = {
            "DATABASE_URL": pair.primary_app_url,
            "DATABASE_REPLICA_URLS": pair.standby_app_url,
            "CONSISTENCY_TOKEN_SECRET": "generated-client-test-secret",
        }
        (anvil,) = pair.query("select id from products where sku = 'ACME-ANVIL'")[0]
        with running_service(settings, tmp_path / "service.log") as base:
            flow(
                generated, "consistency", base, "acme", "alice@acme.test", DEMO_PASSWORD, str(anvil)
            )
