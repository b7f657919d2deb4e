"""What meetings learns from ``kamu.pairing.events``: people, pairings, and their ends.

When a pairing ends, its meetings still ahead are cancelled (``cause: pairing-ended``) in the
same transaction that marks the pairing ended and stops its clock, under the pairing's lock, so
no meeting can be scheduled in between. Exactly once per event: the consumer records the event
as handled in this transaction too.
"""

from datetime import datetime

from kamu_meetings.commands.handling import HANDLING, lock_pairing
from kamu_meetings.commands.meetings import MEETING
from kamu_meetings.domain import meetings as rules
from kamu_meetings.domain.inbound import (
    PairingCreated,
    PairingDeclined,
    PairingEnded,
    PairingRequested,
    PairingWithdrawn,
    PersonRegistered,
    PersonUpdated,
)
from kamu_shared.commands import Append
from kamu_shared.consumer.messages import Delivery
from kamu_shared.consumer.processing import Handler
from kamu_shared.db.pool import Connection
from kamu_shared.runtime import Runtime

GROUP = "meetings.pairing-events"
ACTOR = "kamu-meetings"


def handler(runtime: Runtime) -> Handler:
    async def handle(conn: Connection, delivery: Delivery) -> None:
        event = delivery.event
        at = delivery.envelope.time
        if isinstance(event, PersonRegistered | PersonUpdated):
            await _person(conn, event)
        elif isinstance(event, PairingRequested):
            await conn.execute(
                "INSERT INTO meetings_pairings (pairing_id, colleague_id, kamu_id, status) "
                "VALUES ($1, $2, $3, 'requested') ON CONFLICT (pairing_id) DO NOTHING",
                event.pairing_id,
                event.colleague_id,
                event.kamu_id,
            )
        elif isinstance(event, PairingDeclined | PairingWithdrawn):
            status = "declined" if isinstance(event, PairingDeclined) else "withdrawn"
            await conn.execute(
                "UPDATE meetings_pairings SET status = $2 "
                "WHERE pairing_id = $1 AND status = 'requested'",
                event.pairing_id,
                status,
            )
        elif isinstance(event, PairingCreated):
            await _created(conn, event, at)
        elif isinstance(event, PairingEnded):
            await lock_pairing(conn, event.pairing_id)
            await _cancel_ahead(conn, runtime, event, at)
            await conn.execute(
                "UPDATE meetings_pairings SET status = 'ended', ended_at = $2 "
                "WHERE pairing_id = $1",
                event.pairing_id,
                at,
            )
            await conn.execute(
                "UPDATE meetings_cadence SET active = false WHERE pairing_id = $1",
                event.pairing_id,
            )

    return handle


async def _person(conn: Connection, e: PersonRegistered | PersonUpdated) -> None:
    await conn.execute(
        """INSERT INTO meetings_people (person_id, display_name, email, time_zone, locale)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (person_id) DO UPDATE SET display_name = EXCLUDED.display_name,
               email = EXCLUDED.email, time_zone = EXCLUDED.time_zone, locale = EXCLUDED.locale""",
        e.person_id,
        e.display_name,
        e.email,
        e.time_zone,
        e.locale,
    )


async def _created(conn: Connection, e: PairingCreated, at: datetime) -> None:
    await conn.execute(
        """INSERT INTO meetings_pairings (pairing_id, colleague_id, kamu_id, status,
               cadence_weeks, paired_at, clock_from)
           VALUES ($1, $2, $3, 'active', $4, $5, $6)
           ON CONFLICT (pairing_id) DO UPDATE SET status = 'active',
               cadence_weeks = EXCLUDED.cadence_weeks, paired_at = EXCLUDED.paired_at,
               clock_from = EXCLUDED.clock_from
           WHERE meetings_pairings.status = 'requested'""",
        e.pairing_id,
        e.colleague_id,
        e.kamu_id,
        e.cadence_weeks,
        e.began_at or at,
        at,
    )
    await conn.execute(
        """INSERT INTO meetings_cadence (pairing_id, colleague_id, kamu_id, cadence_weeks, since)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (pairing_id) DO NOTHING""",
        e.pairing_id,
        e.colleague_id,
        e.kamu_id,
        e.cadence_weeks,
        at,  # the clock runs from now: a history moved in is not overdue while it is logged
    )


async def _cancel_ahead(conn: Connection, runtime: Runtime, e: PairingEnded, at: datetime) -> None:
    """Cancel the pair's scheduled meetings that start after the pairing ended (one append:
    the handler's first write)."""
    ahead = await conn.fetch(
        "SELECT meeting_id FROM meetings_meetings "
        "WHERE pairing_id = $1 AND status = 'scheduled' AND starts_at > $2 ORDER BY meeting_id",
        e.pairing_id,
        at,
    )
    appends: list[Append] = []
    for row in ahead:
        loaded = await HANDLING.load(runtime.store, MEETING, row["meeting_id"], conn=conn)
        command = rules.CancelMeeting(row["meeting_id"], ACTOR, cause="pairing-ended")
        events = rules.decide_cancel(loaded.state, command)
        appends.append((MEETING.stream(row["meeting_id"]), MEETING, events, loaded.version))
    await HANDLING.record(conn, runtime.store, appends, actor=ACTOR)
