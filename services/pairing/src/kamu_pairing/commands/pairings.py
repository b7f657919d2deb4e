"""``POST /pairings`` and its answers: accept, decline, withdraw, end, change-request."""

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from kamu_pairing.commands.access import administers
from kamu_pairing.commands.handling import (
    Aggregate,
    RuntimeDep,
    decide_and_record,
    settings_of,
)
from kamu_pairing.domain import pairings as rules
from kamu_pairing.read_models.pairings import PairingOut, pairing_row, shown, visible
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.auth.policy import authorize
from kamu_shared.auth.principal import Principal
from kamu_shared.db.pool import Connection
from kamu_shared.events import DomainEvent
from kamu_shared.runtime import Runtime
from kamu_shared.web.errors import Forbidden, NotFound, Unprocessable
from kamu_shared.web.etag import check_if_match
from kamu_shared.web.idempotency import CommandResult, Idempotency
from kamu_shared.web.ids import PersonId, ResourceId
from kamu_shared.web.times import Timestamp

router = APIRouter(tags=["pairings"])
PAIRING = Aggregate("pairing", rules.Pairing(), rules.evolve)
CHANGE = Aggregate("pairing-change", rules.ChangeRequests(), rules.evolve_change)
PairingId = ResourceId


class PairingRequestBody(BaseModel):
    colleague_id: PersonId
    kamu_id: PersonId
    message: str | None = Field(default=None, max_length=2000)


class AcceptBody(BaseModel):
    cadence_weeks: int | None = Field(default=None, ge=1, le=12, strict=True)
    meeting_minutes: int | None = Field(default=None, ge=15, le=240, strict=True)
    began_at: Timestamp | None = Field(
        default=None,
        description="People Operations only: when the pairing really began, for a programme "
        "moved into Kamu with its history (meetings may then be logged from that time, as far "
        "back as the meetings service's KAMU_BACKDATE_DAYS allows). "
        "Not in the future, at most KAMU_HISTORY_DAYS back.",
    )


async def _party(conn: Connection, person_id: str, field: str) -> rules.Party:
    row = await conn.fetchrow(
        "SELECT manager_id, left_at FROM pairing_people WHERE person_id = $1", person_id
    )
    if row is None:
        raise Unprocessable(f"{field} {person_id!r} is not a known person", slug="unknown-person")
    return rules.Party(
        person_id, exists=True, left=row["left_at"] is not None, manager_id=row["manager_id"]
    )


async def _load(conn: Connection, kamu_id: str) -> rules.KamuLoad:
    row = await conn.fetchrow("SELECT * FROM pairing_kamus WHERE person_id = $1", kamu_id)
    if row is None:
        return rules.KamuLoad("none", False, 0, 0, 0, 0)
    return rules.KamuLoad(
        row["status"],
        bool(row["trainings"]),
        row["capacity"],
        row["hours_per_month"],
        row["active_colleagues"],
        row["hours_used"],
    )


async def _has_kamu(conn: Connection, colleague_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM pairing_pairings WHERE colleague_id = $1 AND status = 'active'",
            colleague_id,
        )
    )


def _result(principal: Principal, row: Any, status: int = 200) -> CommandResult:
    body = shown(principal, row).model_dump(mode="json")
    headers = {"ETag": f'"v{row["version"]}"'}
    if status == 201:
        headers["Location"] = f"/pairings/{row['pairing_id']}"
    return CommandResult(status, body, headers)


