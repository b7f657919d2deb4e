"""A consumer survives a broker restart under load: it is reported stalled, then recovers."""

import asyncio

import pytest

from kamu_devstack.kafka import KafkaBroker
from kamu_shared.consumer.runner import RESTARTS, ConsumerCheck, EventConsumer
from kamu_shared.kafka.producer import event_producer
from kamu_shared.kafka.topics import ensure_topics
from kamu_shared.testing.waiting import eventually


async def count(pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM effects")


async def produce(bootstrap: str, topic: str, envelopes) -> None:
    producer = event_producer(bootstrap, "restart-test")
    await producer.start()
    try:
        for env in envelopes:
            key, value, headers = env.to_kafka()
            await producer.send(topic, value, key=key, headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


@pytest.mark.slow
async def test_consumer_recovers_from_a_broker_restart_without_loss_or_double_effects(
    state_dir, processor, make_envelope, effects
):
    broker = KafkaBroker(state_dir / "kafka")
    await asyncio.to_thread(broker.start)
    stop = asyncio.Event()
    try:
        topic = "kamu.restart.events"
        await ensure_topics(broker.bootstrap, [topic])
        consumer = EventConsumer(
            processor=processor,
            bootstrap=broker.bootstrap,
            topics=[topic],
            stall_timeout=4,
            session_timeout_ms=6000,
            max_poll_records=5,
        )
        check = ConsumerCheck(consumer)
        restarts_before = restarts(processor.group)
        running = asyncio.create_task(consumer.run(stop))
        await produce(broker.bootstrap, topic, [make_envelope(f"t-{i % 9}", i) for i in range(300)])
        await eventually(lambda: _at_least(effects, 20))

        await asyncio.to_thread(broker.stop)  # under load: most of the 300 are still unapplied
        await eventually(lambda: _unready(check), timeout=30)  # /readyz reports it
        await asyncio.to_thread(broker.start)  # same ports, same data
        await produce(broker.bootstrap, topic, [make_envelope(f"u-{i % 9}", i) for i in range(100)])

        await eventually(lambda: _at_least(effects, 400), timeout=120)
        await eventually(lambda: _ready(check), timeout=60)
        restarts_after = restarts(processor.group)
    finally:
        stop.set()
        await asyncio.wait_for(running, 60)
        await asyncio.to_thread(broker.stop)

    applied = await effects.fetch("SELECT applied FROM effects")
    assert len(applied) == 400
    assert {r["applied"] for r in applied} == {1}  # redelivery after the restart changed nothing
    assert restarts_after > restarts_before  # the stall was detected and the consumer replaced


def restarts(group: str) -> float:
    return sum(
        s.value
        for m in RESTARTS.collect()
        for s in m.samples
        if s.labels.get("group") == group and s.name.endswith("_total")
    )


async def _at_least(pool, n):
    return await count(pool) >= n


async def _unready(check):
    try:
        await check.check()
    except RuntimeError:
        return True
    return False


async def _ready(check):
    return not await _unready(check)
