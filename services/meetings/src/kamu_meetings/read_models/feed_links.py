"""Secret links to a person's calendar feed, for calendar clients that cannot send a token.

The link carries ``token = HMAC-SHA256(secret, person id, generation)``; nothing secret is
stored, and rotating the link (a new generation) ends every copy of the old one. The secret is
``KAMU_CALENDAR_FEED_SECRET``, or one derived from ``KAMU_JWT_SECRET`` under its own label.
"""

import base64
import hashlib
import hmac

from fastapi import APIRouter
from pydantic import BaseModel

from kamu_meetings.commands.handling import settings_of
from kamu_meetings.settings import MeetingsSettings
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.auth.policy import authorize
from kamu_shared.db.pool import Connection
from kamu_shared.runtime import RuntimeDep
from kamu_shared.web.errors import Conflict
from kamu_shared.web.ids import PersonId

router = APIRouter(tags=["queries"])
LABEL = b"kamu-meetings calendar feed v1"


class FeedLink(BaseModel):
    url: str
    token: str
    generation: int


def feed_secret(settings: MeetingsSettings) -> bytes | None:
    if settings.calendar_feed_secret is not None:
        return settings.calendar_feed_secret.get_secret_value().encode()
    if settings.jwt_secret is not None:
        jwt = settings.jwt_secret.get_secret_value().encode()
        return hmac.new(jwt, LABEL, hashlib.sha256).digest()
    return None


def feed_token(secret: bytes, person_id: str, generation: int) -> str:
    mac = hmac.new(secret, f"{person_id}\n{generation}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


async def generation(conn: Connection, person_id: str) -> int:
    found = await conn.fetchval(
        "SELECT generation FROM meetings_feed_links WHERE person_id = $1", person_id
    )
    return int(found or 1)


async def token_accepted(
    conn: Connection, settings: MeetingsSettings, person_id: str, token: str
) -> bool:
    secret = feed_secret(settings)
    if secret is None:
        return False
    expected = feed_token(secret, person_id, await generation(conn, person_id))
    return hmac.compare_digest(expected.encode(), token.encode())


def _link(person_id: str, token: str, gen: int) -> FeedLink:
    return FeedLink(
        url=f"/people/{person_id}/calendar.ics?token={token}", token=token, generation=gen
    )


def _secret_or_409(settings: MeetingsSettings) -> bytes:
    secret = feed_secret(settings)
    if secret is None:
        raise Conflict(
            "calendar links need KAMU_CALENDAR_FEED_SECRET on this service",
            slug="calendar-links-unavailable",
        )
    return secret


@router.get("/people/{person_id}/calendar-link", response_model=FeedLink)
async def calendar_link(
    person_id: PersonId, principal: CurrentPrincipal, runtime: RuntimeDep
) -> FeedLink:
    """The person's secret feed link (themself only); paste it into a calendar client."""
    authorize(principal, visible=principal.sub == person_id, allowed=principal.sub == person_id)
    secret = _secret_or_409(settings_of(runtime))
    async with runtime.pool.acquire() as conn:
        gen = await generation(conn, person_id)
    return _link(person_id, feed_token(secret, person_id, gen), gen)


@router.post("/people/{person_id}/calendar-link/rotate", response_model=FeedLink)
async def rotate_calendar_link(
    person_id: PersonId, principal: CurrentPrincipal, runtime: RuntimeDep
) -> FeedLink:
    """A new secret link; every copy of the old one stops working at once."""
    authorize(principal, visible=principal.sub == person_id, allowed=principal.sub == person_id)
    secret = _secret_or_409(settings_of(runtime))
    gen = await runtime.pool.fetchval(
        """INSERT INTO meetings_feed_links (person_id, generation) VALUES ($1, 2)
           ON CONFLICT (person_id) DO UPDATE
               SET generation = meetings_feed_links.generation + 1, rotated_at = now()
           RETURNING generation""",
        person_id,
    )
    return _link(person_id, feed_token(secret, person_id, gen), gen)
