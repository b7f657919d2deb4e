"""Goals with their category and outcome, and every review."""

from collections.abc import Sequence

from kamu_insights import inbound as ev
from kamu_shared.consumer.messages import Decoder, Delivery
from kamu_shared.db.pool import Connection
from kamu_shared.kafka.topics import events_topic

SCHEMA = "rm_insights_goals"


class GoalFacts:
    """``goals`` and ``reviews`` from ``kamu.goals.events``."""

    name = "insights_goals"
    topics: Sequence[str] = (events_topic("goals"),)
    decoders: Sequence[Decoder] = (ev.goal_events,)
    tables: Sequence[str] = ("goals", "reviews")

    async def create(self, conn: Connection, schema: str) -> None:
        await conn.execute(f"""
            CREATE TABLE "{schema}".goals (
                goal_id text PRIMARY KEY,
                owner_id text NOT NULL,
                category text NOT NULL,
                set_at timestamptz NOT NULL,
                status text NOT NULL,
                closed_at timestamptz
            );
            CREATE TABLE "{schema}".reviews (
                event_id uuid PRIMARY KEY,
                goal_id text NOT NULL,
                owner_id text NOT NULL,
                reviewed_at timestamptz NOT NULL,
                on_time boolean NOT NULL,
                in_meeting boolean NOT NULL
            );
            CREATE INDEX ON "{schema}".goals (set_at);
            CREATE INDEX ON "{schema}".goals (closed_at);
            CREATE INDEX ON "{schema}".reviews (reviewed_at);
            """)

    async def apply(self, conn: Connection, schema: str, delivery: Delivery) -> None:
        e, at = delivery.event, delivery.envelope.time
        match e:
            case ev.GoalSet():
                await conn.execute(
                    f'INSERT INTO "{schema}".goals VALUES ($1, $2, $3, $4, $5) '  # noqa: S608
                    "ON CONFLICT DO NOTHING",
                    e.goal_id,
                    e.owner_id,
                    e.category,
                    at,
                    "active",
                )
            case ev.GoalRevised():
                await conn.execute(
                    f'UPDATE "{schema}".goals SET category = $2 WHERE goal_id = $1',  # noqa: S608
                    e.goal_id,
                    e.category,
                )
            case ev.GoalReviewed():
                await conn.execute(
                    f'INSERT INTO "{schema}".reviews VALUES ($1, $2, $3, $4, $5, $6) '  # noqa: S608
                    "ON CONFLICT DO NOTHING",
                    delivery.envelope.id,
                    e.goal_id,
                    e.owner_id,
                    at,
                    e.on_time,
                    e.meeting_id is not None,
                )
            case ev.GoalCompleted() | ev.GoalAbandoned():
                status = "completed" if isinstance(e, ev.GoalCompleted) else "abandoned"
                await conn.execute(
                    f'UPDATE "{schema}".goals SET status = $2, closed_at = $3 WHERE goal_id = $1',  # noqa: S608
                    e.goal_id,
                    status,
                    at,
                )
