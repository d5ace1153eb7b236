"""Plain-text output: a block per run as it finishes, the summary table, and --compare."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Run = Mapping[str, Any]


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def title(run: Run) -> str:
    path = "via PgBouncer" if run["pgbouncer"] else "direct"
    workers = f"{run['workers']} worker" + ("s" if run["workers"] > 1 else "")
    reads = " · reads on a standby too" if run.get("replica") else ""
    cache = (
        f" · response cache {run['response_cache_mb']:g} MB" if "response_cache_mb" in run else ""
    )
    return (
        f"{run['scenario']} · {run['connections']} connections · {workers} · {path}{reads}{cache}"
    )


def _name(run: Run) -> str:
    """The scenario, and the response cache's size when the run set chose it (issue 22)."""
    mb = run.get("response_cache_mb")
    return run["scenario"] if mb is None else f"{run['scenario']} c{mb:g}"


def block(run: Run) -> str:
    lat, db, cpu, sock = run["latency_ms"], run["db"], run["cpu_percent"], run["socket_errors"]
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(run["statuses"].items()))
    lines = [
        title(run),
        f"  rate     {run['requests_per_s']:.1f} req/s (2xx {run['ok_per_s']:.1f}/s)"
        f" = {_num(run['vs_pgbench'], 2)} x pgbench,"
        f" {_num(run.get('vs_one_trip'), 2)} x the page query alone",
        f"  latency  p50 {lat['p50']:.1f}  p90 {lat['p90']:.1f}  p99 {lat['p99']:.1f}"
        f"  max {lat['max']:.1f} ms",
        f"  errors   non-2xx {run['non_2xx']}  socket connect/read/write"
        f" {sock['connect']}/{sock['read']}/{sock['write']}  timeouts {run['timeouts']}"
        f"  pool timeouts {db['pool_timeouts']}   statuses {{{statuses}}}",
        f"  db       {'primary pool: ' if 'reads' in run else ''}"
        f"hold mean {_num(db['hold_mean_ms'], 2)} ms p99 {_num(db['hold_p99_ms'], 2)} ms,"
        f" pool wait mean {_num(db['pool_wait_mean_ms'], 2)} ms p99 {_num(db['pool_wait_p99_ms'], 2)} ms,"
        f" {_num(db['round_trips_per_request'], 2)} round trips/request"
        + ("" if db["metrics_from_every_worker"] else "  (metrics: not every worker answered)"),
        "  cpu      " + cpu_line(cpu),
    ]
    if run.get("events_per_s"):
        lines.append(f"  events   {run['events_per_s']:.1f} written/s (change feed)")
    if "webhooks" in run:
        w = run["webhooks"]
        lines.append(
            f"  webhooks {w['delivered']} delivered, commit-to-receiver latency"
            f" p50 {_num(w['latency_ms']['p50'], 1)} ms p99 {_num(w['latency_ms']['p99'], 1)} ms"
        )
    if "reads" in run:
        r = run["reads"]
        share = r["replica"] / (r["replica"] + r["primary"]) if r["replica"] + r["primary"] else 0
        fallbacks = ", ".join(f"{k}: {v}" for k, v in sorted(r["fallbacks"].items())) or "none"
        lines.append(
            f"  reads    {r['replica']} on the standby ({share:.0%}), {r['primary']} on the"
            f" primary; fallbacks {{{fallbacks}}}"
        )
    if "versions" in run:
        v = run["versions"]
        lines.append(
            f"  answers  {v['not_modified']} 304, {v['cache_hits']} from memory,"
            f" {v['cache_misses']} read; version notifications heard {v['notified']},"
            f" delay p50 {_num(v['notify_delay_p50_ms'], 1)} p99 {_num(v['notify_delay_p99_ms'], 1)} ms"
        )
    if "logins" in run:
        lines += _storm_lines(run)
    if "dashboard_page" in run:
        lines += _page_lines(run)
    if run["scenario"] == "mixed":
        c = run["consistency"]
        lines.append(
            f"  stock    {'OK' if c['ok'] else 'BROKEN'}: {c['oversold']} oversold,"
            f" {c['stock_not_sum_of_movements']} with stock != sum of movements"
            f" ({c['products']} products, {c['orders']} orders)"
        )
    return "\n".join(lines)


_CPU_ORDER = ("service", "postgres", "pgbouncer", "wrk", "pgbench", "bench", "softirq", "other")


def cpu_line(cpu: Mapping[str, float]) -> str:
    parts = "  ".join(f"{k} {cpu[k]:.0f}%" for k in _CPU_ORDER if k in cpu)
    return f"{parts}  (machine {cpu['machine']:.0f}%; 100% = one core)"


def _storm_lines(run: Run) -> list[str]:
    base, logins = run["baseline"], run["logins"]
    p99_ratio = (
        run["latency_ms"]["p99"] / base["latency_ms"]["p99"] if base["latency_ms"]["p99"] else None
    )
    return [
        f"  storm    {logins['connections']} connections logging in: {logins['per_s']:.1f} logins/s,"
        f" p50 {logins['latency_ms']['p50']:.0f} ms p99 {logins['latency_ms']['p99']:.0f} ms,"
        f" non-2xx {logins['non_2xx']}, timeouts {logins['timeouts']}",
        f"  reads    without the storm {base['requests_per_s']:.1f} req/s (2xx {base['ok_per_s']:.1f}/s),"
        f" p50 {base['latency_ms']['p50']:.1f} p99 {base['latency_ms']['p99']:.1f} ms;"
        f" during it {run['requests_per_s']:.1f} req/s (2xx {run['ok_per_s']:.1f}/s),"
        f" p50 {run['latency_ms']['p50']:.1f}"
        f" p99 {run['latency_ms']['p99']:.1f} ms (p99 x{_num(p99_ratio, 1)})",
        "  note     login rate limits raised for the benchmark (LOGIN_RATE_PER_EMAIL/"
        "_PER_ADDRESS, LOGIN_BURST): the storm is not throttled",
    ]


