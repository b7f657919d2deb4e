"""Dead letters by event (what ``dlq --event-id`` uses): one event replayed takes its subject
along in order and nothing else; one event discarded is recorded with who and why, and the
messages parked behind it stay parked until replayed."""

from structlog.testing import capture_logs

from kamu_shared.testing.waiting import eventually


async def test_replaying_one_event_takes_its_subject_along_in_order_and_nothing_else(
    running, send, make_envelope, effects, processor
):
    await effects.execute("INSERT INTO failing VALUES ('bad'), ('other')")
    first, second = make_envelope("bad", 1), make_envelope("bad", 2)
    await send(first)
    await send(second)  # waits behind the first
    await send(make_envelope("other", 1))
    await eventually(lambda: _parked(running, 3))
    await effects.execute("DELETE FROM failing")

    report = await running.dead_letters.replay(processor, event_id=str(second.id))

    # The second was asked for; the first may not be overtaken, so it goes first.
    assert (report.replayed, report.failed, report.still_parked) == (2, 0, 0)
    rows = await effects.fetch("SELECT subject, n FROM effects ORDER BY seq")
    assert [(r["subject"], r["n"]) for r in rows] == [("bad", 1), ("bad", 2)]
    assert [p.subject for p in await running.dead_letters.list()] == ["other"]


async def test_replaying_an_event_the_group_did_not_park_replays_nothing(
    running, send, make_envelope, effects, processor
):
    await effects.execute("INSERT INTO failing VALUES ('bad')")
    await send(make_envelope("bad", 1))
    await eventually(lambda: _parked(running, 1))
    await effects.execute("DELETE FROM failing")

    report = await running.dead_letters.replay(processor, event_id=str(make_envelope("x", 1).id))

    assert (report.replayed, report.failed, report.still_parked) == (0, 0, 0)
    assert len(await running.dead_letters.list()) == 1


async def test_discarding_one_event_records_who_and_why_and_leaves_the_ones_behind_it(
    running, send, make_envelope, effects, processor
):
    await effects.execute("INSERT INTO failing VALUES ('bad')")
    first, second = make_envelope("bad", 1), make_envelope("bad", 2)
    await send(first)
    await send(second)
    await eventually(lambda: _parked(running, 2))

    with capture_logs() as logs:
        gone = await running.dead_letters.discard_event(str(first.id), reason="typo", by="ops-ana")

    assert [(p.event_id, p.status) for p in gone] == [(str(first.id), "discarded")]
    discarded = [entry for entry in logs if entry["event"] == "message-discarded"]
    assert [(d["event_id"], d["by"], d["reason"]) for d in discarded] == [
        (str(first.id), "ops-ana", "typo")
    ]
    behind = await running.dead_letters.list()
    assert [(p.event_id, p.attempts) for p in behind] == [(str(second.id), 0)]  # still waiting
    assert await running.dead_letters.discard_event(str(first.id)) == []  # nothing left of it
    assert [p.event_id for p in await running.dead_letters.list(status="discarded")] == [
        str(first.id)
    ]

    await effects.execute("DELETE FROM failing")
    report = await running.dead_letters.replay(processor, subject="bad")
    assert (report.replayed, report.still_parked) == (1, 0)
    rows = await effects.fetch("SELECT n FROM effects")
    assert [r["n"] for r in rows] == [2]  # the discarded one never applied


async def _parked(consumer, n: int):
    found = await consumer.dead_letters.list()
    return found if len(found) >= n else None
