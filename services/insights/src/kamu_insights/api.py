"""The programme figures as JSON for People Operations (and the dashboard).

Every answer carries the figure month by month, over the whole period, and split by a
breakdown; anything describing fewer than ``min_group`` people is ``withheld`` (null values).
"""

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from kamu_insights.figures.catalogue import FIGURES
from kamu_insights.figures.engine import Figure, Kind, compute, present
from kamu_insights.figures.periods import (
    Month,
    add_months,
    month_start,
    months_between,
    parse_month,
)
from kamu_insights.projections.pairing import SCHEMA as PAIRING
from kamu_insights.settings import InsightsSettings
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.auth.policy import authorize
from kamu_shared.runtime import Runtime, RuntimeDep
from kamu_shared.web.errors import NotFound, Unprocessable

router = APIRouter(prefix="/programme", tags=["programme"])
ROLES = ("people-ops", "admin")


class Period(BaseModel):
    from_: str = Field(alias="from", examples=["2026-01"])
    to: str = Field(examples=["2026-12"])


class FigureAnswer(BaseModel):
    figure: str
    title: str
    kind: str = Field(description="stock (at each month's end), flow (during), now")
    people_are: str
    team: str | None
    by: str
    min_group: int
    period: Period
    months: list[dict[str, Any]] = Field(default_factory=list)
    total: dict[str, Any] | None = Field(
        default=None, description="The whole period: its last month (stock) or shown months added"
    )
    now: dict[str, Any] | None = None
    breakdown: list[dict[str, Any]]


class FigureInfo(BaseModel):
    name: str
    title: str
    kind: str
    people_are: str
    breakdowns: list[str]


class Team(BaseModel):
    team: str


def _settings(runtime: Runtime) -> InsightsSettings:
    assert isinstance(runtime.settings, InsightsSettings)
    return runtime.settings


def _allowed(principal: CurrentPrincipal) -> None:
    authorize(
        principal,
        visible=True,
        allowed=principal.has_any_role(*ROLES),
        forbidden="Programme figures are for People Operations.",
    )


def _months(settings: InsightsSettings, first: str | None, last: str | None) -> list[Month]:
    now = datetime.now(UTC)
    this_month = month_start(now.date())
    try:
        end = parse_month(last) if last else this_month
        start = parse_month(first) if first else add_months(end, 1 - settings.default_months)
    except ValueError as exc:
        raise Unprocessable(str(exc)) from None
    if start > end:
        raise Unprocessable(f"The period starts ({start:%Y-%m}) after it ends ({end:%Y-%m}).")
    if end > this_month:
        raise Unprocessable(f"The period ends in the future ({end:%Y-%m}).")
    span = (end.year - start.year) * 12 + end.month - start.month + 1
    if span > settings.max_months:
        raise Unprocessable(f"A period has at most {settings.max_months} months, not {span}.")
    return months_between(start, end, now)


async def answer(
    runtime: Runtime,
    figure: Figure,
    team: str | None,
    by: str | None,
    months: list[Month],
    now: datetime | None = None,
) -> FigureAnswer:
    """One figure for everyone or one team, over ``months``, as of ``now``."""
    settings = _settings(runtime)
    if team is not None:
        if by not in (None, "team") or "team" not in figure.dimensions:
            raise Unprocessable(
                f"{figure.name} for one team has no breakdown by {by}: "
                "its small groups could not be kept apart."
            )
        by = "team"
    by = by or next(iter(figure.dimensions))
    if by not in figure.dimensions:
        raise Unprocessable(
            f"{figure.name} is broken down by {', '.join(figure.dimensions)}, not {by}."
        )
    now = now or datetime.now(UTC)
    result = await compute(runtime.pool, figure, months, now, by, settings.min_group)
    shown = present(result, team)
    period = Period.model_validate({"from": months[0].label, "to": months[-1].label})
    return FigureAnswer(
        figure=figure.name,
        title=figure.title,
        kind=figure.kind.value,
        people_are=figure.people_are,
        team=team,
        by=by,
        min_group=settings.min_group,
        period=period,
        months=shown.get("months", []),
        total=shown.get("period"),
        now=shown.get("now"),
        breakdown=shown["breakdown"],
    )


