"""How a setting is declared, read, checked and documented: the machinery under `Config`.

Each field of `Config` (app/runtime/config.py) carries its setting in its metadata: the
environment variable, the one-line description, the parser (by default the field's type), the
check and how the README shows the default. Reading, validating, `--help`, `--check` and the
README's table (scripts/settings-table) all walk the same fields, so a setting is declared once.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, Field, dataclass, fields
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

T = TypeVar("T")
Parser = Callable[[str, str], Any]


class ConfigError(Exception):
    """One clear line naming the variable; the process exits with it."""


@dataclass(frozen=True, slots=True)
class Check:
    """A rule a parsed value must keep; refused as "<VARIABLE> must <must>"."""

    test: Callable[[Any], bool]
    must: str


@dataclass(frozen=True, slots=True)
class Setting:
    env: str
    doc: str
    parse: Parser | None = None  # None: the parser of the field's type
    check: Check | None = None
    shown: str | None = None  # the README's default, when not the default value itself
    fallback: str | None = None  # the field whose value an unset variable takes
    secret: bool = False  # never printed (`--check` shows that it is set, not its value)


def env(
    name: str,
    doc: str,
    *,
    parse: Parser | None = None,
    check: Check | None = None,
    shown: str | None = None,
    fallback: str | None = None,
    secret: bool = False,
) -> dict[str, Setting]:
    """A field's metadata: `field(default=..., metadata=env("PORT", "Port to listen on."))`."""
    return {"setting": Setting(name, doc, parse, check, shown, fallback, secret)}


# ---- parsers ---------------------------------------------------------------------------------


def integer(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def number(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def boolean(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def text(name: str, raw: str) -> str:
    return raw


def lower(name: str, raw: str) -> str:
    return raw.lower()


def upper(name: str, raw: str) -> str:
    return raw.upper()


def postgres_urls(name: str, raw: str) -> tuple[str, ...]:
    # A comma also separates a multi-host URL's hosts: a new URL starts at its scheme.
    urls = tuple(u.strip() for u in re.split(r",\s*(?=postgres(?:ql)?://)", raw) if u.strip())
    if not all(is_postgres_url(url) and is_connection_string(url) for url in urls):
        raise ConfigError(f"{name} must be comma-separated postgresql:// URLs")
    return urls


def host_names(name: str, raw: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in raw.split(",") if part.strip())


def seconds_list(name: str, raw: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"{name} must be comma-separated seconds, got {raw!r}") from None
    if not values or any(v < 0 for v in values):
        raise ConfigError(f"{name} must list at least one non-negative number of seconds")
    return values


_BY_TYPE: dict[object, Parser] = {int: integer, float: number, bool: boolean, str: text}

# ---- checks ----------------------------------------------------------------------------------


def is_connection_string(value: str | None) -> bool:
    """A libpq URL or key=value string naming one host or several (parsed, not connected):
    the service walks a host list itself (infrastructure/db/hosts.py)."""
    from infrastructure.db.hosts import InvalidConnectionString, parse_hosts

    if not value or not (is_postgres_url(value) or "=" in value):
        return False
    try:
        parse_hosts(value)
    except InvalidConnectionString:
        return False
    return True


def is_postgres_url(value: str) -> bool:
    return value.startswith(("postgresql://", "postgres://"))


def at_least(low: float, unit: str = "") -> Check:
    suffix = f" ({unit})" if unit else ""
    return Check(lambda v: v is None or v >= low, f"be at least {low}{suffix}")


def between(low: int, high: int, low_means: str = "") -> Check:
    shown = f"{low} ({low_means})" if low_means else str(low)
    return Check(lambda v: low <= v <= high, f"be between {shown} and {high}")


POSITIVE = Check(lambda v: v > 0, "be positive")
NOT_NEGATIVE = Check(lambda v: v >= 0, "not be negative")


def one_of(*choices: str) -> Check:
    listed = ", ".join(choices[:-1]) + " or " + choices[-1]
    return Check(lambda v: v in choices, f"be {listed}")


# ---- reading ---------------------------------------------------------------------------------


def settings_of(cls: type) -> Iterator[tuple[Field[Any], Setting]]:
    """Each field read from the environment, with its setting, in declaration order."""
    for f in fields(cls):
        setting = f.metadata.get("setting")
        if setting is not None:
            yield f, setting


def read(cls: type[T], environ: Mapping[str, str]) -> T:
    """An instance of the settings dataclass `cls` from `environ`, each value checked."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f, setting in settings_of(cls):
        raw = environ.get(setting.env)
        if raw is None or raw == "":
            if setting.fallback is not None:
                values[f.name] = values[setting.fallback]
                continue
            if f.default is MISSING:
                must = setting.check.must if setting.check else "be set"
                raise ConfigError(f"{setting.env} must {must}")
            continue  # the field's default
        values[f.name] = (setting.parse or _parser(hints[f.name]))(setting.env, raw)
        if setting.check is not None and not setting.check.test(values[f.name]):
            raise ConfigError(f"{setting.env} must {setting.check.must}")
    return cls(**values)


def _parser(hint: object) -> Parser:
    """The parser of a field's type; `X | None` parses as X (unset is the None default)."""
    if isinstance(hint, types.UnionType):
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return _BY_TYPE[hint]


# ---- showing ---------------------------------------------------------------------------------


def shown_default(f: Field[Any], setting: Setting) -> str:
    """The default as the README and `--help` show it."""
    if setting.shown is not None:
        return setting.shown
    if f.default is MISSING:
        return "(required)"
    if f.default is None or f.default == ():
        return "unset"
    value = f.default
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def markdown_table(cls: type, extra: tuple[tuple[str, str, str], ...] = ()) -> str:
    """The README's settings table: variable, default, meaning."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for f, setting in settings_of(cls):
        lines.append(f"| `{setting.env}` | {shown_default(f, setting)} | {setting.doc} |")
    lines.extend(f"| `{name}` | {default} | {doc} |" for name, default, doc in extra)
    return "\n".join(lines) + "\n"


def help_text(cls: type) -> str:
    """The environment variables for `--help`: name, default, and the first sentence."""
    rows = []
    for f, setting in settings_of(cls):
        first = setting.doc.split(". ")[0].rstrip(".").replace("**", "").replace("`", "")
        rows.append(
            f"  {setting.env:<28} {shown_default(f, setting).replace('`', '')}\n      {first}"
        )
    return "settings (environment variables):\n" + "\n".join(rows)


def effective(instance: object) -> list[str]:
    """`VARIABLE=value` for each setting that differs from its default; secrets masked."""
    shown = []
    for f, setting in settings_of(type(instance)):
        value = getattr(instance, f.name)
        if f.default is not MISSING and value == f.default:
            continue
        shown.append(f"{setting.env}={_masked(value, setting)}")
    return shown


def _masked(value: object, setting: Setting) -> str:
    if setting.secret:
        return "(set)"
    if isinstance(value, tuple):
        return ",".join(_without_password(str(v)) for v in value)
    return _without_password(str(value)) if isinstance(value, str) else str(value)


def _without_password(value: str) -> str:
    if not is_postgres_url(value):
        # A key=value connection string: its password= item, quoted or not.
        return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", value)
    parts = urlsplit(value)
    if parts.password is None:
        return value
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
