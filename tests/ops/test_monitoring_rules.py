"""What operators import from docs/monitoring: the Prometheus config, the alert rules and their
unit tests (checked by promtool), and the Grafana dashboard. The dashboard's and the rules'
queries may only name metrics the service registers, or the replica metrics about to land.

The registered names are read from the service's own collector definitions: every
prometheus_client Counter/Gauge/Histogram/... constructed in app/ or infrastructure/. They are
read from the source rather than by importing the modules, so that the check neither depends on
where a module lives nor on the rest of the application importing cleanly."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.ops.thresholds import LATENCY_P99, POOL_BUSY, THRESHOLDS, Threshold, latency_limit
from app.runtime.config import Config

ROOT = Path(__file__).resolve().parents[2]
SERVICE_PACKAGES = (ROOT / "app", ROOT / "infrastructure")
MONITORING = ROOT / "docs" / "monitoring"
ALERTS = MONITORING / "alerts.yml"
ALERT_TESTS = MONITORING / "alerts.test.yml"
DASHBOARD = MONITORING / "grafana-dashboard.json"

# Announced, not yet registered: remove a name once the service registers it.
UPCOMING_METRICS: frozenset[str] = frozenset()
# Written by Prometheus itself for every scrape target.
SCRAPE_METRICS = frozenset({"up"})

# Series names prometheus_client exposes for each collector class (name, suffixes); the
# service turns the `_created` twins off (app/runtime/bootstrap.py).
_SERIES = {
    "Counter": ("_total",),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_sum", "_count"),
    "Summary": ("_sum", "_count"),  # no quantiles in prometheus_client
    "Info": ("_info",),
    "Enum": ("",),
}


def _constant(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _collector_calls(path: Path) -> Iterator[tuple[str, ast.Call]]:
    """(collector class, call) for each prometheus_client collector constructed in a module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    classes: dict[str, str] = {}  # local name -> collector class
    modules: set[str] = set()  # local names of the prometheus_client module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "prometheus_client":
            for alias in node.names:
                if alias.name in _SERIES:
                    classes[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Import):
            modules.update(a.asname or a.name for a in node.names if a.name == "prometheus_client")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in classes:
            yield classes[func.id], node
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in modules
            and func.attr in _SERIES
        ):
            yield func.attr, node


def _series_names(kind: str, call: ast.Call, where: str) -> set[str]:
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    name = _constant(call.args[0] if call.args else keywords.get("name"))
    assert name is not None, f"{where}: the metric name is not a string literal"
    parts = [_constant(keywords.get("namespace")), _constant(keywords.get("subsystem")), name]
    full = "_".join(part for part in parts if part)
    unit = _constant(keywords.get("unit"))
    if unit and not full.endswith("_" + unit):
        full += "_" + unit
    if kind == "Counter":
        full = full.removesuffix("_total")
    return {full + suffix for suffix in _SERIES[kind]}


def registered_metrics() -> dict[str, str]:
    """Every series name the service's collectors expose -> where its collector is defined."""
    names: dict[str, str] = {}
    for package in SERVICE_PACKAGES:
        for path in sorted(package.rglob("*.py")):
            for kind, call in _collector_calls(path):
                where = f"{path.relative_to(ROOT)}:{call.lineno}"
                names.update(dict.fromkeys(_series_names(kind, call, where), where))
    return names


REGISTERED = frozenset(registered_metrics())
KNOWN_METRICS = REGISTERED | UPCOMING_METRICS | SCRAPE_METRICS

