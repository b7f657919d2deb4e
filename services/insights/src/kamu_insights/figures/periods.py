"""Calendar months (UTC) as figures use them: a period is a run of whole months."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime


@dataclass(frozen=True)
class Month:
    """One month: events in ``[starts, ends)``; stocks measured at ``as_of``."""

    first: date
    starts: datetime
    ends: datetime
    as_of: datetime

    @property
    def label(self) -> str:
        return self.first.strftime("%Y-%m")


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


MONTH = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})")


def parse_month(text: str) -> date:
    """``2026-05`` as its first day (years 1970 to 9998); ValueError otherwise."""
    match = MONTH.fullmatch(text)
    if not match or not 1970 <= int(match["year"]) <= 9998 or not 1 <= int(match["month"]) <= 12:
        raise ValueError(f"{text!r} is not a month written YYYY-MM (1970-01 or later)")
    return date(int(match["year"]), int(match["month"]), 1)


def months_between(first: date, last: date, now: datetime) -> list[Month]:
    """Every month from ``first`` to ``last`` (inclusive); a current month is measured now."""
    result = []
    day = month_start(first)
    while day <= last:
        nxt = add_months(day, 1)
        starts = datetime(day.year, day.month, 1, tzinfo=UTC)
        ends = datetime(nxt.year, nxt.month, 1, tzinfo=UTC)
        result.append(Month(day, starts, ends, min(ends, now)))
        day = nxt
    return result
