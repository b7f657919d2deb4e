"""A batch in one transaction applies each event once, like one message at a time: copies
within the batch or already in the ledger are duplicates, a parked subject sends the whole
batch back to be handled one by one, and a rebuild's batch skips what its copy holds."""

from kamu_shared.consumer.messages import Message
from kamu_shared.consumer.processing import Outcome


def message(envelope, offset: int) -> Message:
    key, value, headers = envelope.to_kafka()
    return Message("t", 0, offset, key, value, headers)


async def applied(pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT subject, n, applied FROM effects")
    return {f"{r['subject']}:{r['n']}": r["applied"] for r in rows}


async def test_a_batch_applies_each_event_once_even_when_it_holds_copies(
    processor, effects, make_envelope
):
    first, second = make_envelope("a", 1), make_envelope("b", 2)
    assert await processor.process(message(first, 0)) == Outcome.APPLIED

    outcomes = await processor.try_batch(
        [message(first, 1), message(second, 2), message(second, 3), message(first, 4)]
    )

    assert outcomes == [Outcome.DUPLICATE, Outcome.APPLIED, Outcome.DUPLICATE, Outcome.DUPLICATE]
    assert await applied(effects) == {"a:1": 1, "b:2": 1}
    assert await processor.try_batch([message(second, 5)]) == [Outcome.DUPLICATE]


async def test_a_parked_subject_sends_the_batch_back_untouched(
    processor, effects, make_envelope, topic_name
):
    # What parking writes for an earlier message of "a" that kept failing:
    await effects.execute(
        'INSERT INTO kamu_parked_messages (consumer_group, topic, partition, "offset", '
        "subject, error, attempts, headers) VALUES ($1, $2, 0, 0, 'a', 'boom', 3, '[]')",
        processor.group,
        topic_name("t"),
    )

    batch = [message(make_envelope("b", 1), 0), message(make_envelope("a", 2), 1)]
    assert await processor.try_batch(batch) is None
    assert await applied(effects) == {}  # rolled back whole, "b" included


async def test_a_rebuild_batch_skips_copies_and_what_the_ledger_holds(
    processor, effects, make_envelope
):
    first, second = make_envelope("a", 1), make_envelope("b", 2)
    assert await processor.apply_batch([message(first, 0), message(first, 1)]) == 1
    assert await processor.apply_batch([message(first, 2), message(second, 3)]) == 1
    assert await applied(effects) == {"a:1": 1, "b:2": 1}
