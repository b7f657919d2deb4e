"""Notifications as words: Jinja2 templates per kind and locale, dates by Babel.

Each kind has a template per locale (``templates/<locale>/<kind>.j2``) with a ``subject`` and
a ``body`` block; the email's HTML part wraps the same body. An unknown locale falls back to
the default. Times are shown in the recipient's zone, in their locale's format.

A message is never written with a blank. Names come from pairing's topic, which may not have
reached this service yet when a meeting's or goal's event has: a name not known (or blank) is
passed as :class:`Unknown`, which raises :class:`Incomplete` naming it on any use (printed,
tested, filtered), and every value a template prints goes through a check that refuses
``None`` and blank text. So what a message needs is what its template uses, and a message
missing any of it raises instead of going out half-filled; the dispatcher waits for the data
(bounded) and fails clearly past the bound. A name not used (a goal owner's own reminder
names nobody else) is not needed.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, format_timedelta
from jinja2 import (
    Environment,
    PackageLoader,
    StrictUndefined,
    TemplateNotFound,
    UndefinedError,
    select_autoescape,
)

LOCALES = ("en", "fi")
GENERIC = "generic"


class Incomplete(UndefinedError):
    """The message needs something not known here (yet): its text names what, e.g.
    ``display name of person p-1``."""


class Unknown(StrictUndefined):
    """A value a message may need that is not known: any use of it raises
    :class:`Incomplete` with ``what`` (``{% if x is defined %}`` alone may test for it)."""

    __slots__ = ()

    def __init__(self, what: str) -> None:
        super().__init__(hint=what, exc=Incomplete)


def _shown(value: Any) -> Any:
    """Every printed value passes here: nothing is printed as ``None`` or blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Incomplete("a value the message shows (it is blank)")
    return value


def known(value: str | None, what: str) -> str | Unknown:
    """``value`` if it says something, else an :class:`Unknown` naming ``what``."""
    return value if value and value.strip() else Unknown(what)


@dataclass(frozen=True)
class Recipient:
    """Who a message is for, as the templates and channels need them."""

    person_id: str
    display_name: str
    email: str | None
    locale: str
    zone: ZoneInfo
    slack_user_id: str | None = None
    teams_user_id: str | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html: str
    link: str | None


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("kamu_notifications", "content/templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        finalize=_shown,
        keep_trailing_newline=False,
    )


def locale_of(wanted: str | None, default: str) -> str:
    """``fi-FI`` and ``fi_FI`` read as ``fi``; a locale without templates as the default."""
    fallback = default.replace("_", "-").split("-")[0].lower()
    fallback = fallback if fallback in LOCALES else LOCALES[0]
    language = (wanted or fallback).replace("_", "-").split("-")[0].lower()
    return language if language in LOCALES else fallback


def link_for(base: str, kind: str, params: dict[str, Any]) -> str | None:
    base = base.rstrip("/")
    if "meeting_id" in params:
        return f"{base}/meetings/{params['meeting_id']}"
    if "goal_id" in params:
        return f"{base}/goals/{params['goal_id']}"
    if "pairing_id" in params:
        return f"{base}/pairings/{params['pairing_id']}"
    return f"{base}/inbox" if kind == "digest" else None


def _when(value: str | None, recipient: Recipient) -> str | None:
    if value is None:
        return None
    local = datetime.fromisoformat(value).astimezone(recipient.zone)
    day = format_date(local, "full", locale=recipient.locale)
    clock = format_time(local, "short", locale=recipient.locale)
    return f"{day}, {clock} ({recipient.zone.key})"


def render(
    kind: str,
    params: dict[str, Any],
    recipient: Recipient,
    other_name: str | None,
    *,
    base_url: str,
    items: list[Rendered] | None = None,
) -> Rendered:
    """The message of one notification (or of a digest, given its ``items``), complete or
    not at all: raises :class:`Incomplete` naming what it needs and is not known (the
    recipient's or the other person's name: ``other_name`` is None while pairing has not told
    of ``params["other_id"]``)."""
    env = environment()
    try:
        template = env.get_template(f"{recipient.locale}/{kind}.j2")
    except TemplateNotFound:  # a kind of a newer version in the ledger: a plain message
        template = env.get_template(f"{recipient.locale}/{GENERIC}.j2")
    duration = params.get("duration_minutes")
    context: dict[str, Any] = {
        "recipient": known(recipient.display_name, f"display name of person {recipient.person_id}"),
        "when": _when(params.get("starts_at"), recipient),
        "duration": format_timedelta(
            duration * 60, threshold=10, locale=recipient.locale, format="long"
        )
        if duration
        else None,
        "location": params.get("location"),
        "role": params.get("role"),
        "lapse": params.get("lapse"),
        "cause": params.get("cause"),
        "items": items or [],
        "link": link_for(base_url, kind, params),
    }
    other = params.get("other_id")
    if other is not None:  # absent: no template of this kind may name another person
        context["other"] = known(other_name, f"display name of person {other}")
    blocks = template.blocks
    ctx = template.new_context(context)
    subject = "".join(blocks["subject"](ctx)).strip()
    body = "".join(blocks["body"](ctx)).strip()
    link = link_for(base_url, kind, params)
    html = env.get_template("email.html").render(
        subject=subject, paragraphs=body.split("\n\n"), link=link
    )
    return Rendered(subject=subject, body=body, html=html, link=link)


def render_for_reading(
    kind: str,
    params: dict[str, Any],
    recipient: Recipient,
    other_name: str | None,
    *,
    base_url: str,
) -> Rendered:
    """For the inbox and the delivery history, rendered when read: a message that cannot be
    written in full now (a name not known, or erased since) reads as the plain "news from
    Kamu" message with its link, never with a blank and never as an error."""
    try:
        return render(kind, params, recipient, other_name, base_url=base_url)
    except Incomplete:  # the plain message names nobody (it greets by name if it can)
        return render(GENERIC, params, recipient, None, base_url=base_url)
