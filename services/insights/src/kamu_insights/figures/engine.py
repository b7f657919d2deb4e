"""From fact rows to the figures People Operations sees.

A figure's SQL gives, per month (or once, for "now") and per group (``grp``; NULL for the whole
organisation), how many people the cell describes (``people``) and additive values (counts,
sums, lists of durations). This module withholds small cells (:mod:`.suppression`), adds cells
up over a period (shown months only) and derives the shares, averages and medians.
"""

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg

from kamu_insights.figures.periods import Month
from kamu_insights.figures.suppression import breakdown, small

Values = dict[str, Any]
WORK_MEM = "32MB"  # per sort or hash; a few figures run at once (figure_concurrency)


class Kind(StrEnum):
    STOCK = "stock"  # measured at each month's end: the period shows its last month
    FLOW = "flow"  # happened during each month: the period adds up its months
    NOW = "now"  # measured once, now


@dataclass(frozen=True)
class Figure:
    """One figure: its SQL (``{group}`` is the breakdown's expression) and how to read it."""

    name: str
    title: str
    kind: Kind
    sql: str
    dimensions: Mapping[str, str]  # breakdown name -> SQL expression of the group
    derive: Callable[[Values], Values]
    people_are: str  # what ``people`` counts, for the docs and the dashboard
    lists: Sequence[str] = ()  # values that are lists (added by concatenation)
    # Breakdowns whose groups may share people (a person sets goals in two categories): their
    # groups' ``people`` are not shown, or groups beside the whole would count the overlap.
    overlapping: frozenset[str] = frozenset()


@dataclass
class Cell:
    people: int
    values: Values
    withheld: bool = False

    def shown(self) -> Values:
        """The cell as the API answers it: nothing but ``withheld`` when withheld."""
        if self.withheld:
            return {"people": None, "withheld": True}
        return {"people": self.people, "withheld": False, **self.values}


@dataclass
class Result:
    """Cells by month (``None``: the "now" figure) and group (``None``: everyone)."""

    figure: Figure
    months: Sequence[Month]
    by: str
    cells: dict[tuple[int | None, str | None], Cell] = field(default_factory=dict)
    counts: list[str] = field(default_factory=list)  # value names an empty cell shows as 0


def combine(cells: Sequence[Cell], figure: Figure) -> Cell | None:
    """Several shown cells as one (adding values up); ``None`` if there is nothing to add."""
    shown = [c for c in cells if not c.withheld and c.people > 0]
    if not shown:
        return None
    total: Values = {}
    for cell in shown:
        for key, value in cell.values.items():
            if key in figure.lists:
                total[key] = [*total.get(key, []), *(value or [])]
            else:
                total[key] = total.get(key, 0) + (value or 0)
    # People across months may repeat: the largest month is a lower bound (each was >= k).
    return Cell(people=max(c.people for c in shown), values=total)


async def compute(
    pool: asyncpg.Pool,
    figure: Figure,
    months: Sequence[Month],
    now: datetime,
    by: str,
    k: int,
) -> Result:
    """Run the figure's SQL and withhold what describes fewer than ``k`` people."""
    result = Result(figure, months, by)
    groups = await _cells(pool, figure, months, now, by, result)
    for month, cells in groups.items():
        whole = result.cells.get((month, None))
        whole_withheld, withheld = breakdown(
            whole.people if whole else 0, {g: c.people for g, c in cells.items()}, k
        )
        for group in withheld:
            cells[group].withheld = True
        if whole is not None:
            whole.withheld = whole_withheld
    for other in figure.dimensions:
        if other == by:
            continue
        # The whole is one number whichever breakdown it is shown beside: withheld if any
        # breakdown must withhold it.
        shadow = Result(figure, months, other)
        for month, cells in (await _cells(pool, figure, months, now, other, shadow)).items():
            whole = result.cells.get((month, None))
            other_whole = shadow.cells.get((month, None))
            count = other_whole.people if other_whole else 0
            if (
                whole is not None
                and breakdown(count, {g: c.people for g, c in cells.items()}, k)[0]
            ):
                whole.withheld = True
    for (_, name), cell in result.cells.items():
        if name is None and small(cell.people, k):
            cell.withheld = True
    for month, cells in groups.items():
        whole = result.cells.get((month, None))
        if whole is None or whole.withheld:
            for cell in cells.values():  # the groups would add up to the withheld whole
                cell.withheld = True
    return result


