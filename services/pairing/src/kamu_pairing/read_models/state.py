"""Current state, applied from each event in the transaction that appends it.

The same ``apply`` rebuilds the tables from the event store (``rebuild_state``), so they are a
read model like any other, only kept synchronously: commands read them to check cross-aggregate
rules, and their constraints hold those rules when requests race.
"""

from collections.abc import Callable
from datetime import datetime

import asyncpg

from kamu_pairing.domain.events import (
    KamuPaused,
    KamuProfileUpdated,
    KamuResumed,
    KamuRetired,
    KamuTrainingCompleted,
    KamuVolunteered,
    PairingChangeRequested,
    PairingCreated,
    PairingDeclined,
    PairingEnded,
    PairingRequested,
    PairingWithdrawn,
    PersonLeft,
    PersonRegistered,
    PersonUpdated,
    registry,
)
from kamu_pairing.domain.pairings import monthly_hours
from kamu_shared.commands.replay import replay_store
from kamu_shared.db.pool import Connection
from kamu_shared.events import DomainEvent


class CapacityExceeded(Exception):
    """The Kamu's row refused one more colleague (capacity, hours, or retired meanwhile)."""

    def __init__(self, kamu_id: str, *, retired: bool = False) -> None:
        super().__init__(kamu_id)
        self.retired = retired


async def apply(conn: Connection, event: DomainEvent, version: int, at: datetime) -> None:
    """Bring the state tables up to date with one event of a stream at ``version``."""
    if isinstance(event, PersonRegistered | PersonUpdated):
        await _person(conn, event, version)
    elif isinstance(event, PersonLeft):
        await conn.execute(
            "UPDATE pairing_people SET left_at = $2, version = $3 WHERE person_id = $1",
            event.person_id,
            at,
            version,
        )
    elif isinstance(event, KamuVolunteered | KamuProfileUpdated):
        await _kamu(conn, event, version)
    elif isinstance(event, KamuTrainingCompleted):
        await _kamu_set(
            conn,
            event.person_id,
            version,
            "trainings = array_append(trainings, $3)",
            event.training,
        )
    elif isinstance(event, KamuPaused | KamuResumed | KamuRetired):
        status = {KamuPaused: "paused", KamuResumed: "active", KamuRetired: "retired"}[type(event)]
        await _kamu_set(conn, event.person_id, version, "status = $3", status)
    elif isinstance(event, PairingRequested):
        await conn.execute(
            """INSERT INTO pairing_pairings (pairing_id, colleague_id, kamu_id, status,
                   requested_by, message, requested_at, updated_at, version)
               VALUES ($1, $2, $3, 'requested', $4, $5, $6, $6, $7)""",
            event.pairing_id,
            event.colleague_id,
            event.kamu_id,
            event.requested_by,
            event.message,
            at,
            version,
        )
    elif isinstance(event, PairingCreated):
        await _take_a_place(conn, event)
        await _pairing_set(
            conn,
            event.pairing_id,
            version,
            at,
            "status = 'active', cadence_weeks = $4, meeting_minutes = $5",
            event.cadence_weeks,
            event.meeting_minutes,
        )
    elif isinstance(event, PairingDeclined | PairingWithdrawn):
        status = "declined" if isinstance(event, PairingDeclined) else "withdrawn"
        await _pairing_set(conn, event.pairing_id, version, at, "status = $4", status)
    elif isinstance(event, PairingEnded):
        await _free_a_place(conn, event.pairing_id)
        await _pairing_set(conn, event.pairing_id, version, at, "status = 'ended'")
    elif isinstance(event, PairingChangeRequested):
        # Not the pairing's version or updated_at: the Kamu must not see that anything moved.
        await conn.execute(
            "UPDATE pairing_pairings SET change_requested = true WHERE pairing_id = $1",
            event.pairing_id,
        )


async def _person(conn: Connection, e: PersonRegistered | PersonUpdated, version: int) -> None:
    await conn.execute(
        """INSERT INTO pairing_people (person_id, display_name, email, team, manager_id, locale,
               time_zone, slack_user_id, teams_user_id, version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (person_id) DO UPDATE SET display_name = EXCLUDED.display_name,
               email = EXCLUDED.email, team = EXCLUDED.team, manager_id = EXCLUDED.manager_id,
               locale = EXCLUDED.locale, time_zone = EXCLUDED.time_zone,
               slack_user_id = EXCLUDED.slack_user_id, teams_user_id = EXCLUDED.teams_user_id,
               version = EXCLUDED.version""",
        e.person_id,
        e.display_name,
        e.email,
        e.team,
        e.manager_id,
        e.locale,
        e.time_zone,
        e.slack_user_id,
        e.teams_user_id,
        version,
    )


