"""A goal as its owner, or the Kamu it is shared with, sees it.

The Kamu sees the check-ins and reviews recorded since the goal was shared with them (never
what came before, such as what a previous Kamu saw); the owner sees everything.
"""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from kamu_shared.db.pool import Connection

HISTORY = 20


class Progress(BaseModel):
    percent: int
    status: str
    note: str | None
    recorded_at: datetime


class Review(BaseModel):
    reviewed_by: str
    reviewer_role: str
    outcome: str
    reflection: str | None
    meeting_id: str | None
    on_time: bool
    reviewed_at: datetime


class GoalOut(BaseModel):
    id: str
    owner_id: str
    status: str
    title: str
    description: str | None
    category: str
    success_criteria: str | None
    target_date: date
    review_interval_weeks: int
    visibility: str
    shared_with: str | None
    review_due: bool
    due_since: datetime | None
    latest_progress: Progress | None
    progress: list[Progress]
    reviews: list[Review]
    meetings: list[str]
    created_at: datetime
    updated_at: datetime
    version: int


async def shown(conn: Connection, row: Any, role: str, *, history: bool = True) -> GoalOut:
    """The representation for ``role`` (``owner`` or ``kamu``)."""
    window = row["shared_at"] if role == "kamu" else None
    progress = [
        Progress(**dict(r))
        for r in await conn.fetch(
            "SELECT percent, status, note, recorded_at FROM goals_progress "
            "WHERE goal_id = $1 AND ($2::timestamptz IS NULL OR recorded_at >= $2) "
            "ORDER BY version DESC LIMIT $3",
            row["goal_id"],
            window,
            HISTORY if history else 1,
        )
    ]
    reviews = (
        [
            Review(**dict(r))
            for r in await conn.fetch(
                "SELECT reviewed_by, reviewer_role, outcome, reflection, meeting_id, on_time, "
                "reviewed_at FROM goals_reviews "
                "WHERE goal_id = $1 AND ($2::timestamptz IS NULL OR reviewed_at >= $2) "
                "ORDER BY version DESC LIMIT $3",
                row["goal_id"],
                window,
                HISTORY,
            )
        ]
        if history
        else []
    )
    meetings = (
        [
            r["meeting_id"]
            for r in await conn.fetch(
                "SELECT meeting_id FROM goals_meeting_links WHERE goal_id = $1 "
                "AND ($2::timestamptz IS NULL OR held_at >= $2) "
                "ORDER BY held_at NULLS LAST, meeting_id",
                row["goal_id"],
                window,
            )
        ]
        if history
        else []
    )
    return GoalOut(
        id=row["goal_id"],
        owner_id=row["owner_id"],
        status=row["status"],
        title=row["title"],
        description=row["description"],
        category=row["category"],
        success_criteria=row["success_criteria"],
        target_date=row["target_date"],
        review_interval_weeks=row["review_interval_weeks"],
        visibility=row["visibility"],
        shared_with=row["shared_with"],
        review_due=row["status"] == "active" and row["due_lapses"] > 0,
        due_since=row["due_since"] if row["status"] == "active" else None,
        latest_progress=progress[0] if progress else None,
        progress=progress if history else [],
        reviews=reviews,
        meetings=meetings,
        created_at=row["set_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )
