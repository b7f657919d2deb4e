"""A reaction that appends events in the consumer's transaction: once per event, in batches too."""

from datetime import UTC, datetime

from kamu_shared.consumer.messages import Message
from kamu_shared.consumer.processing import Outcome, Processor
from kamu_shared.store.eventstore import EventStore
from kamu_shared.store.records import NewEvent, StreamAppend


def reacting_processor(pool, group, decoders) -> Processor:
    store = EventStore(pool)

    async def echo(conn, delivery):
        event = NewEvent(
            "kamu.example.echoed.v1", {"of": str(delivery.envelope.id)}, datetime.now(UTC)
        )
        # The append is the transaction's first write: locks and reads came before it.
        await store.append(
            [StreamAppend(f"echo-{delivery.envelope.subject}", "echo", None, [event])], conn=conn
        )

    return Processor(pool=pool, group=group, decoders=decoders, handler=echo, attempts=1)


def message(envelope, offset: int) -> Message:
    key, value, headers = envelope.to_kafka()
    return Message("topic", 0, offset, key, value, headers)


async def test_redelivery_of_a_reaction_appends_once(
    pool, make_envelope, topic_name, example_registry
):
    processor = reacting_processor(pool, topic_name("echo"), [example_registry])
    msg = message(make_envelope("t-1", 1), 0)

    assert await processor.process(msg) == Outcome.APPLIED
    assert await processor.process(msg) == Outcome.DUPLICATE
    assert len(await EventStore(pool).read_stream("echo-t-1")) == 1


async def test_a_batch_of_appending_reactions_falls_back_and_applies_each_once(
    pool, make_envelope, topic_name, example_registry
):
    processor = reacting_processor(pool, topic_name("echo"), [example_registry])
    messages = [message(make_envelope("t-1", n), n) for n in range(3)]

    # Only the first append of a transaction is allowed, so a shared transaction cannot work:
    assert await processor.try_batch(messages) is None
    assert await EventStore(pool).read_stream("echo-t-1") == []  # rolled back whole

    outcomes = [await processor.process(m) for m in messages]
    assert outcomes == [Outcome.APPLIED] * 3
    assert [e.version for e in await EventStore(pool).read_stream("echo-t-1")] == [1, 2, 3]
