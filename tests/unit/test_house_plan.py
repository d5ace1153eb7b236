"""The house plan, checked: who may import whom, and where each rule is allowed to live.

These read the source, not the running service; each fails when someone puts a rule, a
driver type or a layer's dependency where the plan (docs/architecture.md) says it must not go.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "domain", "infrastructure")


def sources(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def string_constants(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_no_driver_import_outside_the_database_adapter():
    offenders = [
        rel(p)
        for p in sources(*PACKAGES)
        if not rel(p).startswith("infrastructure/db/")
        and any(m.split(".")[0] in ("psycopg2", "aiopg") for m in imported_modules(p))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("domain", ("app", "infrastructure")), ("infrastructure", ("app",))],
)
def test_dependencies_point_inwards(package, forbidden):
    offenders = [
        (rel(p), m)
        for p in sources(package)
        for m in imported_modules(p)
        if m.split(".")[0] in forbidden
    ]
    assert offenders == []


def test_the_domain_imports_no_framework_or_driver():
    allowed = {"domain"} | set(sys.stdlib_module_names)
    offenders = [
        (rel(p), m)
        for p in sources("domain")
        for m in imported_modules(p)
        if m.split(".")[0] not in allowed
    ]
    assert offenders == []


def test_the_bootstrap_does_not_know_the_web_framework():
    assert not any(
        m.split(".")[0] == "aiohttp"
        for m in imported_modules(ROOT / "app" / "runtime" / "bootstrap.py")
    )


def test_route_names_and_api_paths_appear_only_in_the_route_table():
    from app.api.routes import API, ROUTES

    names = {route.name for route in ROUTES}
    offenders = [
        (rel(p), s)
        for p in sources("app")
        if p.name != "routes.py"
        for s in string_constants(p)
        if s in names or s.startswith(API)
    ]
    assert offenders == []


def test_only_the_tenancy_module_names_the_tenant_setting():
    offenders = [
        rel(p)
        for p in sources(*PACKAGES)
        if rel(p) != "infrastructure/db/tenancy.py" and "app.tenant_id" in p.read_text()
    ]
    assert offenders == []


def test_the_readmes_settings_table_is_the_one_config_declares():
    from app.runtime.settings_doc import settings_table, table_in

    readme = (ROOT / "README.md").read_text()
    assert table_in(readme) == settings_table(), "run scripts/settings-table --write"