@router.post("/pairings", status_code=201, response_model=PairingOut)
async def request_pairing(
    body: PairingRequestBody, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """Ask a Kamu to pair (the colleague themself, or People Operations for them)."""
    authorize(
        principal,
        visible=True,
        allowed=principal.sub == body.colleague_id or administers(principal),
    )
    pairing_id = str(uuid.uuid4())

    async def execute(conn: Connection) -> CommandResult:
        command = rules.RequestPairing(
            pairing_id,
            await _party(conn, body.colleague_id, "colleague_id"),
            await _party(conn, body.kamu_id, "kamu_id"),
            await _load(conn, body.kamu_id),
            await _has_kamu(conn, body.colleague_id),
            requested_by=principal.sub,
            message=body.message,
        )
        await decide_and_record(
            conn, runtime, PAIRING, pairing_id, rules.decide_request, command, principal=principal
        )
        return _result(principal, await pairing_row(conn, pairing_id), 201)

    return await Idempotency().respond(
        request, runtime.pool, principal=principal.sub, execute=execute
    )


Allowed = Callable[[Principal, Any], bool]


async def _answer(
    request: Request,
    runtime: Runtime,
    principal: Principal,
    pairing_id: str,
    allowed: Allowed,
    command: Callable[[Connection, Any], Any],
    decide: Callable[[rules.Pairing, Any], Sequence[DomainEvent]],
) -> Response:
    async with runtime.pool.acquire() as conn:
        row = await pairing_row(conn, pairing_id)
    if row is None or not visible(principal, row):
        raise NotFound(f"pairing {pairing_id} not found")
    authorize(principal, visible=True, allowed=allowed(principal, row))

    async def execute(conn: Connection) -> CommandResult:
        await decide_and_record(
            conn,
            runtime,
            PAIRING,
            pairing_id,
            decide,
            await command(conn, row),
            principal=principal,
            if_match=request.headers.get("if-match"),
        )
        return _result(principal, await pairing_row(conn, pairing_id))

    return await Idempotency().respond(
        request, runtime.pool, principal=principal.sub, execute=execute
    )


def _kamu_or_admin(principal: Principal, row: Any) -> bool:
    return principal.sub == row["kamu_id"] or administers(principal)


def _colleague_or_admin(principal: Principal, row: Any) -> bool:
    return principal.sub == row["colleague_id"] or administers(principal)


@router.post("/pairings/{pairing_id}/accept", response_model=PairingOut)
async def accept(
    pairing_id: PairingId,
    request: Request,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    body: AcceptBody | None = None,
) -> Response:
    """The Kamu (or People Operations) accepts: the pairing becomes active."""
    settings = settings_of(runtime)
    answer = body or AcceptBody()

    async def command(conn: Connection, row: Any) -> rules.AcceptPairing:
        if answer.began_at is not None:  # here: once the pairing is known to be visible (404)
            _check_began_at(principal, answer.began_at, settings.history_days)
        return rules.AcceptPairing(
            pairing_id,
            await _party(conn, row["colleague_id"], "colleague_id"),
            await _party(conn, row["kamu_id"], "kamu_id"),
            await _load(conn, row["kamu_id"]),
            await _has_kamu(conn, row["colleague_id"]),
            cadence_weeks=answer.cadence_weeks or settings.default_cadence_weeks,
            meeting_minutes=answer.meeting_minutes or settings.default_meeting_minutes,
            training_required=settings.training_required,
            began_at=answer.began_at,
        )

    return await _answer(
        request, runtime, principal, pairing_id, _kamu_or_admin, command, rules.decide_accept
    )


def _check_began_at(principal: Principal, began_at: datetime, history_days: int) -> None:
    """Dating a pairing back is recording history, which only People Operations does."""
    if not administers(principal):
        raise Forbidden("only People Operations may record when a pairing began")
    now = datetime.now(UTC)
    if not now - timedelta(days=history_days) <= began_at <= now:
        raise Unprocessable(
            f"began_at must lie between {now - timedelta(days=history_days):%Y-%m-%d} and now",
            slug="began-at-out-of-range",
        )


def _simple(make: Callable[[str], Any]) -> Callable[[Connection, Any], Any]:
    async def command(_conn: Connection, row: Any) -> Any:
        return make(row["pairing_id"])

    return command


@router.post("/pairings/{pairing_id}/decline", response_model=PairingOut)
async def decline(
    pairing_id: PairingId, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """The Kamu (or People Operations) declines the request."""
    return await _answer(
        request,
        runtime,
        principal,
        pairing_id,
        _kamu_or_admin,
        _simple(rules.DeclinePairing),
        rules.decide_decline,
    )


@router.post("/pairings/{pairing_id}/withdraw", response_model=PairingOut)
async def withdraw(
    pairing_id: PairingId, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """The colleague (or People Operations) withdraws the request."""
    return await _answer(
        request,
        runtime,
        principal,
        pairing_id,
        _colleague_or_admin,
        _simple(rules.WithdrawPairing),
        rules.decide_withdraw,
    )


@router.post("/pairings/{pairing_id}/end", response_model=PairingOut)
async def end(
    pairing_id: PairingId, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """Either party or People Operations ends an active pairing; no reason required."""
    return await _answer(
        request,
        runtime,
        principal,
        pairing_id,
        visible,  # either party or People Operations
        _simple(lambda pid: rules.EndPairing(pid, principal.sub)),
        rules.decide_end,
    )


@router.post("/pairings/{pairing_id}/change-request", response_model=PairingOut)
async def change_request(
    pairing_id: PairingId, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """The colleague asks People Operations, confidentially, for another Kamu: nothing the
    current Kamu can see changes (the request lives in a stream of its own)."""
    async with runtime.pool.acquire() as conn:
        row = await pairing_row(conn, pairing_id)
    if row is None or not visible(principal, row):
        raise NotFound(f"pairing {pairing_id} not found")
    authorize(principal, visible=True, allowed=principal.sub == row["colleague_id"])
    if (if_match := request.headers.get("if-match")) is not None:
        check_if_match(if_match, row["version"])  # the pairing's ETag, which this does not move
    command = rules.RequestChange(
        pairing_id, row["colleague_id"], row["kamu_id"], pairing_active=row["status"] == "active"
    )

    async def execute(conn: Connection) -> CommandResult:
        await decide_and_record(
            conn,
            runtime,
            CHANGE,
            pairing_id,
            rules.decide_change_request,
            command,
            principal=principal,
        )
        return _result(principal, await pairing_row(conn, pairing_id))

    return await Idempotency().respond(
        request, runtime.pool, principal=principal.sub, execute=execute
    )
