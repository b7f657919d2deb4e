"""The relay's guarantees against real Kafka and PostgreSQL."""

import asyncio
import os
import random
import signal
import subprocess
import sys
import textwrap
import uuid
from collections import defaultdict
from datetime import UTC, datetime

import asyncpg
import pytest
from prometheus_client import REGISTRY

from kamu_shared.kafka.producer import event_producer
from kamu_shared.kafka.topics import ensure_topics
from kamu_shared.outbox.envelopes import envelope_for
from kamu_shared.outbox.relay import OutboxRelay
from kamu_shared.outbox.tail import commit_header, tail_reader
from kamu_shared.store.records import NO_STREAM, Checkpoint, Metadata, NewEvent, StreamAppend
from kamu_shared.testing.kafka import read_topic
from kamu_shared.testing.waiting import eventually

SOURCE = "/kamu/example"


def one(stream: str, expected: int, kind: str = "kamu.example.thing-happened.v1") -> StreamAppend:
    return StreamAppend(
        stream, "thing", expected, [NewEvent(kind, {"at": expected}, datetime.now(UTC))]
    )


@pytest.fixture
async def topic(kafka_bootstrap, topic_name):
    name = topic_name("relay")
    await ensure_topics(kafka_bootstrap, [name])
    return name


def relay_for(migrated_db, store, pool, kafka_bootstrap, topic, **kwargs) -> OutboxRelay:
    return OutboxRelay(
        dsn=migrated_db,
        store=store,
        pool=pool,
        topic=topic,
        source=SOURCE,
        producer_factory=lambda: event_producer(kafka_bootstrap, "test-relay"),
        reader_factory=lambda: tail_reader(kafka_bootstrap, "test-relay"),
        **{"poll_interval": 0.2, **kwargs},
    )


def assert_in_order_per_aggregate(envelopes) -> None:
    seen: dict[str, list[int]] = defaultdict(list)
    for env in envelopes:
        if env.sequence not in seen[env.subject]:
            seen[env.subject].append(env.sequence)
    for subject, sequences in seen.items():
        assert sequences == sorted(sequences), subject


async def test_every_committed_event_is_published_keyed_and_in_order(
    store, pool, migrated_db, kafka_bootstrap, topic
):
    for version in range(5):
        for stream in ("a", "b", "c"):
            await store.append([one(stream, version)], Metadata(correlation_id="corr", actor="p-1"))
    relay = relay_for(migrated_db, store, pool, kafka_bootstrap, topic)
    producer = event_producer(kafka_bootstrap, "test")
    await producer.start()
    try:
        assert await relay.publish_pending(producer) == 15
        assert await relay.publish_pending(producer) == 0  # the checkpoint moved
    finally:
        await producer.stop()

    envelopes = await read_topic(kafka_bootstrap, topic, expect_at_least=15)

    stored = [e for s in ("a", "b", "c") for e in await store.read_stream(s)]
    assert {e.id for e in envelopes} == {e.event_id for e in stored}
    assert_in_order_per_aggregate(envelopes)
    first = next(e for e in envelopes if e.subject == "a" and e.sequence == 1)
    assert (first.source, first.type, first.correlation_id, first.actor) == (
        SOURCE,
        "kamu.example.thing-happened.v1",
        "corr",
        "p-1",
    )


async def test_an_event_committed_late_is_published_not_skipped(
    store, pool, migrated_db, kafka_bootstrap, topic
):
    relay = relay_for(migrated_db, store, pool, kafka_bootstrap, topic)
    producer = event_producer(kafka_bootstrap, "test")
    await producer.start()
    try:
        async with pool.acquire() as slow:
            tx = slow.transaction()
            await tx.start()
            await store.append([one("slow", NO_STREAM)], conn=slow)
            await store.append([one("fast", NO_STREAM)])  # commits first, higher position
            published_while_open = await relay.publish_pending(producer)
            await tx.commit()
        published_after = await relay.publish_pending(producer)
    finally:
        await producer.stop()

    envelopes = await read_topic(kafka_bootstrap, topic, expect_at_least=2)
    assert (published_while_open, published_after) == (0, 2)
    assert sorted(e.subject for e in envelopes) == ["fast", "slow"]


