"""Durable timers: time-driven work whose state lives in PostgreSQL, safe with several replicas.

A service keeps its timers as rows (``due_at`` and whatever says what is due). Every replica
polls; each due row is handled in a transaction of its own under a transaction-scoped advisory
lock taken with ``pg_try_advisory_xact_lock``, so two replicas never handle the same row at once
and a busy row is skipped rather than waited for. The lock is not a write, so the handler may
still append events as its transaction's first write (``SELECT ... FOR UPDATE SKIP LOCKED``
would not allow that: row locks take a transaction id). The handler re-reads the row under the
lock, so a row another replica just handled is seen as no longer due; the aggregate's expected
version guards the append as well. A crash before commit leaves the row due; after commit the
row has moved on: nothing is lost across restarts, nothing is done twice.
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg
import structlog
from prometheus_client import Counter

from kamu_shared.db.pool import Connection

if TYPE_CHECKING:
    from kamu_shared.runtime import Runtime

FIRED = Counter("kamu_timer_fired_total", "Due timer rows handled", ["timer"])
FAILURES = Counter("kamu_timer_failures_total", "Timer rounds that failed", ["timer"])
log = structlog.get_logger("kamu.timers")


@dataclass(frozen=True)
class Timer:
    """One kind of timer of a service: ``fire`` handles what is due now, returns how many."""

    name: str
    fire: "Callable[[Runtime], Awaitable[int]]"
    poll_seconds: "Callable[[Runtime], float]"


async def claim(conn: Connection, space: str, key: str) -> bool:
    """Take the row's lock for this transaction, or learn that another replica holds it."""
    return bool(
        await conn.fetchval(
            "SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2))", space, key
        )
    )


async def fire_each(
    pool: asyncpg.Pool,
    space: str,
    keys: Iterable[str],
    fire_one: Callable[[Connection, str], Awaitable[bool]],
) -> int:
    """Handle each due key in its own transaction under its lock; returns how many fired.

    ``fire_one`` re-reads the row (it may have been handled meanwhile) and returns whether it
    did anything. One key's failure does not stop the others; the first failure is raised
    after the round, so the loop reports it and the key stays due for the next round.
    """
    fired = 0
    failure: Exception | None = None
    for key in keys:
        try:
            async with pool.acquire() as conn, conn.transaction():
                if not await claim(conn, space, key):
                    continue
                if await fire_one(conn, key):
                    fired += 1
        except Exception as exc:  # one bad row must not hold up the rest
            log.warning("timer-row-failed", space=space, key=key, error=repr(exc))
            failure = failure or exc
    if failure is not None:
        raise failure
    return fired


class TimerLoop:
    """Polls one timer until stopped; a failed round is logged, reported and retried."""

    def __init__(self, timer: Timer, runtime: "Runtime") -> None:
        self.timer = timer
        self._runtime = runtime
        self.last_error: str | None = None
        self.failed_rounds = 0  # in a row
        self.last_round: float | None = None

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.round()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.timer.poll_seconds(self._runtime))

    def problem(self, failures_allowed: int = 3) -> str | None:
        """Why the timer is failing, after several rounds in a row; one failed round (a bad
        row, a blip) is logged and counted, not a reason to take every replica (which all poll
        the same rows) out of service at once."""
        if self.failed_rounds >= failures_allowed:
            return f"failing ({self.failed_rounds} rounds in a row): {self.last_error}"
        return None

    async def round(self) -> int:
        """One poll: handle what is due now."""
        fired = 0
        try:
            fired = await self.timer.fire(self._runtime)
        except Exception as exc:
            FAILURES.labels(self.timer.name).inc()
            self.last_error = repr(exc)
            self.failed_rounds += 1
            log.warning(
                "timer-round-failed",
                timer=self.timer.name,
                error=repr(exc),
                in_a_row=self.failed_rounds,
            )
        else:
            self.last_error = None
            self.failed_rounds = 0
        if fired:
            FIRED.labels(self.timer.name).inc(fired)
            log.info("timer-fired", timer=self.timer.name, fired=fired)
        self.last_round = time.monotonic()
        return fired


__all__ = ["Timer", "TimerLoop", "claim", "fire_each"]
