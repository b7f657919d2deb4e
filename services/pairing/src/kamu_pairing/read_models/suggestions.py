"""``GET /kamus/suggestions?for=&limit=``: the read model behind matching.

The database narrows the volunteers to those that could take one more pairing now (active, a
free place, hours left, trained if required, still here); ``domain.matching`` applies every
eligibility rule again and ranks them, with reasons. The full list is kept per process and
refreshed in the background when older than ``KAMU_SUGGESTIONS_CACHE_SECONDS`` (5 s) to
shortlist from; the shortlist is then checked and ranked again on fresh rows, so the answer
never contains a Kamu who is not eligible now.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query
from pydantic import BaseModel

from kamu_pairing.commands.access import ADMINISTERS, require_self_or
from kamu_pairing.commands.handling import RuntimeDep, settings_of
from kamu_pairing.domain import matching
from kamu_pairing.domain.pairings import monthly_hours
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.runtime import Runtime
from kamu_shared.web.errors import NotFound
from kamu_shared.web.ids import PersonId

router = APIRouter(tags=["queries"])
log = structlog.get_logger("kamu.pairing.suggestions")

CANDIDATES = """SELECT k.person_id, k.capacity, k.active_colleagues, k.hours_per_month,
       k.hours_used, k.topics, k.languages, cardinality(k.trainings) > 0 AS trained,
       k.status, p.team, p.manager_id, p.time_zone, p.display_name
FROM pairing_kamus k JOIN pairing_people p USING (person_id)
WHERE k.status = 'active' AND p.left_at IS NULL AND k.active_colleagues < k.capacity
  AND k.hours_used + $1 <= k.hours_per_month + 1e-9
  AND (NOT $2 OR cardinality(k.trainings) > 0)"""


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


@dataclass(frozen=True)
class CandidatePool:
    """Everyone who could take a colleague, as of ``loaded_at`` (a per-process copy)."""

    loaded_at: float
    key: tuple[float, bool]
    candidates: list[matching.Candidate]


@dataclass
class _Copies:
    """The process's copy of the volunteers and the refresh under way, in ``runtime.local``."""

    pool: CandidatePool | None = None
    refreshing: "asyncio.Task[CandidatePool] | None" = None


def _copies(runtime: Runtime) -> _Copies:
    copies: _Copies = runtime.local.setdefault("suggestions", _Copies())
    return copies


async def candidate_pool(
    runtime: Runtime, hours: float, training_required: bool, max_age: float
) -> CandidatePool:
    """The volunteers a shortlist is drawn from.

    A copy older than ``max_age`` is still served while a fresh one loads in the background
    (the shortlist is re-checked on fresh rows anyway), so no request waits for the reload;
    only the first request of a process, or ``max_age=0``, loads before answering.
    """
    key = (hours, training_required)
    copies = _copies(runtime)
    cached = copies.pool
    if cached is None or cached.key != key or max_age == 0:
        return await _load(runtime, key)
    if time.monotonic() - cached.loaded_at > max_age and copies.refreshing is None:
        copies.refreshing = asyncio.create_task(_load(runtime, key))
        copies.refreshing.add_done_callback(lambda task: _refreshed(copies, task))
    return cached


def _refreshed(copies: _Copies, task: "asyncio.Task[CandidatePool]") -> None:
    """A failed refresh must not stop later ones; the old copy serves until one succeeds."""
    copies.refreshing = None
    if not task.cancelled() and task.exception() is not None:
        log.warning("suggestions-refresh-failed", error=repr(task.exception()))


async def _load(runtime: Runtime, key: tuple[float, bool]) -> CandidatePool:
    rows = await runtime.pool.fetch(CANDIDATES, *key)
    # Built in a thread: thousands of objects would otherwise hold the event loop for tens of
    # milliseconds while other requests wait.
    candidates = await asyncio.to_thread(lambda: [_candidate(r) for r in rows])
    pool = CandidatePool(time.monotonic(), key, candidates)
    copies = _copies(runtime)
    copies.pool, copies.refreshing = pool, None
    return pool


def _candidate(r: Any) -> matching.Candidate:
    return matching.Candidate(
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


async def _seeker(runtime: Runtime, person_id: str, topics: list[str] | None) -> matching.Seeker:
    async with runtime.pool.acquire() as conn:
        me = await conn.fetchrow(
            """SELECT p.team, p.manager_id, p.time_zone, p.left_at, k.languages
               FROM pairing_people p LEFT JOIN pairing_kamus k USING (person_id)
               WHERE p.person_id = $1""",
            person_id,
        )
        if me is None or me["left_at"] is not None:
            raise NotFound(f"person {person_id} not found")
        excluded = await conn.fetch(
            "SELECT kamu_id FROM pairing_pairings WHERE colleague_id = $1 "
            "AND status IN ('requested', 'active', 'ended')",
            person_id,
        )
    return matching.Seeker(
        person_id=person_id,
        team=me["team"],
        manager_id=me["manager_id"],
        time_zone=me["time_zone"],
        languages=frozenset(me["languages"] or ()),
        topics=frozenset(topics or ()),
        excluded=frozenset(r["kamu_id"] for r in excluded),
    )


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
    required = settings.training_required
    seeker = await _seeker(runtime, for_, topics)
    pool = await candidate_pool(
        runtime, hours, settings.training_required, settings.suggestions_cache_seconds
    )
    wide = min(matching.MAX_LIMIT, 3 * limit)
    shortlist = matching.suggest(
        seeker, pool.candidates, limit=wide, pairing_hours=hours, training_required=required
    )
    fresh = await runtime.pool.fetch(
        CANDIDATES + " AND k.person_id = ANY($3::text[])",
        hours,
        settings.training_required,
        [s.person_id for s in shortlist],
    )
    ranked = matching.suggest(
        seeker,
        [_candidate(r) for r in fresh],
        limit=limit,
        pairing_hours=hours,
        training_required=required,
    )
    if len(ranked) < limit and len(shortlist) == wide:
        # Too many shortlisted Kamus changed since the copy was taken: rank everyone afresh.
        everyone = await candidate_pool(runtime, hours, settings.training_required, 0)
        ranked = matching.suggest(
            seeker,
            everyone.candidates,
            limit=limit,
            pairing_hours=hours,
            training_required=required,
        )
        fresh = await runtime.pool.fetch(
            CANDIDATES + " AND k.person_id = ANY($3::text[])",
            hours,
            settings.training_required,
            [s.person_id for s in ranked],
        )
    names = {r["person_id"]: (r["display_name"], r["team"]) for r in fresh}
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
            if s.person_id in names
        ]
    )
