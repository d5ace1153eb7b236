"""Which failed commands run again: a serialization failure or deadlock (up to four times),
and once a connection lost before COMMIT was sent (a failover); never a command whose COMMIT
outcome is unknown: that one is the client's to retry with its Idempotency-Key."""

from __future__ import annotations

from typing import Any, cast

import pytest

from infrastructure.db.database import Database
from infrastructure.db.errors import CommitOutcomeUnknown, ConnectionLost, ReadOnlyServer
from infrastructure.unit_of_work import run_command

NO_DB = cast(Database, None)  # the retries on a lost connection touch no metrics


class Flaky:
    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


@pytest.mark.parametrize("lost", [ConnectionLost(), ReadOnlyServer("read-only")])
async def test_a_command_whose_connection_was_lost_before_commit_runs_once_more(lost: Any) -> None:
    action = Flaky(lost)
    assert await run_command(action, NO_DB) == "done"
    assert action.calls == 2


async def test_it_runs_once_more_only() -> None:
    action = Flaky(ConnectionLost(), ConnectionLost())
    with pytest.raises(ConnectionLost):
        await run_command(action, NO_DB)
    assert action.calls == 2


async def test_a_command_whose_commit_outcome_is_unknown_is_not_run_again() -> None:
    action = Flaky(CommitOutcomeUnknown())
    with pytest.raises(CommitOutcomeUnknown):
        await run_command(action, NO_DB)
    assert action.calls == 1
