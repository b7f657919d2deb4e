"""Current goal state, applied from each event in the transaction that appends it.

The same ``apply`` rebuilds the tables from the event store (``rebuild_state``). A review
restarts the goal's review clock; a review-due moves its lapse count.
"""

from collections.abc import Callable
from datetime import datetime

import asyncpg

from kamu_goals.domain.events import (
    GoalAbandoned,
    GoalCompleted,
    GoalProgressRecorded,
    GoalReviewDue,
    GoalReviewed,
    GoalRevised,
    GoalSet,
    GoalShared,
    GoalUnshared,
    registry,
)
from kamu_shared.commands.replay import replay_store
from kamu_shared.db.pool import Connection
from kamu_shared.events import DomainEvent

TABLES = ("goals_goals", "goals_progress", "goals_reviews")


async def apply(conn: Connection, event: DomainEvent, version: int, at: datetime) -> None:
    """Bring the state tables up to date with one event of a goal's stream at ``version``."""
    if isinstance(event, GoalSet):
        shared = event.visibility == "kamu"
        await conn.execute(
            """INSERT INTO goals_goals (goal_id, owner_id, status, title, description, category,
                   success_criteria, target_date, review_interval_weeks, visibility, shared_with,
                   shared_at, clock_since, set_at, updated_at, version)
               VALUES ($1, $2, 'active', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12,
                       $13)""",
            event.goal_id,
            event.owner_id,
            event.title,
            event.description,
            event.category,
            event.success_criteria,
            event.target_date,
            event.review_interval_weeks,
            event.visibility,
            event.kamu_id if shared else None,
            at if shared else None,
            at,
            version,
        )
    elif isinstance(event, GoalRevised):
        await _set(
            conn,
            event.goal_id,
            version,
            at,
            "title = $4, description = $5, category = $6, success_criteria = $7, "
            "target_date = $8, review_interval_weeks = $9",
            event.title,
            event.description,
            event.category,
            event.success_criteria,
            event.target_date,
            event.review_interval_weeks,
        )
    elif isinstance(event, GoalProgressRecorded):
        await _set(conn, event.goal_id, version, at, "status = status")
        await conn.execute(
            "INSERT INTO goals_progress (goal_id, version, percent, status, note, recorded_at) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            event.goal_id,
            version,
            event.percent,
            event.status,
            event.note,
            at,
        )
    elif isinstance(event, GoalShared):
        await _set(
            conn,
            event.goal_id,
            version,
            at,
            "visibility = 'kamu', shared_with = $4, shared_at = $3",
            event.kamu_id,
        )
    elif isinstance(event, GoalUnshared):
        await _set(
            conn,
            event.goal_id,
            version,
            at,
            "visibility = 'private', shared_with = NULL, shared_at = NULL",
        )
    elif isinstance(event, GoalReviewed):
        # The review restarts the clock: the next review is due an interval from now.
        await _set(
            conn,
            event.goal_id,
            version,
            at,
            "clock_since = $3, due_lapses = 0, due_since = NULL, last_reviewed_at = $3",
        )
        await conn.execute(
            """INSERT INTO goals_reviews (goal_id, version, reviewed_by, reviewer_role, outcome,
                   reflection, meeting_id, on_time, reviewed_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
            event.goal_id,
            version,
            event.reviewed_by,
            event.reviewer_role,
            event.outcome,
            event.reflection,
            event.meeting_id,
            event.on_time,
            at,
        )
    elif isinstance(event, GoalReviewDue):
        await _set(
            conn,
            event.goal_id,
            version,
            at,
            "due_lapses = greatest(due_lapses, $4), due_since = coalesce(due_since, $5)",
            event.lapse,
            event.due_since,
        )
    elif isinstance(event, GoalCompleted | GoalAbandoned):
        status = "completed" if isinstance(event, GoalCompleted) else "abandoned"
        await _set(
            conn,
            event.goal_id,
            version,
            at,
            "status = $4, closed_at = $3, due_since = NULL",
            status,
        )


async def _set(
    conn: Connection, goal_id: str, version: int, at: datetime, assignment: str, *values: object
) -> None:
    await conn.execute(
        f"UPDATE goals_goals SET {assignment}, version = $2, updated_at = $3 "  # noqa: S608
        "WHERE goal_id = $1",
        goal_id,
        version,
        at,
        *values,
    )


async def rebuild_state(pool: asyncpg.Pool, progress: Callable[[int], None] | None = None) -> int:
    """Drop the goal tables' rows and apply every stored event again, in one transaction
    (the strongest locks first, so readers and writers wait). Returns the number of events."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"LOCK TABLE {', '.join(TABLES)} IN ACCESS EXCLUSIVE MODE")
        await conn.execute(f"TRUNCATE {', '.join(TABLES)}")
        applied = await replay_store(conn, registry, apply, progress)
    return applied