async def _kamu(conn: Connection, e: KamuVolunteered | KamuProfileUpdated, version: int) -> None:
    restart = isinstance(e, KamuVolunteered)
    await conn.execute(
        """INSERT INTO pairing_kamus (person_id, status, capacity, hours_per_month, topics,
               languages, version)
           VALUES ($1, 'active', $2, $3, $4, $5, $6)
           ON CONFLICT (person_id) DO UPDATE SET capacity = EXCLUDED.capacity,
               hours_per_month = EXCLUDED.hours_per_month, topics = EXCLUDED.topics,
               languages = EXCLUDED.languages, version = EXCLUDED.version,
               status = CASE WHEN $7 THEN 'active' ELSE pairing_kamus.status END""",
        e.person_id,
        e.capacity,
        e.hours_per_month,
        e.topics,
        e.languages,
        version,
        restart,
    )


async def _kamu_set(
    conn: Connection, person_id: str, version: int, assignment: str, value: object
) -> None:
    await conn.execute(
        f"UPDATE pairing_kamus SET {assignment}, version = $2 WHERE person_id = $1",  # noqa: S608
        person_id,
        version,
        value,
    )


async def _pairing_set(
    conn: Connection, pairing_id: str, version: int, at: datetime, assignment: str, *values: object
) -> None:
    await conn.execute(
        f"UPDATE pairing_pairings SET {assignment}, version = $2, updated_at = $3 "  # noqa: S608
        "WHERE pairing_id = $1",
        pairing_id,
        version,
        at,
        *values,
    )


async def _take_a_place(conn: Connection, e: PairingCreated) -> None:
    """One more colleague for the Kamu, only while they take colleagues and have room.

    The row lock makes racing acceptances (and a racing retirement, which updates the same row)
    take turns; each re-checks the conditions on the row as the previous one left it.
    """
    took = await conn.fetchval(
        """UPDATE pairing_kamus SET active_colleagues = active_colleagues + 1,
               hours_used = hours_used + $2
           WHERE person_id = $1 AND status IN ('active', 'paused')
             AND active_colleagues < capacity AND hours_used + $2 <= hours_per_month + 1e-9
           RETURNING 1""",
        e.kamu_id,
        monthly_hours(e.cadence_weeks, e.meeting_minutes),
    )
    if not took:
        status = await conn.fetchval(
            "SELECT status FROM pairing_kamus WHERE person_id = $1", e.kamu_id
        )
        raise CapacityExceeded(e.kamu_id, retired=status == "retired")


async def _free_a_place(conn: Connection, pairing_id: str) -> None:
    await conn.execute(
        """UPDATE pairing_kamus k SET active_colleagues = active_colleagues - 1,
               hours_used = greatest(0, hours_used - (p.meeting_minutes / 60.0 * 52.0 / 12.0
                                                       / p.cadence_weeks))
           FROM pairing_pairings p
           WHERE p.pairing_id = $1 AND p.status = 'active' AND k.person_id = p.kamu_id""",
        pairing_id,
    )


STATE_TABLES = ("pairing_people", "pairing_kamus", "pairing_pairings")


async def rebuild_state(pool: asyncpg.Pool, progress: Callable[[int], None] | None = None) -> int:
    """Drop the state tables' rows and apply every stored event again, in one transaction.

    Readers and writers wait meanwhile (a lock on the tables taken before reading events), so
    every event either is in the replay or applies after it. Returns the number of events.
    """
    async with pool.acquire() as conn, conn.transaction():
        # The strongest lock first: TRUNCATE needs it, and upgrading from a weaker one could
        # deadlock with a command that read the tables and is about to write them.
        await conn.execute(f"LOCK TABLE {', '.join(STATE_TABLES)} IN ACCESS EXCLUSIVE MODE")
        await conn.execute(f"TRUNCATE {', '.join(STATE_TABLES)}")
        applied = await replay_store(conn, registry, apply, progress)
    return applied
