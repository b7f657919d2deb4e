"""Current meeting state, applied from each event in the transaction that appends it.

The same ``apply`` rebuilds the tables from the event store (``rebuild_state``), so they are a
read model like any other, only kept synchronously: commands read them, and a held meeting
restarts its pairing's cadence clock in the same transaction that records it.
"""

from collections.abc import Callable
from datetime import datetime

import asyncpg

from kamu_meetings.domain.events import (
    MeetingCancelled,
    MeetingFeedbackGiven,
    MeetingHeld,
    MeetingOverdue,
    MeetingRescheduled,
    MeetingScheduled,
    registry,
)
from kamu_shared.commands.replay import replay_store
from kamu_shared.db.pool import Connection
from kamu_shared.events import DomainEvent


async def apply(conn: Connection, event: DomainEvent, version: int, at: datetime) -> None:
    """Bring the state tables up to date with one event of a stream at ``version``."""
    if isinstance(event, MeetingScheduled):
        await conn.execute(
            """INSERT INTO meetings_meetings (meeting_id, pairing_id, colleague_id, kamu_id,
                   status, starts_at, time_zone, duration_minutes, location, agenda,
                   scheduled_by, created_at, updated_at, version)
               VALUES ($1, $2, $3, $4, 'scheduled', $5, $6, $7, $8, $9, $10, $11, $11, $12)""",
            event.meeting_id,
            event.pairing_id,
            event.colleague_id,
            event.kamu_id,
            event.starts_at,
            event.time_zone,
            event.duration_minutes,
            event.location,
            event.agenda,
            event.scheduled_by,
            at,
            version,
        )
    elif isinstance(event, MeetingRescheduled):
        await _meeting_set(
            conn,
            event.meeting_id,
            version,
            at,
            "starts_at = $4, time_zone = $5, duration_minutes = $6, location = $7, sequence = $8",
            event.starts_at,
            event.time_zone,
            event.duration_minutes,
            event.location,
            event.sequence,
        )
    elif isinstance(event, MeetingCancelled):
        await _meeting_set(
            conn,
            event.meeting_id,
            version,
            at,
            "status = 'cancelled', cancelled_by = $4, cancel_cause = $5, cancel_reason = $6",
            event.cancelled_by,
            event.cause,
            event.reason,
        )
    elif isinstance(event, MeetingHeld):
        await _meeting_set(
            conn,
            event.meeting_id,
            version,
            at,
            "status = 'held', recorded_by = $4, notes_sealed = $5, goal_ids = $6",
            event.recorded_by,
            event.notes_sealed,
            event.goal_ids,
        )
        # The cadence clock starts again from the latest meeting held (meetings may be
        # recorded out of order: an older one never moves the clock back).
        await conn.execute(
            "UPDATE meetings_cadence SET since = $2, lapses = 0 "
            "WHERE pairing_id = $1 AND since < $2",
            event.pairing_id,
            event.held_at,
        )
    elif isinstance(event, MeetingFeedbackGiven):
        # Its own stream: the meeting's version, ETag and updated_at do not move, so the other
        # member cannot tell that (or when) feedback was given.
        column = "feedback_colleague" if event.respondent == "colleague" else "feedback_kamu"
        await conn.execute(
            f"UPDATE meetings_meetings SET {column} = true WHERE meeting_id = $1",  # noqa: S608
            event.meeting_id,
        )
        await conn.execute(
            """INSERT INTO meetings_feedback (meeting_id, respondent, psychological_safety,
                   usefulness, held_at, given_at) VALUES ($1, $2, $3, $4, $5, $6)""",
            event.meeting_id,
            event.respondent,
            event.psychological_safety,
            event.usefulness,
            event.held_at,
            at,
        )
    elif isinstance(event, MeetingOverdue):
        await conn.execute(
            "UPDATE meetings_cadence SET lapses = greatest(lapses, $3) "
            "WHERE pairing_id = $1 AND since = $2",
            event.pairing_id,
            event.since,
            event.lapse,
        )


async def _meeting_set(
    conn: Connection, meeting_id: str, version: int, at: datetime, assignment: str, *values: object
) -> None:
    await conn.execute(
        f"UPDATE meetings_meetings SET {assignment}, version = $2, updated_at = $3 "  # noqa: S608
        "WHERE meeting_id = $1",
        meeting_id,
        version,
        at,
        *values,
    )


async def rebuild_state(pool: asyncpg.Pool, progress: Callable[[int], None] | None = None) -> int:
    """Drop the rows kept from this service's events and apply every stored event again.

    One transaction; readers and writers wait meanwhile (the strongest lock, taken first: a
    weaker one would deadlock with a writer when TRUNCATE upgrades it), so
    every event either is in the replay or applies after it. The cadence rows themselves come
    from pairing's topic and stay; their clocks restart from each pairing's start and are
    moved forward again by the replayed meetings and lapses. Returns the number of events.
    """
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "LOCK TABLE meetings_meetings, meetings_feedback, meetings_cadence "
            "IN ACCESS EXCLUSIVE MODE"
        )
        await conn.execute("TRUNCATE meetings_meetings, meetings_feedback")
        await conn.execute(
            "UPDATE meetings_cadence c SET since = coalesce(p.clock_from, p.paired_at), lapses = 0 "
            "FROM meetings_pairings p WHERE p.pairing_id = c.pairing_id"
        )
        applied = await replay_store(conn, registry, apply, progress)
    return applied
