"""Tenant-scoped reads served by a real streaming standby, without losing a client's own
writes: the must-show list of issue 11, each test run straight to PostgreSQL and through
PgBouncer (transaction mode) in front of both the primary and the standby."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from infrastructure.db.replicas.consistency import ConsistencyTokens, parse_lsn
from tests.faults.service import API
from tests.replica.client import (
    TOKEN,
    CookieClient,
    create_customer,
    dashboard,
    get_customer,
    login_as,
    metrics,
    new_customer,
)
from tests.replica.conftest import SECRET
from tests.support.pgcluster import server_binaries_available

pytestmark = pytest.mark.skipif(
    not server_binaries_available(),
    reason="no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup)",
)

ALICE = ("acme", "alice@acme.test")
BOB = ("globex", "bob@globex.test")
REPLICA_READS = 'db_reads_total{target="replica"}'
PRIMARY_READS = 'db_reads_total{target="primary"}'


def fallbacks(samples: dict[str, float], reason: str) -> float:
    return samples.get(f'db_read_fallbacks_total{{reason="{reason}"}}', 0.0)


def of_the_replica(samples: dict[str, float], family: str) -> float:
    """The one replica's sample of `family` (its label is the standby's or PgBouncer's port)."""
    [value] = [v for k, v in samples.items() if k.startswith(family + '{replica="')]
    return value


def replica_up(samples: dict[str, float], _standby=None) -> float:
    return of_the_replica(samples, "db_replica_up")


async def settled_login(service, standby, who: tuple[str, str]) -> dict[str, str]:
    """Bearer headers without a Consistency-Token, once the standby knows the session and the
    service has it in rotation. (At start the poller has no past samples of the primary, so a
    standby behind the first one, e.g. by the auth listener's probe, waits one more poll.)"""
    headers = await login_as(service, *who)
    del headers[TOKEN]
    await asyncio.to_thread(standby.wait_caught_up)
    assert await _rejoins(service, standby, within=5), service.log()
    return headers


def service_reads_on(standby) -> list[tuple[str, str]]:
    """The service's read sessions on the standby: (application_name, last query). Through
    PgBouncer a server session carries the application name of its last client, and shares
    it with the health probe ("sales-api-replica-probe"), so either sign counts."""
    return standby.query(
        "select application_name, query from pg_stat_activity"
        " where usename = 'sales_app' and (application_name = 'sales-api' or query like %s)",
        ("%app.tenant_id%",),
    )


async def test_reads_are_served_by_the_standby(standby, start_service):
    service = await start_service()
    headers = await settled_login(service, standby, ALICE)
    assert await _rejoins(service, standby, within=5), service.log()
    before = await metrics(service)
    seen_on_standby = []
    for _ in range(20):
        answer = await service.request("read", "GET", f"{API}/customers?limit=5", headers=headers)
        assert answer.status == 200
        seen_on_standby += service_reads_on(standby)
    after = await metrics(service)

    sessions = standby.query(
        "select usename, application_name, state, left(query, 80) from pg_stat_activity"
        " where backend_type = 'client backend'"
    )
    assert seen_on_standby, ("no session of the service on the standby", sessions, after)
    replica_reads = {k: v for k, v in after.items() if "read" in k and "created" not in k}
    assert after[REPLICA_READS] - before[REPLICA_READS] >= 20, (replica_reads, service.log())
    assert after[PRIMARY_READS] == before[PRIMARY_READS], (replica_reads, service.log())
    assert replica_up(after, standby) == 1
    assert of_the_replica(after, "db_replica_reads_total") >= 20
    assert of_the_replica(after, "db_replica_pool_size") >= 1

    # The live dashboard's Replicas section has the same numbers.
    doc = await dashboard(service)
    [(name, replica)] = doc["total"]["replicas"].items()
    assert (replica["up"], replica["up_workers"], replica["workers"]) == (1, 1, 1), replica
    assert replica["reads"] == of_the_replica(after, "db_replica_reads_total")
    assert replica["pool"]["max"] >= replica["pool"]["size"] >= 1
    assert replica["round_trips"] >= replica["reads"] and replica["buckets"]["hold"]
    assert doc["total"]["reads"]["replica"] == after[REPLICA_READS]
    assert [w["replicas"][name]["up"] for w in doc["workers"]] == [1]


