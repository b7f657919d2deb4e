"""The consumer loop: aiokafka group membership, offsets after effects, stall detection.

aiokafka's consumers are known to stop fetching silently after a broker restart or a rebalance,
and to lose their group session when the event loop blocks. A watchdog therefore watches three
signs (the loop stopped polling; every assigned partition stopped getting fetch responses; no
partition assigned for long) and, on any of them, reports the consumer as stalled (``/readyz``,
``kamu_consumer_stalled``) and replaces it. Offsets are committed only after effects commit, so a
replacement resumes exactly where work stopped; redelivered messages are recognised and skipped.

Besides, it keeps the group's gauges current while it runs, busy or idle: messages behind per
partition (``kamu_consumer_lag_messages``) and messages parked (``kamu_consumer_parked_messages``).
"""

import asyncio
import contextlib
import time
from collections.abc import Sequence

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError
from prometheus_client import Counter, Gauge, Histogram

from kamu_shared.aio import sleep_unless
from kamu_shared.consumer.messages import Message
from kamu_shared.consumer.parking import DeadLetters
from kamu_shared.consumer.processing import (
    HandlerFailed,
    Outcome,
    PoisonMessage,
    Processor,
    decode,
)
from kamu_shared.kafka.producer import event_producer
from kamu_shared.kafka.topics import dead_letter_topic, ensure_topics
from kamu_shared.unavailable import INFRASTRUCTURE_ERRORS

