"""People with their teams, Kamus with their capacity, pairings with their dates."""

from collections.abc import Sequence

from kamu_insights import inbound as ev
from kamu_insights.projections.rows import upsert
from kamu_shared.consumer.messages import Decoder, Delivery
from kamu_shared.db.pool import Connection
from kamu_shared.kafka.topics import events_topic

SCHEMA = "rm_insights_pairing"


class PairingFacts:
    """``people``, ``kamus`` and ``pairings`` from ``kamu.pairing.events``."""

    name = "insights_pairing"
    topics: Sequence[str] = (events_topic("pairing"),)
    decoders: Sequence[Decoder] = (ev.pairing_events,)
    tables: Sequence[str] = ("people", "kamus", "pairings")

    async def create(self, conn: Connection, schema: str) -> None:
        await conn.execute(f"""
            CREATE TABLE "{schema}".people (
                person_id text PRIMARY KEY,
                team text,
                joined_on date,
                registered_at timestamptz NOT NULL,
                left_at timestamptz
            );
            CREATE TABLE "{schema}".kamus (
                person_id text PRIMARY KEY,
                capacity int NOT NULL,
                hours_per_month double precision NOT NULL,
                volunteered_at timestamptz NOT NULL,
                trained_on date,
                paused boolean NOT NULL DEFAULT false,
                retired_at timestamptz
            );
            CREATE TABLE "{schema}".pairings (
                pairing_id text PRIMARY KEY,
                colleague_id text NOT NULL,
                kamu_id text NOT NULL,
                status text NOT NULL,
                requested_at timestamptz,
                paired_at timestamptz,
                imported boolean NOT NULL DEFAULT false,
                cadence_weeks int,
                closed_at timestamptz
            );
            CREATE INDEX ON "{schema}".pairings (colleague_id);
            CREATE INDEX ON "{schema}".pairings (kamu_id);
            CREATE INDEX ON "{schema}".pairings (paired_at);
            """)

    async def apply(self, conn: Connection, schema: str, delivery: Delivery) -> None:
        e, at = delivery.event, delivery.envelope.time
        match e:
            case ev.PersonRegistered() | ev.PersonUpdated():
                await conn.execute(
                    f'INSERT INTO "{schema}".people (person_id, team, joined_on, registered_at) '  # noqa: S608
                    "VALUES ($1, $2, $3, $4) ON CONFLICT (person_id) DO UPDATE "
                    "SET team = EXCLUDED.team, joined_on = EXCLUDED.joined_on",
                    e.person_id,
                    e.team,
                    e.joined_on,
                    at,
                )
            case ev.PersonLeft():
                await conn.execute(
                    f'UPDATE "{schema}".people SET left_at = $2 WHERE person_id = $1',  # noqa: S608
                    e.person_id,
                    at,
                )
            case ev.KamuVolunteered() | ev.KamuProfileUpdated():
                await conn.execute(
                    f'INSERT INTO "{schema}".kamus (person_id, capacity, hours_per_month, '  # noqa: S608
                    "volunteered_at) VALUES ($1, $2, $3, $4) ON CONFLICT (person_id) DO UPDATE "
                    "SET capacity = EXCLUDED.capacity, hours_per_month = EXCLUDED.hours_per_month, "
                    "retired_at = CASE WHEN $5 THEN NULL ELSE kamus.retired_at END",
                    e.person_id,
                    e.capacity,
                    e.hours_per_month,
                    at,
                    isinstance(e, ev.KamuVolunteered),
                )
            case ev.KamuTrainingCompleted():
                await self._kamu(conn, schema, "trained_on = $2", e.person_id, e.completed_on)
            case ev.KamuPaused() | ev.KamuResumed():
                paused = isinstance(e, ev.KamuPaused)
                await self._kamu(conn, schema, "paused = $2", e.person_id, paused)
            case ev.KamuRetired():
                await self._kamu(conn, schema, "retired_at = $2", e.person_id, at)
            case ev.PairingRequested():
                await self._pairing(conn, schema, e, "requested", requested_at=at)
            case ev.PairingCreated():
                await self._pairing(
                    conn,
                    schema,
                    e,
                    "active",
                    paired_at=e.began_at or at,
                    imported=e.began_at is not None,
                    cadence_weeks=e.cadence_weeks,
                )
            case ev.PairingDeclined():
                await self._pairing(conn, schema, e, "declined", closed_at=at)
            case ev.PairingWithdrawn():
                await self._pairing(conn, schema, e, "withdrawn", closed_at=at)
            case ev.PairingEnded():
                await self._pairing(conn, schema, e, "ended", closed_at=at)

    @staticmethod
    async def _kamu(conn: Connection, schema: str, assignment: str, *args: object) -> None:
        await conn.execute(
            f'UPDATE "{schema}".kamus SET {assignment} WHERE person_id = $1',  # noqa: S608
            *args,
        )

    @staticmethod
    async def _pairing(
        conn: Connection, schema: str, e: ev.PairingEvent, status: str, **fields: object
    ) -> None:
        """Insert or update the pairing's row; only the status and the given fields change."""
        key = {"pairing_id": e.pairing_id, "colleague_id": e.colleague_id, "kamu_id": e.kamu_id}
        await upsert(conn, f'"{schema}".pairings', key, {"status": status, **fields})
