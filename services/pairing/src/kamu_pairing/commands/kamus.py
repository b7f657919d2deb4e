"""``PUT/DELETE /kamus/{id}``, training, pause and resume: volunteering as a Kamu."""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field

from kamu_pairing.commands.access import ADMINISTERS, require_role, require_self_or
from kamu_pairing.commands.handling import Aggregate, RuntimeDep, decide_and_record
from kamu_pairing.commands.people import PERSON
from kamu_pairing.domain import kamus
from kamu_pairing.domain.events import registry
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.auth.principal import Principal
from kamu_shared.db.pool import Connection
from kamu_shared.events import DomainEvent
from kamu_shared.runtime import Runtime
from kamu_shared.store.aggregates import load
from kamu_shared.web.errors import Conflict, NotFound
from kamu_shared.web.etag import set_etag
from kamu_shared.web.idempotency import CommandResult, Idempotency
from kamu_shared.web.ids import PersonId

router = APIRouter(tags=["kamus"])
KAMU = Aggregate("kamu", kamus.Kamu(), kamus.evolve)
Tag = Annotated[str, Field(min_length=1, max_length=60)]


class KamuBody(BaseModel):
    """What a Kamu offers: colleagues at once, hours a month, topics and languages."""

    capacity: int = Field(ge=1, le=10, strict=True)
    hours_per_month: float = Field(gt=0, le=160)
    topics: list[Tag] = Field(default_factory=list, max_length=30)
    languages: list[Tag] = Field(default_factory=list, max_length=20)


class KamuOut(KamuBody):
    id: str
    status: str
    trainings: list[str]


class TrainingBody(BaseModel):
    training: str = Field(min_length=1, max_length=200)
    completed_on: date


def _out(person_id: str, state: kamus.Kamu) -> KamuOut:
    assert state.offer is not None
    return KamuOut(
        id=person_id,
        status=state.status,
        trainings=list(state.trainings),
        capacity=state.offer.capacity,
        hours_per_month=state.offer.hours_per_month,
        topics=list(state.offer.topics),
        languages=list(state.offer.languages),
    )


async def _require_present_person(runtime: Runtime, person_id: str) -> None:
    loaded = await load(
        runtime.store, registry, PERSON.stream(person_id), PERSON.initial, PERSON.evolve
    )
    if not loaded.state.exists:
        raise NotFound(f"person {person_id} not found")
    if loaded.state.left:
        raise Conflict(f"{person_id} has left the organisation", slug="person-left")


@router.put("/kamus/{person_id}", response_model=KamuOut)
async def put_kamu(
    person_id: PersonId,
    body: KamuBody,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> KamuOut:
    """Volunteer as a Kamu, or change the offer (the person themself or People Operations)."""
    require_self_or(principal, person_id, *ADMINISTERS)
    await _require_present_person(runtime, person_id)
    offer = kamus.Offer(
        body.capacity, body.hours_per_month, tuple(body.topics), tuple(body.languages)
    )
    async with runtime.pool.acquire() as conn, conn.transaction():
        decision = await decide_and_record(
            conn,
            runtime,
            KAMU,
            person_id,
            kamus.decide_volunteer,
            kamus.Volunteer(person_id, offer),
            principal=principal,
            if_match=if_match,
        )
    volunteered = any(type(e).event_name == "kamu-volunteered" for e in decision.events)
    response.status_code = 201 if volunteered else 200
    set_etag(response, decision.version)
    return _out(person_id, decision.state)


@router.get("/kamus/{person_id}", response_model=KamuOut)
async def get_kamu(
    person_id: PersonId, principal: CurrentPrincipal, runtime: RuntimeDep, response: Response
) -> KamuOut:
    """A Kamu's own profile (the Kamu themself or People Operations)."""
    require_self_or(principal, person_id, *ADMINISTERS)
    loaded = await load(runtime.store, registry, KAMU.stream(person_id), KAMU.initial, KAMU.evolve)
    if loaded.state.status == "none":
        raise NotFound(f"Kamu {person_id} not found")
    set_etag(response, loaded.version)
    return _out(person_id, loaded.state)


@router.delete("/kamus/{person_id}", status_code=204, response_class=Response)
async def retire_kamu(
    person_id: PersonId,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Retire: no new pairings; existing ones go on."""
    require_self_or(principal, person_id, *ADMINISTERS)
    async with runtime.pool.acquire() as conn, conn.transaction():
        await decide_and_record(
            conn,
            runtime,
            KAMU,
            person_id,
            kamus.decide_retire,
            kamus.Retire(person_id),
            principal=principal,
            if_match=if_match,
        )
    return Response(status_code=204)


async def _post(
    request: Request,
    runtime: Runtime,
    principal: Principal,
    person_id: str,
    decide: Callable[[kamus.Kamu, Any], Sequence[DomainEvent]],
    command: object,
) -> Response:
    async def execute(conn: Connection) -> CommandResult:
        decision = await decide_and_record(
            conn,
            runtime,
            KAMU,
            person_id,
            decide,
            command,
            principal=principal,
            if_match=request.headers.get("if-match"),
        )
        body = _out(person_id, decision.state).model_dump(mode="json")
        return CommandResult(200, body, {"ETag": f'"v{decision.version}"'})

    return await Idempotency().respond(
        request, runtime.pool, principal=principal.sub, execute=execute
    )


@router.post("/kamus/{person_id}/training", response_model=KamuOut)
async def record_training(
    person_id: PersonId,
    body: TrainingBody,
    request: Request,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
) -> Response:
    """Record a completed Kamu training (People Operations)."""
    require_role(principal, *ADMINISTERS)
    command = kamus.RecordTraining(person_id, body.training, body.completed_on)
    return await _post(request, runtime, principal, person_id, kamus.decide_training, command)


@router.post("/kamus/{person_id}/pause", response_model=KamuOut)
async def pause_kamu(
    person_id: PersonId, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """Take no new requests for now; existing pairings go on."""
    require_self_or(principal, person_id, *ADMINISTERS)
    return await _post(
        request, runtime, principal, person_id, kamus.decide_pause, kamus.Pause(person_id)
    )


@router.post("/kamus/{person_id}/resume", response_model=KamuOut)
async def resume_kamu(
    person_id: PersonId, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """Take requests again."""
    require_self_or(principal, person_id, *ADMINISTERS)
    return await _post(
        request, runtime, principal, person_id, kamus.decide_resume, kamus.Resume(person_id)
    )