STALLED = Gauge("kamu_consumer_stalled", "1 while the consumer is stalled", ["group"])
RESTARTS = Counter(
    "kamu_consumer_restarts_total",
    "Consumers replaced after a stall or failure",
    ["group", "reason"],
)
LAST_POLL = Gauge("kamu_consumer_last_poll_timestamp", "When the consumer last polled", ["group"])
LAG = Gauge(
    "kamu_consumer_lag_messages",
    "Messages of an assigned partition not yet applied: the partition's end (highwater, from the"
    " last fetch) minus the first offset this member has not committed",
    ["group", "topic", "partition"],
)
HANDLE_SECONDS = Histogram(
    "kamu_consumer_handle_duration_seconds",
    "Time to apply one message (retries and parking included) or one batch in one transaction",
    ["group", "kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)

log = structlog.get_logger("kamu.consumer")


class Stalled(Exception):
    """The watchdog found the consumer not making progress."""


class EventConsumer:
    """One member of a consumer group applying one handler's effects."""

    def __init__(
        self,
        *,
        processor: Processor,
        bootstrap: str,
        topics: Sequence[str],
        stall_timeout: float = 30.0,
        session_timeout_ms: int = 10000,
        max_poll_records: int = 200,
        restart_backoff: float = 1.0,
        partitions: int = 3,
        replication: int = 1,
        batched: bool = False,
        parked_refresh: float = 15.0,
        commit_interval: float = 1.0,
    ) -> None:
        self.processor = processor
        self.group = processor.group
        self._bootstrap = bootstrap
        self._topics = list(topics)
        self._stall_timeout = stall_timeout
        self._session_timeout_ms = session_timeout_ms
        self._max_poll_records = max_poll_records
        self._restart_backoff = restart_backoff
        self._partitions = partitions
        self._replication = replication
        self._batched = batched  # one transaction per fetched batch when nothing goes wrong
        self._parked_refresh = parked_refresh  # seconds; replays by other processes show then
        # Offsets go to Kafka at most this often (seconds): each message's effect and its
        # ledger record commit in its own transaction first, so an offset committed later only
        # means more redelivery after a crash, which the ledger drops. Under load this saves a
        # broker round trip (and a write to __consumer_offsets) per batch; an idle consumer
        # still commits at once.
        self._commit_interval = commit_interval
        self._uncommitted: dict[TopicPartition, int] = {}
        self._last_commit = -float("inf")
        self.dead_letters = DeadLetters(processor.pool, self.group)
        self.stalled = False
        self.running = False
        self._last_poll = time.monotonic()
        self._unassigned_since: float | None = None
        # First offset not yet committed, per partition with a fetched batch in hand, and the
        # next offset to read after the last commit: the lag gauge's start, known locally.
        self._pending_from: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._lag_series: set[TopicPartition] = set()
        processor.on_progress(self._touch)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop``; replace the aiokafka consumer whenever it stalls or fails."""
        dlq_topics = [dead_letter_topic(t, self.group) for t in self._topics]
        producer = None
        while not stop.is_set():
            consumer = self._new_consumer()
            try:
                await ensure_topics(
                    self._bootstrap,
                    [*self._topics, *dlq_topics],
                    self._partitions,
                    self._replication,
                )
                if producer is None:
                    producer = event_producer(self._bootstrap, f"{self.group}-dlq")
                    await producer.start()
                await consumer.start()
                self.running = True
                await self._supervise(consumer, producer, stop)
            except Stalled as exc:
                RESTARTS.labels(self.group, "stalled").inc()
                log.warning("consumer-stalled", group=self.group, reason=str(exc))
            except INFRASTRUCTURE_ERRORS as exc:
                RESTARTS.labels(self.group, "infrastructure").inc()
                log.warning("consumer-failed", group=self.group, error=repr(exc))
                self._set_stalled(True)
                await sleep_unless(stop, self._restart_backoff)
            except Exception:
                # A bug must not end consumption for good: log it loudly, replace the consumer.
                RESTARTS.labels(self.group, "error").inc()
                log.exception("consumer-crashed", group=self.group)
                self._set_stalled(True)
                await sleep_unless(stop, self._restart_backoff)
            finally:
                self.running = False
                self._forget_lag()
                await _stop_quietly(consumer)
        if producer is not None:
            await _stop_quietly(producer)
        self._set_stalled(False)

    def _new_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._bootstrap,
            group_id=self.group,
            client_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=max(1000, self._session_timeout_ms // 3),
            max_poll_records=self._max_poll_records,
        )

    async def _supervise(
        self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, stop: asyncio.Event
    ) -> None:
        self._last_poll = time.monotonic()
        self._unassigned_since = None
        self._pending_from.clear()
        self._uncommitted.clear()  # a new consumer: its group's offsets are where it starts
        loop = asyncio.create_task(self._consume(consumer, producer, stop))
        parked_refreshed = -float("inf")
        try:
            while not loop.done():
                await asyncio.wait({loop}, timeout=min(1.0, self._stall_timeout / 4))
                if not loop.done() and (reason := self._stall_reason(consumer)):
                    loop.cancel()
                    self._set_stalled(True)
                    raise Stalled(reason)
                # While a handler is busy (or the loop idles) new messages still arrive.
                await self._refresh_lag(consumer)
                if time.monotonic() - parked_refreshed >= self._parked_refresh:
                    parked_refreshed = time.monotonic()
                    await self._refresh_parked()
            if loop.cancelled():  # not by us (we raise Stalled first): a library's doing
                raise Stalled("the consume loop was cancelled")
            loop.result()
        finally:
            if not loop.done():
                loop.cancel()

    async def _consume(
        self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500)
            self._last_poll = time.monotonic()
            LAST_POLL.labels(self.group).set(time.time())
            if not self._stall_reason(consumer):
                self._set_stalled(False)
            for tp, records in batch.items():
                self._pending_from[tp] = records[0].offset
            for tp, records in batch.items():
                messages = [Message.from_record(r) for r in records]
                if not await self._try_batch(messages):
                    for message in messages:
                        self._touch()
                        started = time.perf_counter()
                        await self._handle(message, producer)
                        HANDLE_SECONDS.labels(self.group, "message").observe(
                            time.perf_counter() - started
                        )
                self._uncommitted[tp] = records[-1].offset + 1
                self._committed[tp] = records[-1].offset + 1
                self._pending_from.pop(tp, None)
            await self._commit_offsets(consumer)
            await self._refresh_lag(consumer)
        # What was applied, committed on the way out; a rebalance under way refuses it, which
        # only means redelivery to the next owner (its ledger drops the copies).
        with contextlib.suppress(KafkaError):
            await self._commit_offsets(consumer, now=True)

    async def _commit_offsets(self, consumer: AIOKafkaConsumer, *, now: bool = False) -> None:
        """Commit the offsets of what was applied, if ``commit_interval`` passed since the last
        commit (or ``now``); partitions no longer assigned are left to their new owner, which
        reads them again and finds them in the ledger."""
        if not self._uncommitted:
            return
        if not now and time.monotonic() - self._last_commit < self._commit_interval:
            return
        assigned = consumer.assignment()
        offsets = {tp: o for tp, o in self._uncommitted.items() if tp in assigned}
        self._uncommitted.clear()
        if offsets:
            await consumer.commit(offsets)
        self._last_commit = time.monotonic()

    async def _try_batch(self, messages: Sequence[Message]) -> bool:
        """The batched happy path, timed as one; False when it must go message by message."""
        if not self._batched:
            return False
        started = time.perf_counter()
        if await self.processor.try_batch(messages) is None:
            return False
        HANDLE_SECONDS.labels(self.group, "batch").observe(time.perf_counter() - started)
        return True

    async def _refresh_lag(self, consumer: AIOKafkaConsumer) -> None:
        """``kamu_consumer_lag_messages`` for every assigned partition with a known highwater;
        partitions no longer assigned lose their series (another member reports them)."""
        assigned = consumer.assignment()
        for tp in set(self._committed) - assigned:
            del self._committed[tp]  # another member may commit it further meanwhile
        for tp in set(self._uncommitted) - assigned:
            del self._uncommitted[tp]  # committed later, it could move the group's offset back
        for tp in assigned:
            try:
                highwater = consumer.highwater(tp)
            except (AssertionError, IllegalStateError):
                continue  # revoked meanwhile
            start = self._pending_from.get(tp, self._committed.get(tp))
            if start is None and highwater is not None:
                start = await self._position(consumer, tp)
            if highwater is None or start is None:
                continue
            LAG.labels(self.group, tp.topic, str(tp.partition)).set(max(0, highwater - start))
            self._lag_series.add(tp)
        for tp in self._lag_series - assigned:
            self._forget_partition(tp)

    @staticmethod
    async def _position(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int | None:
        """Where the consumer reads ``tp`` next, if it knows at once: ``position`` may wait for
        an offset reset (up to the request timeout) or raise a Kafka error, and the watchdog
        this runs beside must not wait or fail with it."""
        try:
            return await asyncio.wait_for(consumer.position(tp), timeout=0.2)
        except Exception:  # unknown this round; the gauge waits for the next
            return None

    def _forget_lag(self) -> None:
        for tp in list(self._lag_series):
            self._forget_partition(tp)
        self._pending_from.clear()
        self._committed.clear()

    def _forget_partition(self, tp: TopicPartition) -> None:
        self._lag_series.discard(tp)
        with contextlib.suppress(KeyError):
            LAG.remove(self.group, tp.topic, str(tp.partition))

    async def _refresh_parked(self) -> None:
        """The parked gauge from the database (a failed read waits for the next round)."""
        await self.dead_letters.refresh_gauge()

    async def _handle(self, message: Message, producer: AIOKafkaProducer) -> None:
        try:
            outcome = await self.processor.process(message)
        except PoisonMessage as exc:
            await self._park(producer, message, str(exc), attempts=1)
            return
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as exc:
            cause = exc.error if isinstance(exc, HandlerFailed) else exc
            await self._park(producer, message, repr(cause), attempts=self.processor.attempts)
            return
        if outcome is Outcome.BEHIND_PARKED:
            await self._park(
                producer, message, "waiting behind a parked message of this subject", attempts=0
            )

    async def _park(
        self, producer: AIOKafkaProducer, message: Message, error: str, attempts: int
    ) -> None:
        subject, event_id, event_type = None, None, None
        try:
            envelope, _ = decode(message, [])
            subject, event_id, event_type = envelope.subject, str(envelope.id), envelope.type
        except PoisonMessage:
            subject = message.key.decode(errors="replace") if message.key else None
        await self.dead_letters.park(
            producer,
            message,
            error=error,
            attempts=attempts,
            subject=subject,
            event_id=event_id,
            event_type=event_type,
        )

    def _touch(self) -> None:
        """Work is progressing (a message started, a retry is due): not a stall."""
        self._last_poll = time.monotonic()

    def _stall_reason(self, consumer: AIOKafkaConsumer) -> str | None:
        now = time.monotonic()
        if now - self._last_poll > self._stall_timeout:
            return f"the loop has not polled for {now - self._last_poll:.0f}s"
        assignment = consumer.assignment()
        if not assignment:
            self._unassigned_since = self._unassigned_since or now
            if now - self._unassigned_since > 3 * self._stall_timeout:
                return "no partition assigned"
            return None
        self._unassigned_since = None
        fetched = [_last_fetch(consumer, tp) for tp in assignment]
        if all(ts is not None and time.time() - ts > self._stall_timeout for ts in fetched):
            return "no fetch response for any assigned partition"
        return None

    def _set_stalled(self, stalled: bool) -> None:
        self.stalled = stalled
        STALLED.labels(self.group).set(1 if stalled else 0)

    def problem(self) -> str | None:
        """Why this member is not consuming now, or None (``/readyz/background``)."""
        if self.stalled:
            return "stalled"
        if not self.running:
            return "not running"
        return None


class ConsumerCheck:
    """``/readyz`` check: the consumer runs and is not stalled."""

    def __init__(self, consumer: EventConsumer) -> None:
        self.name = f"consumer:{consumer.group}"
        self._consumer = consumer

    async def check(self) -> None:
        if problem := self._consumer.problem():
            raise RuntimeError(problem)


def _last_fetch(consumer: AIOKafkaConsumer, tp: TopicPartition) -> float | None:
    try:
        return float(consumer.last_poll_timestamp(tp)) / 1000.0
    except (AssertionError, TypeError, KeyError):
        return None


async def _stop_quietly(client: object) -> None:
    """Stop an aiokafka client, whatever it raises: with the broker down, aiokafka's
    ``consumer.stop()`` raises ``CancelledError`` (its fetcher awaits a task it just cancelled),
    which must not end the consumer for good. Only a cancellation of our own task passes."""
    try:
        await asyncio.wait_for(client.stop(), 10)  # type: ignore[attr-defined]
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        log.info("client-stop-cancelled", client=type(client).__name__)
    except Exception as exc:
        log.debug("client-stop-failed", error=repr(exc))
