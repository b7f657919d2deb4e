"""Dead letters: park a message that keeps failing, list what is parked, replay it in order.

A parked message goes to ``<topic>.dlq.<group>`` with the error in headers (for other tools)
and to ``kamu_parked_messages`` (the record the consumer checks: later messages of the same
subject wait behind it). Replay applies parked messages through the same handler, oldest first
per subject, and stops at a subject's first failure so its order holds.
"""

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge

from kamu_shared.consumer.messages import Message
from kamu_shared.consumer.processing import Processor, lock_subject
from kamu_shared.kafka.topics import dead_letter_topic

PARKED = Counter(
    "kamu_consumer_parked_total", "Messages parked in the dead-letter topic", ["group"]
)
PARKED_NOW = Gauge(
    "kamu_consumer_parked_messages",
    "Messages of the group parked right now (kamu_parked_messages, status parked)",
    ["group"],
)
log = structlog.get_logger("kamu.dead-letters")


@dataclass(frozen=True)
class ParkedMessage:
    id: int
    topic: str
    partition: int
    offset: int
    subject: str | None
    event_id: str | None
    event_type: str | None
    error: str
    attempts: int
    parked_at: datetime
    status: str
    message: Message


@dataclass
class ReplayReport:
    replayed: int = 0
    failed: int = 0
    still_parked: int = 0


