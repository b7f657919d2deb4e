"""Programme aggregates for People Operations: never a person, never a small group.

Every figure describing fewer than ``min_group`` people (or answers) is withheld (``null``),
and breakdowns never withhold exactly one part (see ``kamu_shared.privacy``).
"""

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from kamu_meetings.commands.handling import settings_of
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.auth.policy import authorize
from kamu_shared.privacy import small, suppress, suppress_breakdown
from kamu_shared.runtime import RuntimeDep

router = APIRouter(tags=["people operations"])
STATS_ROLES = ("people-ops", "admin")


class Ratings(BaseModel):
    answers: int | None
    psychological_safety: float | None
    usefulness: float | None


class Month(BaseModel):
    month: date
    meetings_held: int | None
    people_met: int | None
    pairings_started: int | None
    first_meetings: int | None
    days_to_first_meeting_median: float | None
    feedback: Ratings
    feedback_by_respondent: dict[str, Ratings]


class MeetingStats(BaseModel):
    months: list[Month]
    min_group: int


class CadenceStats(BaseModel):
    """Counts only: which pairings drift is the pair's business, not People Operations'."""

    active_pairings: int | None
    never_met: int | None
    on_track: int | None
    overdue: int | None
    overdue_by_lapse: dict[str, int | None]
    min_group: int


def _ratings(figures: dict[str, Any], shown: int | None) -> Ratings:
    if shown is None:
        return Ratings(answers=None, psychological_safety=None, usefulness=None)
    ps, use = figures["ps"], figures["use"]
    return Ratings(
        answers=shown,
        psychological_safety=round(ps, 2) if ps is not None else None,
        usefulness=round(use, 2) if use is not None else None,
    )


MONTHLY = """
WITH months AS (
    SELECT generate_series(date_trunc('month', now()) - make_interval(months => $1 - 1),
                           date_trunc('month', now()), interval '1 month') AS month
), held AS (
    SELECT date_trunc('month', starts_at) AS month, count(DISTINCT person) AS people
    FROM meetings_meetings, unnest(ARRAY[colleague_id, kamu_id]) AS person
    WHERE status = 'held' GROUP BY 1
), held_count AS (
    SELECT date_trunc('month', starts_at) AS month, count(*) AS meetings
    FROM meetings_meetings WHERE status = 'held' GROUP BY 1
), started AS (
    SELECT date_trunc('month', p.paired_at) AS month, count(*) AS pairings,
           count(f.first_held) AS first_meetings,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM f.first_held - p.paired_at) / 86400.0
           ) FILTER (WHERE f.first_held IS NOT NULL) AS median_days
    FROM meetings_pairings p
    LEFT JOIN LATERAL (SELECT min(starts_at) AS first_held FROM meetings_meetings m
                       WHERE m.pairing_id = p.pairing_id AND m.status = 'held') f ON true
    WHERE p.paired_at IS NOT NULL
    GROUP BY 1
), ratings AS (
    -- Answers stay anonymous; who gave them is looked up only to count distinct people.
    SELECT date_trunc('month', f.given_at) AS month, f.respondent, count(*) AS answers,
           count(DISTINCT CASE WHEN f.respondent = 'colleague' THEN m.colleague_id
                               ELSE m.kamu_id END) AS people,
           avg(f.psychological_safety) AS ps, avg(f.usefulness) AS use
    FROM meetings_feedback f JOIN meetings_meetings m USING (meeting_id)
    GROUP BY GROUPING SETS ((1, 2), (1))
)
SELECT m.month::date AS month, coalesce(hc.meetings, 0) AS meetings,
       coalesce(h.people, 0) AS people, coalesce(s.pairings, 0) AS pairings,
       coalesce(s.first_meetings, 0) AS first_meetings, s.median_days,
       coalesce((SELECT json_agg(json_build_object('respondent', r.respondent,
                    'answers', r.answers, 'people', r.people, 'ps', r.ps, 'use', r.use))
                 FROM ratings r WHERE r.month = m.month), '[]') AS ratings
FROM months m
LEFT JOIN held h ON h.month = m.month
LEFT JOIN held_count hc ON hc.month = m.month
LEFT JOIN started s ON s.month = m.month
ORDER BY m.month
"""


ROLES = ("colleague", "kamu")
WITHHELD = Ratings(answers=None, psychological_safety=None, usefulness=None)


def _withheld() -> tuple[Ratings, dict[str, Ratings]]:
    return WITHHELD, dict.fromkeys(ROLES, WITHHELD)


