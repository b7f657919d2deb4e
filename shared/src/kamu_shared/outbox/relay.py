"""Publishes committed events to Kafka, at least once, in order per aggregate.

- Reads with :meth:`EventStore.read_committed`, so a transaction that commits late is never
  skipped, and keeps a checkpoint row per relay name.
- The checkpoint moves only after Kafka acknowledged the batch: a crash between commit and
  publish loses nothing. A crash between Kafka's acknowledgement and the checkpoint does not
  send the batch twice either: a new leader first reads back what is on the topic past the
  checkpoint (:mod:`kamu_shared.outbox.tail`) and skips exactly those events. Consumers still
  de-duplicate by ``(ce_source, ce_id)`` (a deposed leader that has not noticed yet can send
  one batch more).
- Replicas elect one leader with a PostgreSQL session advisory lock; the others wait and take
  over when the leader's session ends, so two relays never interleave their sends.
- Wakes on ``NOTIFY kamu_events`` (sent by every append) and polls as a fallback. When a
  round leaves committed events behind a transaction of its database that still runs (whose
  end may send no ``NOTIFY``), it looks again soon: after ``recheck_initial`` seconds, doubling
  up to ``poll_interval`` while they stay held.
- Busy, it gathers: a round that published is followed by the next no sooner than ``gather``
  seconds later, so commits arriving every few milliseconds (each with its ``NOTIFY``) go out
  as one batch per interval, not one round of four statements and a send each. A relay woken
  after a quiet spell starts at once: the first event of a burst is never delayed.
- :meth:`OutboxRelay.problem` names what should fail readiness: the last round failed, or,
  while leading, the oldest unpublished event is older than ``unready_lag`` seconds.
"""

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import Counter, Gauge

from kamu_shared.aio import sleep_unless
from kamu_shared.outbox.envelopes import envelope_for
from kamu_shared.outbox.tail import commit_header, published_after
from kamu_shared.store.eventstore import NOTIFY_CHANNEL, EventStore
from kamu_shared.store.records import Checkpoint, RecordedEvent

PUBLISHED = Counter("kamu_relay_published_total", "Events published by the relay", ["topic"])
ROUNDS = Counter(
    "kamu_relay_batches_total", "Batches the relay published (one per round that sent)", ["topic"]
)
FOUND = Counter(
    "kamu_relay_found_on_topic_total",
    "Events a new leader found on the topic past its checkpoint and did not send again",
    ["topic"],
)
LEADER = Gauge("kamu_relay_leader", "1 while this process is the active relay", ["topic"])
LAG = Gauge("kamu_relay_lag_seconds", "Age of the oldest event not yet published", ["topic"])
BACKLOG = Gauge(
    "kamu_relay_backlog_events",
    "Events committed after the relay's checkpoint, not yet published; counted up to BACKLOG_CAP",
    ["topic"],
)
BACKLOG_CAP = 10_000
"""The backlog count stops here (ten times the alert's threshold), so a round while a large
backlog drains scans a bounded index range, not the whole backlog each batch."""

READ_BACK_TIMEOUT = 60.0
"""Seconds a new leader may spend reading back what is on the topic past its checkpoint."""

log = structlog.get_logger("kamu.relay")


