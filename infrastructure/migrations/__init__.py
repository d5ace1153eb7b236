"""Alembic migrations, run as the owner role; `python -m app.cli migrate` applies them."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

HERE = Path(__file__).parent


def alembic_config(url: str, app_role: str = "sales_app") -> Config:
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE))
    config.attributes["url"] = url
    config.attributes["app_role"] = app_role
    return config
