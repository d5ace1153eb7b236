"""The routes table: per route, over the chosen window, the seconds its requests held pool
connections, waited for one and queued at their admission gate, with their error answers;
the top few by hold time and by time spent waiting (differences of the running totals the
history keeps, app/ops/sampler.py)."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from app.ops.history import History
from app.ops.sampler import ROUTE_PREFIX

_FIGURES = ("requests", "4xx", "5xx", "hold", "wait", "queue")


def top_routes(history: History, now: float, window_s: float, limit: int = 8) -> dict[str, Any]:
    back = history.first_at_or_after(now - window_s)
    routes: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(_FIGURES, 0.0))
    if back is not None:
        for name in history.names():
            if name.startswith(ROUTE_PREFIX):
                _, route, figure = name.split("|")
                latest, start = history.latest(name), history.latest(name, back)
                grown = _or_zero(latest) - _or_zero(start)
                routes[route][figure] = grown if grown >= 0 else _or_zero(latest)
    used = [(route, figures) for route, figures in routes.items() if figures["requests"]]
    by_hold = sorted(used, key=lambda r: r[1]["hold"], reverse=True)
    by_wait = sorted(used, key=lambda r: r[1]["wait"] + r[1]["queue"], reverse=True)
    return {
        "window_s": window_s,
        "by_hold": [{"route": route, **f} for route, f in by_hold[:limit]],
        "by_wait": [{"route": route, **f} for route, f in by_wait if f["wait"] + f["queue"]][
            :limit
        ],
    }


def _or_zero(value: float) -> float:
    return 0.0 if math.isnan(value) else value
