"""How meeting commands run, and the one lock that keeps a pairing's meetings consistent.

Every write that touches a pairing's meetings or its cadence clock (a command, the consumer of
pairing-ended, the overdue timer) first takes the pairing's transaction-scoped advisory lock
and then reads the pairing. So a meeting scheduled while the pairing ends is either cancelled
with the others or refused, and a lapse is never recorded against a clock a held meeting just
reset. Advisory locks are not writes: the command's append is still its first write.
"""

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from kamu_meetings.domain.events import registry
from kamu_meetings.domain.meetings import Pair
from kamu_meetings.read_models.state import apply
from kamu_meetings.settings import MeetingsSettings
from kamu_shared.commands import CommandHandling
from kamu_shared.db.pool import Connection
from kamu_shared.runtime import Runtime
from kamu_shared.web.errors import Conflict, Unprocessable

HANDLING = CommandHandling(registry=registry, apply=apply)
PAIRING_LOCK = "meetings-pairing"


def settings_of(runtime: Runtime) -> MeetingsSettings:
    assert isinstance(runtime.settings, MeetingsSettings)
    return runtime.settings


async def lock_pairing(
    conn: Connection, pairing_id: str, *, wait_seconds: float | None = None
) -> None:
    """Serialise every write about one pairing's meetings (waits for the holder).

    With ``wait_seconds`` (commands) a holder that takes longer makes this a 409 with
    ``Retry-After`` rather than a request that holds a pooled connection indefinitely;
    consumers and timers wait as long as it takes.
    """
    if wait_seconds is not None:
        await conn.execute(f"SET LOCAL lock_timeout = {max(1, round(wait_seconds * 1000))}")
    try:
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", PAIRING_LOCK, pairing_id
        )
    except asyncpg.LockNotAvailableError as exc:
        raise Conflict(
            "another change to this pairing's meetings is in progress", retry_after=1
        ) from exc
    if wait_seconds is not None:
        await conn.execute("SET LOCAL lock_timeout TO DEFAULT")


@dataclass(frozen=True)
class PairingFacts:
    pair: Pair
    cadence_weeks: int | None
    paired_at: datetime | None


async def pairing_facts(conn: Connection, pairing_id: str) -> PairingFacts | None:
    """The pairing as learned from pairing's topic, or ``None`` if not heard of yet."""
    row = await conn.fetchrow(
        "SELECT colleague_id, kamu_id, status, cadence_weeks, paired_at FROM meetings_pairings "
        "WHERE pairing_id = $1",
        pairing_id,
    )
    if row is None:
        return None
    pair = Pair(pairing_id, row["colleague_id"], row["kamu_id"], row["status"] == "active")
    return PairingFacts(pair, row["cadence_weeks"], row["paired_at"])


def starts_after_pairing(facts: PairingFacts | None, starts_at: datetime) -> None:
    """A meeting of an active pairing cannot start before the pairing did (422)."""
    if facts and facts.pair.active and facts.paired_at and starts_at < facts.paired_at:
        raise Unprocessable(
            f"starts_at is before the pairing began ({facts.paired_at:%Y-%m-%d %H:%M} UTC)",
            slug="starts-before-pairing",
        )
