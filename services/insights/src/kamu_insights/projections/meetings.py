"""Meetings with their slot and outcome, ratings, and the lapses of cadence."""

from collections.abc import Sequence

from kamu_insights import inbound as ev
from kamu_insights.projections.rows import upsert
from kamu_shared.consumer.messages import Decoder, Delivery
from kamu_shared.db.pool import Connection
from kamu_shared.kafka.topics import events_topic

SCHEMA = "rm_insights_meetings"


class MeetingFacts:
    """``meetings``, ``ratings`` and ``lapses`` from ``kamu.meetings.events``."""

    name = "insights_meetings"
    topics: Sequence[str] = (events_topic("meetings"),)
    decoders: Sequence[Decoder] = (ev.meeting_events,)
    tables: Sequence[str] = ("meetings", "ratings", "lapses")

    async def create(self, conn: Connection, schema: str) -> None:
        await conn.execute(f"""
            CREATE TABLE "{schema}".meetings (
                meeting_id text PRIMARY KEY,
                pairing_id text NOT NULL,
                kamu_id text NOT NULL,
                status text NOT NULL,
                starts_at timestamptz,
                duration_minutes int,
                held_at timestamptz
            );
            CREATE INDEX ON "{schema}".meetings (pairing_id, held_at);
            CREATE INDEX ON "{schema}".meetings (held_at);
            CREATE TABLE "{schema}".ratings (
                meeting_id text NOT NULL,
                respondent text NOT NULL,
                rater_id text NOT NULL,
                pairing_id text NOT NULL,
                colleague_id text NOT NULL,
                psychological_safety int NOT NULL,
                usefulness int NOT NULL,
                held_at timestamptz NOT NULL,
                PRIMARY KEY (meeting_id, respondent)
            );
            CREATE INDEX ON "{schema}".ratings (held_at);
            CREATE TABLE "{schema}".lapses (
                pairing_id text NOT NULL,
                since timestamptz NOT NULL,
                lapse int NOT NULL,
                recorded_at timestamptz NOT NULL,
                PRIMARY KEY (pairing_id, since, lapse)
            );
            """)

    async def apply(self, conn: Connection, schema: str, delivery: Delivery) -> None:
        e, at = delivery.event, delivery.envelope.time
        match e:
            case ev.MeetingScheduled() | ev.MeetingRescheduled():
                await self._meeting(
                    conn,
                    schema,
                    e,
                    "scheduled",
                    starts_at=e.starts_at,
                    duration_minutes=e.duration_minutes,
                )
            case ev.MeetingCancelled():
                await self._meeting(conn, schema, e, "cancelled")
            case ev.MeetingHeld():
                await self._meeting(conn, schema, e, "held", held_at=e.held_at)
            case ev.MeetingFeedbackGiven():
                await conn.execute(
                    f'INSERT INTO "{schema}".ratings VALUES ($1, $2, $3, $4, $5, $6, $7, $8) '  # noqa: S608
                    "ON CONFLICT DO NOTHING",
                    e.meeting_id,
                    e.respondent,
                    e.colleague_id if e.respondent == "colleague" else e.kamu_id,
                    e.pairing_id,
                    e.colleague_id,
                    e.psychological_safety,
                    e.usefulness,
                    e.held_at,
                )
            case ev.MeetingOverdue():
                await conn.execute(
                    f'INSERT INTO "{schema}".lapses VALUES ($1, $2, $3, $4) '  # noqa: S608
                    "ON CONFLICT DO NOTHING",
                    e.pairing_id,
                    e.since,
                    e.lapse,
                    at,
                )

    @staticmethod
    async def _meeting(
        conn: Connection, schema: str, e: ev.MeetingEvent, status: str, **fields: object
    ) -> None:
        """Insert or update the meeting's row; only the status and the given fields change."""
        key = {"meeting_id": e.meeting_id, "pairing_id": e.pairing_id, "kamu_id": e.kamu_id}
        await upsert(conn, f'"{schema}".meetings', key, {"status": status, **fields})
