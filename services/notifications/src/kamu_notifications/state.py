"""The service's working state: preferences (from its own events), people and preferences as
the planner and dispatcher read them.

``apply`` keeps ``notifications_preferences`` in the transaction that appends a
``preferences-set``; outcome events change nothing here (the delivery ledger is written by
whoever records them, in the same transaction).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from kamu_notifications.content.render import Recipient, locale_of
from kamu_notifications.domain import preferences as rules
from kamu_notifications.domain.events import (
    CHANNELS,
    Channel,
    PreferencesSet,
    QuietHours,
    registry,
)
from kamu_notifications.settings import NotificationsSettings
from kamu_shared.commands import Aggregate, CommandHandling
from kamu_shared.commands.replay import replay_store
from kamu_shared.db.pool import Connection
from kamu_shared.events import DomainEvent


async def apply(conn: Connection, event: DomainEvent, version: int, at: datetime) -> None:
    """Bring the preferences table up to date with one of this service's events."""
    if isinstance(event, PreferencesSet):
        quiet = event.quiet_hours
        await conn.execute(
            """INSERT INTO notifications_preferences (person_id, email, slack, teams, webhook,
                   inapp, quiet_start, quiet_end, webhook_url, digest, digest_at, updated_at,
                   version)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
               ON CONFLICT (person_id) DO UPDATE SET email = $2, slack = $3, teams = $4,
                   webhook = $5, inapp = $6, quiet_start = $7, quiet_end = $8,
                   webhook_url = $9, digest = $10, digest_at = $11, updated_at = $12,
                   version = $13""",
            event.person_id,
            event.channels.email,
            event.channels.slack,
            event.channels.teams,
            event.channels.webhook,
            event.channels.inapp,
            quiet.start if quiet else None,
            quiet.end if quiet else None,
            event.webhook_url,
            event.digest,
            event.digest_at,
            at,
            version,
        )


async def rebuild_state(pool: asyncpg.Pool, progress: Callable[[int], None] | None = None) -> int:
    """Drop the preferences and apply every stored event again, in one transaction (readers
    and writers wait). The delivery ledger is not a projection: it is the record of what was
    planned and sent, and is never rebuilt (it would send again)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE notifications_preferences IN ACCESS EXCLUSIVE MODE")
        await conn.execute("TRUNCATE notifications_preferences")
        return await replay_store(conn, registry, apply, progress)


HANDLING = CommandHandling(registry=registry, apply=apply)
PREFERENCES = Aggregate("preferences", rules.Preferences(), rules.evolve)
NOTIFICATION: Aggregate[None] = Aggregate("notification", None, lambda state, _event: state)


@dataclass(frozen=True)
class Prefs:
    """A person's preferences in force (the defaults until they set any)."""

    channels: dict[Channel, bool]
    quiet_hours: QuietHours | None
    webhook_url: str | None
    digest: str
    digest_at: time
    version: int

    def wants(self, channel: Channel) -> bool:
        return self.channels[channel]


def default_prefs(settings: NotificationsSettings) -> Prefs:
    return Prefs(
        channels=dict.fromkeys(CHANNELS, True),
        quiet_hours=None,
        webhook_url=None,
        digest="off",
        digest_at=settings.default_digest_at,
        version=0,
    )


async def prefs_of(conn: Connection, person_id: str, settings: NotificationsSettings) -> Prefs:
    row = await conn.fetchrow(
        "SELECT * FROM notifications_preferences WHERE person_id = $1", person_id
    )
    if row is None:
        return default_prefs(settings)
    quiet = None
    if row["quiet_start"] is not None and row["quiet_end"] is not None:
        quiet = QuietHours(start=row["quiet_start"], end=row["quiet_end"])
    return Prefs(
        channels={c: bool(row[c]) for c in CHANNELS},
        quiet_hours=quiet,
        webhook_url=row["webhook_url"],
        digest=row["digest"],
        digest_at=row["digest_at"],
        version=row["version"],
    )


def zone(name: str | None, default: str) -> ZoneInfo:
    """The person's zone; an unknown name (an HR typo) reads as the default, not an error."""
    for candidate in (name, default, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


@dataclass(frozen=True)
class Person:
    """What this service knows of a person from pairing's topic."""

    recipient: Recipient
    left: bool


async def person_of(
    conn: Connection, person_id: str, settings: NotificationsSettings
) -> Person | None:
    row = await conn.fetchrow("SELECT * FROM notifications_people WHERE person_id = $1", person_id)
    if row is None:
        return None
    return Person(recipient_from(row, settings), left=row["left_at"] is not None)


def recipient_from(row: Any, settings: NotificationsSettings) -> Recipient:
    return Recipient(
        person_id=row["person_id"],
        display_name=row["display_name"],
        email=row["email"] or None,
        locale=locale_of(row["locale"], settings.default_locale),
        zone=zone(row["time_zone"], settings.default_time_zone),
        slack_user_id=row["slack_user_id"],
        teams_user_id=row["teams_user_id"],
    )


def unknown_recipient(person_id: str, settings: NotificationsSettings) -> Recipient:
    """Someone pairing has not told us of yet: templates still render (for the inbox)."""
    return Recipient(
        person_id=person_id,
        display_name="",
        email=None,
        locale=locale_of(None, settings.default_locale),
        zone=zone(None, settings.default_time_zone),
    )