async def test_with_replay_paused_a_client_reads_its_new_customers_with_its_token(
    standby, start_service
):
    # A large REPLICA_MAX_LAG keeps the paused standby in the rotation: only the token
    # protects these reads.
    service = await start_service(REPLICA_MAX_LAG="60")
    headers = await settled_login(service, standby, ALICE)
    standby.pause_replay()
    for _ in range(10):
        created = await create_customer(service, headers)
        assert created.status == 201
        token = created.headers[TOKEN]
        read = await get_customer(service, created.body["id"], {**headers, TOKEN: token})
        assert read.status == 200, read
        assert read.body["id"] == created.body["id"]
    # Without the token the same read goes to the paused standby, which has not seen it.
    stale = await get_customer(service, created.body["id"], headers)
    assert stale.status == 404
    assert fallbacks(await metrics(service), "token_ahead") >= 10


async def test_with_replay_paused_a_cookie_client_reads_its_own_writes_without_doing_anything(
    standby, start_service
):
    service = await start_service(REPLICA_MAX_LAG="60")
    standby.pause_replay()
    client = CookieClient(service)
    try:
        # Login writes a session the paused standby does not have: the cookie's token sends
        # the first authenticated read to the primary.
        login = await client.request(
            "POST",
            f"{API}/auth/login",
            json={"email": ALICE[1], "password": "demo-password"},
        )
        assert login.status == 200
        me = await client.request("GET", f"{API}/auth/me")
        assert me.status == 200, me
        for _ in range(10):
            created = await client.request("POST", f"{API}/customers", json=new_customer())
            assert created.status == 201, created
            read = await client.request("GET", f"{API}/customers/{created.body['id']}")
            assert read.status == 200, read
    finally:
        await client.close()


async def test_a_bearer_client_authenticates_right_after_login_with_the_logins_token(
    standby, start_service
):
    # Without the principal cache the authentication lookup of a read runs on the standby.
    service = await start_service(REPLICA_MAX_LAG="60", AUTH_CACHE_TTL="0")
    standby.pause_replay()
    headers = await login_as(service, *ALICE)
    me = await service.request("read", "GET", f"{API}/auth/me", headers=headers)
    assert me.status == 200, me
    del headers[TOKEN]  # the paused standby has never heard of this session
    me = await service.request("read", "GET", f"{API}/auth/me", headers=headers)
    assert me.status == 401


async def test_with_the_principal_cache_authentication_is_looked_up_on_the_primary(
    standby, start_service
):
    # A fill from a standby behind a revocation the cache already applied would bring the
    # revoked token back, so with the cache on a token is looked up on the primary.
    service = await start_service(REPLICA_MAX_LAG="60")
    standby.pause_replay()
    headers = await login_as(service, *ALICE)
    del headers[TOKEN]  # the paused standby has never heard of this session
    me = await service.request("read", "GET", f"{API}/auth/me", headers=headers)
    assert me.status == 200, me


async def test_the_tokens_position_is_past_the_commands_commit_record(standby, start_service):
    # pg_walinspect shows where the command's COMMIT record ends in the primary's WAL: a
    # replica that has replayed up to the token's position has replayed it.
    standby.primary.query("create extension if not exists pg_walinspect")
    service = await start_service()
    headers = await settled_login(service, standby, ALICE)
    start = standby.primary.query("select pg_current_wal_insert_lsn()::text")[0][0]
    created = await create_customer(service, headers)
    assert created.status == 201
    position = int(created.headers[TOKEN].split(".")[1], 16)
    [(xid,)] = standby.primary.query(
        "select xmin::text from customers where id = %s", (created.body["id"],)
    )
    [(commit_end,)] = standby.primary.query(
        "select end_lsn::text from pg_get_wal_records_info(%s, pg_current_wal_flush_lsn())"
        " where resource_manager = 'Transaction' and record_type = 'COMMIT'"
        " and xid::text = %s",
        (start, xid),
    )
    assert parse_lsn(commit_end) <= position


async def test_an_idle_standby_at_a_wal_segment_boundary_stays_in_rotation(standby, start_service):
    # After a segment switch the primary's insert position is the new segment's start plus
    # its long page header, while the caught-up standby reports the boundary itself.
    service = await start_service(REPLICA_MAX_LAG="0.5", REPLICA_POLL_MS="50")
    headers = await settled_login(service, standby, ALICE)
    assert (await create_customer(service, headers)).status == 201
    standby.primary.query("select pg_switch_wal()")
    await asyncio.to_thread(standby.wait_caught_up)
    insert_lsn = standby.primary.query("select pg_current_wal_insert_lsn()::text")[0][0]
    assert int(insert_lsn.split("/")[1], 16) % (16 * 1024 * 1024) == 40, insert_lsn
    assert standby.replay_lsn() < parse_lsn(insert_lsn)
    await asyncio.sleep(1.0)  # twice REPLICA_MAX_LAG without a write
    assert replica_up(await metrics(service)) == 1


