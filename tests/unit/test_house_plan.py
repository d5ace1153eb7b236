"""The house plan, checked: who may import whom, and where each rule is allowed to live.

These read the source, not the running service; each fails when someone puts a rule, a
driver type or a layer's dependency where the plan (docs/architecture.md) says it must not go.
"""

from __future__ import annotations

import ast
import re
import sys
import typing
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


def test_no_driver_import_outside_the_database_adapter() -> None:
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
def test_dependencies_point_inwards(package: str, forbidden: tuple[str, ...]) -> None:
    offenders = [
        (rel(p), m)
        for p in sources(package)
        for m in imported_modules(p)
        if m.split(".")[0] in forbidden
    ]
    assert offenders == []


def test_the_domain_imports_no_framework_or_driver() -> None:
    allowed = {"domain"} | set(sys.stdlib_module_names)
    offenders = [
        (rel(p), m)
        for p in sources("domain")
        for m in imported_modules(p)
        if m.split(".")[0] not in allowed
    ]
    assert offenders == []


def test_the_bootstrap_does_not_know_the_web_framework() -> None:
    assert not any(
        m.split(".")[0] == "aiohttp"
        for m in imported_modules(ROOT / "app" / "runtime" / "bootstrap.py")
    )


def test_route_names_and_api_paths_appear_only_in_the_route_table() -> None:
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


def test_only_the_tenancy_module_names_the_tenant_setting() -> None:
    offenders = [
        rel(p)
        for p in sources(*PACKAGES)
        if rel(p) != "infrastructure/db/tenancy.py" and "app.tenant_id" in p.read_text()
    ]
    assert offenders == []


def test_the_readmes_settings_table_is_the_one_config_declares() -> None:
    from app.runtime.settings_doc import settings_table, table_in

    readme = (ROOT / "README.md").read_text()
    assert table_in(readme) == settings_table(), "run scripts/settings-table --write"


def _calls_in_order(function: ast.AST) -> list[str]:
    """The dotted names of the calls in `function`, in source order."""
    calls = [node for node in ast.walk(function) if isinstance(node, ast.Call)]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))
    return [ast.unparse(node.func) for node in calls]


def _function(path: Path, name: str) -> ast.AST:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    raise AssertionError(f"no function {name} in {rel(path)}")


PIPELINE = ROOT / "app" / "edge" / "pipeline.py"
STAGES = ("resolve_tenant", "authenticate", "receive", "place.take", "endpoint.serve")


def test_the_pipeline_runs_its_stages_in_the_documented_order() -> None:
    stages = [c for c in _calls_in_order(_function(PIPELINE, "serve")) if c in STAGES]
    assert stages == [
        "resolve_tenant",
        "authenticate",  # a command's caller, before its body
        "receive",  # a command's body, before it queues
        "endpoint.serve",  # a route with no gate: parse, handler, answer
        "place.take",  # admission (a place a long poll can step out of)
        "authenticate",  # a read's caller, inside its place
        "endpoint.serve",
    ]


def test_the_stages_run_nowhere_but_in_the_pipeline() -> None:
    stage_names = {"resolve_tenant", "authenticate", "receive"}
    offenders = [
        (rel(p), name)
        for p in sources("app")
        if p != PIPELINE
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.Call)
        and (name := ast.unparse(node.func)) in stage_names | {"gate.enter", "pipeline"}
        and not (rel(p) == "app/runtime/web_app.py" and name == "pipeline")
    ]
    assert offenders == []


def test_around_the_pipeline_only_cross_cutting_middlewares_remain() -> None:
    web_app = ast.parse((ROOT / "app" / "runtime" / "web_app.py").read_text())
    (listed,) = [
        kw.value
        for node in ast.walk(web_app)
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == "middlewares"
    ]
    assert isinstance(listed, ast.List)
    assert [ast.unparse(e) for e in listed.elts] == [
        "middlewares.request_context",
        "measure",
        "middlewares.errors",
        "*read_your_writes",
    ]


def _unit_of_work_blocks(tree: ast.AST) -> list[tuple[ast.AsyncWith, str]]:
    """`async with <...uow...>(...) as <name>:` blocks, with the name the unit of work has."""
    blocks = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AsyncWith):
            for item in node.items:
                opened = ast.unparse(item.context_expr)
                if "uow" in opened.split("(")[0].lower() and isinstance(
                    item.optional_vars, ast.Name
                ):
                    blocks.append((node, item.optional_vars.id))
    return blocks


def test_inside_a_unit_of_work_only_the_database_is_awaited() -> None:
    # A connection is never held across an await that is not a database call: inside
    # `async with uow`, every await is a call on the unit of work or its repositories.
    offenders = []
    checked = 0
    for p in sources(*PACKAGES):
        for block, name in _unit_of_work_blocks(ast.parse(p.read_text())):
            checked += 1
            for node in (n for stmt in block.body for n in ast.walk(stmt)):
                if isinstance(node, ast.Await | ast.AsyncFor | ast.AsyncWith):
                    awaited = node.value if isinstance(node, ast.Await) else node
                    text = ast.unparse(awaited)
                    if not (isinstance(awaited, ast.Call) and text.startswith(f"{name}.")):
                        offenders.append((rel(p), block.lineno, text))
    assert checked >= 10, "the check found no units of work: it no longer sees them"
    assert offenders == []


def test_every_fake_subclasses_the_port_it_fakes_and_is_used() -> None:
    from typing import Protocol

    from domain import ports

    fakes_path = ROOT / "tests" / "unit" / "fakes.py"
    fakes = [
        node
        for node in ast.parse(fakes_path.read_text()).body
        if isinstance(node, ast.ClassDef) and node.name.startswith(("Fake", "Fixed"))
    ]

    def is_port(value: object) -> bool:  # a Protocol, or an alias of a generic one
        value = typing.get_origin(value) or value
        return isinstance(value, type) and Protocol in value.__mro__[1:]

    port_names = {name for name, value in vars(ports).items() if is_port(value)}
    unported = [
        f.name
        for f in fakes
        if not any(ast.unparse(base).removeprefix("ports.") in port_names for base in f.bases)
    ]
    assert unported == [], "a fake must subclass its port, so mypy holds it to the port"
    # Used: named by a test, or by another fake (the unit of work hands out the writers).
    text = "".join(p.read_text() for p in (ROOT / "tests").rglob("*.py"))
    unused = [f.name for f in fakes if len(re.findall(rf"\b{f.name}\b", text)) < 2]
    assert unused == [], "a fake no test uses only drifts"


MAX_FUNCTION_LINES = 60


def test_no_function_outside_the_migrations_is_longer_than_60_lines() -> None:
    tracked = [
        p
        for top in ("app", "domain", "infrastructure", "scripts", "tests")
        for p in (ROOT / top).rglob("*.py")
        if "migrations" not in p.parts
    ]
    long_ones = [
        (rel(p), node.name, (node.end_lineno or node.lineno) - node.lineno + 1)
        for p in tracked
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long_ones == []
