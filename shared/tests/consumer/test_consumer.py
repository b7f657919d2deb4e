"""Consumer guarantees against real Kafka and PostgreSQL: once, in order, parked, replayed."""

from kamu_shared.consumer.messages import Message
from kamu_shared.consumer.processing import Outcome
from kamu_shared.consumer.runner import ConsumerCheck
from kamu_shared.kafka.topics import dead_letter_topic
from kamu_shared.testing.kafka import read_topic
from kamu_shared.testing.waiting import eventually


async def applied(pool) -> dict[int, int]:
    return {r["n"]: r["applied"] for r in await pool.fetch("SELECT n, applied FROM effects")}


async def test_redelivered_event_is_applied_once(processor, make_envelope, effects):
    key, value, headers = make_envelope("t-1", 1).to_kafka()
    message = Message("topic", 0, 7, key, value, headers)
    first = await processor.process(message)
    again = await processor.process(message)  # e.g. the offset commit was lost in a crash

    assert (first, again) == (Outcome.APPLIED, Outcome.DUPLICATE)
    assert await applied(effects) == {1: 1}


async def test_duplicate_messages_on_the_topic_change_nothing(
    running, send, make_envelope, effects
):
    env = make_envelope("t-1", 1)
    await send(env)
    await send(env)  # the relay republished after a crash: same ce_id
    await send(make_envelope("t-1", 2))

    await eventually(lambda: _count(effects, 2))
    assert await applied(effects) == {1: 1, 2: 1}
    assert await ConsumerCheck(running).check() is None


async def test_unknown_event_types_are_skipped_and_the_consumer_goes_on(
    running, send, make_envelope, effects
):
    key, value, headers = make_envelope("t-1", 1).to_kafka()
    foreign = [(k, b"kamu.other.thing-vanished.v1" if k == "ce_type" else v) for k, v in headers]
    await send(key=key, value=value, headers=foreign)
    await send(make_envelope("t-1", 2))

    await eventually(lambda: _count(effects, 1))
    assert await applied(effects) == {2: 1}
    assert await running.dead_letters.list() == []


async def test_poison_message_is_parked_later_ones_wait_then_replay_in_order(
    running, send, make_envelope, effects, kafka_bootstrap, topic, processor
):
    await effects.execute("INSERT INTO failing VALUES ('bad')")
    await send(make_envelope("bad", 1))
    await send(make_envelope("bad", 2))  # same aggregate: must wait behind 1
    await send(make_envelope("good", 1))  # another aggregate goes on

    parked = await eventually(lambda: _parked(running, 2))
    await eventually(lambda: _count(effects, 1))
    assert [(p.subject, p.attempts) for p in parked] == [("bad", 2), ("bad", 0)]
    assert "cannot handle bad yet" in parked[0].error
    dlq = await read_topic(kafka_bootstrap, dead_letter_topic(topic, processor.group), 2)
    assert [e.sequence for e in dlq] == [1, 2]

    await effects.execute("DELETE FROM failing")
    report = await running.dead_letters.replay(processor)

    assert (report.replayed, report.failed, report.still_parked) == (2, 0, 0)
    rows = await effects.fetch("SELECT subject, n FROM effects WHERE subject = 'bad' ORDER BY seq")
    assert [r["n"] for r in rows] == [1, 2]
    await send(make_envelope("bad", 3))  # no longer parked: applied directly
    await eventually(lambda: _count(effects, 4))


async def test_replay_stops_at_a_subject_that_still_fails(
    running, send, make_envelope, effects, processor
):
    await effects.execute("INSERT INTO failing VALUES ('bad')")
    await send(make_envelope("bad", 1))
    await send(make_envelope("bad", 2))
    await eventually(lambda: _parked(running, 2))

    report = await running.dead_letters.replay(processor)

    assert (report.replayed, report.failed, report.still_parked) == (0, 1, 2)
    assert await applied(effects) == {}


async def test_message_without_an_envelope_is_parked_at_once(running, send, make_envelope, effects):
    await send(key=b"x-1", value=b"not json", headers=[("ce_id", b"nope")])
    await send(make_envelope("t-1", 1))

    parked = await eventually(lambda: _parked(running, 1))
    await eventually(lambda: _count(effects, 1))
    assert (parked[0].subject, parked[0].attempts) == ("x-1", 1)


async def _count(pool, n: int) -> bool:
    return await pool.fetchval("SELECT count(*) FROM effects") >= n


async def _parked(consumer, n: int):
    found = await consumer.dead_letters.list()
    return found if len(found) >= n else None