async def test_a_token_issued_by_one_process_is_honoured_by_another(standby, start_service):
    # Two instances (or --workers) behind one address: they share CONSISTENCY_TOKEN_SECRET.
    writer = await start_service(REPLICA_MAX_LAG="60")
    reader = await start_service(REPLICA_MAX_LAG="60")
    headers = await settled_login(writer, standby, ALICE)
    standby.pause_replay()
    created = await create_customer(writer, headers)
    assert created.status == 201
    token = created.headers[TOKEN]
    read = await get_customer(reader, created.body["id"], {**headers, TOKEN: token})
    assert read.status == 200, read
    assert (await get_customer(reader, created.body["id"], headers)).status == 404


async def test_a_standby_lagging_past_the_limit_leaves_the_rotation_and_reads_see_new_writes(
    standby, start_service
):
    service = await start_service(REPLICA_MAX_LAG="0.5", REPLICA_POLL_MS="50")
    headers = await settled_login(service, standby, ALICE)
    standby.pause_replay()
    created = await create_customer(service, headers)
    assert created.status == 201
    await asyncio.sleep(1.0)  # past REPLICA_MAX_LAG, and a few polls
    before = await metrics(service)
    assert replica_up(before, standby) == 0
    read = await get_customer(service, created.body["id"], headers)  # no token
    assert read.status == 200, read
    after = await metrics(service)
    assert fallbacks(after, "lagging") > fallbacks(before, "lagging")
    assert after[REPLICA_READS] == before[REPLICA_READS]

    standby.resume_replay()
    assert await _rejoins(service, standby, within=5)
    log = service.log()
    assert '"replica_left"' in log and '"replica_rejoined"' in log


async def test_a_standby_stopped_under_read_load_fails_no_read_and_rejoins_after_restart(
    standby, start_service
):
    # Without the response cache: the same read repeated must reach a server every time.
    service = await start_service(RESPONSE_CACHE_MB="0")
    headers = await settled_login(service, standby, ALICE)
    answers = []
    stop = asyncio.Event()

    async def reader() -> None:
        while not stop.is_set():
            answers.append(
                await service.request("read", "GET", f"{API}/customers?limit=5", headers=headers)
            )

    readers = [asyncio.create_task(reader()) for _ in range(6)]
    await asyncio.sleep(0.5)
    served_before_stop = (await metrics(service))[REPLICA_READS]
    await asyncio.to_thread(standby.stop_standby, "immediate")
    await asyncio.sleep(1.5)
    stop.set()
    await asyncio.gather(*readers)

    failed = [a for a in answers if a.status != 200]
    assert not failed, (failed[:5], _warnings(service.log_path.read_text()))
    assert served_before_stop > 0
    assert replica_up(await metrics(service), standby) == 0
    assert (await service.get("/readyz")).status == 200  # readiness is about the primary

    await asyncio.to_thread(standby.start_standby)
    assert await _rejoins(service, standby, within=10)
    # Back in rotation, it serves reads again. (A pooled connection that died with the old
    # server may cost one more fallback to the primary before that.)
    before = (await metrics(service))[REPLICA_READS]
    deadline = time.monotonic() + 5
    while (await metrics(service))[REPLICA_READS] == before:
        assert time.monotonic() < deadline, "the standby serves no reads after it rejoined"
        answer = await service.request("read", "GET", f"{API}/customers?limit=5", headers=headers)
        assert answer.status == 200
        await asyncio.sleep(0.05)


async def test_cross_tenant_reads_on_the_standby_are_refused_as_on_the_primary(
    standby, start_service
):
    service = await start_service(AUTH_CACHE_TTL="0")  # the token lookups on the standby too
    alice = await settled_login(service, standby, ALICE)
    bob = await settled_login(service, standby, BOB)
    created = await create_customer(service, alice)
    assert created.status == 201
    standby.wait_caught_up()
    before = (await metrics(service))[REPLICA_READS]

    assert (await get_customer(service, created.body["id"], alice)).status == 200
    assert (await get_customer(service, created.body["id"], bob)).status == 404
    listed = await service.request("read", "GET", f"{API}/customers?limit=100", headers=bob)
    assert listed.status == 200, listed
    assert created.body["id"] not in {c["id"] for c in listed.body["items"]}
    # alice's token under globex: her session is not globex's
    wrong_tenant = {**alice, "X-Tenant": "globex"}
    assert (await get_customer(service, created.body["id"], wrong_tenant)).status == 401
    assert (await metrics(service))[REPLICA_READS] - before >= 7  # all of it on the standby