def _parked(row: asyncpg.Record) -> ParkedMessage:
    message = Message(
        topic=row["topic"],
        partition=row["partition"],
        offset=row["offset"],
        key=row["key"],
        value=row["value"],
        headers=Message.headers_from_json(row["headers"]),
    )
    return ParkedMessage(
        id=row["id"],
        topic=row["topic"],
        partition=row["partition"],
        offset=row["offset"],
        subject=row["subject"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        error=row["error"],
        attempts=row["attempts"],
        parked_at=row["parked_at"],
        status=row["status"],
        message=message,
    )


class DeadLetters:
    """The parked messages of one consumer group."""

    def __init__(self, pool: asyncpg.Pool, group: str) -> None:
        self._pool = pool
        self.group = group

    async def park(
        self,
        producer: AIOKafkaProducer,
        message: Message,
        *,
        error: str,
        attempts: int,
        subject: str | None,
        event_id: str | None = None,
        event_type: str | None = None,
    ) -> None:
        """Record the message as parked, then copy it to the dead-letter topic with the error."""
        async with self._pool.acquire() as conn, conn.transaction():
            if subject is not None:
                await lock_subject(conn, self.group, subject)
            await conn.execute(
                """INSERT INTO kamu_parked_messages (consumer_group, topic, partition, "offset",
                       subject, event_id, event_type, error, attempts, key, value, headers)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                   ON CONFLICT (consumer_group, topic, partition, "offset") DO NOTHING""",
                self.group,
                message.topic,
                message.partition,
                message.offset,
                subject,
                event_id,
                event_type,
                error[:4000],
                attempts,
                message.key,
                message.value,
                message.headers_json(),
            )
        headers = [
            *message.headers,
            ("kamu_dlq_group", self.group.encode()),
            ("kamu_dlq_error", error[:4000].encode()),
            ("kamu_dlq_attempts", str(attempts).encode()),
            ("kamu_dlq_topic", message.topic.encode()),
            ("kamu_dlq_partition", str(message.partition).encode()),
            ("kamu_dlq_offset", str(message.offset).encode()),
            ("kamu_dlq_parked_at", datetime.now(UTC).isoformat().encode()),
        ]
        topic = dead_letter_topic(message.topic, self.group)
        await producer.send_and_wait(topic, message.value, key=message.key, headers=headers)
        PARKED.labels(self.group).inc()
        await self.refresh_gauge()
        log.warning(
            "message-parked",
            group=self.group,
            topic=message.topic,
            offset=message.offset,
            subject=subject,
            error=error[:500],
        )

    async def count(self) -> int:
        """How many of the group's messages are parked now."""
        return int(
            await self._pool.fetchval(
                "SELECT count(*) FROM kamu_parked_messages "
                "WHERE consumer_group = $1 AND status = 'parked'",
                self.group,
            )
        )

    async def refresh_gauge(self) -> int | None:
        """Set ``kamu_consumer_parked_messages`` from the table, the record that counts: a
        replay or discard by another process (the CLI) shows at the next refresh. A failed
        count leaves the gauge for the next refresh: it must never fail a park or a replay."""
        try:
            parked = await self.count()
        except Exception as exc:
            log.warning("parked-gauge-refresh-failed", group=self.group, error=repr(exc))
            return None
        PARKED_NOW.labels(self.group).set(parked)
        return parked

    async def list(
        self, status: str = "parked", subject: str | None = None, event_id: str | None = None
    ) -> list[ParkedMessage]:
        """The group's messages in ``status``, oldest first; only one subject's or one event's
        (its id, ``ce_id``) when asked."""
        rows = await self._pool.fetch(
            """SELECT * FROM kamu_parked_messages
               WHERE consumer_group = $1 AND status = $2 AND ($3::text IS NULL OR subject = $3)
                 AND ($4::text IS NULL OR event_id = $4)
               ORDER BY id""",
            self.group,
            status,
            subject,
            event_id,
        )
        return [_parked(r) for r in rows]

    async def replay(
        self, processor: Processor, subject: str | None = None, event_id: str | None = None
    ) -> ReplayReport:
        """Apply parked messages oldest first; a subject stops at its first failure.

        ``event_id``: the subject of that parked event, in this group. Its earlier messages
        still parked go first (the event may not overtake them) and the later ones, parked
        behind it, follow, so the subject flows again; a group that did not park the event
        replays nothing."""
        report = ReplayReport()
        subjects: set[str | None] | None = None
        only: set[int] = set()
        if event_id is not None:
            parked_event = await self.list(subject=subject, event_id=event_id)
            subjects = {p.subject for p in parked_event if p.subject is not None}
            only = {p.id for p in parked_event if p.subject is None}  # no subject: no order

        def selected(parked: ParkedMessage) -> bool:
            return subjects is None or parked.subject in subjects or parked.id in only

        failed: set[str | None] = set()
        while True:
            pending = [
                p
                for p in await self.list(subject=subject)
                if selected(p) and p.subject not in failed
            ]
            if not pending:
                break
            for parked in pending:
                if parked.subject in failed:
                    continue
                if await self._replay_one(processor, parked):
                    report.replayed += 1
                else:
                    report.failed += 1
                    failed.add(parked.subject)
        report.still_parked = len([p for p in await self.list(subject=subject) if selected(p)])
        await self.refresh_gauge()
        return report

    async def discard(
        self, parked_id: int, *, reason: str | None = None, by: str | None = None
    ) -> ParkedMessage | None:
        """Give up on one parked message (it will never be applied); later ones may then
        replay. Returns it, or ``None`` when the group has no such message parked. Who gave up
        and why go to the log (``message-discarded``): the table has no place for them."""
        row = await self._pool.fetchrow(
            "UPDATE kamu_parked_messages SET status = 'discarded', replayed_at = now() "
            "WHERE id = $1 AND consumer_group = $2 AND status = 'parked' RETURNING *",
            parked_id,
            self.group,
        )
        await self.refresh_gauge()
        if row is None:
            return None
        log.warning(
            "message-discarded",
            group=self.group,
            parked_id=row["id"],
            subject=row["subject"],
            event_id=row["event_id"],
            event_type=row["event_type"],
            by=by,
            reason=reason,
        )
        return _parked(row)

    async def discard_event(
        self, event_id: str, *, reason: str | None = None, by: str | None = None
    ) -> "builtins.list[ParkedMessage]":
        """Discard every parked copy of one event (its ``ce_id``) in this group; returns them.
        Messages of its subject parked behind it stay parked: replay them next."""
        discarded: builtins.list[ParkedMessage] = []
        for parked in await self.list(event_id=event_id):
            if found := await self.discard(parked.id, reason=reason, by=by):
                discarded.append(found)
        return discarded

    async def _replay_one(self, processor: Processor, parked: ParkedMessage) -> bool:
        try:
            await processor.process(parked.message, ignore_parked=True)
        except Exception as exc:
            await self._pool.execute(
                "UPDATE kamu_parked_messages SET error = $2, attempts = attempts + 1 WHERE id = $1",
                parked.id,
                repr(exc)[:4000],
            )
            log.warning("replay-failed", group=self.group, parked_id=parked.id, error=repr(exc))
            return False
        await self._pool.execute(
            "UPDATE kamu_parked_messages SET status = 'replayed', replayed_at = now() "
            "WHERE id = $1",
            parked.id,
        )
        return True


def describe(parked: ParkedMessage) -> dict[str, Any]:
    """A JSON-able summary for the CLI's list."""
    return {
        "id": parked.id,
        "topic": parked.topic,
        "partition": parked.partition,
        "offset": parked.offset,
        "subject": parked.subject,
        "event_type": parked.event_type,
        "event_id": parked.event_id,
        "attempts": parked.attempts,
        "parked_at": parked.parked_at.isoformat(),
        "status": parked.status,
        "error": parked.error,
    }