class OutboxRelay:
    """One relay replica for one service's event store and topic."""

    def __init__(
        self,
        *,
        dsn: str,
        store: EventStore,
        pool: asyncpg.Pool,
        producer_factory: Callable[[], AIOKafkaProducer],
        reader_factory: Callable[[], AIOKafkaConsumer],
        topic: str,
        source: str,
        name: str = "relay",
        batch_size: int = 500,
        poll_interval: float = 1.0,
        recheck_initial: float = 0.01,
        unready_lag: float = 30.0,
        gather: float = 0.0,
    ) -> None:
        self._dsn = dsn
        self._store = store
        self._pool = pool
        self._producer_factory = producer_factory
        self._reader_factory = reader_factory
        self.topic = topic
        self._source = source
        self._name = name
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._recheck_initial = min(recheck_initial, poll_interval)
        self._unready_lag = unready_lag
        self._gather = gather
        self._wake = asyncio.Event()
        self.is_leader = False
        self.failures = 0
        self.last_error: str | None = None  # cleared by the next round that works
        # When (time.monotonic()) the oldest unpublished event was recorded, as of the last
        # round; None when everything committed was published (or we do not lead).
        self._oldest_unpublished: float | None = None

    def problem(self) -> str | None:
        """Why this relay should make ``/readyz`` fail, or None: its last round failed, or it
        leads and its oldest unpublished event is older than ``unready_lag`` seconds (held
        back by a long transaction in its database, failing or overloaded). The age grows
        between rounds, so a relay stuck inside a round shows too."""
        if self.last_error is not None:
            return f"failing: {self.last_error}"
        oldest = self._oldest_unpublished
        if self.is_leader and oldest is not None:
            age = time.monotonic() - oldest
            if age > self._unready_lag:
                return (
                    f"lagging: the oldest unpublished event is {age:.0f} s old "
                    f"(more than {self._unready_lag:g} s)"
                )
        return None

    async def run(self, stop: asyncio.Event) -> None:
        """Wait for leadership, then publish until ``stop`` is set."""
        # Keepalives and a command timeout: a leader whose host vanished must lose its lock (and
        # notice) in seconds, not after the kernel's two-hour TCP default.
        lock_conn = await asyncpg.connect(
            self._dsn,
            command_timeout=10,
            server_settings={
                "application_name": "kamu-relay",
                "tcp_keepalives_idle": "10",
                "tcp_keepalives_interval": "5",
                "tcp_keepalives_count": "3",
            },
        )
        try:
            if not await self._become_leader(lock_conn, stop):
                return
            await lock_conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
            producer = self._producer_factory()
            await producer.start()
            try:
                await self._lead(lock_conn, producer, stop)
            finally:
                await producer.stop()
        finally:
            self.is_leader = False
            self._oldest_unpublished = None
            LEADER.labels(self.topic).set(0)
            # Only the leader measures: a former leader must not keep reporting its last figures.
            for gauge in (LAG, BACKLOG):
                with contextlib.suppress(KeyError):
                    gauge.remove(self.topic)
            await lock_conn.close()

    async def run_forever(
        self, stop: asyncio.Event, backoff: float = 1.0, max_backoff: float = 30.0
    ) -> None:
        """:meth:`run`, restarted with growing pauses after failures (Kafka or PostgreSQL down)."""
        delay = backoff
        while not stop.is_set():
            try:
                await self.run(stop)
                delay = backoff
            except Exception as exc:
                self.failures += 1
                self.last_error = repr(exc)
                log.warning("relay-failed", topic=self.topic, error=repr(exc), retry_in=delay)
                await sleep_unless(stop, delay)
                delay = min(delay * 2, max_backoff)

    async def _become_leader(self, lock_conn: asyncpg.Connection, stop: asyncio.Event) -> bool:
        key = f"kamu-relay:{self._name}"
        while not stop.is_set():
            leading = await lock_conn.fetchval(
                "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", key
            )
            self.last_error = None  # standing by works too
            if leading:
                self.is_leader = True
                LEADER.labels(self.topic).set(1)
                log.info("relay-leader", topic=self.topic, relay=self._name)
                return True
            await sleep_unless(stop, self._poll_interval)
        return False

    async def _lead(
        self, lock_conn: asyncpg.Connection, producer: AIOKafkaProducer, stop: asyncio.Event
    ) -> None:
        checkpoint = await self._load_checkpoint()
        on_topic = await self._on_topic_after(producer, checkpoint)
        recheck: float | None = None  # the pause while committed events are held back
        published_at: float | None = None  # when the last round that published ended
        while not stop.is_set():
            if (
                published_at is not None
                and (pause := published_at + self._gather - time.monotonic()) > 0
            ):
                await sleep_unless(stop, pause)  # busy: let more commits join this round
                if stop.is_set():
                    break
            await lock_conn.fetchval("SELECT 1")  # our lock lives as long as this session
            self._wake.clear()
            batch = await self._store.read_committed(checkpoint, self._batch_size)
            published_at = None
            if batch:
                await self._publish(producer, batch, on_topic)
                ROUNDS.labels(self.topic).inc()  # with PUBLISHED, no await between them
                checkpoint = Checkpoint.after(batch[-1])
                await self._save_checkpoint(checkpoint)
                if len(batch) < self._batch_size:  # a full batch goes on at once
                    published_at = time.monotonic()
            waiting = await self._observe_backlog(checkpoint)
            self.last_error = None
            if len(batch) == self._batch_size:
                continue
            # Events committed after the checkpoint yet not read wait behind a running
            # transaction of this database (or committed since the read, and their NOTIFY
            # wakes us anyway): look again soon. Progress restarts the short pauses; a round
            # without any doubles them.
            if not waiting:
                recheck = None
            elif recheck is None or batch:
                recheck = self._recheck_initial
            else:
                recheck = min(recheck * 2, self._poll_interval)
            wake = asyncio.create_task(self._wake.wait())
            halt = asyncio.create_task(stop.wait())
            await asyncio.wait(
                {wake, halt}, timeout=recheck or self._poll_interval, return_when="FIRST_COMPLETED"
            )
            wake.cancel()
            halt.cancel()

    async def publish_pending(self, producer: AIOKafkaProducer) -> int:
        """Publish everything committed so far, once (for tools and tests); return the count."""
        checkpoint = await self._load_checkpoint()
        on_topic = await self._on_topic_after(producer, checkpoint)
        total = 0
        while batch := await self._store.read_committed(checkpoint, self._batch_size):
            await self._publish(producer, batch, on_topic)
            checkpoint = Checkpoint.after(batch[-1])
            await self._save_checkpoint(checkpoint)
            total += len(batch)
        return total

    async def _on_topic_after(
        self, producer: AIOKafkaProducer, checkpoint: Checkpoint
    ) -> set[uuid.UUID]:
        """What a previous leader sent past ``checkpoint`` before it stopped: nothing to read
        when the store holds nothing past it (a clean stop, or a fresh store)."""
        pending = await self._pool.fetchval(
            """SELECT count(*) FROM (
                 SELECT 1 FROM kamu_events WHERE (transaction_id, position) > ($1::text::xid8, $2)
                 LIMIT $3) AS p""",
            str(checkpoint.transaction_id),
            checkpoint.position,
            self._batch_size,
        )
        if not pending:
            return set()
        reader = self._reader_factory()
        await reader.start()
        try:
            # Bounded: a partition that cannot be read fails the round (and shows in
            # readiness) instead of holding the lock while publishing nothing.
            async with asyncio.timeout(READ_BACK_TIMEOUT):
                partitions = await producer.partitions_for(self.topic)
                found = await published_after(reader, self.topic, partitions, checkpoint, pending)
        finally:
            await reader.stop()
        if found:
            log.info("relay-found-on-topic", topic=self.topic, events=len(found))
        return found

    async def _publish(
        self, producer: AIOKafkaProducer, batch: list[RecordedEvent], on_topic: set[uuid.UUID]
    ) -> None:
        """Send ``batch`` but the events already ``on_topic`` (whose ids it removes)."""
        sends = []
        for event in batch:
            if event.event_id in on_topic:
                on_topic.discard(event.event_id)
                FOUND.labels(self.topic).inc()
                continue
            key, value, headers = envelope_for(event, self._source).to_kafka()
            headers.append(commit_header(event))
            sends.append(await producer.send(self.topic, value, key=key, headers=headers))
        await asyncio.gather(*sends)
        PUBLISHED.labels(self.topic).inc(len(sends))

    async def _observe_backlog(self, checkpoint: Checkpoint) -> int:
        """Age and count of the committed events after the checkpoint (the count is returned):
        a relay held back by a long transaction in its database shows as growing lag and
        backlog rather than as silence. One statement over the commit-order index, the count
        capped at :data:`BACKLOG_CAP`."""
        row = await self._pool.fetchrow(
            """SELECT
                 (SELECT count(*) FROM (
                    SELECT 1 FROM kamu_events
                    WHERE (transaction_id, position) > ($1::text::xid8, $2) LIMIT $3) AS p
                 ) AS backlog,
                 (SELECT extract(epoch FROM clock_timestamp() - recorded_at) FROM kamu_events
                  WHERE (transaction_id, position) > ($1::text::xid8, $2)
                  ORDER BY transaction_id, position LIMIT 1) AS age""",
            str(checkpoint.transaction_id),
            checkpoint.position,
            BACKLOG_CAP,
        )
        assert row is not None
        age = float(row["age"] or 0.0)
        backlog = int(row["backlog"])
        LAG.labels(self.topic).set(age)
        BACKLOG.labels(self.topic).set(backlog)
        self._oldest_unpublished = time.monotonic() - age if backlog else None
        return backlog

    async def _load_checkpoint(self) -> Checkpoint:
        row = await self._pool.fetchrow(
            """INSERT INTO kamu_outbox_checkpoints (name) VALUES ($1)
               ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
               RETURNING transaction_id::text::bigint AS xid, position""",
            self._name,
        )
        assert row is not None
        return Checkpoint(row["xid"], row["position"])

    async def _save_checkpoint(self, checkpoint: Checkpoint) -> None:
        await self._pool.execute(
            # Only forwards: a deposed leader finishing late must not move it back.
            """UPDATE kamu_outbox_checkpoints
               SET transaction_id = $2::text::xid8, position = $3, updated_at = now()
               WHERE name = $1 AND (transaction_id, position) < ($2::text::xid8, $3)""",
            self._name,
            str(checkpoint.transaction_id),
            checkpoint.position,
        )
