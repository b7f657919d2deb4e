"""Planning: the notifications an event causes become rows of the delivery ledger.

Runs in the transaction of whoever learned of the cause (a consumer, with its ledger record;
the reminder timer, with its row's update), so a cause is planned exactly once. Each
notification's id is derived from its cause and recipient, and each delivery is keyed by
(notification, channel): a second planning of the same cause finds them and adds nothing.
That is the first half of "at most once per (event, recipient, channel)"; the dispatcher's
claims are the second.

Per recipient, every channel configured here becomes a pending delivery (a personal webhook
only if the person has given an address), due now, or at the person's digest time for
reminders if they chose a daily digest. Whether it is then sent, suppressed (turned off, the
person left) or deferred (quiet hours) is the dispatcher's decision, with the preferences of
then; the in-app inbox is "sent" by the dispatcher too, as a row.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from kamu_notifications.domain.events import (
    CHANNELS,
    Channel,
)
from kamu_notifications.domain.quiet import digest_time
from kamu_notifications.domain.routing import Planned
from kamu_notifications.settings import NotificationsSettings, settings_of
from kamu_notifications.state import (
    Prefs,
    person_of,
    prefs_of,
    zone,
)
from kamu_shared.db.pool import Connection
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
    # The event's place in its stream (ce_sequence): orders a meeting's messages by the
    # meeting's own history, not by the clocks of the replicas that planned them.
    sequence: int | None = None


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


# Dispatchers LISTEN here; PostgreSQL folds a transaction's notifications into one at commit.
PLANNED_CHANNEL = "kamu_notifications_planned"


async def plan(
    conn: Connection,
    runtime: Runtime,
    cause: Cause,
    planned: list[Planned],
    now: datetime,
) -> int:
    """Write the ledger rows of ``planned``; returns how many notifications were new.

    Only rows, no events: the dispatcher decides, with the person's preferences of the
    moment, whether each delivery is sent or suppressed, and records the outcome. So a
    consumer's batch of events plans in one transaction.
    """
    settings = settings_of(runtime)
    new = 0
    for item in planned:
        nid = notification_id(cause, item)
        inserted = await conn.fetchval(
            """INSERT INTO notifications_notifications (notification_id, recipient_id, kind,
                   cause_source, cause_id, cause_type, correlation_id, params, digestible,
                   created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               ON CONFLICT DO NOTHING RETURNING 1""",
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
        if not inserted:
            continue  # planned before: a redelivery or a second planning adds nothing
        new += 1
        person = await person_of(conn, item.recipient_id, settings)
        prefs = await prefs_of(conn, item.recipient_id, settings)
        for channel in CHANNELS:
            if not configured(settings, channel, prefs):
                continue
            due, deferred = now, None
            if channel != "inapp" and item.digestible and prefs.digest == "daily":
                tz = person.recipient.zone if person else zone(None, settings.default_time_zone)
                starts = item.params.get("starts_at")
                digest = digest_time(now, tz, prefs.digest_at, item.kind, starts)
                if digest is not None:
                    due, deferred = digest, "digest"
            await conn.execute(
                """INSERT INTO notifications_deliveries (notification_id, channel, recipient_id,
                       status, endpoint, due_at, deferred_by, created_at, thread, thread_seq)
                   VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9)""",
                nid,
                channel,
                item.recipient_id,
                endpoint(channel, prefs),
                due,
                deferred,
                now,
                item.thread,
                cause.sequence if item.thread else None,
            )
    if new:  # wakes the dispatchers when this transaction commits (their poll is the fallback)
        await conn.execute(f"NOTIFY {PLANNED_CHANNEL}")
    return new


WAKE = """
WITH woken AS (
    UPDATE notifications_deliveries d SET due_at = now()
    FROM notifications_notifications n
    WHERE d.notification_id = n.notification_id
      AND d.status = 'pending' AND d.waiting_for IS NOT NULL AND d.due_at > now()
      AND $1 IN (n.recipient_id, n.params->>'other_id', n.params->>'colleague_id',
                 n.params->>'kamu_id')
    RETURNING 1)
SELECT count(*) FROM woken"""


async def wake_waiting(conn: Connection, person_id: str) -> int:
    """Make the deliveries waiting for data that this person's details may complete due now,
    and wake the dispatchers when the caller's transaction commits; returns how many."""
    woken: int = await conn.fetchval(WAKE, person_id)
    if woken:
        await conn.execute(f"NOTIFY {PLANNED_CHANNEL}")
    return woken


def params_of(row: Any) -> dict[str, Any]:
    params = row["params"]
    return dict(params) if params else {}
