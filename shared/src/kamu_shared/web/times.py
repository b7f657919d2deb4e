"""Timestamps as the API contract writes them: RFC 3339 strings with an offset, nothing else.

pydantic alone would also take a number (Unix time) or a string of digits, and a date near
year 1 or 9999 whose conversion to UTC overflows later in the database driver. Fractions
beyond microseconds (.NET sends seven digits) are accepted and truncated.
"""

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def _rfc3339(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError(
            "must be an RFC 3339 date-time with an offset, such as 2026-05-04T10:00:00+03:00 "
            "(in a query string, write + as %2B)"
        )
    return value


def _in_range(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None
    if not 1 < utc.year < 9999:
        raise ValueError("is out of range")
    return value


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _calendar_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("must be a calendar date such as 2026-05-04")
    return value


CalendarDate = Annotated[date, BeforeValidator(_calendar_date)]
"""A date as ``YYYY-MM-DD``: not a number, not a date-time."""

Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339), AfterValidator(_in_range)]
"""An RFC 3339 date-time with an offset, within years 2 to 9998 once in UTC."""
