"""What the admin port's /metrics and dashboard read: the whole service in one collection.

With several workers (PROMETHEUS_MULTIPROC_DIR set by app/runtime/gunicorn_conf.py) every
worker writes its metrics to files there; prometheus-client's MultiProcessCollector sums the
counters and histograms over every worker that ever ran (a dead worker keeps its counts) and
keeps the live workers' gauges. Alone, the process's own registry is the service. Either way
the collection adds the processes' resource use and a build-info series.
"""

from __future__ import annotations

import os
import platform
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from importlib import metadata
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def version() -> str:
    try:
        return metadata.version("sales-api")
    except metadata.PackageNotFoundError:
        return "unknown"


class ServiceCollector(Collector):
    """Every metric of the service, for one scrape. `refresh` copies this worker's gauges
    first (the others copy theirs a few times a second)."""

    def __init__(
        self, own: CollectorRegistry, metrics_dir: str | None, refresh: Callable[[], None]
    ) -> None:
        self._own = own
        self._dir = metrics_dir
        self._refresh = refresh

    def collect(self) -> Iterable[Metric]:
        self._refresh()
        if self._dir is None:
            yield from self._own.collect()
        else:
            yield from _merge(_files(self._dir))
        yield from _processes(self._dir is not None)
        yield _build_info()

    def per_worker(self) -> dict[int, list[Metric]]:
        """pid -> that worker's own metrics; only this process when it runs alone.

        Read from each worker's files (named `<type>_<pid>.db`), including workers that died:
        their counters still count towards the total.
        """
        self._refresh()
        if self._dir is None:
            return {os.getpid(): list(self._own.collect())}
        files: dict[int, list[str]] = defaultdict(list)
        for path in _files(self._dir):
            pid = Path(path).stem.rsplit("_", 1)[-1]
            if pid.isdigit():
                files[int(pid)].append(path)
        return {pid: _merge(paths) for pid, paths in files.items()}


def _files(directory: str) -> list[str]:
    """The metric files with content. A worker that is starting creates its files empty and
    sizes them a moment later; prometheus-client's reader fails on an empty one."""
    found = []
    for path in Path(directory).glob("*.db"):
        try:
            if path.stat().st_size > 0:
                found.append(str(path))
        except FileNotFoundError:  # a dead worker's live gauges, removed meanwhile
            pass
    return found


def _merge(files: list[str]) -> list[Metric]:
    return list(MultiProcessCollector.merge(files))  # type: ignore[no-untyped-call]


def scrape_registry(collector: ServiceCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def _build_info() -> Metric:
    info = GaugeMetricFamily(
        "sales_api_build_info",
        "Always 1; the labels say what is running",
        labels=["version", "python", "aiohttp", "prometheus_client"],
    )
    info.add_metric(
        [version(), platform.python_version(), _dist("aiohttp"), _dist("prometheus-client")], 1
    )
    return info


def _dist(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def _processes(managed: bool) -> Iterator[Metric]:
    """Resource use of the process manager (`role="manager"`) and of each live worker, read
    from /proc as prometheus-client's ProcessCollector does for one process."""
    labels = ["role", "pid"]
    rss = GaugeMetricFamily("process_resident_memory_bytes", "Resident memory", labels=labels)
    cpu = CounterMetricFamily("process_cpu_seconds", "User and system CPU time", labels=labels)
    fds = GaugeMetricFamily("process_open_fds", "Open file descriptors", labels=labels)
    start = GaugeMetricFamily(
        "process_start_time_seconds", "Start time, seconds since the epoch", labels=labels
    )
    if sys.platform != "linux":
        return
    manager = os.getppid() if managed else None
    pids = [(manager, "manager")] if manager else []
    pids += [(pid, "worker") for pid in _workers(manager)]
    boot = _boot_time()
    for pid, role in pids:
        stat = _stat(pid)
        if stat is None:
            continue
        key = [role, str(pid)]
        rss.add_metric(key, float(stat[21]) * _PAGE)
        cpu.add_metric(key, (float(stat[11]) + float(stat[12])) / _TICKS)
        start.add_metric(key, boot + float(stat[19]) / _TICKS)
        try:
            fds.add_metric(key, float(len(os.listdir(f"/proc/{pid}/fd"))))
        except OSError:
            pass
    yield from (rss, cpu, fds, start)


def _workers(manager: int | None) -> list[int]:
    if manager is None:
        return [os.getpid()]
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None and stat[1] == str(manager):
                found.append(int(entry))
    return sorted(found)


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: [state, ppid, ...] (field 3 onwards)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0
