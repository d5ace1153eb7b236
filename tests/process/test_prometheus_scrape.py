"""A real Prometheus server on the shipped docs/monitoring/prometheus.yml (its target pointed
at this run's admin port) scrapes the service and stores its pool series."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.support.server import ROOT, free_port, serving

pytestmark = pytest.mark.slow

MONITORING = ROOT / "docs" / "monitoring"


def _config_for(admin: str, into: Path) -> Path:
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "sales-api"]
    job["static_configs"] = [{"targets": [admin.removeprefix("http://")]}]
    job["scrape_interval"] = config["global"]["scrape_interval"] = "1s"
    job["scrape_timeout"] = "1s"
    shutil.copy(MONITORING / "alerts.yml", into / "alerts.yml")  # rule_files is relative
    path = into / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def _query(prometheus: str, expr: str) -> list[dict]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as resp:
        result: list[dict] = json.loads(resp.read())["data"]["result"]
        return result


def test_prometheus_scrapes_the_admin_port_and_finds_the_pool_series(tmp_path):
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus not on PATH (apt-get install prometheus; .ci/run installs it)")
    with serving(
        {"DB_POOL_MIN": "1", "DB_POOL_MAX": "3"}, tmp_path / "service.log", workers=2
    ) as s:
        config = _config_for(s.admin, tmp_path)
        port = free_port()
        with open(tmp_path / "prometheus.log", "wb") as log:
            prometheus = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            found: list[dict] = []
            while time.monotonic() < deadline and len(found) < 2:
                time.sleep(0.5)
                try:
                    found = _query(base, 'db_pool_max{job="sales-api"}')
                except OSError:
                    continue
            assert {r["metric"]["worker"] for r in found} == {"1", "2"}, (
                tmp_path / "prometheus.log"
            ).read_text()[-2000:]
            assert [r["value"][1] for r in _query(base, "service_db_pool_max")] == ["6"]
            assert _query(base, 'up{job="sales-api"}')[0]["value"][1] == "1"
        finally:
            prometheus.terminate()
            prometheus.wait(timeout=30)