async def test_two_relay_replicas_publish_everything_once_in_order(
    store, pool, migrated_db, kafka_bootstrap, topic
):
    relays = [relay_for(migrated_db, store, pool, kafka_bootstrap, topic) for _ in range(2)]
    stop = asyncio.Event()
    running = [asyncio.create_task(r.run_forever(stop)) for r in relays]

    async def writer(stream: str) -> None:
        for version in range(20):
            await store.append([one(stream, version)])

    await asyncio.gather(*(writer(f"s-{i}") for i in range(10)))
    envelopes = await read_topic(kafka_bootstrap, topic, expect_at_least=200)
    leaders = [r.is_leader for r in relays]
    stop.set()
    await asyncio.gather(*running)

    assert sorted(leaders) == [False, True]
    assert len(envelopes) == 200
    assert len({e.id for e in envelopes}) == 200
    assert_in_order_per_aggregate(envelopes)


RELAY_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from kamu_shared.db.pool import create_pool
    from kamu_shared.kafka.producer import event_producer
    from kamu_shared.outbox.relay import OutboxRelay
    from kamu_shared.outbox.tail import tail_reader
    from kamu_shared.store.eventstore import EventStore

    async def main(dsn, bootstrap, topic):
        pool = await create_pool(dsn)
        relay = OutboxRelay(dsn=dsn, store=EventStore(pool), pool=pool, topic=topic,
                            source="/kamu/example", batch_size=7, poll_interval=0.05,
                            producer_factory=lambda: event_producer(bootstrap, "killed-relay"),
                            reader_factory=lambda: tail_reader(bootstrap, "killed-relay"))
        await relay.run_forever(asyncio.Event())

    asyncio.run(main(*sys.argv[1:]))
    """
)


@pytest.mark.slow
async def test_killing_the_relay_mid_stream_loses_nothing(
    store, pool, migrated_db, kafka_bootstrap, topic
):
    """SIGKILL between commit and publish (or publish and checkpoint): a restart catches up."""
    argv = [sys.executable, "-c", RELAY_SCRIPT, migrated_db, kafka_bootstrap, topic]
    victim = subprocess.Popen(argv, env=os.environ.copy())
    committed = 0
    try:
        for version in range(60):
            await store.append([one("k1", version), one("k2", version)])
            committed += 2
            if version == 30:
                victim.send_signal(signal.SIGKILL)  # mid-stream, whatever it was doing
        victim.wait(timeout=10)
        survivor = subprocess.Popen(argv, env=os.environ.copy())
        try:
            assert await eventually(lambda: _caught_up(pool))  # its checkpoint covers all
            envelopes = await read_topic(kafka_bootstrap, topic, expect_at_least=committed)
        finally:
            survivor.terminate()
            survivor.wait(timeout=10)
    finally:
        if victim.poll() is None:
            victim.kill()

    stored = {e.event_id for s in ("k1", "k2") for e in await store.read_stream(s)}
    assert {e.id for e in envelopes} == stored  # nothing lost
    assert len(envelopes) == len(stored)  # nothing twice: the survivor read back the tail
    assert_in_order_per_aggregate(envelopes)


async def test_when_the_leaders_session_dies_publishing_goes_on(
    store, pool, migrated_db, kafka_bootstrap, topic
):
    """A PostgreSQL restart or failover ends the leader's session: another round takes over."""
    relays = [relay_for(migrated_db, store, pool, kafka_bootstrap, topic) for _ in range(2)]
    stop = asyncio.Event()
    running = [asyncio.create_task(r.run_forever(stop, backoff=0.2)) for r in relays]
    for version in range(10):
        await store.append([one("before", version)])
    await read_topic(kafka_bootstrap, topic, expect_at_least=10)

    killed = await pool.fetchval(
        """SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l
           JOIN pg_stat_activity a USING (pid)
           WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'kamu-relay'"""
    )
    for version in range(10):
        await store.append([one("after", version)])
    envelopes = await read_topic(kafka_bootstrap, topic, expect_at_least=20)
    stop.set()
    await asyncio.gather(*running)

    assert killed == 1
    assert {e.subject for e in envelopes} == {"before", "after"}
    assert len({e.id for e in envelopes}) == 20
    assert sum(r.failures for r in relays) >= 1  # the deposed leader noticed, and carried on
    assert_in_order_per_aggregate(envelopes)


def _gauge(name: str, topic: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"topic": topic})


