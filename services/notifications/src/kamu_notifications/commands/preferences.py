"""``PUT/GET /people/{id}/preferences``: a person's channels, quiet hours, digest and webhook.

Only the person themself sees or changes them (404 for anyone else). ``PUT`` replaces them
whole, honours ``If-Match``, and records ``preferences-set`` only when something changed.
A webhook address must be ``https`` to a public host (settings open ``http`` and private
hosts for local runs); its signing secret is shown to the person only.
"""

from datetime import time
from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from kamu_notifications.dispatch.http import public_host, signing_key, webhook_secret
from kamu_notifications.domain import preferences as rules
from kamu_notifications.domain.events import ChannelChoice, PreferencesSet, QuietHours
from kamu_notifications.settings import NotificationsSettings, settings_of
from kamu_notifications.state import HANDLING, PREFERENCES, Prefs, person_of, prefs_of
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.auth.principal import Principal
from kamu_shared.runtime import RuntimeDep
from kamu_shared.web.errors import NotFound, Unprocessable
from kamu_shared.web.etag import set_etag
from kamu_shared.web.ids import PersonId

router = APIRouter(tags=["preferences"])
LocalTime = Annotated[
    str,
    Field(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
        description="HH:MM (or HH:MM:SS), local time.",
    ),
]


class ChannelsBody(BaseModel):
    """Channels on or off (all on unless turned off); unknown channels are refused."""

    model_config = ConfigDict(extra="forbid")
    email: StrictBool = True
    slack: StrictBool = True
    teams: StrictBool = True
    webhook: StrictBool = True
    inapp: StrictBool = True


class QuietHoursBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: LocalTime
    end: LocalTime


class PreferencesBody(BaseModel):
    channels: ChannelsBody = Field(default_factory=ChannelsBody)
    quiet_hours: QuietHoursBody | None = Field(
        default=None, description="Messages due inside them wait until they end (inbox aside)."
    )
    webhook_url: Annotated[str | None, Field(max_length=2000)] = None
    digest: Literal["off", "daily"] = Field(
        default="off", description="daily: reminders and nudges come as one message a day."
    )
    digest_at: LocalTime | None = Field(default=None, description="When the digest goes out.")


class QuietHoursOut(BaseModel):
    start: str
    end: str


class PreferencesOut(BaseModel):
    person_id: str
    channels: dict[str, bool]
    quiet_hours: QuietHoursOut | None
    webhook_url: str | None
    webhook_secret: str | None = Field(
        description="Verifies the webhook's signatures (Standard Webhooks); new per address."
    )
    digest: str
    digest_at: str
    time_zone: str | None = Field(description="The zone quiet hours and digests are read in.")
    version: int


def _clock(value: str) -> time:
    return time.fromisoformat(value)


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def check_webhook_url(settings: NotificationsSettings, url: str) -> None:
    """422 for an address the service must not call (wrong scheme, credentials, private host)."""
    if any(c.isspace() or not c.isprintable() for c in url):
        raise Unprocessable(
            "webhook_url must not contain spaces or control characters",
            slug="invalid-webhook-url",
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError as exc:
        raise Unprocessable("webhook_url is not a valid URL", slug="invalid-webhook-url") from exc
    if url.rstrip().endswith("#"):
        raise Unprocessable("webhook_url must not carry a fragment", slug="invalid-webhook-url")
    allowed = ("https", "http") if settings.webhook_allow_http else ("https",)
    if parts.scheme not in allowed or not parts.hostname:
        raise Unprocessable(
            f"webhook_url must be an {' or '.join(allowed)} URL with a host",
            slug="invalid-webhook-url",
        )
    if parts.username or parts.password or parts.fragment:
        raise Unprocessable(
            "webhook_url must not carry credentials or a fragment", slug="invalid-webhook-url"
        )
    try:
        parts.hostname.encode("idna")
    except UnicodeError as exc:
        raise Unprocessable(
            "webhook_url's host is not a valid name", slug="invalid-webhook-url"
        ) from exc
    if parts.port == 0:
        raise Unprocessable("webhook_url must not use port 0", slug="invalid-webhook-url")
    if settings.webhook_allow_private:
        return
    if not public_host(parts.hostname):
        raise Unprocessable(
            "webhook_url must point to a public host", slug="webhook-url-not-public"
        )


def shown(
    person_id: str, prefs: Prefs, settings: NotificationsSettings, zone: str | None
) -> PreferencesOut:
    quiet = prefs.quiet_hours
    return PreferencesOut(
        person_id=person_id,
        channels={str(k): v for k, v in prefs.channels.items()},
        quiet_hours=QuietHoursOut(start=_hhmm(quiet.start), end=_hhmm(quiet.end))
        if quiet
        else None,
        webhook_url=prefs.webhook_url,
        webhook_secret=webhook_secret(settings, person_id, prefs.webhook_url)
        if prefs.webhook_url
        else None,
        digest=prefs.digest,
        digest_at=_hhmm(prefs.digest_at),
        time_zone=zone,
        version=prefs.version,
    )


def _own(principal: Principal, person_id: str) -> None:
    if principal.sub != person_id:
        raise NotFound(f"preferences of {person_id} not found")


@router.get("/people/{person_id}/preferences", response_model=PreferencesOut)
async def get_preferences(
    person_id: PersonId, principal: CurrentPrincipal, runtime: RuntimeDep, response: Response
) -> PreferencesOut:
    """The person's preferences (the defaults until they set any: every channel on)."""
    _own(principal, person_id)
    settings = settings_of(runtime)
    async with runtime.pool.acquire() as conn:
        prefs = await prefs_of(conn, person_id, settings)
        person = await person_of(conn, person_id, settings)
    set_etag(response, prefs.version)
    return shown(person_id, prefs, settings, person.recipient.zone.key if person else None)


@router.put("/people/{person_id}/preferences", response_model=PreferencesOut)
async def put_preferences(
    person_id: PersonId,
    body: PreferencesBody,
    request: Request,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    response: Response,
) -> PreferencesOut:
    """Replace the person's preferences; ``If-Match`` guards against a concurrent change."""
    _own(principal, person_id)
    settings = settings_of(runtime)
    if body.webhook_url is not None:
        check_webhook_url(settings, body.webhook_url)
        if signing_key(settings) is None:
            raise Unprocessable(
                "webhooks are not available here: no signing key is configured",
                slug="webhooks-unavailable",
            )
    quiet = None
    if body.quiet_hours is not None:
        quiet = QuietHours(start=_clock(body.quiet_hours.start), end=_clock(body.quiet_hours.end))
        if quiet.start == quiet.end:
            raise Unprocessable(
                "quiet_hours must not start and end at the same time", slug="empty-quiet-hours"
            )
    command = PreferencesSet(
        person_id=person_id,
        channels=ChannelChoice(**body.channels.model_dump()),
        quiet_hours=quiet,
        webhook_url=body.webhook_url,
        digest=body.digest,
        digest_at=_clock(body.digest_at) if body.digest_at else settings.default_digest_at,
    )
    async with runtime.pool.acquire() as conn, conn.transaction():
        await HANDLING.decide_and_record(
            conn,
            runtime.store,
            PREFERENCES,
            person_id,
            rules.decide_set,
            command,
            actor=principal.sub,
            if_match=request.headers.get("if-match"),
        )
        prefs = await prefs_of(conn, person_id, settings)
        person = await person_of(conn, person_id, settings)
    set_etag(response, prefs.version)
    return shown(person_id, prefs, settings, person.recipient.zone.key if person else None)
