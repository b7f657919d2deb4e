"""Notifications as words: Jinja2 templates per kind and locale, dates by Babel.

Each kind has a template per locale (``templates/<locale>/<kind>.j2``) with a ``subject`` and
a ``body`` block; the email's HTML part wraps the same body. An unknown locale falls back to
the default. Times are shown in the recipient's zone, in their locale's format.
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
    select_autoescape,
)

LOCALES = ("en", "fi")
GENERIC = "generic"


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
    """The message of one notification (or of a digest, given its ``items``)."""
    env = environment()
    try:
        template = env.get_template(f"{recipient.locale}/{kind}.j2")
    except TemplateNotFound:  # a kind of a newer version in the ledger: a plain message
        template = env.get_template(f"{recipient.locale}/{GENERIC}.j2")
    duration = params.get("duration_minutes")
    context = {
        "recipient": recipient.display_name,
        "other": other_name or "",
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
    blocks = template.blocks
    ctx = template.new_context(context)
    subject = "".join(blocks["subject"](ctx)).strip()
    body = "".join(blocks["body"](ctx)).strip()
    link = link_for(base_url, kind, params)
    html = env.get_template("email.html").render(
        subject=subject, paragraphs=body.split("\n\n"), link=link
    )
    return Rendered(subject=subject, body=body, html=html, link=link)