def _feedback(
    ratings: Sequence[dict[str, Any]], min_group: int
) -> tuple[Ratings, dict[str, Ratings]]:
    """Averages of at least ``min_group`` answers from at least ``min_group`` people; the split
    by respondent only when no part of it is small (see ``suppress_breakdown``)."""
    empty: dict[str, Any] = {"answers": 0, "people": 0, "ps": None, "use": None}
    total = next((r for r in ratings if r["respondent"] is None), empty)
    parts = {role: next((r for r in ratings if r["respondent"] == role), empty) for role in ROLES}
    few_people = {role for role, r in parts.items() if small(r["people"], min_group)}
    shown_total, shown_parts = suppress_breakdown(
        total["answers"],
        {role: r["answers"] for role, r in parts.items()},
        min_group,
        withhold=few_people,
    )
    if small(total["people"], min_group):
        shown_total = None
    return (
        _ratings(total, shown_total),
        {role: _ratings(parts[role], shown_parts[role]) for role in ROLES},
    )


def _month(row: Any, min_group: int, *, feedback_shown: bool) -> Month:
    feedback, by_respondent = (
        _feedback(row["ratings"], min_group) if feedback_shown else _withheld()
    )
    people = suppress(row["people"], min_group)
    started, met = suppress_breakdown(
        row["pairings"],
        {"met": row["first_meetings"], "not_yet": row["pairings"] - row["first_meetings"]},
        min_group,
    )
    first = met["met"]
    return Month(
        month=row["month"],
        meetings_held=row["meetings"] if people is not None else None,
        people_met=people,
        pairings_started=started,
        first_meetings=first,
        days_to_first_meeting_median=(
            round(row["median_days"], 1)
            if first is not None and row["median_days"] is not None
            else None
        ),
        feedback=feedback,
        feedback_by_respondent=by_respondent,
    )


@router.get("/stats/meetings", response_model=MeetingStats)
async def meeting_stats(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    months: Annotated[int, Query(ge=1, le=36)] = 12,
) -> MeetingStats:
    """Per month (UTC): meetings held, pairings started and the days to their first meeting,
    feedback averages by the month the answers were given (closed months only: in a running
    month one more answer could be singled out from the change of the average); small groups
    withheld."""
    authorize(principal, visible=True, allowed=principal.has_any_role(*STATS_ROLES))
    settings = settings_of(runtime)
    min_group = settings.min_group
    rows = await runtime.pool.fetch(MONTHLY, months)
    current = rows[-1]["month"] if rows else None
    return MeetingStats(
        months=[
            _month(
                r,
                min_group,
                feedback_shown=r["month"] != current or settings.stats_running_month_feedback,
            )
            for r in rows
        ],
        min_group=min_group,
    )


@router.get("/stats/cadence", response_model=CadenceStats)
async def cadence_stats(principal: CurrentPrincipal, runtime: RuntimeDep) -> CadenceStats:
    """How many active pairings keep their cadence, have never met, or drift (by lapse)."""
    authorize(principal, visible=True, allowed=principal.has_any_role(*STATS_ROLES))
    min_group = settings_of(runtime).min_group
    row = await runtime.pool.fetchrow(
        """SELECT count(*) AS active,
                  count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM meetings_meetings m
                        WHERE m.pairing_id = c.pairing_id AND m.status = 'held')) AS never_met,
                  count(*) FILTER (WHERE lapses = 0) AS on_track,
                  count(*) FILTER (WHERE lapses = 1) AS lapse1,
                  count(*) FILTER (WHERE lapses = 2) AS lapse2,
                  count(*) FILTER (WHERE lapses >= 3) AS lapse3
           FROM meetings_cadence c WHERE active"""
    )
    assert row is not None
    active = row["active"]
    overdue = row["lapse1"] + row["lapse2"] + row["lapse3"]
    overdue_shown, lapses = suppress_breakdown(
        overdue, {"1": row["lapse1"], "2": row["lapse2"], "3+": row["lapse3"]}, min_group
    )
    _, met = suppress_breakdown(
        active, {"met": active - row["never_met"], "never_met": row["never_met"]}, min_group
    )
    active_shown, track = suppress_breakdown(
        active,
        {"on_track": row["on_track"], "overdue": overdue},
        min_group,
        withhold={"overdue"} if overdue_shown is None else (),
    )
    if track["overdue"] is None:
        lapses = dict.fromkeys(lapses)
    return CadenceStats(
        active_pairings=active_shown,
        never_met=met["never_met"],
        on_track=track["on_track"],
        overdue=track["overdue"],
        overdue_by_lapse=lapses,
        min_group=min_group,
    )
