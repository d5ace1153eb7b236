"""The admin dashboard's settings (issue 21): history window, sampling period, monitoring URL."""

from __future__ import annotations

import pytest

from app.ops.admin import service_roles
from app.runtime.config import ConfigError, load_config

BASE = {"DATABASE_URL": "postgresql://sales_app@localhost/sales"}


def test_the_dashboard_keeps_an_hour_sampled_every_second_without_a_postgres_panel() -> None:
    c = load_config(BASE)
    assert (c.dashboard_history_seconds, c.dashboard_sample_seconds) == (3600.0, 1.0)
    assert c.monitor_database_url is None


def test_the_dashboard_settings_are_read_from_the_environment() -> None:
    c = load_config(
        {
            **BASE,
            "DASHBOARD_HISTORY_SECONDS": "30",
            "DASHBOARD_SAMPLE_SECONDS": "0.5",
            "MONITOR_DATABASE_URL": "postgresql://sales_monitor@localhost/sales",
        }
    )
    assert (c.dashboard_history_seconds, c.dashboard_sample_seconds) == (30.0, 0.5)
    assert c.monitor_database_url == "postgresql://sales_monitor@localhost/sales"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DASHBOARD_SAMPLE_SECONDS", "0.01", "DASHBOARD_SAMPLE_SECONDS must be at least 0.1"),
        ("DASHBOARD_HISTORY_SECONDS", "0.5", "DASHBOARD_HISTORY_SECONDS must be at least"),
        ("MONITOR_DATABASE_URL", "mysql://x", "MONITOR_DATABASE_URL must be a postgresql://"),
    ],
)
def test_a_bad_dashboard_setting_names_itself(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config({**BASE, name: value})


def test_the_postgres_panel_shows_the_app_and_owner_roles() -> None:
    c = load_config({**BASE, "MIGRATION_DATABASE_URL": "postgresql://sales_owner@localhost/sales"})
    assert service_roles(c) == ("sales_app", "sales_owner")
