"""Planning: the notifications an event causes become rows of the delivery ledger.

Runs in the transaction of whoever learned of the cause (a consumer, with its ledger record;
the reminder timer, with its row's update), so a cause is planned exactly once. Each
notification's id is derived from its cause and recipient, and each delivery is keyed by
(notification, channel): a second planning of the same cause finds them and adds nothing.
That is the first half of "at most once per (event, recipient, channel)"; the dispatcher's
claims are the second.

Per recipient and channel: a channel not configured here is skipped; one the person turned off
is recorded as suppressed; the in-app inbox is delivered at once (it is a row); every other
channel becomes a pending delivery, due now, or at the person's digest time for reminders if
they chose a daily digest. Quiet hours are applied when sending, with the preferences of then.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from kamu_notifications.domain.events import (
    CHANNELS,
    Channel,
    NotificationSent,
    NotificationSuppressed,
)
from kamu_notifications.domain.quiet import next_digest
from kamu_notifications.domain.routing import Planned
from kamu_notifications.settings import NotificationsSettings, settings_of
from kamu_notifications.state import (
    HANDLING,
    NOTIFICATION,
    Prefs,
    person_of,
    prefs_of,
    zone,
)
from kamu_shared.commands import Append
from kamu_shared.db.pool import Connection
from kamu_shared.events import DomainEvent
from kamu_shared.runtime import Runtime

NAMESPACE = uuid.UUID("6f3c7d2e-4b1a-5c8e-9d0f-2a1b3c4d5e6f")
ACTOR = "kamu-notifications"


@dataclass(frozen=True)
class Cause:
    """What caused notifications: an event (source and id) or a reminder (its own key)."""

    source: str
    id: str
    type: str
    correlation_id: str | None = None


def notification_id(cause: Cause, planned: Planned) -> uuid.UUID:
    return uuid.uuid5(
        NAMESPACE, f"{cause.source}\n{cause.id}\n{planned.recipient_id}\n{planned.kind}"
    )


def configured(settings: NotificationsSettings, channel: Channel, prefs: Prefs) -> bool:
    """Whether the channel exists for this person at all (else it is not even suppressed)."""
    if channel == "email":
        return settings.smtp_host is not None
    if channel == "slack":
        return settings.slack_webhook_url is not None
    if channel == "teams":
        return settings.teams_webhook_url is not None
    if channel == "webhook":
        return prefs.webhook_url is not None
    return True


def endpoint(channel: Channel, prefs: Prefs) -> str:
    """What a delivery competes for: one SMTP server, one Slack, one Teams, a webhook host."""
    if channel == "webhook" and prefs.webhook_url:
        parts = urlsplit(prefs.webhook_url)
        return f"webhook:{parts.hostname}:{parts.port or ''}"
    return channel


async def plan(
    conn: Connection,
    runtime: Runtime,
    cause: Cause,
    planned: list[Planned],
    now: datetime,
) -> int:
    """Write the ledger rows of ``planned``; returns how many notifications were new."""
    settings = settings_of(runtime)
    rows: list[tuple[uuid.UUID, Planned, Prefs, list[tuple[Channel, str, datetime, str | None]]]]
    rows = []
    appends: list[Append] = []
    for item in planned:
        nid = notification_id(cause, item)
        if await conn.fetchval(
            "SELECT 1 FROM notifications_notifications WHERE notification_id = $1", nid
        ):
            continue
        person = await person_of(conn, item.recipient_id, settings)
        prefs = await prefs_of(conn, item.recipient_id, settings)
        events: list[DomainEvent] = []
        deliveries: list[tuple[Channel, str, datetime, str | None]] = []
        for channel in CHANNELS:
            if not configured(settings, channel, prefs):
                continue
            outcome: dict[str, Any] = {
                "notification_id": str(nid),
                "recipient_id": item.recipient_id,
                "channel": channel,
                "kind": item.kind,
                "cause_id": cause.id,
            }
            if person is not None and person.left:
                events.append(NotificationSuppressed(**outcome, reason="person-left"))
            elif not prefs.wants(channel):
                events.append(NotificationSuppressed(**outcome, reason="preference-off"))
            elif channel == "inapp":
                events.append(NotificationSent(**outcome, attempts=1))
                deliveries.append((channel, "inapp", now, None))
            else:
                due, deferred = now, None
                if item.digestible and prefs.digest == "daily":
                    tz = person.recipient.zone if person else zone(None, settings.default_time_zone)
                    due, deferred = next_digest(now, tz, prefs.digest_at), "digest"
                deliveries.append((channel, endpoint(channel, prefs), due, deferred))
        rows.append((nid, item, prefs, deliveries))
        if events:
            appends.append((NOTIFICATION.stream(str(nid)), NOTIFICATION, events, None))
    # The outcome events first: an append must be its transaction's first write.
    await HANDLING.record(conn, runtime.store, appends, actor=ACTOR)
    for nid, item, _prefs, deliveries in rows:
        await _insert(conn, cause, nid, item, deliveries, now)
    return len(rows)


async def _insert(
    conn: Connection,
    cause: Cause,
    nid: uuid.UUID,
    item: Planned,
    deliveries: list[tuple[Channel, str, datetime, str | None]],
    now: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO notifications_notifications (notification_id, recipient_id, kind,
               cause_source, cause_id, cause_type, correlation_id, params, digestible,
               created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        nid,
        item.recipient_id,
        item.kind,
        cause.source,
        cause.id,
        cause.type,
        cause.correlation_id,
        item.params,
        item.digestible,
        now,
    )
    for channel, where, due, deferred in deliveries:
        done = channel == "inapp"
        await conn.execute(
            """INSERT INTO notifications_deliveries (notification_id, channel, recipient_id,
                   status, endpoint, due_at, attempts, deferred_by, created_at, finished_at,
                   thread)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
            nid,
            channel,
            item.recipient_id,
            "sent" if done else "pending",
            where,
            due,
            1 if done else 0,
            deferred,
            now,
            now if done else None,
            item.thread,
        )
        if done:
            await conn.execute(
                "INSERT INTO notifications_inbox (notification_id, person_id, created_at) "
                "VALUES ($1, $2, $3)",
                nid,
                item.recipient_id,
                now,
            )
            await conn.execute(
                "INSERT INTO notifications_attempts VALUES ($1, 'inapp', 1, $2, 'sent', NULL)",
                nid,
                now,
            )


def params_of(row: Any) -> dict[str, Any]:
    params = row["params"]
    return dict(params) if params else {}