# --------------------------------------------------------------------------- PromQL names

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_LABEL_LISTS = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
# An identifier not glued to a number, a duration or a variable, and not a function call.
_IDENTIFIER = re.compile(r"(?<![\w:.$])([A-Za-z_:][\w:]*)\b(?!\s*\()")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
    | {"group_left", "group_right", "inf", "nan"}
)


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (label names, functions and strings aside)."""
    stripped = _STRINGS.sub('""', expr)
    stripped = _MATCHERS.sub("", stripped)
    stripped = _RANGES.sub("", stripped)
    stripped = _LABEL_LISTS.sub("", stripped)
    return {name for name in _IDENTIFIER.findall(stripped) if name.lower() not in _KEYWORDS}


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('up{job="sales-api"} == 0', {"up"}),
        (
            'histogram_quantile(0.99, sum by (kind, le) (rate(db_connection_hold_seconds_bucket{kind="read"}[$__rate_interval])))',
            {"db_connection_hold_seconds_bucket"},
        ),
        (
            'sum by (s) (label_replace(rate(http_requests_total[5m]), "s", "${1}xx", "status", "(.).*"))'
            " / scalar(sum(rate(db_round_trips_total[5m] offset 1h)))",
            {"http_requests_total", "db_round_trips_total"},
        ),
        ("max(a) by (worker) > on (job) group_left b * 1e3", {"a", "b"}),
    ],
)
def test_metric_names_finds_the_selected_metrics_only(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_collector_series_are_named_as_prometheus_client_names_them(tmp_path: Path) -> None:
    module = tmp_path / "collectors.py"
    module.write_text(
        "import prometheus_client\n"
        "from prometheus_client import Counter, Gauge as G, Histogram\n"
        "Counter('jobs_total', 'd')\n"
        "G(name='depth', documentation='d', namespace='q')\n"
        "Histogram('wait', 'd', unit='seconds')\n"
        "prometheus_client.Summary('size', 'd')\n"
    )
    found = set()
    for kind, call in _collector_calls(module):
        found |= _series_names(kind, call, "collectors.py")
    assert found == {
        "jobs_total",
        "q_depth",
        "wait_seconds_bucket",
        "wait_seconds_sum",
        "wait_seconds_count",
        "size_sum",
        "size_count",
    }


def test_collector_definitions_are_found() -> None:
    # A guard on the derivation itself: an empty or misread set would let any name pass.
    assert {
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "http_requests_queued",
        "db_pool_in_use",
        "db_pool_max",
        "db_pool_timeouts_total",
        "db_connection_hold_seconds_bucket",
        "db_round_trips_total",
    } <= REGISTERED


# --------------------------------------------------------------------------------- promtool


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool not on PATH (apt-get install prometheus; .ci/run installs it)")
    return path


def _run(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], cwd=MONITORING, capture_output=True, text=True, timeout=120
    )


def _assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{result.args}:\n{result.stdout}\n{result.stderr}"


def test_alert_rules_are_valid(promtool: str) -> None:
    _assert_ok(_run(promtool, "check", "rules", str(ALERTS)))


def test_prometheus_config_is_valid(promtool: str) -> None:
    _assert_ok(_run(promtool, "check", "config", str(MONITORING / "prometheus.yml")))


def test_alert_rule_unit_tests_pass(promtool: str) -> None:
    result = _run(promtool, "test", "rules", str(ALERT_TESTS))
    _assert_ok(result)
    assert "SUCCESS" in result.stdout


def test_dashboard_queries_are_valid_promql(promtool: str, tmp_path: Path) -> None:
    """promtool has no query parser of its own: check each query as a recording rule."""
    rules = [
        {"record": f"dashboard:query_{i}", "expr": _without_grafana_variables(expr)}
        for i, (_, expr) in enumerate(_dashboard_queries())
    ]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    _assert_ok(_run(promtool, "check", "rules", str(path)))


def _without_grafana_variables(expr: str) -> str:
    # $__rate_interval and friends stand for durations; $job and $instance sit in strings.
    return re.sub(r"\$__\w+", "1m", expr)


# ------------------------------------------------------------------------------ alert rules


def _alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_every_alert_has_severity_summary_description_and_for() -> None:
    rules = _alert_rules()
    assert len(rules) >= 8
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert rule["annotations"]["description"].strip(), rule["alert"]
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]


def test_alert_rules_use_only_known_metrics() -> None:
    for rule in _alert_rules():
        unknown = metric_names(rule["expr"]) - KNOWN_METRICS
        assert not unknown, f"{rule['alert']} uses metrics the service does not expose: {unknown}"


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    tests = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    fired: set[str] = set()
    silent: set[str] = set()
    for test in tests:
        for case in test.get("alert_rule_test", []):
            (fired if case.get("exp_alerts") else silent).add(case["alertname"])
    alerts = {rule["alert"] for rule in _alert_rules()}
    assert alerts - fired == set(), "alerts never tested firing"
    assert alerts - silent == set(), "alerts never tested staying silent"


# -------------------------------------------------------------------------------- dashboard


def _dashboard() -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return dashboard


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # collapsed rows hold their panels


def _dashboard_queries() -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable of the dashboard."""
    dashboard = _dashboard()
    queries = [
        (f"panel {panel['title']!r} target {target['refId']}", target["expr"])
        for panel in _panels(dashboard["panels"])
        for target in panel.get("targets", [])
    ]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        query = variable["query"]
        query = query["query"] if isinstance(query, dict) else query
        # label_values(selector, label): only the selector is PromQL.
        match = re.fullmatch(r"label_values\((?:(.+),)?\s*\w+\s*\)", query.strip())
        if match:
            if match.group(1):
                queries.append((f"variable {variable['name']}", match.group(1)))
        else:
            queries.append((f"variable {variable['name']}", query))
    return queries


