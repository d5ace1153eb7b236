"""The command line of scripts/bench, parsed once into a frozen Options."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# `feed` is `mixed` with a webhook endpoint per tenant and a deliverer running (issue 18).
SCENARIOS = ("read", "read-conditional", "dashboard", "mixed", "login-storm", "feed")


@dataclass(frozen=True, slots=True)
class Options:
    scenarios: tuple[str, ...]
    connections: tuple[int, ...]
    duration: int
    warmup: int
    workers: tuple[int, ...]
    pool: int
    pgbouncer: bool
    pgbouncer_pool: int
    tiny: bool
    out: Path | None
    compare: tuple[Path, Path] | None
    timeout: int
    storm_connections: int
    log_level: str
    ceiling: bool = False
    dashboard_page: bool = False  # issue 21: each run without, then with a dashboard page open
    replica: bool = False
    response_cache_mb: tuple[float, ...] = ()  # each run set once per value; (): the default


def _csv(parse: Callable[[str], object]) -> Callable[[str], tuple[object, ...]]:
    def convert(raw: str) -> tuple[object, ...]:
        items = tuple(parse(part.strip()) for part in raw.split(",") if part.strip())
        if not items:
            raise argparse.ArgumentTypeError("give at least one value")
        return items

    return convert


def _not_negative(raw: str) -> float:
    value = float(raw)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{raw} is negative")
    return value


def _scenario(name: str) -> str:
    if name not in SCENARIOS:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {name!r} (one of {', '.join(SCENARIOS)})"
        )
    return name


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    cores = os.cpu_count() or 1
    p = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Measure the sales API on this machine: wrk against the real service, "
        "pgbench against the same SQL, one table.",
    )
    p.add_argument(
        "--scenarios",
        type=_csv(_scenario),
        default=SCENARIOS,
        help=f"default {','.join(SCENARIOS)}",
    )
    p.add_argument(
        "--connections", type=_csv(_positive), default=(100, 1000), help="open connections per run"
    )
    p.add_argument("--duration", type=_positive, default=30, help="seconds per run (default 30)")
    p.add_argument(
        "--warmup", type=int, default=5, help="seconds of load before each run (default 5)"
    )
    p.add_argument(
        "--workers",
        type=_csv(_positive),
        default=tuple(sorted({1, cores})),
        help="service processes, one run set each (default 1,<cores>)",
    )
    p.add_argument(
        "--pool", type=_positive, default=17, help="DB_POOL_MAX and pgbench -c (default 17)"
    )
    _database_options(p)
    _run_options(p)
    return p


def _database_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pgbouncer", action="store_true", help="service and pgbench via PgBouncer")
    p.add_argument(
        "--pgbouncer-pool", type=_positive, default=10, help="PgBouncer's server pool (default 10)"
    )
    p.add_argument(
        "--ceiling",
        action="store_true",
        help="also measure the bare stack (aiohttp, aiohttp + the read's SQL) beside pgbench",
    )
    p.add_argument(
        "--replica",
        action="store_true",
        help="each run set twice: reads on the primary only, then with a streaming standby",
    )
    p.add_argument(
        "--dashboard-page",
        action="store_true",
        help="each run twice: without, then with an admin dashboard page polling at 2 Hz"
        " (the admin port's CPU cost)",
    )
    p.add_argument(
        "--response-cache-mb",
        type=_csv(_not_negative),
        default=(),
        help="RESPONSE_CACHE_MB values, each run set once per value, e.g. 0,8 for off and on"
        " (default: the service's default, once)",
    )


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tiny", action="store_true", help="tiny dataset (the smoke test)")
    p.add_argument("--out", type=Path, help="results file (default .bench/results-<time>.json)")
    p.add_argument(
        "--compare", nargs=2, type=Path, metavar=("A.json", "B.json"), help="compare two results"
    )
    p.add_argument(
        "--timeout", type=_positive, default=10, help="wrk socket timeout, seconds (default 10)"
    )
    p.add_argument(
        "--storm-connections",
        type=_positive,
        default=8,
        help="logins in flight in login-storm (default 8)",
    )
    p.add_argument(
        "--log-level", default="WARNING", help="the service's LOG_LEVEL (default WARNING)"
    )


def parse(argv: Sequence[str] | None = None) -> Options:
    args = _parser().parse_args(argv)
    if args.warmup < 0:
        raise SystemExit("scripts/bench: --warmup must not be negative")
    return Options(
        scenarios=tuple(args.scenarios),
        connections=tuple(args.connections),
        duration=args.duration,
        warmup=args.warmup,
        workers=tuple(args.workers),
        pool=args.pool,
        pgbouncer=args.pgbouncer,
        pgbouncer_pool=args.pgbouncer_pool,
        tiny=args.tiny,
        ceiling=args.ceiling,
        dashboard_page=args.dashboard_page,
        replica=args.replica,
        out=args.out,
        compare=tuple(args.compare) if args.compare else None,  # type: ignore[arg-type]
        timeout=args.timeout,
        storm_connections=args.storm_connections,
        log_level=args.log_level.upper(),
        response_cache_mb=tuple(args.response_cache_mb),
    )
