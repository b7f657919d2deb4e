"""The outcome of every delivery, by channel."""

from collections.abc import Sequence

from kamu_insights import inbound as ev
from kamu_shared.consumer.messages import Decoder, Delivery
from kamu_shared.db.pool import Connection
from kamu_shared.kafka.topics import events_topic

SCHEMA = "rm_insights_notifications"
OUTCOMES = {
    ev.NotificationSent: "sent",
    ev.NotificationFailed: "failed",
    ev.NotificationSuppressed: "suppressed",
}


class NotificationFacts:
    """``deliveries`` from ``kamu.notifications.events``."""

    name = "insights_notifications"
    topics: Sequence[str] = (events_topic("notifications"),)
    decoders: Sequence[Decoder] = (ev.notification_events,)
    tables: Sequence[str] = ("deliveries",)

    async def create(self, conn: Connection, schema: str) -> None:
        await conn.execute(f"""
            CREATE TABLE "{schema}".deliveries (
                notification_id text NOT NULL,
                channel text NOT NULL,
                recipient_id text NOT NULL,
                outcome text NOT NULL,
                at timestamptz NOT NULL,
                PRIMARY KEY (notification_id, channel)
            );
            CREATE INDEX ON "{schema}".deliveries (at);
            """)

    async def apply(self, conn: Connection, schema: str, delivery: Delivery) -> None:
        e = delivery.event
        outcome = OUTCOMES.get(type(e))
        if outcome is None:
            return
        # One outcome per (notification, channel); a later one (failed after a retry) wins.
        await conn.execute(
            f'INSERT INTO "{schema}".deliveries VALUES ($1, $2, $3, $4, $5) '  # noqa: S608
            "ON CONFLICT (notification_id, channel) DO UPDATE "
            "SET outcome = EXCLUDED.outcome, at = EXCLUDED.at",
            e.notification_id,
            e.channel,
            e.recipient_id,
            outcome,
            delivery.envelope.time,
        )
