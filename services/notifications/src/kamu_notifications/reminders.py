"""The reminder timer: each scheduled meeting's members are reminded ``reminder_lead_seconds``
before it starts, once per start time (a reschedule makes it due again).

Every replica polls; each meeting is handled in its own transaction under an advisory
try-lock and re-read there (decision 0007). The reminders are planned like any notification,
with a cause of their own (``reminder:<meeting>:<start>``), so even a second planning would
add nothing. A meeting already started is not reminded of.
"""

from datetime import UTC, datetime

from kamu_notifications.domain.routing import reminder
from kamu_notifications.planning import Cause, plan
from kamu_notifications.settings import settings_of
from kamu_shared.db.pool import Connection
from kamu_shared.runtime import Runtime
from kamu_shared.timers import Timer, fire_each

LOCK_SPACE = "notifications-reminder"
SOURCE = "/kamu/notifications"
DUE = """SELECT * FROM notifications_meetings
         WHERE status = 'scheduled'
           AND reminded_for IS DISTINCT FROM starts_at
           AND starts_at - make_interval(secs => $1) <= now()
           AND starts_at > now()"""


async def fire_reminders(runtime: Runtime) -> int:
    """Plan the reminders due now; returns how many meetings were reminded of."""
    settings = settings_of(runtime)
    lead = settings.reminder_lead_seconds
    due = await runtime.pool.fetch(
        f"{DUE} ORDER BY starts_at LIMIT $2", lead, settings.reminder_batch
    )

    async def fire_one(conn: Connection, meeting_id: str) -> bool:
        # A row lock: a reschedule committing meanwhile waits, so the start reminded of is
        # the start recorded as reminded (planning appends nothing: no append-first rule).
        row = await conn.fetchrow(f"{DUE} AND meeting_id = $2 FOR UPDATE", lead, meeting_id)
        if row is None:
            return False  # moved, cancelled, or reminded by another replica meanwhile
        meeting = {
            **dict(row),
            "starts_at": row["starts_at"].isoformat(),
        }
        cause = Cause(
            SOURCE,
            f"reminder:{meeting_id}:{meeting['starts_at']}",
            "kamu.notifications.meeting-reminder",
        )
        await plan(conn, runtime, cause, reminder(meeting), datetime.now(UTC))
        await conn.execute(
            "UPDATE notifications_meetings SET reminded_for = $2 WHERE meeting_id = $1",
            meeting_id,
            row["starts_at"],
        )
        return True

    return await fire_each(runtime.pool, LOCK_SPACE, [r["meeting_id"] for r in due], fire_one)


REMINDERS = Timer(
    name="notifications-reminders",
    fire=fire_reminders,
    poll_seconds=lambda runtime: settings_of(runtime).reminder_poll_seconds,
)
