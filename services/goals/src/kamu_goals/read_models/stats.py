"""Goal aggregates for People Operations: per month and category, small groups withheld.

Per month (UTC) and category: goals set, reviewed and completed, and the share of reviews made
on time. A figure describing fewer than ``min_group`` people is ``null``; the split by category
of each count is withheld as a whole when any part is small (``suppress_breakdown``).
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from kamu_goals.commands.handling import settings_of
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.auth.policy import authorize
from kamu_shared.privacy import small, suppress_breakdown
from kamu_shared.runtime import RuntimeDep

router = APIRouter(tags=["people operations"])
CATEGORIES = ("professional", "personal", "wellbeing", "competence")
STATS_ROLES = ("people-ops", "admin")


class Figure(BaseModel):
    total: int | None
    by_category: dict[str, int | None]


class Month(BaseModel):
    month: date
    set: Figure
    reviewed: Figure
    completed: Figure
    reviewed_on_time_share: float | None


class GoalStats(BaseModel):
    months: list[Month]
    min_group: int


MONTHLY = """
WITH months AS (
    SELECT generate_series(date_trunc('month', now()) - make_interval(months => $1 - 1),
                           date_trunc('month', now()), interval '1 month') AS month
), facts AS (
    SELECT 'set' AS kind, date_trunc('month', set_at) AS month, category, owner_id AS person,
           NULL::boolean AS on_time
    FROM goals_goals
    UNION ALL
    SELECT 'reviewed', date_trunc('month', r.reviewed_at), g.category, g.owner_id, r.on_time
    FROM goals_reviews r JOIN goals_goals g USING (goal_id)
    UNION ALL
    SELECT 'completed', date_trunc('month', closed_at), category, owner_id, NULL
    FROM goals_goals WHERE status = 'completed'
)
SELECT m.month::date AS month, f.kind, f.category, count(f.*) AS n,
       count(DISTINCT f.person) AS people,
       count(*) FILTER (WHERE f.on_time) AS on_time
FROM months m JOIN facts f ON f.month = m.month
GROUP BY GROUPING SETS ((m.month, f.kind, f.category), (m.month, f.kind))
"""


def _figure(rows: dict[tuple[str, str | None], Any], kind: str, min_group: int) -> Figure:
    total = rows.get((kind, None))
    parts = {c: rows[(kind, c)]["n"] if (kind, c) in rows else 0 for c in CATEGORIES}
    few = {
        c for c in CATEGORIES if (kind, c) in rows and small(rows[(kind, c)]["people"], min_group)
    }
    shown_total, shown = suppress_breakdown(
        total["n"] if total else 0, parts, min_group, withhold=few
    )
    if total is not None and small(total["people"], min_group):
        shown_total, shown = None, dict.fromkeys(CATEGORIES)
    return Figure(total=shown_total, by_category=shown)


@router.get("/stats/goals", response_model=GoalStats)
async def goal_stats(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    months: Annotated[int, Query(ge=1, le=36)] = 12,
) -> GoalStats:
    """Goals set, reviewed and completed per month and category; share reviewed on time."""
    authorize(principal, visible=True, allowed=principal.has_any_role(*STATS_ROLES))
    min_group = settings_of(runtime).min_group
    found = await runtime.pool.fetch(MONTHLY, months)
    months_out = []
    for month in await runtime.pool.fetch(
        "SELECT generate_series(date_trunc('month', now()) - make_interval(months => $1 - 1), "
        "date_trunc('month', now()), interval '1 month')::date AS month",
        months,
    ):
        rows = {(r["kind"], r["category"]): r for r in found if r["month"] == month["month"]}
        reviewed = rows.get(("reviewed", None))
        share = None
        if (
            reviewed is not None
            and not small(reviewed["people"], min_group)
            and not small(reviewed["n"], min_group)
        ):
            share = round(reviewed["on_time"] / reviewed["n"], 3)
        months_out.append(
            Month(
                month=month["month"],
                set=_figure(rows, "set", min_group),
                reviewed=_figure(rows, "reviewed", min_group),
                completed=_figure(rows, "completed", min_group),
                reviewed_on_time_share=share,
            )
        )
    return GoalStats(months=months_out, min_group=min_group)
