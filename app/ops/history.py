"""The dashboard's history: the last `capacity` samples of the service, in fixed-size rings.

One preallocated array of floats per series, written in turn, so memory is capacity x series
x 8 bytes whatever the run's length (an hour of 80 series at one sample a second: 2.3 MB).
Series appear when first seen and stay; their names come from fixed sets (pool and gate
figures, worker slots, configured replicas, the route table), so their number is bounded.
A value missing from a sample is NaN, which JSON carries as null (a gap in a chart).
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections.abc import Iterable, Mapping

_NAN = math.nan


class History:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a history holds at least one sample")
        self.capacity = capacity
        self.taken = 0  # samples ever appended; the newest is at (taken - 1) % capacity
        self._times = array("d", [_NAN]) * capacity
        self._series: dict[str, array[float]] = {}

    def __len__(self) -> int:
        return min(self.taken, self.capacity)

    def append(self, time: float, row: Mapping[str, float | None]) -> None:
        slot = self.taken % self.capacity
        self._times[slot] = time
        for name, values in self._series.items():
            value = row.get(name)
            values[slot] = _NAN if value is None else value
        for name in row.keys() - self._series.keys():
            values = self._series[name] = array("d", [_NAN]) * self.capacity
            value = row[name]
            values[slot] = _NAN if value is None else value
        self.taken += 1

    def names(self) -> list[str]:
        return sorted(self._series)

    def latest(self, name: str, back: int = 0) -> float:
        """The series' value `back` samples before the newest (NaN if there is none)."""
        if back >= len(self) or name not in self._series:
            return _NAN
        return self._series[name][(self.taken - 1 - back) % self.capacity]

    def latest_time(self, back: int = 0) -> float:
        """When the sample `back` samples before the newest was taken (NaN if there is none)."""
        if back >= len(self):
            return _NAN
        return self._times[(self.taken - 1 - back) % self.capacity]

    def since(self, after: float, names: Iterable[str] | None = None) -> dict[str, object]:
        """Samples taken after `after` (seconds since the epoch), oldest first:
        {"t": [...], "series": {name: [...]}}, for the named series or all of them."""
        slots = self._slots()
        times = [self._times[i] for i in slots]
        first = bisect.bisect_right(times, after)  # sample times only ever grow
        chosen = slots[first:]
        wanted = self.names() if names is None else [n for n in names if n in self._series]
        return {
            "t": times[first:],
            "series": {name: [self._series[name][i] for i in chosen] for name in wanted},
        }

    def first_at_or_after(self, time: float) -> int | None:
        """How many samples back the oldest sample taken at or after `time` is."""
        slots = self._slots()
        times = [self._times[i] for i in slots]
        first = bisect.bisect_left(times, time)
        return None if first == len(slots) else len(slots) - 1 - first

    def _slots(self) -> list[int]:
        """Ring positions in the order the samples were taken."""
        count = len(self)
        start = self.taken - count
        return [(start + k) % self.capacity for k in range(count)]
