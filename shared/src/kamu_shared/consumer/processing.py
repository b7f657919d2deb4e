"""Handling one message: exactly-once effects by a processed-record in the handler's transaction.

The transaction first takes a lock on ``(group, subject)`` (no write, so an append by the
handler is still the transaction's first write), skips the message if its subject has a parked
message (order), skips it if the group already applied it (redelivery), runs the handler and
finally records ``(group, source, id)``. The Kafka offset is committed only after this commits.
"""

import enum
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import asyncpg
import structlog
from prometheus_client import Counter
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from kamu_shared.consumer.messages import Decoder, Delivery, Message
from kamu_shared.db.pool import Connection
from kamu_shared.events.envelope import Envelope, EnvelopeError

Handler = Callable[[Connection, Delivery], Awaitable[None]]

OUTCOMES = Counter(
    "kamu_consumer_messages_total", "Messages handled by outcome", ["group", "outcome"]
)
log = structlog.get_logger("kamu.consumer")


class Outcome(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    UNKNOWN_TYPE = "unknown-type"
    BEHIND_PARKED = "behind-parked"


class PoisonMessage(Exception):
    """The message can never be handled as it is (no envelope, invalid data): park at once."""


class _AlreadyApplied(Exception):
    """A concurrent delivery of the same event committed first."""


def decode(message: Message, decoders: Sequence[Decoder]) -> tuple[Envelope, object | None]:
    """The envelope and the event (``None`` when no decoder knows the type)."""
    try:
        envelope = Envelope.from_kafka(message.key, message.value, message.headers)
    except EnvelopeError as exc:
        raise PoisonMessage(str(exc)) from exc
    for decoder in decoders:
        if not decoder.knows(envelope.type):
            continue
        try:
            event = decoder.decode_envelope(envelope)
        except Exception as exc:
            raise PoisonMessage(f"{envelope.type}: {exc}") from exc
        if event is not None:
            return envelope, event
    return envelope, None


class Ledger(Protocol):
    """Where a group records the events it applied, in the same transaction as the effects."""

    async def seen(self, conn: Connection, source: str, event_id: uuid.UUID) -> bool: ...

    async def record(self, conn: Connection, source: str, event_id: uuid.UUID) -> bool:
        """Record the event; False if a concurrent transaction recorded it first."""
        ...


class GroupLedger:
    """The default ledger: ``kamu_processed_events`` rows keyed by consumer group."""

    def __init__(self, group: str) -> None:
        self._group = group

    async def seen(self, conn: Connection, source: str, event_id: uuid.UUID) -> bool:
        return bool(
            await conn.fetchval(
                "SELECT 1 FROM kamu_processed_events "
                "WHERE consumer_group = $1 AND source = $2 AND event_id = $3",
                self._group,
                source,
                event_id,
            )
        )

    async def record(self, conn: Connection, source: str, event_id: uuid.UUID) -> bool:
        return bool(
            await conn.fetchval(
                "INSERT INTO kamu_processed_events (consumer_group, source, event_id) "
                "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1",
                self._group,
                source,
                event_id,
            )
        )


class Processor:
    """Applies messages for one consumer group through one handler."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        group: str,
        decoders: Sequence[Decoder],
        handler: Handler,
        attempts: int = 5,
        backoff_initial: float = 0.2,
        backoff_max: float = 10.0,
        ledger: Ledger | None = None,
    ) -> None:
        self.pool = pool
        self.ledger = ledger or GroupLedger(group)
        self.group = group
        self._decoders = decoders
        self._handler = handler
        self.attempts = attempts
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max

    async def process(self, message: Message, *, ignore_parked: bool = False) -> Outcome:
        """Apply ``message`` once, retrying failures; raise the last error when retries run out."""
        envelope, event = decode(message, self._decoders)
        if event is None:
            OUTCOMES.labels(self.group, Outcome.UNKNOWN_TYPE.value).inc()
            return Outcome.UNKNOWN_TYPE
        delivery = Delivery(envelope=envelope, event=event, message=message)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(multiplier=self._backoff_initial, max=self._backoff_max),
            retry=retry_if_exception(lambda e: not isinstance(e, PoisonMessage)),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                outcome = await self._apply(delivery, ignore_parked)
        OUTCOMES.labels(self.group, outcome.value).inc()
        return outcome

    async def _apply(self, delivery: Delivery, ignore_parked: bool) -> Outcome:
        envelope = delivery.envelope
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await lock_subject(conn, self.group, envelope.subject)
                if not ignore_parked and await has_parked(conn, self.group, envelope.subject):
                    return Outcome.BEHIND_PARKED
                if await self.ledger.seen(conn, envelope.source, envelope.id):
                    return Outcome.DUPLICATE
                with structlog.contextvars.bound_contextvars(
                    correlation_id=envelope.correlation_id,
                    causation_id=str(envelope.id),
                    event_type=envelope.type,
                ):
                    await self._handler(conn, delivery)
                if not await self.ledger.record(conn, envelope.source, envelope.id):
                    raise _AlreadyApplied
        except _AlreadyApplied:
            return Outcome.DUPLICATE
        return Outcome.APPLIED


async def lock_subject(conn: Connection, group: str, subject: str) -> None:
    """Serialise work on one aggregate within one group (handling, parking, replay)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", group, subject)


async def has_parked(conn: Connection, group: str, subject: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM kamu_parked_messages "
            "WHERE consumer_group = $1 AND subject = $2 AND status = 'parked' LIMIT 1",
            group,
            subject,
        )
    )
