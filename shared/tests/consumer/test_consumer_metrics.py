"""The consumer's gauges and histogram against real Kafka and PostgreSQL: lag per partition while
messages wait and after catching up, handler latency, and messages parked right now."""

import asyncio

from prometheus_client import REGISTRY

from kamu_shared.consumer.processing import Processor
from kamu_shared.consumer.runner import EventConsumer
from kamu_shared.testing.waiting import eventually


def lag(group: str, topic: str) -> float | None:
    """Messages behind over every partition of the topic this process reports; None if none."""
    samples = [
        s.value
        for metric in REGISTRY.collect()
        if metric.name == "kamu_consumer_lag_messages"
        for s in metric.samples
        if s.labels["group"] == group and s.labels["topic"] == topic
    ]
    return sum(samples) if samples else None


def parked_now(group: str) -> float | None:
    return REGISTRY.get_sample_value("kamu_consumer_parked_messages", {"group": group})


def handled(group: str, kind: str) -> float:
    labels = {"group": group, "kind": kind}
    return REGISTRY.get_sample_value("kamu_consumer_handle_duration_seconds_count", labels) or 0.0


async def test_lag_counts_waiting_messages_and_returns_to_zero_once_applied(
    effects, topic_name, kafka_bootstrap, topic, send, make_envelope, example_registry
):
    gate = asyncio.Event()

    async def held_handler(conn, delivery):  # applies nothing until the gate opens
        await gate.wait()
        await conn.execute(
            "INSERT INTO effects (event_id, subject, n, applied) VALUES ($1, $2, $3, 1)",
            delivery.envelope.id,
            delivery.envelope.subject,
            delivery.event.n,
        )

    group = topic_name("lagging")
    processor = Processor(
        pool=effects, group=group, decoders=[example_registry], handler=held_handler
    )
    for n in range(1, 6):  # one subject: one partition, all five waiting
        await send(make_envelope("t-1", n))
    stop = asyncio.Event()
    consumer = EventConsumer(
        processor=processor, bootstrap=kafka_bootstrap, topics=[topic], stall_timeout=30
    )
    task = asyncio.create_task(consumer.run(stop))
    try:
        # The first message is in the handler, the other four behind it: five not yet applied.
        assert await eventually(lambda: _equals(lambda: lag(group, topic), 5))
        await send(make_envelope("t-1", 6))  # arrives while the handler is still busy
        assert await eventually(lambda: _equals(lambda: lag(group, topic), 6))

        gate.set()

        assert await eventually(lambda: _equals(lambda: lag(group, topic), 0))
        assert await effects.fetchval("SELECT count(*) FROM effects") == 6
        assert handled(group, "message") == 6
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    assert lag(group, topic) is None  # a stopped member reports no partition


async def test_handler_latency_is_observed_per_message_or_per_batch(
    running, send, make_envelope, effects
):
    kind = "batch" if running._batched else "message"
    before = handled(running.group, kind)
    for n in range(1, 4):
        await send(make_envelope(f"t-{n}", n))

    await eventually(lambda: _rows(effects, 3))
    # Observed once the handler's transaction committed, so a moment after the rows show.
    expected = 3 if kind == "message" else 1
    await eventually(lambda: _at_least(lambda: handled(running.group, kind) - before, expected))
    if kind == "message":
        assert handled(running.group, kind) - before == 3


async def test_parked_gauge_shows_parked_messages_and_drops_after_replay(
    running, send, make_envelope, effects, processor
):
    await effects.execute("INSERT INTO failing VALUES ('bad')")
    await send(make_envelope("bad", 1))

    await eventually(lambda: _equals(lambda: parked_now(running.group), 1))
    await send(make_envelope("bad", 2))  # parked behind the first
    await eventually(lambda: _equals(lambda: parked_now(running.group), 2))
    counted = REGISTRY.get_sample_value("kamu_consumer_parked_total", {"group": running.group})
    assert counted == 2

    await effects.execute("DELETE FROM failing")
    report = await running.dead_letters.replay(processor)

    assert report.replayed == 2
    assert parked_now(running.group) == 0


async def test_parked_gauge_follows_a_discard_made_elsewhere(
    running, send, make_envelope, effects, processor
):
    await effects.execute("INSERT INTO failing VALUES ('bad')")
    await send(make_envelope("bad", 1))
    parked = await eventually(lambda: running.dead_letters.list())
    # Another process (the CLI) discards it: the running consumer's gauge follows the table.
    await effects.execute(
        "UPDATE kamu_parked_messages SET status = 'discarded' WHERE id = $1", parked[0].id
    )
    running._parked_refresh = 0.1  # the next refresh at once

    assert await eventually(lambda: _equals(lambda: parked_now(running.group), 0))


async def _equals(read, expected: float) -> bool:
    return read() == expected


async def _rows(pool, n: int) -> bool:
    return await pool.fetchval("SELECT count(*) FROM effects") >= n


async def _at_least(read, expected: float) -> bool:
    return read() >= expected
