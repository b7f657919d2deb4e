"""Queries: a pairing, a person's pairings, available Kamus, programme coverage."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from kamu_pairing.commands.access import ADMINISTERS, administers, require_role, require_self_or
from kamu_pairing.commands.handling import RuntimeDep, settings_of
from kamu_pairing.commands.pairings import PairingId
from kamu_pairing.read_models.pairings import PairingOut, pairing_row, shown, visible
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.web.errors import NotFound
from kamu_shared.web.ids import PersonId
from kamu_shared.web.pagination import Page, PageQuery, cursor_text, encode_cursor

router = APIRouter(tags=["queries"])


class PersonPairings(BaseModel):
    """A person's current Kamu, the colleagues they support, and open requests."""

    kamu: PairingOut | None
    colleagues: list[PairingOut]
    pending: list[PairingOut]


class AvailableKamu(BaseModel):
    id: str
    display_name: str
    team: str | None
    time_zone: str | None
    topics: list[str]
    languages: list[str]
    trained: bool
    status: str
    free_places: int
    free_hours: float
    load_ratio: float


class TeamCoverage(BaseModel):
    team: str
    people: int
    with_kamu: int
    kamus: int


class Coverage(BaseModel):
    """Programme health for People Operations; teams under the minimum group are suppressed."""

    people: int
    with_kamu: int
    without_kamu: int
    kamus: int
    kamu_places_used: int
    kamu_places: int
    teams: list[TeamCoverage]
    suppressed_teams: int
    min_group: int


@router.get("/pairings/{pairing_id}", response_model=PairingOut)
async def get_pairing(
    pairing_id: PairingId, principal: CurrentPrincipal, runtime: RuntimeDep
) -> PairingOut:
    """A pairing: its two people and People Operations (without the request message)."""
    async with runtime.pool.acquire() as conn:
        row = await pairing_row(conn, pairing_id)
    if row is None or not visible(principal, row):
        raise NotFound(f"pairing {pairing_id} not found")
    return shown(principal, row)


@router.get("/people/{person_id}/pairings", response_model=PersonPairings)
async def person_pairings(
    person_id: PersonId, principal: CurrentPrincipal, runtime: RuntimeDep
) -> PersonPairings:
    """The person's current Kamu, their colleagues and pending requests (themself or People
    Operations)."""
    require_self_or(principal, person_id, *ADMINISTERS)
    known = await runtime.pool.fetchval(
        "SELECT 1 FROM pairing_people WHERE person_id = $1", person_id
    )
    if not known:
        raise NotFound(f"person {person_id} not found")
    rows = await runtime.pool.fetch(
        "SELECT * FROM pairing_pairings WHERE (colleague_id = $1 OR kamu_id = $1) "
        "AND status IN ('requested', 'active') ORDER BY requested_at, pairing_id",
        person_id,
    )
    kamu = next(
        (r for r in rows if r["status"] == "active" and r["colleague_id"] == person_id), None
    )
    return PersonPairings(
        kamu=shown(principal, kamu) if kamu else None,
        colleagues=[
            shown(principal, r)
            for r in rows
            if r["status"] == "active" and r["kamu_id"] == person_id
        ],
        pending=[shown(principal, r) for r in rows if r["status"] == "requested"],
    )


@router.get("/kamus", response_model=Page[AvailableKamu])
async def list_kamus(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    page: PageQuery,
    available: bool = False,
    near_limit: Annotated[bool, Query()] = False,
) -> Page[AvailableKamu]:
    """Kamus by id: ``available=true`` those taking colleagues now (free place and hours,
    trained if required); ``near_limit=true`` (People Operations) those at or near their limit."""
    if near_limit or not available:
        require_role(principal, *ADMINISTERS)
    settings = settings_of(runtime)
    after = cursor_text(page.cursor, "after") or ""
    rows = await runtime.pool.fetch(
        """SELECT k.*, p.display_name, p.team, p.time_zone,
                  greatest(k.active_colleagues::float / k.capacity,
                           k.hours_used / k.hours_per_month) AS load_ratio
           FROM pairing_kamus k JOIN pairing_people p USING (person_id)
           WHERE k.person_id > $1 AND p.left_at IS NULL
             AND (NOT $2 OR (k.status = 'active' AND k.active_colleagues < k.capacity
                             AND k.hours_used < k.hours_per_month
                             AND (NOT $3 OR cardinality(k.trainings) > 0)))
             AND (NOT $4 OR greatest(k.active_colleagues::float / k.capacity,
                                     k.hours_used / k.hours_per_month) >= $5)
           ORDER BY k.person_id LIMIT $6""",
        after,
        available,
        settings.training_required,
        near_limit,
        settings.near_limit_ratio,
        page.limit + 1,
    )
    items = [_available(r) for r in rows[: page.limit]]
    more = len(rows) > page.limit
    return Page(
        items=items, next_cursor=encode_cursor({"after": items[-1].id}) if more and items else None
    )


def _available(row: Any) -> AvailableKamu:
    return AvailableKamu(
        id=row["person_id"],
        display_name=row["display_name"],
        team=row["team"],
        time_zone=row["time_zone"],
        topics=list(row["topics"]),
        languages=list(row["languages"]),
        trained=bool(row["trainings"]),
        status=row["status"],
        free_places=max(0, row["capacity"] - row["active_colleagues"]),
        free_hours=round(max(0.0, row["hours_per_month"] - row["hours_used"]), 2),
        load_ratio=round(row["load_ratio"], 3),
    )


@router.get("/coverage", response_model=Coverage)
async def coverage(principal: CurrentPrincipal, runtime: RuntimeDep) -> Coverage:
    """Who has a Kamu, how loaded Kamus are, by team; groups under the minimum are suppressed."""
    require_role(principal, *ADMINISTERS, visible=administers(principal))
    minimum = settings_of(runtime).coverage_min_group
    rows = await runtime.pool.fetch(
        """SELECT p.team,
                  count(*) AS people,
                  count(*) FILTER (WHERE EXISTS (SELECT 1 FROM pairing_pairings x
                      WHERE x.colleague_id = p.person_id AND x.status = 'active')) AS with_kamu,
                  count(k.person_id) FILTER (WHERE k.status <> 'retired') AS kamus,
                  coalesce(sum(k.active_colleagues) FILTER (WHERE k.status <> 'retired'), 0)
                      AS used,
                  coalesce(sum(k.capacity) FILTER (WHERE k.status <> 'retired'), 0) AS places
           FROM pairing_people p LEFT JOIN pairing_kamus k USING (person_id)
           WHERE p.left_at IS NULL
           GROUP BY p.team"""
    )
    totals = {
        key: sum(r[key] for r in rows) for key in ("people", "with_kamu", "kamus", "used", "places")
    }
    shown_teams = [r for r in rows if r["team"] is not None and r["people"] >= minimum]
    return Coverage(
        people=totals["people"],
        with_kamu=totals["with_kamu"],
        without_kamu=totals["people"] - totals["with_kamu"],
        kamus=totals["kamus"],
        kamu_places_used=totals["used"],
        kamu_places=totals["places"],
        teams=[
            TeamCoverage(
                team=r["team"], people=r["people"], with_kamu=r["with_kamu"], kamus=r["kamus"]
            )
            for r in sorted(shown_teams, key=lambda r: r["team"])
        ],
        suppressed_teams=len([r for r in rows if r["team"] is None or r["people"] < minimum]),
        min_group=minimum,
    )