def _page_lines(run: Run) -> list[str]:
    page = run["dashboard_page"]
    base = page["without_page"]
    extra = run["cpu_percent"].get("service", 0.0) - base["cpu_percent"].get("service", 0.0)
    return [
        f"  page     {page['polls']} polls of /dashboard.json (mean {_num(page['mean_ms'], 1)} ms,"
        f" {_num(page['mean_kb'], 1)} kB), {page['postgres_polls']} of postgres.json,"
        f" {page['errors']} errors",
        f"  page     service CPU {run['cpu_percent'].get('service', 0.0):.0f}% with the page,"
        f" {base['cpu_percent'].get('service', 0.0):.0f}% without ({extra:+.0f}% of a core);"
        f" {base['requests_per_s']:.1f} req/s without it",
    ]


_COLUMNS = (
    ("scenario", "<11"), ("conns", ">5"), ("wkr", ">3"), ("req/s", ">8"), ("2xx/s", ">8"),
    ("x pgb", ">5"), ("x 1trip", ">7"), ("p50ms", ">7"), ("p90ms", ">7"), ("p99ms", ">7"), ("non2xx", ">7"),
    ("sockerr", ">7"), ("tmo", ">5"), ("pooltmo", ">7"), ("hold mean/p99", ">13"), ("trips", ">5"),
    ("cpu% svc/pg/wrk/other", ">21"),
)  # fmt: skip


def _row(run: Run) -> list[str]:
    lat, db, cpu = run["latency_ms"], run["db"], run["cpu_percent"]
    return [
        _name(run), str(run["connections"]), str(run["workers"]),
        f"{run['requests_per_s']:.0f}", f"{run['ok_per_s']:.0f}", _num(run["vs_pgbench"], 2),
        _num(run.get("vs_one_trip"), 2), f"{lat['p50']:.1f}", f"{lat['p90']:.1f}", f"{lat['p99']:.1f}", str(run["non_2xx"]),
        str(sum(run["socket_errors"].values())), str(run["timeouts"]), str(db["pool_timeouts"]),
        f"{_num(db['hold_mean_ms'], 2)}/{_num(db['hold_p99_ms'], 1)}",
        _num(db["round_trips_per_request"], 2),
        "/".join(_num(cpu.get(k), 0) for k in ("service", "postgres", "wrk", "other")),
    ]  # fmt: skip


NOISY = 15.0  # % of one core used by other processes during a run


def table(runs: Sequence[Run]) -> str:
    def line(cells: Sequence[str]) -> str:
        return " ".join(f"{cell:{fmt}}" for cell, (_, fmt) in zip(cells, _COLUMNS, strict=True))

    rows = [line([name for name, _ in _COLUMNS])]
    noisy = 0
    for run in runs:
        mark = run["cpu_percent"].get("other", 0.0) >= NOISY
        noisy += mark
        rows.append(line(_row(run)) + (" *" if mark else ""))
    if noisy:
        rows.append(
            f"* {noisy} of {len(runs)} runs shared the machine with other work (other >="
            f" {NOISY:.0f}% of a core): their numbers are noisy; rerun on a quiet machine"
        )
    return "\n".join(rows)


def _key(run: Run) -> tuple[Any, ...]:
    return (
        run["scenario"],
        run["connections"],
        run["workers"],
        run["pgbouncer"],
        run.get("replica", False),
    )


def compare(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """Per scenario/connections/workers: req/s and p99 of A and B, and B / A."""
    before = {_key(r): r for r in a["runs"]}
    tps_a, tps_b = a["pgbench"]["tps"], b["pgbench"]["tps"]
    lines = [
        f"A: {a['meta']['started_at']}, pgbench {tps_a:.0f} tps;"
        f"  B: {b['meta']['started_at']}, pgbench {tps_b:.0f} tps",
        f"{'scenario':<11} {'conns':>5} {'wkr':>3} {'pgb':>3} {'A req/s':>9} {'B req/s':>9}"
        f" {'B/A':>5} {'A p99ms':>8} {'B p99ms':>8} {'B/A':>5}",
    ]
    for run in b["runs"]:
        old = before.get(_key(run))
        if old is None:
            continue
        rate = run["requests_per_s"] / old["requests_per_s"] if old["requests_per_s"] else None
        p99_a, p99_b = old["latency_ms"]["p99"], run["latency_ms"]["p99"]
        lines.append(
            f"{run['scenario']:<11} {run['connections']:>5} {run['workers']:>3}"
            f" {'yes' if run['pgbouncer'] else 'no':>3} {old['requests_per_s']:>9.1f}"
            f" {run['requests_per_s']:>9.1f} {_num(rate, 2):>5} {p99_a:>8.1f} {p99_b:>8.1f}"
            f" {_num(p99_b / p99_a if p99_a else None, 2):>5}"
        )
    if len(lines) == 2:
        lines.append("(no scenario/connections/workers in common)")
    return "\n".join(lines)