GARBAGE = (
    "garbage",
    "",
    "2.1700000000000." + "A" * 47,  # no token of ours is this long
    "x" * 5000,
)


async def test_a_forged_or_garbage_token_is_a_400_problem_at_once(standby, start_service):
    service = await start_service()
    headers = await login_as(service, *ALICE)
    for token in GARBAGE:
        started = time.monotonic()
        answer = await service.request(
            "read", "GET", f"{API}/customers?limit=5", headers={**headers, TOKEN: token}
        )
        assert time.monotonic() - started < 1.0
        assert answer.status == 400, (token, answer)
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        assert answer.body["type"].endswith("/invalid-consistency-token")


async def test_a_token_with_its_sealed_position_changed_asks_for_nothing(standby, start_service):
    service = await start_service()
    headers = await login_as(service, *ALICE)
    version, issued, sealed = headers[TOKEN].split(".")
    tampered = ".".join([version, issued, sealed[:-2] + ("AA" if sealed[-2:] != "AA" else "BB")])
    answer = await service.request(
        "read", "GET", f"{API}/customers?limit=5", headers={**headers, TOKEN: tampered}
    )
    assert answer.status == 200  # ignored, as if absent: it cannot be read nor forged


async def test_a_genuine_token_far_ahead_of_the_primary_costs_one_bounded_wait_then_expires(
    standby, start_service
):
    # As a token from a restored or replaced primary would be: signed with the secret, but
    # at a position this primary may never reach.
    service = await start_service(REPLICA_WAIT_MS="50", REPLICA_MAX_LAG="1")
    headers = await login_as(service, *ALICE)
    tenant_id = uuid.UUID(
        (await service.request("me", "GET", f"{API}/auth/me", headers=headers)).body["tenant_id"]
    )
    tokens = ConsistencyTokens(SECRET, horizon=2.0)
    far = tokens.issue(2**62, tenant_id)
    started = time.monotonic()
    answer = await service.request(
        "read", "GET", f"{API}/customers?limit=5", headers={**headers, TOKEN: far}
    )
    assert answer.status == 200
    assert time.monotonic() - started < 1.0
    samples = await metrics(service)
    assert fallbacks(samples, "token_ahead") >= 1

    old = tokens.issue(2**62, tenant_id, now=time.time() - 60)  # past the horizon: moot
    before = samples[REPLICA_READS]
    answer = await service.request(
        "read", "GET", f"{API}/customers?limit=5", headers={**headers, TOKEN: old}
    )
    assert answer.status == 200
    assert (await metrics(service))[REPLICA_READS] > before


async def _rejoins(service, standby, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if replica_up(await metrics(service), standby) == 1:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_client_that_writes_and_reads_with_its_token_and_an_old_etag_gets_the_new_data(
    standby, start_service
):
    """Issue 22 with replicas: a replica's answer carries no ETag (it may be behind the
    versions the primary announced); a token-carrying read never takes the 304 shortcut.
    The listener connects to the primary itself, as it must behind PgBouncer."""
    service = await start_service(AUTH_LISTEN_DATABASE_URL=standby.primary_app_url)
    headers = await settled_login(service, standby, ALICE)
    listed = f"{API}/customers?limit=5"

    async def etag_of_a_read() -> tuple[str | None, str | None]:
        answer = await service.request("read", "GET", listed, headers=headers)
        assert answer.status == 200, answer
        found = {k.lower(): v for k, v in answer.headers.items()}
        return found.get("etag"), found.get("cache-control")

    assert await etag_of_a_read() == (None, "private, no-cache")  # read on the standby
    standby.stop_standby()  # every read now falls back to the primary, and gets an ETag
    deadline = time.monotonic() + 10
    while (old := (await etag_of_a_read())[0]) is None:
        assert time.monotonic() < deadline, "no ETag from the primary"
        await asyncio.sleep(0.05)
    created = await create_customer(service, headers)
    assert created.status == 201
    conditional = {**headers, TOKEN: created.headers[TOKEN], "If-None-Match": old}
    again = await service.request("read", "GET", listed, headers=conditional)
    assert again.status == 200, again
    assert again.body["items"][0]["id"] == created.body["id"]  # newest first


def _warnings(log: str) -> list[str]:
    """The service's warning and error lines, to say why a read failed."""
    return [line for line in log.splitlines() if '"level":"warning"' in line or "error" in line]
