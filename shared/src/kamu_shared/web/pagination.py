"""Keyset pagination: ``?limit=&cursor=`` in, ``{"items": [...], "next_cursor": ...}`` out.

A cursor is URL-safe base64 (unpadded) of compact JSON naming the last position served, e.g.
``{"id": "..."}``. Clients treat it as opaque; services treat the decoded values as untrusted
input (they are not signed) and use them only as query parameters.
"""

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from kamu_shared.web.errors import BadRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 2048
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]*")

T = TypeVar("T")


def encode_cursor(position: Mapping[str, Any]) -> str:
    """An opaque cursor for ``position`` (JSON-able values only)."""
    raw = json.dumps(dict(position), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _invalid() -> BadRequest:
    return BadRequest(
        "The cursor is not one this service issued; start again without a cursor.",
        slug="invalid-cursor",
        title="Invalid cursor",
    )


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The position inside ``cursor``; a 400 ``invalid-cursor`` problem if it is malformed."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not _URL_SAFE.fullmatch(cursor):
        raise _invalid()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError included
        raise _invalid() from None
    if not isinstance(position, dict) or not _storable(position):
        raise _invalid()
    return position


def _storable(value: Any) -> bool:
    """No text PostgreSQL would refuse (NUL, lone surrogates from ``\\ud800`` escapes)."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v) for v in value)
    return True


def cursor_text(cursor: str | None, key: str) -> str | None:
    """One text member of a cursor (None without a cursor); 400 if it is missing or not text."""
    if cursor is None:
        return None
    value = decode_cursor(cursor).get(key)
    if not isinstance(value, str) or "\x00" in value:
        raise _invalid()
    return value


@dataclass(frozen=True)
class PageParams:
    """What a list route was asked for."""

    limit: int
    cursor: str | None

    def position(self) -> dict[str, Any] | None:
        """The decoded cursor (None on the first page); 400 if malformed."""
        return None if self.cursor is None else decode_cursor(self.cursor)


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = (
        DEFAULT_LIMIT
    ),
    cursor: Annotated[
        str | None,
        Query(description="next_cursor of the previous page."),
    ] = None,
) -> PageParams:
    """The ``limit`` and ``cursor`` query parameters (out-of-range limit: 422)."""
    return PageParams(limit=limit, cursor=cursor or None)


PageQuery = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    """One page of a list; ``next_cursor`` is null on the last page."""

    items: list[T]
    next_cursor: str | None = None


def paginate(rows: Sequence[T], limit: int, position: Callable[[T], Mapping[str, Any]]) -> Page[T]:
    """A page from up to ``limit + 1`` rows fetched in order (the extra row says more exist)."""
    items = list(rows[:limit])
    more = len(rows) > limit and bool(items)
    return Page(items=items, next_cursor=encode_cursor(position(items[-1])) if more else None)