async def test_backlog_counts_events_held_back_and_empties_once_published(
    store, pool, migrated_db, kafka_bootstrap, topic
):
    # A writing transaction that stays open holds every later commit back from the relay.
    blocker = await asyncpg.connect(migrated_db)
    held = blocker.transaction()
    await held.start()
    await blocker.fetchval("SELECT pg_current_xact_id()")
    for stream in ("a", "b", "c"):
        await store.append([one(stream, NO_STREAM)])
    relay = relay_for(migrated_db, store, pool, kafka_bootstrap, topic)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run_forever(stop))
    try:
        assert await eventually(lambda: _is(lambda: _gauge(BACKLOG, topic), 3))
        assert (_gauge("kamu_relay_lag_seconds", topic) or 0) > 0
        assert _gauge("kamu_relay_published_total", topic) is None  # nothing went out

        await held.rollback()

        assert await eventually(lambda: _is(lambda: _gauge(BACKLOG, topic), 0))
        assert _gauge("kamu_relay_published_total", topic) == 3
        assert len(await read_topic(kafka_bootstrap, topic, expect_at_least=3)) == 3
    finally:
        await blocker.close()
        stop.set()
        await asyncio.wait_for(task, 30)
    assert _gauge(BACKLOG, topic) is None  # no longer the leader: no figures of its own


BACKLOG = "kamu_relay_backlog_events"


async def _is(read, expected: float) -> bool:
    return read() == expected


async def _open_writing_transaction(url: str) -> asyncpg.Connection:
    """A connection whose transaction has a transaction id and stays open until closed."""
    conn = await asyncpg.connect(url)
    await conn.execute("BEGIN")
    await conn.fetchval("SELECT pg_current_xact_id()")
    return conn


async def _published(topic: str, at_least: int) -> bool:
    return (_gauge("kamu_relay_published_total", topic) or 0) >= at_least


async def test_a_transaction_open_in_another_database_does_not_hold_the_relay_back(
    store, pool, migrated_db, make_database, kafka_bootstrap, topic
):
    """Every service's database lives on one server: another one's forgotten transaction
    must not stop this relay (it did for as long as the transaction lasted)."""
    elsewhere = await _open_writing_transaction(await make_database("elsewhere"))
    relay = relay_for(migrated_db, store, pool, kafka_bootstrap, topic, poll_interval=60)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run_forever(stop))
    try:
        for version in range(5):
            await store.append([one("s", version)])

        assert await eventually(lambda: _published(topic, 5), timeout=20)
        assert elsewhere.is_in_transaction()  # published while it is still open
        assert relay.problem() is None
    finally:
        await elsewhere.close()
        stop.set()
        await asyncio.wait_for(task, 30)
    envelopes = await read_topic(kafka_bootstrap, topic, expect_at_least=5)
    assert [e.sequence for e in envelopes] == [1, 2, 3, 4, 5]


@pytest.fixture
async def ordered_topic(kafka_bootstrap, topic_name):
    """One partition: the topic's order is the order the relay published in."""
    name = topic_name("relay-ordered")
    await ensure_topics(kafka_bootstrap, [name], partitions=1)
    return name


async def _commit_order(pool) -> list[uuid.UUID]:
    rows = await pool.fetch("SELECT event_id FROM kamu_events ORDER BY transaction_id, position")
    return [r["event_id"] for r in rows]


async def test_a_transaction_open_in_this_database_holds_later_commits_back_then_all_go_in_order(
    store, pool, migrated_db, kafka_bootstrap, ordered_topic
):
    """The gap guarantee: rows committed after a still-open writer wait for it; once it
    commits, its rows and the later ones go out in (transaction, position) order."""
    topic = ordered_topic
    relay = relay_for(migrated_db, store, pool, kafka_bootstrap, topic)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run_forever(stop))
    try:
        await store.append([one("first", NO_STREAM)])
        assert await eventually(lambda: _published(topic, 1))
        async with pool.acquire() as slow:
            tx = slow.transaction()
            await tx.start()
            await store.append([one("slow", NO_STREAM), one("slow-too", NO_STREAM)], conn=slow)
            for stream in ("fast-1", "fast-2", "fast-3"):
                await store.append([one(stream, NO_STREAM)])  # committed, higher positions
            assert await eventually(lambda: _is(lambda: _gauge(BACKLOG, topic), 3))
            assert _gauge("kamu_relay_published_total", topic) == 1  # nothing past the gap
            await tx.commit()
        assert await eventually(lambda: _published(topic, 6))
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)

    envelopes = await read_topic(kafka_bootstrap, topic, expect_at_least=6)
    assert [e.id for e in envelopes] == await _commit_order(pool)
    assert [e.subject for e in envelopes] == [
        "first",
        "slow",
        "slow-too",
        "fast-1",
        "fast-2",
        "fast-3",
    ]


