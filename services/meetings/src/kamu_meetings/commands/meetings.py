"""``POST /meetings`` and what follows: reschedule, cancel, complete, feedback.

Only the two members of a pairing act on its meetings; to anyone else a meeting does not exist
(404). A pairing this service has not heard of yet answers 409 with ``Retry-After``.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, field_validator

from kamu_meetings.commands.handling import (
    HANDLING,
    lock_pairing,
    pairing_facts,
    settings_of,
    starts_after_pairing,
)
from kamu_meetings.domain import meetings as rules
from kamu_meetings.domain.events import Respondent
from kamu_meetings.notes import existing_key, make_key, seal, store_key
from kamu_meetings.read_models.meetings import MeetingOut, is_member, meeting_row, shown
from kamu_meetings.settings import MeetingsSettings
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.auth.principal import Principal
from kamu_shared.commands import Aggregate
from kamu_shared.db.pool import Connection
from kamu_shared.events import DomainEvent
from kamu_shared.runtime import Runtime, RuntimeDep
from kamu_shared.web.errors import NotFound, Unprocessable, awaiting_upstream
from kamu_shared.web.etag import check_if_match
from kamu_shared.web.idempotency import CommandResult, Idempotency
from kamu_shared.web.ids import TIME_ZONES, ResourceId
from kamu_shared.web.times import Timestamp

router = APIRouter(tags=["meetings"])
MEETING = Aggregate("meeting", rules.Meeting(), rules.evolve)
FEEDBACK_STREAM = "meeting-feedback"
MeetingId = ResourceId


def _zone(value: str | None) -> str | None:
    if value is not None and value not in TIME_ZONES:
        raise ValueError(f"{value!r} is not an IANA time zone")
    return value


class ScheduleBody(BaseModel):
    pairing_id: ResourceId
    starts_at: Timestamp = Field(description="RFC 3339 with an offset.")
    time_zone: str | None = Field(
        default=None, max_length=64, description="IANA zone; default: the scheduler's own."
    )
    duration_minutes: int = Field(default=60, ge=5, le=480, strict=True)
    location: str | None = Field(default=None, max_length=500)
    agenda: str | None = Field(default=None, max_length=4000)

    _check_zone = field_validator("time_zone")(_zone)


class RescheduleBody(BaseModel):
    starts_at: Timestamp
    time_zone: str | None = Field(default=None, max_length=64)
    duration_minutes: int | None = Field(default=None, ge=5, le=480, strict=True)
    location: str | None = Field(default=None, max_length=500)

    _check_zone = field_validator("time_zone")(_zone)


class CancelBody(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


class CompleteBody(BaseModel):
    notes: str | None = Field(default=None, max_length=20000)
    goal_ids: list[ResourceId] = Field(default_factory=list, max_length=50)


class FeedbackBody(BaseModel):
    psychological_safety: int = Field(ge=1, le=5, strict=True)
    usefulness: int = Field(ge=1, le=5, strict=True)


def _in_window(settings: MeetingsSettings, starts_at: datetime) -> None:
    now = datetime.now(UTC)
    earliest = now - timedelta(days=settings.backdate_days)
    latest = now + timedelta(days=settings.horizon_days)
    if not earliest <= starts_at <= latest:
        raise Unprocessable(
            f"starts_at must lie between {earliest:%Y-%m-%d} and {latest:%Y-%m-%d}",
            slug="starts-at-out-of-range",
        )


async def _default_zone(conn: Connection, person_id: str) -> str:
    zone = await conn.fetchval(
        "SELECT time_zone FROM meetings_people WHERE person_id = $1", person_id
    )
    return zone if zone in TIME_ZONES else "UTC"


def _result(body: MeetingOut, status: int = 200) -> CommandResult:
    headers = {"ETag": f'"v{body.version}"'}
    if status == 201:
        headers["Location"] = f"/meetings/{body.id}"
    return CommandResult(status, body.model_dump(mode="json"), headers)


@router.post("/meetings", status_code=201, response_model=MeetingOut)
async def schedule(
    body: ScheduleBody, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """A member of an active pairing schedules a meeting."""
    settings = settings_of(runtime)
    _in_window(settings, body.starts_at)
    meeting_id = str(uuid.uuid4())

    async def execute(conn: Connection) -> CommandResult:
        await lock_pairing(conn, body.pairing_id, wait_seconds=settings.lock_wait_seconds)
        facts = await pairing_facts(conn, body.pairing_id)
        if facts is None:
            raise awaiting_upstream(
                f"pairing {body.pairing_id} is not known here yet",
                retry_after=settings.pairing_retry_after_seconds,
            )
        if facts.pair.role_of(principal.sub) is None:
            raise NotFound(f"pairing {body.pairing_id} not found")
        starts_after_pairing(facts, body.starts_at)
        zone = body.time_zone or await _default_zone(conn, principal.sub)
        slot = rules.Slot(body.starts_at, zone, body.duration_minutes, body.location)
        command = rules.ScheduleMeeting(meeting_id, facts.pair, principal.sub, slot, body.agenda)
        await HANDLING.decide_and_record(
            conn,
            runtime.store,
            MEETING,
            meeting_id,
            rules.decide_schedule,
            command,
            actor=principal.sub,
        )
        row = await meeting_row(conn, meeting_id)
        return _result(await shown(conn, principal, row, with_notes=False), 201)

    return await Idempotency().respond(
        request, runtime.pool, principal=principal.sub, execute=execute
    )


Decide = Callable[[rules.Meeting, Any], Sequence[DomainEvent]]
MakeCommand = Callable[[Connection, Any], Awaitable[Any]]


async def _act(
    request: Request,
    runtime: Runtime,
    principal: Principal,
    meeting_id: str,
    make_command: MakeCommand,
    decide: Decide,
    *,
    after: Callable[[Connection, Any], Awaitable[None]] | None = None,
) -> Response:
    """Run a command on a visible meeting under its pairing's lock; ``after`` writes more in
    the same transaction once the events are appended."""
    async with runtime.pool.acquire() as conn:
        row = await meeting_row(conn, meeting_id)
        if row is None or not is_member(principal, row):
            raise NotFound(f"meeting {meeting_id} not found")
    pairing_id = row["pairing_id"]

    async def execute(conn: Connection) -> CommandResult:
        await lock_pairing(conn, pairing_id, wait_seconds=settings_of(runtime).lock_wait_seconds)
        current = await meeting_row(conn, meeting_id)  # as it is now, under the lock
        await HANDLING.decide_and_record(
            conn,
            runtime.store,
            MEETING,
            meeting_id,
            decide,
            await make_command(conn, current),
            actor=principal.sub,
            if_match=request.headers.get("if-match"),
        )
        if after is not None:
            await after(conn, current)
        row = await meeting_row(conn, meeting_id)
        return _result(await shown(conn, principal, row, with_notes=False))

    return await Idempotency().respond(
        request, runtime.pool, principal=principal.sub, execute=execute
    )


@router.post("/meetings/{meeting_id}/reschedule", response_model=MeetingOut)
async def reschedule(
    meeting_id: MeetingId,
    body: RescheduleBody,
    request: Request,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
) -> Response:
    """A member moves a scheduled meeting; unsent fields keep their values."""
    _in_window(settings_of(runtime), body.starts_at)

    async def command(conn: Connection, row: Any) -> rules.RescheduleMeeting:
        facts = await pairing_facts(conn, row["pairing_id"])
        starts_after_pairing(facts, body.starts_at)
        location = body.location if "location" in body.model_fields_set else row["location"]
        slot = rules.Slot(
            body.starts_at,
            body.time_zone or row["time_zone"],
            body.duration_minutes or row["duration_minutes"],
            location,
        )
        active = facts is not None and facts.pair.active
        return rules.RescheduleMeeting(meeting_id, active, principal.sub, slot)

    return await _act(request, runtime, principal, meeting_id, command, rules.decide_reschedule)


@router.post("/meetings/{meeting_id}/cancel", response_model=MeetingOut)
async def cancel(
    meeting_id: MeetingId,
    request: Request,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    body: CancelBody | None = None,
) -> Response:
    """A member cancels a scheduled meeting, with an optional reason the other member sees."""
    reason = body.reason if body else None

    async def command(_conn: Connection, _row: Any) -> rules.CancelMeeting:
        return rules.CancelMeeting(meeting_id, principal.sub, reason)

    return await _act(request, runtime, principal, meeting_id, command, rules.decide_cancel)


@router.post("/meetings/{meeting_id}/complete", response_model=MeetingOut)
async def complete(
    meeting_id: MeetingId,
    request: Request,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    body: CompleteBody | None = None,
) -> Response:
    """A member records the meeting as held, with private notes only the two of them read."""
    answer = body or CompleteBody()
    new_key: str | None = None

    async def command(conn: Connection, row: Any) -> rules.CompleteMeeting:
        nonlocal new_key
        sealed = None
        if answer.notes:
            key = await existing_key(conn, row["pairing_id"])
            if key is None:
                key = new_key = make_key()
            sealed = seal(key, answer.notes)
        return rules.CompleteMeeting(
            meeting_id,
            principal.sub,
            datetime.now(UTC),
            notes_sealed=sealed,
            goal_ids=tuple(dict.fromkeys(answer.goal_ids)),
        )

    async def keep_key(conn: Connection, row: Any) -> None:
        if new_key is not None:  # only once the append succeeded: a refusal writes nothing
            await store_key(conn, row["pairing_id"], new_key)

    return await _act(
        request, runtime, principal, meeting_id, command, rules.decide_complete, after=keep_key
    )


@router.post("/meetings/{meeting_id}/feedback", response_model=MeetingOut)
async def feedback(
    meeting_id: MeetingId,
    body: FeedbackBody,
    request: Request,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
) -> Response:
    """A member rates a held meeting once; nobody ever sees a single answer.

    Ratings live in a stream of their own (``meeting-feedback-<id>``), decided on the meeting's
    state with earlier ratings folded in: the meeting's version and ETag do not move, so the
    other member cannot see that a rating was given.
    """
    async with runtime.pool.acquire() as conn:
        row = await meeting_row(conn, meeting_id)
    if row is None or not is_member(principal, row):
        raise NotFound(f"meeting {meeting_id} not found")
    respondent: Respondent = "colleague" if principal.sub == row["colleague_id"] else "kamu"
    command = rules.GiveFeedback(meeting_id, respondent, body.psychological_safety, body.usefulness)

    async def execute(conn: Connection) -> CommandResult:
        wait = settings_of(runtime).lock_wait_seconds
        await lock_pairing(conn, row["pairing_id"], wait_seconds=wait)
        meeting = await HANDLING.load(runtime.store, MEETING, meeting_id, conn=conn)
        if (if_match := request.headers.get("if-match")) is not None:
            check_if_match(if_match, meeting.version)
        rated = Aggregate(FEEDBACK_STREAM, meeting.state, rules.evolve)
        await HANDLING.decide_and_record(
            conn,
            runtime.store,
            rated,
            meeting_id,
            rules.decide_feedback,
            command,
            actor=principal.sub,
        )
        current = await meeting_row(conn, meeting_id)
        return _result(await shown(conn, principal, current, with_notes=False))

    return await Idempotency().respond(
        request, runtime.pool, principal=principal.sub, execute=execute
    )
