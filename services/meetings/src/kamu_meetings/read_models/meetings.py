"""A meeting as its two members see it; nobody else sees one at all."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from kamu_meetings.notes import unseal
from kamu_shared.auth.principal import Principal
from kamu_shared.db.pool import Connection


class SuggestedItem(BaseModel):
    """A goal the colleague shared with their Kamu that is due for review."""

    goal_id: str
    title: str
    due_since: datetime | None


class MeetingOut(BaseModel):
    id: str
    pairing_id: str
    colleague_id: str
    kamu_id: str
    status: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    duration_minutes: int
    location: str | None
    agenda: str | None
    suggested_agenda: list[SuggestedItem]
    sequence: int
    scheduled_by: str
    cancelled_by: str | None
    cancel_cause: str | None
    cancel_reason: str | None
    recorded_by: str | None
    notes: str | None = Field(
        description="The pair's notes (GET only: command answers never carry them, since "
        "answers are kept for idempotent retries)."
    )
    has_notes: bool
    goal_ids: list[str]
    my_feedback_given: bool
    created_at: datetime
    updated_at: datetime
    version: int


async def meeting_row(conn: Connection, meeting_id: str) -> Any:
    return await conn.fetchrow("SELECT * FROM meetings_meetings WHERE meeting_id = $1", meeting_id)


def is_member(principal: Principal, row: Any) -> bool:
    return principal.sub in (row["colleague_id"], row["kamu_id"])


async def suggestions(conn: Connection, row: Any) -> list[SuggestedItem]:
    """The colleague's goals due for review that were shared during this pairing, while it is
    active: a Kamu never sees what was shared with a previous or a next Kamu."""
    if row["status"] != "scheduled":
        return []
    rows = await conn.fetch(
        "SELECT g.goal_id, g.title, g.due_since FROM meetings_goals g "
        "JOIN meetings_pairings p ON p.pairing_id = $2 AND p.status = 'active' "
        "WHERE g.owner_id = $1 AND g.open AND g.shared AND g.shared_at >= p.paired_at "
        "AND g.due_since IS NOT NULL "
        "ORDER BY g.due_since, g.goal_id",
        row["colleague_id"],
        row["pairing_id"],
    )
    return [SuggestedItem(**dict(r)) for r in rows]


def local_span(row: Any) -> tuple[datetime, datetime]:
    """Start and end in the meeting's zone; the end is computed in UTC, so a meeting across a
    daylight-saving change still lasts its duration."""
    zone = ZoneInfo(row["time_zone"])
    end = row["starts_at"] + timedelta(minutes=row["duration_minutes"])
    return row["starts_at"].astimezone(zone), end.astimezone(zone)


async def shown(
    conn: Connection, principal: Principal, row: Any, *, with_notes: bool = True
) -> MeetingOut:
    """The representation for a member: notes unsealed (unless ``with_notes`` is off), the
    other member's feedback hidden."""
    starts, ends = local_span(row)
    mine = (
        row["feedback_colleague"] if principal.sub == row["colleague_id"] else row["feedback_kamu"]
    )
    suggested = await suggestions(conn, row)
    return MeetingOut(
        id=row["meeting_id"],
        pairing_id=row["pairing_id"],
        colleague_id=row["colleague_id"],
        kamu_id=row["kamu_id"],
        status=row["status"],
        starts_at=starts,
        ends_at=ends,
        time_zone=row["time_zone"],
        duration_minutes=row["duration_minutes"],
        location=row["location"],
        agenda=row["agenda"],
        suggested_agenda=suggested,
        sequence=row["sequence"],
        scheduled_by=row["scheduled_by"],
        cancelled_by=row["cancelled_by"],
        cancel_cause=row["cancel_cause"],
        cancel_reason=row["cancel_reason"],
        recorded_by=row["recorded_by"],
        notes=await unseal(conn, row["pairing_id"], row["notes_sealed"]) if with_notes else None,
        has_notes=row["notes_sealed"] is not None,
        goal_ids=list(row["goal_ids"]),
        my_feedback_given=bool(mine),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )
