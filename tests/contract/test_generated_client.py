"""A client generated from /openapi.json by openapi-python-client works against the live service.

It generates the client into a temporary directory (no network: the document comes from the
running service) and runs a short flow through it: log in, create a customer, place an order,
pay its invoice. A document a generator cannot use, or answers the generated models cannot
parse, fail here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.sales import product
from tests.support.seeder import PASSWORD
from tests.support.server import running_service

pytestmark = pytest.mark.slow

FLOW = Path(__file__).with_name("generated_flow.py")


def _generator() -> str:
    found = shutil.which("openapi-python-client") or str(
        Path(sys.executable).parent / "openapi-python-client"
    )
    if not Path(found).exists():
        pytest.fail("openapi-python-client is not installed: pip install -e '.[dev]'")
    return found


def run(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, **kwargs)


def test_a_generated_python_client_logs_in_creates_orders_and_pays(seeder, tmp_path):
    tenant = seeder.tenant("gen")
    pid = product(seeder, tenant, stock=10, unit_price="12.50")
    with running_service({}, tmp_path / "service.log") as base:
        generated = run(
            [
                _generator(),
                "generate",
                "--url",
                f"{base}/openapi.json",
                "--meta",
                "none",
                "--output-path",
                str(tmp_path / "sales_client"),
            ],
            cwd=tmp_path,
            # Its post-generation hook runs ruff: the venv's, wherever pytest was started from.
            env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
        )
        assert generated.returncode == 0, generated.stdout + generated.stderr
        assert "Warning" not in generated.stdout, generated.stdout
        flow = run(
            [
                sys.executable,
                str(FLOW),
                base,
                tenant.slug,
                tenant.users["sales"].email,
                PASSWORD,
                str(pid),
            ],
            cwd=tmp_path,
            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )
    assert flow.returncode == 0, flow.stdout + flow.stderr
    assert flow.stdout.strip() == "flow ok"
    assert "unhandled_error" not in (tmp_path / "service.log").read_text()
