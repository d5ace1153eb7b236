"""`python -m app --workers N`: N workers under gunicorn, one service. The admin port reports
the whole service in every scrape, a worker that dies is replaced without losing its counts,
SIGHUP reloads the workers and SIGTERM drains and stops them all."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.runtime.config import read_places
from tests.support.sales import headers_for, order_body, product
from tests.support.server import serving, workers_of

pytestmark = pytest.mark.slow

ENV = {"DB_POOL_MIN": "0", "DB_POOL_MAX": "3"}
ROUTE = "/openapi.json"  # a route only the test calls: its count is exactly the test's


def get(url: str) -> int:
    # urllib opens a new connection per request, so the kernel may pick either worker.
    with urllib.request.urlopen(url, timeout=10) as resp:
        resp.read()
        return resp.status


def send(base: str, count: int) -> list[int]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: get(base + ROUTE), range(count)))


def scrape(admin: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(admin + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def answered(samples: dict, route: str = ROUTE) -> float:
    return sum(
        value
        for (name, labels), value in samples.items()
        if name == "http_requests_total" and dict(labels).get("route") == route
    )


def workers_labelled(samples: dict, name: str = "db_pool_max") -> set[str]:
    return {dict(labels)["worker"] for (n, labels), _ in samples.items() if n == name}


def test_every_admin_scrape_reports_every_request_of_both_workers(tmp_path):
    with serving(ENV, tmp_path / "service.log", workers=2) as service:
        assert send(service.base, 200) == [200] * 200
        counts = [answered(scrape(service.admin)) for _ in range(10)]
        assert counts == [200.0] * 10
        samples = scrape(service.admin)
        assert workers_labelled(samples) == {"1", "2"}
        assert samples[("service_db_pool_max", frozenset())] == 6.0
        assert {n for (n, _), _ in samples.items()} >= {
            "process_resident_memory_bytes",
            "process_cpu_seconds_total",
            "process_open_fds",
            "process_start_time_seconds",
            "sales_api_build_info",
        }


def test_a_killed_worker_is_replaced_within_10s_and_its_counts_are_kept(tmp_path):
    with serving(ENV, tmp_path / "service.log", workers=2) as service:
        assert send(service.base, 100) == [200] * 100
        before = answered(scrape(service.admin))
        assert before == 100.0
        victim = min(workers_of(service.proc.pid))
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        deadline = killed_at + 10
        while time.monotonic() < deadline:
            found = workers_of(service.proc.pid)
            if len(found) == 2 and victim not in found:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"no replacement within 10 s: workers {workers_of(service.proc.pid)}")
        # The replacement answers once its app is up; from then on nothing is refused.
        while time.monotonic() < killed_at + 10 and workers_labelled(scrape(service.admin)) != {
            "1",
            "2",
        }:
            time.sleep(0.1)
        assert send(service.base, 100) == [200] * 100
        after = scrape(service.admin)
        assert answered(after) == before + 100  # the dead worker's counts are still there
        assert workers_labelled(after) == {"1", "2"}  # the replacement took the dead one's place


def test_sighup_replaces_every_worker_and_the_counts_carry_on(tmp_path):
    with serving(ENV, tmp_path / "service.log", workers=2) as service:
        assert send(service.base, 50) == [200] * 50
        old = workers_of(service.proc.pid)
        service.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = workers_of(service.proc.pid)
            if len(now) == 2 and not now & old:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the workers were not replaced after SIGHUP")
        assert send(service.base, 50) == [200] * 50
        assert answered(scrape(service.admin)) == 100.0


def test_workers_size_their_read_gate_for_their_siblings_and_all_stop_on_sigterm(tmp_path):
    # Two cores at most (children inherit the affinity), so 3 workers size their read gate
    # differently from a lone worker and the test shows each worker knows its siblings.
    everywhere = os.sched_getaffinity(0)
    cores = sorted(everywhere)[:2]
    os.sched_setaffinity(0, cores)
    try:
        with serving(ENV, tmp_path / "service.log", workers=3) as service:
            workers = workers_of(service.proc.pid)
            samples = scrape(service.admin)
            places = read_places(3, len(cores))
            assert places == 1 or len(cores) == 1
            for worker in ("1", "2", "3"):
                labels = frozenset({("gate", "reads"), ("worker", worker)})
                assert samples[("http_admission_places", labels)] == places
            service.proc.send_signal(signal.SIGTERM)
            assert service.proc.wait(timeout=30) == 0
            for pid in workers:
                with pytest.raises(ProcessLookupError):
                    os.kill(pid, 0)
    finally:
        os.sched_setaffinity(0, everywhere)


def test_sigterm_lets_an_order_in_flight_finish_before_the_workers_exit(tmp_path, seeder):
    tenant = seeder.tenant("drain")
    headers = {**headers_for(seeder, tenant), "Content-Type": "application/json"}
    customer, item = seeder.customer(tenant), product(seeder, tenant, stock=5)
    body = json.dumps(order_body(customer, (item, 1))).encode()
    admin = psycopg2.connect(os.environ["ADMIN_DATABASE_URL"])
    admin.autocommit = True  # pg_stat_activity is a snapshot per transaction
    locker = psycopg2.connect(os.environ["MIGRATION_DATABASE_URL"])
    try:
        with serving({**ENV, "SHUTDOWN_TIMEOUT": "10"}, tmp_path / "service.log", workers=2) as s:
            with locker.cursor() as cur:  # hold the product's row lock: the order waits on it
                cur.execute("select set_config('app.tenant_id', %s, true)", (str(tenant.id),))
                cur.execute("select 1 from products where id = %s for update", (item,))
            request = urllib.request.Request(
                s.base + "/api/sales/orders", data=body, headers=headers, method="POST"
            )
            with ThreadPoolExecutor(1) as pool:
                answer = pool.submit(_status, request)
                _until(lambda: answer.done() or _waiting_on_a_lock(admin) == 1)
                assert not answer.done(), answer.result()
                s.proc.send_signal(signal.SIGTERM)
                time.sleep(1.0)  # draining: the manager waits, the order still waits
                assert s.proc.poll() is None
                locker.rollback()
                assert answer.result(timeout=20) == (201, "")
            assert s.proc.wait(timeout=15) == 0
    finally:
        locker.close()
        admin.close()


def _status(request: urllib.request.Request) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, ""
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _waiting_on_a_lock(admin) -> int:
    with admin.cursor() as cur:
        cur.execute(
            # This test's database only: other runs on the same server have their own
            # 'sales-api' backends, which may be waiting on locks of their own.
            "select count(*) from pg_stat_activity where datname = current_database()"
            " and application_name = 'sales-api' and wait_event_type = 'Lock'"
        )
        return int(cur.fetchone()[0])


def _until(check, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)