async def test_a_held_back_relay_looks_again_soon_without_a_notify(
    store, pool, migrated_db, kafka_bootstrap, topic
):
    """A transaction of this database that appends nothing sends no NOTIFY when it ends: the
    relay looks again after short, growing pauses instead of its whole poll interval."""
    blocker = await _open_writing_transaction(migrated_db)
    relay = relay_for(migrated_db, store, pool, kafka_bootstrap, topic, poll_interval=120)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run_forever(stop))
    try:
        await store.append([one("waits", NO_STREAM)])
        assert await eventually(lambda: _is(lambda: _gauge(BACKLOG, topic), 1))
        await blocker.execute("COMMIT")

        assert await eventually(lambda: _published(topic, 1), timeout=20)  # poll: 120 s
    finally:
        await blocker.close()
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_concurrent_writers_committing_late_lose_nothing_and_keep_each_streams_order(
    store, pool, migrated_db, make_database, kafka_bootstrap, topic
):
    """Many appends, each committing after a random delay (so transactions constantly commit
    after ones with higher positions), some rolled back, while transactions of another
    database come and go: each stream reaches the topic whole, once, in order."""
    elsewhere_url = await make_database("elsewhere")
    relay = relay_for(migrated_db, store, pool, kafka_bootstrap, topic, recheck_initial=0.005)
    stop = asyncio.Event()
    relay_task = asyncio.create_task(relay.run_forever(stop))
    rng = random.Random(15)
    streams = [f"s-{i}" for i in range(6)]
    committed: set[uuid.UUID] = set()
    rolled_back: set[uuid.UUID] = set()
    writing = asyncio.Event()

    async def writer() -> None:
        for _ in range(15):
            stream = rng.choice(streams)
            event = NewEvent("kamu.example.thing-happened.v1", {}, datetime.now(UTC))
            async with pool.acquire() as conn:
                tx = conn.transaction()
                await tx.start()
                await store.append([StreamAppend(stream, "thing", None, [event])], conn=conn)
                await asyncio.sleep(rng.uniform(0, 0.03))
                if rng.random() < 0.1:
                    await tx.rollback()
                    rolled_back.add(event.event_id)
                else:
                    await tx.commit()
                    committed.add(event.event_id)

    async def elsewhere() -> None:
        conn = await asyncpg.connect(elsewhere_url)
        try:
            while not writing.is_set():
                async with conn.transaction():
                    await conn.fetchval("SELECT pg_current_xact_id()")
                    await asyncio.sleep(rng.uniform(0, 0.05))
        finally:
            await conn.close()

    noise = [asyncio.create_task(elsewhere()) for _ in range(2)]
    try:
        await asyncio.gather(*(writer() for _ in range(8)))
        writing.set()
        await asyncio.gather(*noise)
        assert await eventually(lambda: _published(topic, len(committed)))
    finally:
        writing.set()
        stop.set()
        await asyncio.wait_for(relay_task, 30)

    envelopes = await read_topic(kafka_bootstrap, topic, expect_at_least=len(committed))
    assert {e.id for e in envelopes} == committed
    assert len(envelopes) == len(committed)  # once each
    assert not rolled_back & {e.id for e in envelopes}
    for stream in streams:
        sequences = [e.sequence for e in envelopes if e.subject == stream]
        assert sequences == list(range(1, len(sequences) + 1)), stream


async def test_a_busy_relay_gathers_commits_and_an_idle_one_sends_at_once(
    store, pool, migrated_db, kafka_bootstrap, topic
):
    """Commits every few milliseconds leave in a few batches, not one round each; the first
    event after a quiet spell is not held for the gathering interval."""
    relay = relay_for(migrated_db, store, pool, kafka_bootstrap, topic, gather=10.0)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run_forever(stop))
    try:
        await eventually(lambda: _value(lambda: relay.is_leader))
        await store.append([one("first", NO_STREAM)])  # idle until now: out at once
        assert await eventually(lambda: _published(topic, 1), timeout=7)  # inside the 10 s
        batches = _gauge("kamu_relay_batches_total", topic)
        for version in range(30):  # each its own transaction and NOTIFY, within the interval
            await store.append([one("busy", version)])
        assert await eventually(lambda: _published(topic, 31), timeout=120)
        assert _gauge("kamu_relay_batches_total", topic) == batches + 1  # one gathered batch
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


class _DiesBeforeItsCheckpoint(OutboxRelay):
    """Kafka acknowledged the batch, then PostgreSQL went away before the checkpoint moved."""

    async def _save_checkpoint(self, checkpoint: Checkpoint) -> None:
        raise ConnectionResetError("the database went away before the checkpoint was saved")