async def _check_team(runtime: Runtime, team: str | None) -> None:
    if team is not None and not await runtime.pool.fetchval(
        f'SELECT 1 FROM "{PAIRING}".people WHERE team = $1 LIMIT 1',  # noqa: S608
        team,
    ):
        raise Unprocessable(f"No team named {team!r} is known.")


TeamQuery = Annotated[str | None, Query(description="Only this team (as HR names it).")]
FromQuery = Annotated[str | None, Query(alias="from", description="First month, YYYY-MM.")]
ToQuery = Annotated[str | None, Query(alias="to", description="Last month, YYYY-MM.")]


@router.get("/figures", response_model=list[FigureInfo])
async def figures(principal: CurrentPrincipal) -> list[FigureInfo]:
    """Every figure this service computes, and how each can be broken down."""
    _allowed(principal)
    return [
        FigureInfo(
            name=f.name,
            title=f.title,
            kind=f.kind.value,
            people_are=f.people_are,
            breakdowns=list(f.dimensions),
        )
        for f in FIGURES.values()
    ]


@router.get("/teams", response_model=list[Team])
async def teams(principal: CurrentPrincipal, runtime: RuntimeDep) -> list[Team]:
    """Teams with at least ``min_group`` people now, by name only: a size beside the whole
    organisation's headcount would give a withheld team's away."""
    _allowed(principal)
    rows = await runtime.pool.fetch(
        f'SELECT team FROM "{PAIRING}".people '  # noqa: S608
        "WHERE left_at IS NULL AND team IS NOT NULL GROUP BY team HAVING count(*) >= $1 "
        "ORDER BY team",
        _settings(runtime).min_group,
    )
    return [Team(team=r["team"]) for r in rows]


@router.get("/overview", response_model=dict[str, FigureAnswer])
async def overview(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    team: TeamQuery = None,
    first: FromQuery = None,
    last: ToQuery = None,
) -> dict[str, FigureAnswer]:
    """Every figure at once (what the dashboard shows), split by team, goals by category too;
    for one team, the figures that have a team breakdown."""
    _allowed(principal)
    await _check_team(runtime, team)
    months = _months(_settings(runtime), first, last)
    asked = {
        name: (figure, "team" if team else None)
        for name, figure in FIGURES.items()
        if team is None or "team" in figure.dimensions  # notifications are not split by team
    }
    if team is None:
        asked["goals-by-category"] = (FIGURES["goals"], "category")
    # Side by side, a few at a time: the database works on several at once, and the rest of
    # the pool stays free for other requests and the consumers.
    slots = _figure_slots(runtime)

    async def one(figure: Figure, by: str | None) -> FigureAnswer:
        async with slots:
            return await answer(runtime, figure, team, by, months)

    answers = await asyncio.gather(*(one(figure, by) for figure, by in asked.values()))
    return dict(zip(asked, answers, strict=True))


def _figure_slots(runtime: Runtime) -> asyncio.Semaphore:
    """The process's limit on figure queries at once (``KAMU_FIGURE_CONCURRENCY``)."""
    slots = runtime.local.get("figure-slots")
    if not isinstance(slots, asyncio.Semaphore):
        slots = asyncio.Semaphore(_settings(runtime).figure_concurrency)
        runtime.local["figure-slots"] = slots
    return slots


@router.get("/{figure}", response_model=FigureAnswer)
async def one_figure(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    figure: Annotated[str, Path(description="A name from /programme/figures.")],
    team: TeamQuery = None,
    first: FromQuery = None,
    last: ToQuery = None,
    by: Annotated[str | None, Query(description="Breakdown: team, category, channel.")] = None,
) -> FigureAnswer:
    """One figure, month by month, over the period and broken down; small groups withheld."""
    _allowed(principal)
    if figure not in FIGURES:
        raise NotFound(f"No figure named {figure!r}; see /programme/figures.")
    await _check_team(runtime, team)
    months = _months(_settings(runtime), first, last)
    return await answer(runtime, FIGURES[figure], team, by, months)


__all__ = ["Kind", "router"]
