"""The routes table: per route, over the chosen window, the seconds its requests held pool
connections, waited for one and queued at their admission gate, with their error answers;
the top few by hold time and by time spent waiting: the newest running totals less those of
the first route sample in the window (app/ops/recorder.py)."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from app.ops.history import History

_FIGURES = ("requests", "4xx", "5xx", "hold", "wait", "queue")


def top_routes(
    starts: History, latest: dict[str, float], now: float, window_s: float, limit: int = 8
) -> dict[str, Any]:
    """`starts`: earlier running totals; `latest`: the newest ones."""
    back = starts.first_at_or_after(now - window_s)
    if back is None and len(starts):
        back = 0  # the window is shorter than the gap between route samples: the newest one
    routes: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(_FIGURES, 0.0))
    for name, total in latest.items():
        _, route, figure = name.split("|")
        start = 0.0 if back is None else _or_zero(starts.latest(name, back))
        routes[route][figure] = total - start if total >= start else total
    used = [(route, figures) for route, figures in routes.items() if figures["requests"]]
    by_hold = sorted(used, key=lambda r: r[1]["hold"], reverse=True)
    by_wait = sorted(used, key=lambda r: r[1]["wait"] + r[1]["queue"], reverse=True)
    return {
        "window_s": window_s,
        "from": None if back is None else starts.latest_time(back),
        "by_hold": [{"route": route, **f} for route, f in by_hold[:limit]],
        "by_wait": [{"route": route, **f} for route, f in by_wait if f["wait"] + f["queue"]][
            :limit
        ],
    }


def _or_zero(value: float) -> float:
    return 0.0 if math.isnan(value) else value
