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
from kamu_shared.unavailable import INFRASTRUCTURE_ERRORS

Handler = Callable[[Connection, Delivery], Awaitable[None]]
Prelude = Callable[[Connection], Awaitable[None]]
"""Runs first in every transaction, before any read (a projection's shared swap lock)."""


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


class BatchFailed(Exception):
    """One message of a batch failed; the batch was rolled back."""

    def __init__(self, message: Message, error: Exception) -> None:
        super().__init__(f"{message.topic}[{message.partition}]@{message.offset}: {error!r}")
        self.message = message
        self.error = error


class HandlerFailed(Exception):
    """The handler raised: the message's fault until proven otherwise, so retried then parked.

    Wrapping keeps a handler's own network errors (an SMTP server refusing) apart from the
    consumer's infrastructure errors, which restart the consumer instead of parking.
    """

    def __init__(self, error: Exception) -> None:
        super().__init__(repr(error))
        self.error = error


class _Fallback(Exception):
    """A batch met something that needs the message-by-message path."""


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


EventKey = tuple[str, uuid.UUID]  # (source, id): an event everywhere


class Ledger(Protocol):
    """Where a group records the events it applied, in the same transaction as the effects."""

    async def seen(self, conn: Connection, source: str, event_id: uuid.UUID) -> bool: ...

    async def record(self, conn: Connection, source: str, event_id: uuid.UUID) -> bool:
        """Record the event; False if a concurrent transaction recorded it first."""
        ...

    async def seen_many(self, conn: Connection, keys: Sequence[EventKey]) -> set[EventKey]:
        """Which of ``keys`` are recorded already (one statement for a batch)."""
        ...

    async def record_many(self, conn: Connection, keys: Sequence[EventKey]) -> int:
        """Record ``keys`` (distinct); how many were new (fewer: a concurrent writer won)."""
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

    async def seen_many(self, conn: Connection, keys: Sequence[EventKey]) -> set[EventKey]:
        rows = await conn.fetch(
            "SELECT p.source, p.event_id FROM kamu_processed_events p "
            "JOIN unnest($2::text[], $3::uuid[]) AS k(source, event_id) USING (source, event_id) "
            "WHERE p.consumer_group = $1",
            self._group,
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
        return {(r["source"], r["event_id"]) for r in rows}

    async def record_many(self, conn: Connection, keys: Sequence[EventKey]) -> int:
        return int(
            await conn.fetchval(
                "WITH added AS ("
                "INSERT INTO kamu_processed_events (consumer_group, source, event_id) "
                "SELECT $1, * FROM unnest($2::text[], $3::uuid[]) "
                "ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM added",
                self._group,
                [k[0] for k in keys],
                [k[1] for k in keys],
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
        prelude: Prelude | None = None,
    ) -> None:
        self.pool = pool
        self._prelude = prelude
        self._heartbeat: Callable[[], None] = lambda: None
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
            # Exceptions only: cancellation (a watchdog, Ctrl-C) must end the retries at once.
            retry=retry_if_exception(
                lambda e: isinstance(e, Exception) and not isinstance(e, PoisonMessage)
            ),
            before_sleep=lambda _state: self._heartbeat(),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                outcome = await self._apply(delivery, ignore_parked)
        OUTCOMES.labels(self.group, outcome.value).inc()
        return outcome

    async def try_batch(self, messages: Sequence[Message]) -> list[Outcome] | None:
        """The happy path for handlers that never append events: all messages in one transaction.

        Same checks as :meth:`process` (subject locks, parked, ledger), each made once for the
        whole batch; on anything unusual (a parked subject, a poison message, a handler error)
        the whole batch rolls back and ``None`` tells the caller to go message by message, with
        retries and parking. Infrastructure errors are raised, as in :meth:`process`.
        """
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                outcomes = await self._apply_all(conn, messages)
        except _Fallback:
            return None
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception:
            return None
        for outcome in outcomes:
            OUTCOMES.labels(self.group, outcome.value).inc()
        return outcomes

    async def _apply_all(self, conn: Connection, messages: Sequence[Message]) -> list[Outcome]:
        """Every message in ``conn``'s transaction: subjects locked in one statement, parked
        subjects and the ledger asked once, the handler per event, the ledger written once.
        A copy of an event seen earlier, in the ledger or in this batch, is a duplicate."""
        decoded = [(message, *decode(message, self._decoders)) for message in messages]
        known = [(m, envelope, event) for m, envelope, event in decoded if event is not None]
        if not known:
            return [Outcome.UNKNOWN_TYPE] * len(messages)
        if self._prelude is not None:
            await self._prelude(conn)
        subjects = sorted({envelope.subject for _, envelope, _ in known})
        await lock_subjects(conn, self.group, subjects)
        if await any_parked(conn, self.group, subjects):
            raise _Fallback
        done = await self.ledger.seen_many(conn, [e.dedup_key() for _, e, _ in known])
        applied: list[EventKey] = []
        outcomes: list[Outcome] = []
        for message, envelope, event in decoded:
            if event is None:
                outcomes.append(Outcome.UNKNOWN_TYPE)
                continue
            key = envelope.dedup_key()
            if key in done:
                outcomes.append(Outcome.DUPLICATE)
                continue
            await self._call_handler(
                conn, Delivery(envelope=envelope, event=event, message=message)
            )
            done.add(key)
            applied.append(key)
            outcomes.append(Outcome.APPLIED)
        if applied and await self.ledger.record_many(conn, applied) != len(applied):
            raise _Fallback  # a concurrent writer recorded one first: go one by one
        return outcomes

    async def apply_batch(self, messages: Sequence[Message]) -> int:
        """Apply many messages in one transaction, without retries, parking or subject locks.

        For a writer that is alone on its target (a rebuild filling a fresh schema): an error
        rolls the whole batch back and is raised with the message's position. Returns how many
        were applied (unknown types and events already in the ledger are skipped).
        """
        async with self.pool.acquire() as conn, conn.transaction():
            decoded = []
            for message in messages:
                try:
                    decoded.append((message, *decode(message, self._decoders)))
                except Exception as exc:
                    raise BatchFailed(message, exc) from exc
            keys = [envelope.dedup_key() for _, envelope, event in decoded if event is not None]
            done = await self.ledger.seen_many(conn, keys) if keys else set()
            applied: list[EventKey] = []
            for message, envelope, event in decoded:
                if event is None or envelope.dedup_key() in done:
                    continue
                try:
                    await self._handler(
                        conn, Delivery(envelope=envelope, event=event, message=message)
                    )
                except Exception as exc:
                    raise BatchFailed(message, exc) from exc
                done.add(envelope.dedup_key())
                applied.append(envelope.dedup_key())
            if applied:
                await self.ledger.record_many(conn, applied)
        return len(applied)

    def on_progress(self, heartbeat: Callable[[], None]) -> None:
        """Called before each retry, so a watchdog sees slow retries as progress, not a stall."""
        self._heartbeat = heartbeat

    async def _begin(self, conn: Connection, subject: str) -> None:
        if self._prelude is not None:
            await self._prelude(conn)
        await lock_subject(conn, self.group, subject)

    async def _call_handler(self, conn: Connection, delivery: Delivery) -> None:
        try:
            await self._handler(conn, delivery)
        except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
            raise  # our own connection broke: infrastructure, not the message
        except Exception as exc:
            raise HandlerFailed(exc) from exc

    async def _apply(self, delivery: Delivery, ignore_parked: bool) -> Outcome:
        envelope = delivery.envelope
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await self._begin(conn, envelope.subject)
                if not ignore_parked and await has_parked(conn, self.group, envelope.subject):
                    return Outcome.BEHIND_PARKED
                if await self.ledger.seen(conn, envelope.source, envelope.id):
                    return Outcome.DUPLICATE
                with structlog.contextvars.bound_contextvars(
                    correlation_id=envelope.correlation_id,
                    causation_id=str(envelope.id),
                    event_type=envelope.type,
                ):
                    await self._call_handler(conn, delivery)
                if not await self.ledger.record(conn, envelope.source, envelope.id):
                    raise _AlreadyApplied
        except _AlreadyApplied:
            return Outcome.DUPLICATE
        return Outcome.APPLIED


async def lock_subject(conn: Connection, group: str, subject: str) -> None:
    """Serialise work on one aggregate within one group (handling, parking, replay)."""
    await lock_subjects(conn, group, [subject])


async def lock_subjects(conn: Connection, group: str, subjects: Sequence[str]) -> None:
    """:func:`lock_subject` for several aggregates in one statement, in a fixed order (sorted by
    the caller) so two batches never wait on each other crosswise."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1), hashtext(s)) FROM unnest($2::text[]) AS s",
        group,
        list(subjects),
    )


async def any_parked(conn: Connection, group: str, subjects: Sequence[str]) -> bool:
    """Whether any of ``subjects`` has a parked message in ``group`` (one statement)."""
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM kamu_parked_messages "
            "WHERE consumer_group = $1 AND subject = ANY($2::text[]) AND status = 'parked' "
            "LIMIT 1",
            group,
            list(subjects),
        )
    )


async def has_parked(conn: Connection, group: str, subject: str) -> bool:
    return await any_parked(conn, group, [subject])
