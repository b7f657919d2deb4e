"""``PUT/GET/DELETE /people/{person_id}``: people synced from HR."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, Field, field_validator

from kamu_pairing.commands.access import SYNCS, require_role, require_self_or
from kamu_pairing.commands.handling import Aggregate, Append, RuntimeDep, decide_and_record
from kamu_pairing.domain import pairings as pairing_rules
from kamu_pairing.domain import people
from kamu_pairing.domain.events import (
    PairingDeclined,
    PairingEnded,
    PairingWithdrawn,
    registry,
)
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.events import DomainEvent
from kamu_shared.store.aggregates import load
from kamu_shared.web.errors import NotFound, Unprocessable
from kamu_shared.web.etag import set_etag
from kamu_shared.web.ids import TIME_ZONES, PersonId
from kamu_shared.web.times import CalendarDate

router = APIRouter(tags=["people"])
PERSON = Aggregate("person", people.Person(), people.evolve)
PAIRING = Aggregate("pairing", pairing_rules.Pairing(), pairing_rules.evolve)
ZONES = TIME_ZONES
JOINED_ON_GRACE = timedelta(days=1)  # HR east of UTC is already in tomorrow


class PersonBody(BaseModel):
    """A person as HR knows them."""

    display_name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    team: str | None = Field(default=None, max_length=200)
    manager_id: PersonId | None = None
    locale: str | None = Field(
        default=None, max_length=35, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"
    )
    time_zone: str | None = None
    slack_user_id: str | None = Field(default=None, max_length=100)
    teams_user_id: str | None = Field(default=None, max_length=200)
    joined_on: CalendarDate | None = Field(
        default=None,
        description="The person's start date in the organisation (YYYY-MM-DD), from HR. "
        "Not in the future (one day of grace for time zones).",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and value not in ZONES:
            raise ValueError("an IANA time zone such as Europe/Helsinki")
        return value


class PersonOut(PersonBody):
    id: str
    left: bool


def _out(person_id: str, state: people.Person) -> PersonOut:
    assert state.profile is not None
    return PersonOut(id=person_id, left=state.left, **vars(state.profile))


@router.put(
    "/people/{person_id}",
    response_model=PersonOut,
    responses={201: {"description": "Registered"}, 200: {"description": "Updated"}},
)
async def put_person(
    person_id: PersonId,
    body: PersonBody,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> PersonOut:
    """Register or update a person from HR (People Operations or a service)."""
    require_role(principal, *SYNCS)
    _check_joined_on(body.joined_on)
    command = people.SyncPerson(person_id, people.Profile(**body.model_dump()))
    async with runtime.pool.acquire() as conn, conn.transaction():
        decision = await decide_and_record(
            conn,
            runtime,
            PERSON,
            person_id,
            people.decide_sync,
            command,
            principal=principal,
            if_match=if_match,
        )
    created = any(type(e).event_name == "person-registered" for e in decision.events)
    response.status_code = 201 if created else 200
    set_etag(response, decision.version)
    return _out(person_id, decision.state)


def _check_joined_on(joined_on: date | None) -> None:
    """A start date HR sends has come: today in UTC, or tomorrow where HR already is."""
    latest = datetime.now(UTC).date() + JOINED_ON_GRACE
    if joined_on is not None and joined_on > latest:
        raise Unprocessable(
            f"joined_on {joined_on} is in the future: a person is synced once they have "
            f"joined, so joined_on may be {latest} at the latest (today in UTC, with one "
            "day of grace for time zones)",
            slug="joined-on-in-the-future",
            title="Start date in the future",
        )


@router.get("/people/{person_id}", response_model=PersonOut)
async def get_person(
    person_id: PersonId, principal: CurrentPrincipal, runtime: RuntimeDep, response: Response
) -> PersonOut:
    """A person's profile: themself, People Operations and services."""
    require_self_or(principal, person_id, *SYNCS)

    loaded = await load(
        runtime.store, registry, PERSON.stream(person_id), PERSON.initial, PERSON.evolve
    )
    if not loaded.state.exists:
        raise NotFound(f"person {person_id} not found")
    set_etag(response, loaded.version)
    return _out(person_id, loaded.state)


@router.delete("/people/{person_id}", status_code=204, response_class=Response)
async def delete_person(
    person_id: PersonId,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Mark a person as left: their active pairings end and their open requests close."""
    require_role(principal, *SYNCS)
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT pairing_id, colleague_id, kamu_id, status, version FROM pairing_pairings "
            "WHERE (colleague_id = $1 OR kamu_id = $1) AND status IN ('requested', 'active')",
            person_id,
        )

    def close_pairings(_state: people.Person) -> list[Append]:
        closing: list[Append] = []
        for row in rows:
            ids = {
                "pairing_id": row["pairing_id"],
                "colleague_id": row["colleague_id"],
                "kamu_id": row["kamu_id"],
            }
            event: DomainEvent
            if row["status"] == "active":
                event = PairingEnded(**ids, ended_by=principal.sub)
            elif row["kamu_id"] == person_id:
                event = PairingDeclined(**ids)
            else:
                event = PairingWithdrawn(**ids)
            closing.append((PAIRING.stream(row["pairing_id"]), PAIRING, [event], row["version"]))
        return closing

    async with runtime.pool.acquire() as conn, conn.transaction():
        await decide_and_record(
            conn,
            runtime,
            PERSON,
            person_id,
            people.decide_leave,
            people.MarkLeft(person_id),
            principal=principal,
            if_match=if_match,
            also=close_pairings,
        )
    return Response(status_code=204)