def test_dashboard_is_importable_with_a_prometheus_datasource_input() -> None:
    dashboard = _dashboard()
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert [(i["name"], i["pluginId"]) for i in dashboard["__inputs"]] == [
        ("DS_PROMETHEUS", "prometheus")
    ]
    panels = [p for p in _panels(dashboard["panels"]) if p["type"] != "row"]
    assert panels
    ids = [p["id"] for p in _panels(dashboard["panels"])]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]


def test_dashboard_queries_use_only_known_metrics() -> None:
    for where, expr in _dashboard_queries():
        unknown = metric_names(expr) - KNOWN_METRICS
        assert not unknown, f"{where} uses metrics the service does not expose: {unknown}"


def test_dashboard_covers_pool_admission_http_and_replicas() -> None:
    used = set().union(*(metric_names(expr) for _, expr in _dashboard_queries()))
    assert {
        "db_pool_in_use",
        "db_pool_available",
        "db_pool_waiting",
        "db_pool_max",
        "db_pool_acquire_wait_seconds_bucket",
        "db_connection_hold_seconds_bucket",
        "db_pool_timeouts_total",
        "http_requests_queued",
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "db_round_trips_total",
        "db_replica_lag_seconds",
        "db_replica_up",
    } <= used


# ------------------------------------------------------- one source for the saturation limits

_COMPARISON = re.compile(r"(>=|>)\s*([0-9.]+)\s*$")


@pytest.mark.parametrize("threshold", THRESHOLDS, ids=lambda t: t.key)
def test_the_alert_rules_use_the_dashboards_saturation_thresholds(threshold: Threshold) -> None:
    """app/ops/thresholds.py colours the admin dashboard; the shipped rule compares against
    the same number (the latency one against half of REQUEST_TIMEOUT's default)."""
    rule = {r["alert"]: r for r in _alert_rules()}[threshold.alert]
    found = _COMPARISON.search(rule["expr"].strip())
    assert found is not None, f"{threshold.alert}: no trailing comparison in its expr"
    expected = threshold.limit
    if threshold is LATENCY_P99:
        expected = latency_limit(Config(database_url="", migration_database_url="").request_timeout)
    assert float(found.group(2)) == expected
    assert found.group(1) == (">=" if threshold is POOL_BUSY else ">")
    assert rule["for"] == threshold.alert_for
