"""What meetings learns from ``kamu.goals.events``: shared goals due for review.

Those become suggested agenda items of the pair's scheduled meetings, shown to both members
(the owner shared them with their Kamu). A goal leaves the list when it is reviewed, unshared,
completed or abandoned, and a goal shared before the current pairing began is not shown to
that pairing's Kamu: sharing ends with the pairing it was made in.
"""

from datetime import datetime

from kamu_meetings.domain.inbound import (
    GoalAbandoned,
    GoalCompleted,
    GoalReviewDue,
    GoalReviewed,
    GoalRevised,
    GoalSet,
    GoalShared,
    GoalUnshared,
)
from kamu_shared.consumer.messages import Delivery
from kamu_shared.db.pool import Connection

GROUP = "meetings.goal-events"


async def handle(conn: Connection, delivery: Delivery) -> None:
    event = delivery.event
    at = delivery.envelope.time
    if isinstance(event, GoalSet):
        shared = event.visibility == "kamu"
        await conn.execute(
            """INSERT INTO meetings_goals (goal_id, owner_id, title, shared, shared_at)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (goal_id) DO UPDATE SET owner_id = EXCLUDED.owner_id,
                   title = EXCLUDED.title, shared = EXCLUDED.shared,
                   shared_at = EXCLUDED.shared_at""",
            event.goal_id,
            event.owner_id,
            event.title,
            shared,
            at if shared else None,
        )
    elif isinstance(event, GoalRevised) and event.title is not None:
        await _set(conn, event.goal_id, "title = $2", event.title)
    elif isinstance(event, GoalShared | GoalUnshared):
        await _share(conn, event.goal_id, isinstance(event, GoalShared), at)
    elif isinstance(event, GoalReviewDue):
        due = event.due_since or delivery.envelope.time
        await _set(conn, event.goal_id, "due_since = coalesce(due_since, $2)", due)
    elif isinstance(event, GoalReviewed):
        await _set(conn, event.goal_id, "due_since = NULL")
    elif isinstance(event, GoalCompleted | GoalAbandoned):
        await _set(conn, event.goal_id, "open = false, due_since = NULL")


async def _share(conn: Connection, goal_id: str, shared: bool, at: datetime) -> None:
    """Sharing counts from when it happened: a Kamu paired later than that does not see it.
    ``goal-shared`` is a new share (with the Kamu of now) even if the goal was still shared."""
    await _set(
        conn,
        goal_id,
        "shared = $2, shared_at = CASE WHEN $2 THEN $3::timestamptz END",
        shared,
        at,
    )


async def _set(conn: Connection, goal_id: str, assignment: str, *values: object) -> None:
    await conn.execute(
        f"UPDATE meetings_goals SET {assignment} WHERE goal_id = $1",  # noqa: S608
        goal_id,
        *values,
    )
