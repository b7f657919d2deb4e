"""``POST /goals``, ``PATCH /goals/{id}`` and what follows: progress, reviews, sharing, closing.

A person sets goals for themselves only. The owner does everything; the Kamu the goal is
shared with may review it (and sees it); everybody else gets 404.
"""

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from kamu_goals.commands.handling import (
    HANDLING,
    current_kamu,
    goal_row,
    lock_owner,
    role_of,
    settings_of,
)
from kamu_goals.domain import goals as rules
from kamu_goals.domain.events import Category, Outcome, ProgressStatus, Visibility
from kamu_goals.read_models.goals import GoalOut, shown
from kamu_goals.settings import GoalsSettings
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.auth.policy import authorize
from kamu_shared.auth.principal import Principal
from kamu_shared.commands import Aggregate
from kamu_shared.db.pool import Connection
from kamu_shared.events import DomainEvent
from kamu_shared.runtime import Runtime, RuntimeDep
from kamu_shared.web.errors import NotFound, Unprocessable
from kamu_shared.web.etag import check_if_match
from kamu_shared.web.idempotency import CommandResult, Idempotency
from kamu_shared.web.ids import ResourceId
from kamu_shared.web.times import CalendarDate

router = APIRouter(tags=["goals"])
GOAL = Aggregate("goal", rules.Goal(), rules.evolve)
GoalId = ResourceId
Title = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str | None, Field(default=None, max_length=4000)]
Interval = Annotated[int, Field(ge=1, le=52, strict=True)]


class GoalBody(BaseModel):
    title: Title
    description: Text = None
    category: Category
    success_criteria: Text = None
    target_date: CalendarDate
    review_interval_weeks: Interval = 4
    visibility: Visibility = "private"


class RevisionBody(BaseModel):
    title: Title | None = None
    description: Text = None
    category: Category | None = None
    success_criteria: Text = None
    target_date: CalendarDate | None = None
    review_interval_weeks: Interval | None = None
    visibility: Visibility | None = Field(
        default=None, description="Refused: sharing is POST /goals/{id}/share or /unshare."
    )


class ProgressBody(BaseModel):
    percent: int = Field(ge=0, le=100, strict=True)
    status: ProgressStatus
    note: Text = None


class ReviewBody(BaseModel):
    outcome: Outcome
    reflection: Text = None
    meeting_id: ResourceId | None = None


def _target(settings: GoalsSettings, target: date) -> None:
    earliest = (datetime.now(UTC) - timedelta(days=settings.target_date_grace_days)).date()
    if target < earliest:
        raise Unprocessable("target_date must not be in the past", slug="target-date-in-past")


def _result(body: GoalOut, status: int = 200) -> CommandResult:
    headers = {"ETag": f'"v{body.version}"'}
    if status == 201:
        headers["Location"] = f"/goals/{body.id}"
    return CommandResult(status, body.model_dump(mode="json"), headers)


