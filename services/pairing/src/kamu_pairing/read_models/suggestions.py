"""``GET /kamus/suggestions?for=&limit=``: the read model behind matching.

The database narrows the volunteers to those that could take one more pairing now (active, a
free place, hours left, trained if required, still here); ``domain.matching`` applies every
eligibility rule again and ranks them, with reasons.
"""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from kamu_pairing.commands.access import ADMINISTERS, require_self_or
from kamu_pairing.commands.handling import RuntimeDep, settings_of
from kamu_pairing.commands.people import PersonId
from kamu_pairing.domain import matching
from kamu_pairing.domain.pairings import monthly_hours
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.web.errors import NotFound

router = APIRouter(tags=["queries"])


class ReasonOut(BaseModel):
    code: str
    detail: str


class SuggestionOut(BaseModel):
    id: str
    display_name: str
    team: str | None
    score: float
    reasons: list[ReasonOut]


class Suggestions(BaseModel):
    items: list[SuggestionOut]


@router.get("/kamus/suggestions", response_model=Suggestions)
async def suggestions(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    for_: Annotated[PersonId, Query(alias="for")],
    limit: Annotated[int, Query(ge=1, le=matching.MAX_LIMIT)] = 10,
    topics: Annotated[list[str] | None, Query(max_length=20)] = None,
) -> Suggestions:
    """Available Kamus for a colleague, best first, with the reasons for each (the colleague
    themself or People Operations); never an ineligible one."""
    require_self_or(principal, for_, *ADMINISTERS)
    settings = settings_of(runtime)
    hours = monthly_hours(settings.default_cadence_weeks, settings.default_meeting_minutes)
    async with runtime.pool.acquire() as conn:
        me = await conn.fetchrow(
            """SELECT p.*, k.languages AS my_languages FROM pairing_people p
               LEFT JOIN pairing_kamus k USING (person_id) WHERE p.person_id = $1""",
            for_,
        )
        if me is None or me["left_at"] is not None:
            raise NotFound(f"person {for_} not found")
        excluded = {
            r["kamu_id"]
            for r in await conn.fetch(
                "SELECT kamu_id FROM pairing_pairings WHERE colleague_id = $1 "
                "AND status IN ('requested', 'active', 'ended')",
                for_,
            )
        }
        rows = await conn.fetch(
            """SELECT k.person_id, k.capacity, k.active_colleagues, k.hours_per_month,
                      k.hours_used, k.topics, k.languages, cardinality(k.trainings) > 0 AS trained,
                      k.status, p.team, p.manager_id, p.time_zone, p.display_name
               FROM pairing_kamus k JOIN pairing_people p USING (person_id)
               WHERE k.status = 'active' AND p.left_at IS NULL
                 AND k.active_colleagues < k.capacity
                 AND k.hours_used + $1 <= k.hours_per_month + 1e-9
                 AND (NOT $2 OR cardinality(k.trainings) > 0)""",
            hours,
            settings.training_required,
        )
    seeker = matching.Seeker(
        person_id=for_,
        team=me["team"],
        manager_id=me["manager_id"],
        time_zone=me["time_zone"],
        languages=frozenset(me["my_languages"] or ()),
        topics=frozenset(topics or ()),
        excluded=frozenset(excluded),
    )
    names = {r["person_id"]: (r["display_name"], r["team"]) for r in rows}
    candidates = [
        matching.Candidate(
            person_id=r["person_id"],
            team=r["team"],
            manager_id=r["manager_id"],
            time_zone=r["time_zone"],
            languages=frozenset(r["languages"]),
            topics=frozenset(r["topics"]),
            capacity=r["capacity"],
            active_colleagues=r["active_colleagues"],
            hours_per_month=r["hours_per_month"],
            hours_used=r["hours_used"],
            trained=r["trained"],
            status=r["status"],
            left=False,
        )
        for r in rows
    ]
    ranked = matching.suggest(
        seeker,
        candidates,
        limit=limit,
        pairing_hours=hours,
        training_required=settings.training_required,
    )
    return Suggestions(
        items=[
            SuggestionOut(
                id=s.person_id,
                display_name=names[s.person_id][0],
                team=names[s.person_id][1],
                score=s.score,
                reasons=[ReasonOut(code=str(r.code), detail=r.detail) for r in s.reasons],
            )
            for s in ranked
        ]
    )
