"""The overdue timer: one ``meeting-overdue`` per lapse of a pairing's cadence.

Lapse N of a pairing falls due once N cadences have passed since its last held meeting (or its
start). Each replica polls (``overdue_poll_seconds``); each lapsed pairing is handled under the
pairing's lock (the same one commands and the pairing consumer take) in a transaction of its
own; the cadence stream's expected version guards the append too. After a long outage only the
current lapse is recorded, not one per missed cadence: a nudge storm helps nobody.
"""

from datetime import UTC, datetime, timedelta

from kamu_meetings.commands.handling import HANDLING, PAIRING_LOCK, settings_of
from kamu_meetings.domain import cadence
from kamu_shared.commands import Aggregate
from kamu_shared.db.pool import Connection
from kamu_shared.runtime import Runtime
from kamu_shared.timers import Timer, fire_each

CADENCE = Aggregate("cadence", cadence.Cadence(), cadence.evolve)
ACTOR = "kamu-meetings/cadence"
LAPSED = """SELECT pairing_id, colleague_id, kamu_id, cadence_weeks, since, lapses
            FROM meetings_cadence
            WHERE active AND since + (lapses + 1) * cadence_weeks * make_interval(secs => $1)
                             <= now()"""


async def fire_overdue(runtime: Runtime) -> int:
    """Record the lapses due now; returns how many were recorded."""
    settings = settings_of(runtime)
    week = settings.cadence_week_seconds
    due = await runtime.pool.fetch(
        f"{LAPSED} ORDER BY since LIMIT $2", week, settings.overdue_batch
    )

    async def fire_one(conn: Connection, pairing_id: str) -> bool:
        row = await conn.fetchrow(f"{LAPSED} AND pairing_id = $2", week, pairing_id)
        if row is None:
            return False  # handled by another replica, or a meeting was just held
        period = timedelta(seconds=week * row["cadence_weeks"])
        elapsed = datetime.now(UTC) - row["since"]
        command = cadence.RecordLapse(
            pairing_id,
            row["colleague_id"],
            row["kamu_id"],
            row["cadence_weeks"],
            row["since"],
            lapse=max(row["lapses"] + 1, int(elapsed / period)),
        )
        decision = await HANDLING.decide_and_record(
            conn, runtime.store, CADENCE, pairing_id, cadence.decide_lapse, command, actor=ACTOR
        )
        return bool(decision.events)

    return await fire_each(runtime.pool, PAIRING_LOCK, [r["pairing_id"] for r in due], fire_one)


OVERDUE = Timer(
    name="meetings-overdue",
    fire=fire_overdue,
    poll_seconds=lambda runtime: settings_of(runtime).overdue_poll_seconds,
)