@router.post("/goals", status_code=201, response_model=GoalOut)
async def set_goal(
    body: GoalBody, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """A person sets a goal for themselves; ``visibility: kamu`` shares it with their Kamu."""
    _target(settings_of(runtime), body.target_date)
    goal_id = str(uuid.uuid4())
    definition = rules.Definition(
        body.title,
        body.description,
        body.category,
        body.success_criteria,
        body.target_date,
        body.review_interval_weeks,
    )

    async def execute(conn: Connection) -> CommandResult:
        await lock_owner(conn, principal.sub)
        kamu = await current_kamu(conn, principal.sub)
        command = rules.SetGoal(
            goal_id, principal.sub, definition, body.visibility, kamu.kamu_id if kamu else None
        )
        await HANDLING.decide_and_record(
            conn, runtime.store, GOAL, goal_id, rules.decide_set, command, actor=principal.sub
        )
        return _result(await shown(conn, await goal_row(conn, goal_id), "owner"), 201)

    return await Idempotency().respond(
        request, runtime.pool, principal=principal.sub, execute=execute
    )


Decide = Callable[[rules.Goal, Any], Sequence[DomainEvent]]


async def _act(
    request: Request,
    runtime: Runtime,
    principal: Principal,
    goal_id: str,
    make_command: Callable[[Connection, Any, str], Any],
    decide: Decide,
    *,
    roles: tuple[str, ...] = ("owner",),
    status: int = 200,
    require_if_match: bool = False,
) -> Response:
    """Run a command on a goal the caller can see (404 otherwise) and may act on (403)."""
    async with runtime.pool.acquire() as conn:
        row = await goal_row(conn, goal_id)
        role = await role_of(conn, principal, row) if row is not None else None
    if row is None or role is None:
        raise NotFound(f"goal {goal_id} not found")
    authorize(principal, visible=True, allowed=role in roles)
    if_match = request.headers.get("if-match")
    if require_if_match:
        check_if_match(if_match, row["version"], required=True)

    async def execute(conn: Connection) -> CommandResult:
        current = await goal_row(conn, goal_id)
        await HANDLING.decide_and_record(
            conn,
            runtime.store,
            GOAL,
            goal_id,
            decide,
            await make_command(conn, current, role),
            actor=principal.sub,
            if_match=if_match,
        )
        return _result(await shown(conn, await goal_row(conn, goal_id), role), status)

    return await Idempotency().respond(
        request, runtime.pool, principal=principal.sub, execute=execute
    )


@router.patch("/goals/{goal_id}", response_model=GoalOut)
async def revise(
    goal_id: GoalId,
    body: RevisionBody,
    request: Request,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
) -> Response:
    """The owner revises the goal; ``If-Match`` is required (428 without, 412 if stale)."""
    if body.target_date is not None:
        _target(settings_of(runtime), body.target_date)
    if body.visibility is not None:
        raise Unprocessable(
            "change visibility with POST /goals/{id}/share or /goals/{id}/unshare",
            slug="visibility-via-share",
        )
    sent = body.model_fields_set

    async def command(_conn: Connection, row: Any, _role: str) -> rules.ReviseGoal:
        def pick(name: str) -> Any:
            return (
                getattr(body, name)
                if name in sent and getattr(body, name) is not None
                else row[name]
            )

        def text(name: str) -> Any:
            return getattr(body, name) if name in sent else row[name]

        return rules.ReviseGoal(
            goal_id,
            rules.Definition(
                pick("title"),
                text("description"),
                pick("category"),
                text("success_criteria"),
                pick("target_date"),
                pick("review_interval_weeks"),
            ),
        )

    return await _act(
        request, runtime, principal, goal_id, command, rules.decide_revise, require_if_match=True
    )


@router.post("/goals/{goal_id}/progress", response_model=GoalOut)
async def progress(
    goal_id: GoalId,
    body: ProgressBody,
    request: Request,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
) -> Response:
    """The owner records a check-in: percent, on-track / at-risk / blocked, a note."""

    async def command(_conn: Connection, _row: Any, _role: str) -> rules.RecordProgress:
        return rules.RecordProgress(goal_id, body.percent, body.status, body.note)

    return await _act(request, runtime, principal, goal_id, command, rules.decide_progress)


@router.post("/goals/{goal_id}/reviews", status_code=201, response_model=GoalOut)
async def review(
    goal_id: GoalId,
    body: ReviewBody,
    request: Request,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
) -> Response:
    """The owner, or the Kamu it is shared with, records a review (maybe in a meeting); a
    ``completed`` or ``dropped`` outcome also closes the goal. Answers the goal (201)."""
    week = settings_of(runtime).review_week_seconds

    async def command(_conn: Connection, row: Any, role: str) -> rules.ReviewGoal:
        interval = timedelta(seconds=week * row["review_interval_weeks"])
        reviewer: Literal["owner", "kamu"] = "owner" if role == "owner" else "kamu"
        return rules.ReviewGoal(
            goal_id,
            principal.sub,
            reviewer,
            body.outcome,
            datetime.now(UTC),
            row["clock_since"] + interval,
            body.reflection,
            body.meeting_id,
        )

    return await _act(
        request,
        runtime,
        principal,
        goal_id,
        command,
        rules.decide_review,
        roles=("owner", "kamu"),
        status=201,
    )


async def _close(
    decide: Decide, request: Request, runtime: Runtime, principal: Principal, goal_id: str
) -> Response:
    async def command(_conn: Connection, _row: Any, _role: str) -> rules.CloseGoal:
        return rules.CloseGoal(goal_id, principal.sub)

    return await _act(request, runtime, principal, goal_id, command, decide)


@router.post("/goals/{goal_id}/complete", response_model=GoalOut)
async def complete(
    goal_id: GoalId, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """The owner marks the goal reached."""
    return await _close(rules.decide_complete, request, runtime, principal, goal_id)


@router.post("/goals/{goal_id}/abandon", response_model=GoalOut)
async def abandon(
    goal_id: GoalId, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """The owner drops the goal."""
    return await _close(rules.decide_abandon, request, runtime, principal, goal_id)


@router.post("/goals/{goal_id}/share", response_model=GoalOut)
async def share(
    goal_id: GoalId, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """The owner shares the goal with their current Kamu (409 ``no-kamu`` without one)."""

    async def command(conn: Connection, row: Any, _role: str) -> rules.ShareGoal:
        await lock_owner(conn, row["owner_id"])
        kamu = await current_kamu(conn, row["owner_id"])
        earlier = bool(kamu and row["shared_at"] is not None and row["shared_at"] < kamu.since)
        return rules.ShareGoal(goal_id, kamu.kamu_id if kamu else None, earlier)

    return await _act(request, runtime, principal, goal_id, command, rules.decide_share)


@router.post("/goals/{goal_id}/unshare", response_model=GoalOut)
async def unshare(
    goal_id: GoalId, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """The owner makes the goal private again."""

    async def command(_conn: Connection, _row: Any, _role: str) -> rules.UnshareGoal:
        return rules.UnshareGoal(goal_id)

    return await _act(request, runtime, principal, goal_id, command, rules.decide_unshare)
