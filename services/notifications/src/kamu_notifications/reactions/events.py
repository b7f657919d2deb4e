"""What notifications learns from pairing, meetings and goals: people, meetings, and the
notifications their events cause.

One handler for the three topics (a consumer group each). Exactly once per event: the
planning, the state it keeps and the consumer's ledger record commit in one transaction.
Planning writes rows only (the dispatcher records outcomes), so a batch of events commits in
one transaction. Notifications an event makes wrong to send are withdrawn (:func:`withdraw`).
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from kamu_notifications.domain import inbound as e
from kamu_notifications.domain.routing import route
from kamu_notifications.planning import Cause, plan, wake_waiting
from kamu_notifications.settings import NotificationsSettings, settings_of
from kamu_shared.consumer.messages import Delivery
from kamu_shared.consumer.processing import Handler
from kamu_shared.db.pool import Connection
from kamu_shared.runtime import Runtime

PAIRING_GROUP = "notifications.pairing-events"
MEETINGS_GROUP = "notifications.meeting-events"
GOALS_GROUP = "notifications.goal-events"


def handler(runtime: Runtime) -> Handler:
    async def handle(conn: Connection, delivery: Delivery) -> None:
        settings = settings_of(runtime)
        event, envelope = delivery.event, delivery.envelope
        slot = (
            await _slot(conn, event.meeting_id) if isinstance(event, e.MeetingCancelled) else None
        )
        now = datetime.now(UTC)
        if now - envelope.time <= timedelta(seconds=settings.max_event_age_seconds):
            planned = route(event, cancelled_slot=slot, at=envelope.time)
            if planned:
                cause = Cause(
                    envelope.source,
                    str(envelope.id),
                    envelope.type,
                    envelope.correlation_id,
                    envelope.sequence,
                )
                await plan(conn, runtime, cause, planned, now)
        await _learn(conn, settings, event, envelope.time)
        await withdraw(conn, event)

    return handle


async def _slot(conn: Connection, meeting_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT * FROM notifications_meetings WHERE meeting_id = $1", meeting_id
    )
    if row is None:
        return None
    return {
        "starts_at": row["starts_at"].isoformat(),
        "time_zone": row["time_zone"],
        "duration_minutes": row["duration_minutes"],
        "location": row["location"],
        "sequence": row["sequence"],
    }


async def _learn(
    conn: Connection, settings: NotificationsSettings, event: object, at: datetime
) -> None:
    """Keep the people and meetings this service needs for later sends and reminders."""
    if isinstance(event, e.PersonRegistered | e.PersonUpdated):
        await conn.execute(
            """INSERT INTO notifications_people (person_id, display_name, email, locale,
                   time_zone, slack_user_id, teams_user_id, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (person_id) DO UPDATE SET display_name = $2, email = $3,
                   locale = $4, time_zone = $5, slack_user_id = $6, teams_user_id = $7,
                   updated_at = $8""",
            event.person_id,
            event.display_name,
            event.email,
            event.locale,
            event.time_zone,
            event.slack_user_id,
            event.teams_user_id,
            at,
        )
        # Messages that waited for this person's name or address may go out now.
        await wake_waiting(conn, event.person_id)
    elif isinstance(event, e.PersonLeft):
        await conn.execute(
            "UPDATE notifications_people SET left_at = $2 WHERE person_id = $1",
            event.person_id,
            at,
        )
        await wake_waiting(conn, event.person_id)  # theirs are suppressed, not left waiting
    elif isinstance(event, e.MeetingScheduled | e.MeetingRescheduled):
        # A meeting planned inside its reminder window needs no reminder: the invitation is it.
        lead = timedelta(seconds=settings.reminder_lead_seconds)
        reminded = event.starts_at if event.starts_at - lead <= at else None
        sequence = event.sequence if isinstance(event, e.MeetingRescheduled) else 0
        await conn.execute(
            """INSERT INTO notifications_meetings (meeting_id, pairing_id, colleague_id,
                   kamu_id, status, starts_at, time_zone, duration_minutes, location, sequence,
                   reminded_for, updated_at)
               VALUES ($1, $2, $3, $4, 'scheduled', $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (meeting_id) DO UPDATE SET status = 'scheduled', starts_at = $5,
                   time_zone = $6, duration_minutes = $7, location = $8, sequence = $9,
                   reminded_for = $10, updated_at = $11""",
            event.meeting_id,
            event.pairing_id,
            event.colleague_id,
            event.kamu_id,
            event.starts_at,
            event.time_zone,
            event.duration_minutes,
            event.location,
            sequence,
            reminded,
            at,
        )
    elif isinstance(event, e.MeetingCancelled | e.MeetingHeld):
        status = "cancelled" if isinstance(event, e.MeetingCancelled) else "held"
        await conn.execute(
            "UPDATE notifications_meetings SET status = $2, updated_at = $3 WHERE meeting_id = $1",
            event.meeting_id,
            status,
            at,
        )


WITHDRAW = """UPDATE notifications_notifications n SET withdrawn = $1
              WHERE withdrawn IS NULL AND kind = $2 AND {where}
                AND EXISTS (SELECT 1 FROM notifications_deliveries d
                            WHERE d.notification_id = n.notification_id
                              AND d.status IN ('pending', 'sending'))"""


async def withdraw(conn: Connection, event: object) -> None:
    """Mark notifications not sent yet that this event makes wrong to send: no longer the
    recipient's to see (``withdrawn``) or no longer true (``outdated``). The dispatcher
    suppresses them when it comes to them (a digest drops them from its list)."""
    marks: list[tuple[str, str, str, list[object]]] = []
    if isinstance(event, e.PairingEnded):
        pair = "params->>'pairing_id' = $3"
        marks += [
            ("withdrawn", "meeting-reminder", pair, [event.pairing_id]),
            ("withdrawn", "meeting-overdue", pair, [event.pairing_id]),
            (
                "withdrawn",
                "goal-review-due",
                "recipient_id = $3 AND params->>'role' = 'kamu' AND params->>'other_id' = $4",
                [event.kamu_id, event.colleague_id],
            ),
        ]
    elif isinstance(event, e.MeetingCancelled | e.MeetingHeld):
        marks.append(
            ("outdated", "meeting-reminder", "params->>'meeting_id' = $3", [event.meeting_id])
        )
    elif isinstance(event, e.MeetingRescheduled):
        marks.append(
            (
                "outdated",
                "meeting-reminder",
                "params->>'meeting_id' = $3 AND (params->>'starts_at')::timestamptz <> $4",
                [event.meeting_id, event.starts_at],
            )
        )
    elif isinstance(event, e.GoalUnshared):
        marks.append(
            (
                "withdrawn",
                "goal-review-due",
                "params->>'goal_id' = $3 AND params->>'role' = 'kamu'",
                [event.goal_id],
            )
        )
    elif isinstance(event, e.GoalReviewed | e.GoalCompleted | e.GoalAbandoned):
        marks.append(("outdated", "goal-review-due", "params->>'goal_id' = $3", [event.goal_id]))
    for reason, kind, where, args in marks:
        await conn.execute(WITHDRAW.format(where=where), reason, kind, *args)
