"""What meetings learns from ``kamu.goals.events``: shared goals due for review.

Those become suggested agenda items of the pair's scheduled meetings, shown to both members
(the owner shared them with their Kamu). A goal leaves the list when it is reviewed, unshared,
completed or abandoned.
"""

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
    if isinstance(event, GoalSet):
        await conn.execute(
            """INSERT INTO meetings_goals (goal_id, owner_id, title, shared)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (goal_id) DO UPDATE SET owner_id = EXCLUDED.owner_id,
                   title = EXCLUDED.title, shared = EXCLUDED.shared""",
            event.goal_id,
            event.owner_id,
            event.title,
            event.visibility == "kamu",
        )
    elif isinstance(event, GoalRevised) and event.title is not None:
        await _set(conn, event.goal_id, "title = $2", event.title)
    elif isinstance(event, GoalShared | GoalUnshared):
        await _set(conn, event.goal_id, "shared = $2", isinstance(event, GoalShared))
    elif isinstance(event, GoalReviewDue):
        due = event.due_since or delivery.envelope.time
        await _set(conn, event.goal_id, "due_since = coalesce(due_since, $2)", due)
    elif isinstance(event, GoalReviewed):
        await _set(conn, event.goal_id, "due_since = NULL")
    elif isinstance(event, GoalCompleted | GoalAbandoned):
        await _set(conn, event.goal_id, "open = false, due_since = NULL")


async def _set(conn: Connection, goal_id: str, assignment: str, *values: object) -> None:
    await conn.execute(
        f"UPDATE meetings_goals SET {assignment} WHERE goal_id = $1",  # noqa: S608
        goal_id,
        *values,
    )
