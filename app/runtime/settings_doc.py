"""The README's settings table, made from `Config`'s fields (scripts/settings-table writes it,
tests/unit/test_house_plan.py checks that README.md holds exactly this table)."""

from __future__ import annotations

from app.runtime.config import OTHER_SETTINGS, Config
from app.runtime.settings import markdown_table

BEGIN = "<!-- settings table: made by scripts/settings-table from app/runtime/config.py -->"
END = "<!-- end of settings table -->"


def settings_table() -> str:
    return markdown_table(Config, OTHER_SETTINGS)


def table_in(readme: str) -> str:
    """The table README.md holds between the markers."""
    start = readme.index(BEGIN) + len(BEGIN) + 1
    return readme[start : readme.index(END)]


def readme_with_table(readme: str) -> str:
    start = readme.index(BEGIN) + len(BEGIN) + 1
    return readme[:start] + settings_table() + readme[readme.index(END) :]
