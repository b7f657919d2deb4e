"""The review-due timer: one ``goal-review-due`` per lapse of a goal's review interval.

Lapse N falls due once N intervals have passed since the last review (or since the goal was
set). Every replica polls (``review_poll_seconds``); each lapsed goal is handled in its own
transaction under an advisory try-lock, re-read there, and appended with the goal stream's
expected version (decision 0007). After an outage only the current lapse is recorded.
"""

from datetime import UTC, datetime, timedelta

from kamu_goals.commands.goals import GOAL
from kamu_goals.commands.handling import HANDLING, current_kamu, settings_of
from kamu_goals.domain import goals as rules
from kamu_shared.db.pool import Connection
from kamu_shared.runtime import Runtime
from kamu_shared.timers import Timer, fire_each

LOCK_SPACE = "goals-review"
ACTOR = "kamu-goals/reviews"
LAPSED = """SELECT goal_id, owner_id, shared_at, clock_since, due_lapses, review_interval_weeks,
                   version
            FROM goals_goals
            WHERE status = 'active'
              AND clock_since + (due_lapses + 1) * review_interval_weeks
                                * make_interval(secs => $1) <= now()"""


async def fire_review_due(runtime: Runtime) -> int:
    """Record the review lapses due now; returns how many were recorded."""
    settings = settings_of(runtime)
    week = settings.review_week_seconds
    due = await runtime.pool.fetch(
        f"{LAPSED} ORDER BY clock_since LIMIT $2", week, settings.review_batch
    )

    async def fire_one(conn: Connection, goal_id: str) -> bool:
        row = await conn.fetchrow(f"{LAPSED} AND goal_id = $2", week, goal_id)
        if row is None:
            return False  # reviewed, closed, or handled by another replica meanwhile
        period = timedelta(seconds=week * row["review_interval_weeks"])
        lapse = max(row["due_lapses"] + 1, int((datetime.now(UTC) - row["clock_since"]) / period))
        kamu = await current_kamu(conn, row["owner_id"])
        reminded = (
            kamu.kamu_id
            if kamu and row["shared_at"] is not None and row["shared_at"] >= kamu.since
            else None
        )
        command = rules.MarkReviewDue(
            goal_id, row["clock_since"], lapse, row["clock_since"] + lapse * period, reminded
        )
        loaded = await HANDLING.load(runtime.store, GOAL, goal_id, conn=conn)
        if loaded.version != row["version"]:
            return False  # the goal moved since the row was read (a review): next round
        events = rules.decide_review_due(loaded.state, command)
        # Expected version = the row's: a review committing now makes this append fail.
        await HANDLING.record(
            conn, runtime.store, [(GOAL.stream(goal_id), GOAL, events, row["version"])], actor=ACTOR
        )
        return bool(events)

    return await fire_each(runtime.pool, LOCK_SPACE, [r["goal_id"] for r in due], fire_one)


REVIEW_DUE = Timer(
    name="goals-review-due",
    fire=fire_review_due,
    poll_seconds=lambda runtime: settings_of(runtime).review_poll_seconds,
)