async def _caught_up(pool, name: str = "relay") -> bool:
    """The relay's checkpoint covers every committed event."""
    return bool(
        await pool.fetchval(
            """SELECT (c.transaction_id, c.position) >= (e.transaction_id, e.position)
               FROM kamu_outbox_checkpoints c,
                    (SELECT transaction_id, position FROM kamu_events
                     ORDER BY transaction_id DESC, position DESC LIMIT 1) e
               WHERE c.name = $1""",
            name,
        )
    )


async def _run_until_caught_up(relay: OutboxRelay, pool) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run_forever(stop, backoff=0.2))
    try:
        assert await eventually(lambda: _caught_up(pool))
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_a_batch_kafka_acknowledged_before_the_crash_is_not_sent_again(
    store, pool, migrated_db, kafka_bootstrap, topic
):
    """Once per event id on the topic: the next leader reads back what is past its checkpoint."""
    for version in range(5):
        for stream in ("a", "b", "c"):
            await store.append([one(stream, version)])
    dying = _DiesBeforeItsCheckpoint(
        dsn=migrated_db, store=store, pool=pool, topic=topic, source=SOURCE,
        producer_factory=lambda: event_producer(kafka_bootstrap, "test-relay"),
        reader_factory=lambda: tail_reader(kafka_bootstrap, "test-relay"),
    )  # fmt: skip
    producer = event_producer(kafka_bootstrap, "test")
    await producer.start()
    try:
        with pytest.raises(ConnectionResetError):
            await dying.publish_pending(producer)
    finally:
        await producer.stop()
    assert len(await read_topic(kafka_bootstrap, topic, expect_at_least=15)) == 15
    for version in range(5, 8):
        for stream in ("a", "b", "c"):
            await store.append([one(stream, version)])
    found_before = _gauge("kamu_relay_found_on_topic_total", topic) or 0

    await _run_until_caught_up(relay_for(migrated_db, store, pool, kafka_bootstrap, topic), pool)

    envelopes = await read_topic(kafka_bootstrap, topic, expect_at_least=24)
    assert len(envelopes) == 24
    assert len({e.id for e in envelopes}) == 24  # each once
    assert _gauge("kamu_relay_found_on_topic_total", topic) == found_before + 15
    assert_in_order_per_aggregate(envelopes)


async def test_what_is_missing_between_events_already_on_the_topic_is_still_sent(
    store, pool, migrated_db, kafka_bootstrap, topic
):
    """The read-back skips exactly the ids it found, not everything below the highest one: an
    event whose send failed while a later one went through is not lost."""
    for stream in ("first", "second", "third"):
        await store.append([one(stream, NO_STREAM)])
    middle = (await store.read_stream("second"))[0]
    producer = event_producer(kafka_bootstrap, "test")
    await producer.start()
    try:  # what a crashed leader got through: only the middle one
        key, value, headers = envelope_for(middle, SOURCE).to_kafka()
        await producer.send_and_wait(
            topic, value, key=key, headers=[*headers, commit_header(middle)]
        )
    finally:
        await producer.stop()

    await _run_until_caught_up(relay_for(migrated_db, store, pool, kafka_bootstrap, topic), pool)

    envelopes = await read_topic(kafka_bootstrap, topic, expect_at_least=3)
    assert sorted(e.subject for e in envelopes) == ["first", "second", "third"]


async def test_readiness_problem_names_a_lag_past_the_threshold_then_clears(
    store, pool, migrated_db, kafka_bootstrap, topic
):
    blocker = await _open_writing_transaction(migrated_db)
    relay = relay_for(migrated_db, store, pool, kafka_bootstrap, topic, unready_lag=0.5)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run_forever(stop))
    try:
        await store.append([one("waits", NO_STREAM)])

        problem = await eventually(lambda: _value(relay.problem))
        assert problem.startswith("lagging: the oldest unpublished event is")

        await blocker.execute("ROLLBACK")
        assert await eventually(lambda: _published(topic, 1))
        assert await eventually(lambda: _value(lambda: relay.problem() is None))
    finally:
        await blocker.close()
        stop.set()
        await asyncio.wait_for(task, 30)
    assert relay.problem() is None  # no longer leading, nothing failed


async def test_readiness_problem_names_a_failing_relay(store, pool, migrated_db, topic):
    relay = OutboxRelay(
        dsn=migrated_db,
        store=store,
        pool=pool,
        topic=topic,
        source=SOURCE,
        producer_factory=lambda: event_producer("127.0.0.1:1", "test-relay"),  # nothing listens
        reader_factory=lambda: tail_reader("127.0.0.1:1", "test-relay"),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run_forever(stop, backoff=0.2))
    try:
        problem = await eventually(lambda: _value(relay.problem))
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    assert problem.startswith("failing: ")


async def _value(read):
    return read()
