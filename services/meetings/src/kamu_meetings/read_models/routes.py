"""Queries for the pair: a meeting, a person's meetings, their calendar feed, a pairing's cadence.

Everything here is the members' own: a meeting, a pairing's cadence and a person's meetings are
invisible (404) to everybody else, People Operations included (they get aggregates, in stats).
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from kamu_meetings.commands.handling import settings_of
from kamu_meetings.read_models.calendar import calendar_feed
from kamu_meetings.read_models.feed_links import token_accepted
from kamu_meetings.read_models.meetings import MeetingOut, is_member, meeting_row, shown
from kamu_shared.auth.deps import CurrentPrincipal, OptionalPrincipal
from kamu_shared.auth.policy import authorize
from kamu_shared.runtime import RuntimeDep
from kamu_shared.web.errors import BadRequest, NotFound, Unauthorized, Unprocessable
from kamu_shared.web.etag import set_etag
from kamu_shared.web.ids import PersonId, ResourceId
from kamu_shared.web.pagination import Page, PageQuery, decode_cursor, encode_cursor
from kamu_shared.web.times import Timestamp

router = APIRouter(tags=["queries"])
Status = Annotated[str | None, Query(pattern="^(scheduled|cancelled|held)$")]


class Cadence(BaseModel):
    """How a pair keeps its rhythm: for the two of them only."""

    pairing_id: str
    status: str
    cadence_weeks: int
    since: datetime
    last_held_at: datetime | None
    next_scheduled_at: datetime | None
    next_due_at: datetime | None
    overdue: bool
    lapses: int


def _self_only(principal: Any, person_id: str) -> None:
    authorize(principal, visible=principal.sub == person_id, allowed=principal.sub == person_id)


@router.get("/meetings/{meeting_id}", response_model=MeetingOut)
async def get_meeting(
    meeting_id: ResourceId, principal: CurrentPrincipal, runtime: RuntimeDep, response: Response
) -> MeetingOut:
    """A meeting with its notes, for its two members only."""
    async with runtime.pool.acquire() as conn:
        row = await meeting_row(conn, meeting_id)
        if row is None or not is_member(principal, row):
            raise NotFound(f"meeting {meeting_id} not found")
        set_etag(response, row["version"])
        return await shown(conn, principal, row)


def _position(cursor: str | None) -> tuple[datetime, str] | None:
    """Where the previous page ended; 400 ``invalid-cursor`` for anything this list did not
    give out."""
    if cursor is None:
        return None
    position = decode_cursor(cursor)
    at, meeting_id = position.get("at"), position.get("id")
    try:
        if not isinstance(at, str) or not isinstance(meeting_id, str) or "\x00" in meeting_id:
            raise ValueError
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError
        parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadRequest("the cursor is not one this list gave", slug="invalid-cursor") from None
    return parsed, meeting_id


@router.get("/people/{person_id}/meetings", response_model=Page[MeetingOut])
async def person_meetings(
    person_id: PersonId,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    page: PageQuery,
    from_: Annotated[Timestamp | None, Query(alias="from")] = None,
    to: Annotated[Timestamp | None, Query()] = None,
    status: Status = None,
) -> Page[MeetingOut]:
    """The person's meetings starting in ``[from, to)``, earliest first (themself only)."""
    _self_only(principal, person_id)
    if from_ is not None and to is not None and to <= from_:
        raise Unprocessable("'to' must come after 'from'", slug="invalid-range")
    after = _position(page.cursor)
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT * FROM meetings_meetings
               WHERE (colleague_id = $1 OR kamu_id = $1)
                 AND ($2::timestamptz IS NULL OR starts_at >= $2)
                 AND ($3::timestamptz IS NULL OR starts_at < $3)
                 AND ($4::text IS NULL OR status = $4)
                 AND ($5::timestamptz IS NULL OR (starts_at, meeting_id) > ($5, $6))
               ORDER BY starts_at, meeting_id LIMIT $7""",
            person_id,
            from_,
            to,
            status,
            after[0] if after else None,
            after[1] if after else "",
            page.limit + 1,
        )
        items = [await shown(conn, principal, r) for r in rows[: page.limit]]
    more = len(rows) > page.limit and items
    last = rows[page.limit - 1] if more else None
    cursor = (
        encode_cursor({"at": last["starts_at"].isoformat(), "id": last["meeting_id"]})
        if last is not None
        else None
    )
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/people/{person_id}/calendar.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def calendar(
    person_id: PersonId,
    principal: OptionalPrincipal,
    runtime: RuntimeDep,
    token: Annotated[
        str | None, Query(max_length=100, description="A secret feed link's token.")
    ] = None,
) -> Response:
    """The person's meetings as an iCalendar feed: cancelled ones included, so clients drop them.

    The person themself with a bearer token, or anyone holding their secret feed link
    (``GET /people/{id}/calendar-link``): calendar clients cannot send tokens. A wrong or
    rotated link answers 404, like a feed one may not see.
    """
    settings = settings_of(runtime)
    if principal is not None:
        _self_only(principal, person_id)
    elif token is None:
        raise Unauthorized("Send Authorization: Bearer <token>, or use the feed's secret link.")
    else:
        async with runtime.pool.acquire() as conn:
            if not await token_accepted(conn, settings, person_id, token):
                raise NotFound(f"no calendar feed for {person_id} with this link")
    since = datetime.now(UTC) - timedelta(days=settings.calendar_past_days)
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            # The latest 5000 (beyond that, the oldest fall off), earliest first.
            "SELECT * FROM (SELECT * FROM meetings_meetings "
            "WHERE (colleague_id = $1 OR kamu_id = $1) AND starts_at >= $2 "
            "ORDER BY starts_at DESC, meeting_id DESC LIMIT 5000) latest "
            "ORDER BY starts_at, meeting_id",
            person_id,
            since,
        )
        ids = {r["colleague_id"] for r in rows} | {r["kamu_id"] for r in rows} | {person_id}
        people = {
            p["person_id"]: p
            for p in await conn.fetch(
                "SELECT * FROM meetings_people WHERE person_id = ANY($1)", list(ids)
            )
        }
    return Response(
        calendar_feed(person_id, rows, people),
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'inline; filename="kamu-meetings.ics"',
            "Cache-Control": "private, max-age=60",
        },
    )


@router.get("/pairings/{pairing_id}/cadence", response_model=Cadence)
async def pairing_cadence(
    pairing_id: ResourceId, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Cadence:
    """Last held, next scheduled, overdue: the pair's own view of their rhythm."""
    week = settings_of(runtime).cadence_week_seconds
    async with runtime.pool.acquire() as conn:
        row = await conn.fetchrow(
            """SELECT p.pairing_id, p.colleague_id, p.kamu_id, p.status, p.cadence_weeks,
                      c.since, c.lapses, c.active,
                      (SELECT max(starts_at) FROM meetings_meetings m
                        WHERE m.pairing_id = p.pairing_id AND m.status = 'held') AS last_held_at,
                      (SELECT min(starts_at) FROM meetings_meetings m
                        WHERE m.pairing_id = p.pairing_id AND m.status = 'scheduled'
                          AND m.starts_at >= now()) AS next_scheduled_at
               FROM meetings_pairings p JOIN meetings_cadence c USING (pairing_id)
               WHERE p.pairing_id = $1""",
            pairing_id,
        )
    if row is None or principal.sub not in (row["colleague_id"], row["kamu_id"]):
        raise NotFound(f"pairing {pairing_id} not found")
    period = timedelta(seconds=week * row["cadence_weeks"])
    return Cadence(
        pairing_id=pairing_id,
        status=row["status"],
        cadence_weeks=row["cadence_weeks"],
        since=row["since"],
        last_held_at=row["last_held_at"],
        next_scheduled_at=row["next_scheduled_at"],
        next_due_at=row["since"] + (row["lapses"] + 1) * period if row["active"] else None,
        overdue=row["active"] and row["lapses"] > 0,
        lapses=row["lapses"],
    )