async def _cells(
    pool: asyncpg.Pool,
    figure: Figure,
    months: Sequence[Month],
    now: datetime,
    by: str,
    result: Result,
) -> dict[int | None, dict[str, Cell]]:
    """The SQL's rows as cells in ``result``; returns the groups' cells by month."""
    args = ([m.starts for m in months], [m.ends for m in months], [m.as_of for m in months], now)
    skip = ("i", "grp", "people", "whole")
    async with pool.acquire() as c, c.transaction():
        # Distinct counts per group sort every fact row of the period: in memory, not on disk.
        await c.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        statement = await c.prepare(figure.sql.format(group=figure.dimensions[by]))
        rows = await statement.fetch(*args)
        # Known from the statement even when no row came back: an empty cell shows them as 0.
        result.counts = [
            a.name
            for a in statement.get_attributes()
            if a.name not in skip and a.name not in figure.lists
        ]
    by_month: dict[int | None, dict[str, Cell]] = {}
    for row in rows:
        month = None if figure.kind is Kind.NOW else int(row["i"]) - 1
        values = {key: row[key] for key in row.keys() if key not in skip}  # noqa: SIM118 - a Record iterates values
        values = {
            key: ([float(x) for x in value or []] if key in figure.lists else _number(value))
            for key, value in values.items()
        }
        cell = Cell(people=int(row["people"]), values=values)
        if row["whole"]:
            result.cells[(month, None)] = cell
        else:
            group = str(row["grp"])  # '' for people without a team: no name can collide
            by_month.setdefault(month, {})[group] = cell
            result.cells[(month, group)] = cell
    return by_month


def _number(value: Any) -> Any:
    if value is None:
        return 0
    if isinstance(value, int | float):
        return value
    return float(value)  # Decimal from sums


def present(result: Result, group: str | None) -> dict[str, Any]:
    """The figure for one group (or everyone): months, the period, and the breakdown."""
    figure = result.figure
    hide_people = result.by in figure.overlapping

    def view(cell: Cell | None) -> Values:
        if cell is None:
            zeros = dict.fromkeys(result.counts, 0)
            return {"people": 0, "withheld": False, **zeros, **figure.derive({})}
        shown = cell.shown()
        if cell.withheld:
            return {**shown, **dict.fromkeys(result.counts), **dict.fromkeys(figure.derive({}))}
        return {**shown, **figure.derive(cell.values)}

    def raw(shown: Values) -> Values:
        return {k: v for k, v in shown.items() if k not in figure.lists}

    def part(name: str, shown: Values) -> Values:
        return {"group": name, **shown, **({"people": None} if hide_people else {})}

    if figure.kind is Kind.NOW:
        groups = sorted({g for (_, g) in result.cells if g is not None})
        return {
            "now": raw(view(result.cells.get((None, group)))),
            "breakdown": [{"group": g, **raw(view(result.cells.get((None, g))))} for g in groups],
        }
    months = [
        {"month": m.label, **raw(view(result.cells.get((i, group))))}
        for i, m in enumerate(result.months)
    ]
    groups = sorted({g for (_, g) in result.cells if g is not None})
    if figure.kind is Kind.STOCK:
        last = len(result.months) - 1
        period = raw(view(result.cells.get((last, group))))
        breakdown = [part(g, raw(view(result.cells.get((last, g))))) for g in groups]
    else:
        span = range(len(result.months))

        def over_period(g: str | None) -> Values:
            cells = _in_span(result, span, g)
            withheld = sum(1 for c in cells if c.withheld)
            combined = combine(cells, figure)
            if combined is None and withheld:
                combined = Cell(0, {}, withheld=True)
            return {**raw(view(combined)), "months_withheld": withheld}

        period = over_period(group)
        breakdown = [part(g, over_period(g)) for g in groups]
    return {"months": months, "period": period, "breakdown": breakdown}


def _in_span(result: Result, months: range, group: str | None) -> list[Cell]:
    return [c for i in months if (c := result.cells.get((i, group))) is not None]


def share(part: float, whole: float) -> float | None:
    return round(part / whole, 3) if whole else None


def average(total: float, count: float) -> float | None:
    return round(total / count, 2) if count else None


def median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def percentile(values: Sequence[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)
