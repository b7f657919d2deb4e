"""Faults of the servers the whole platform shares: the Kafka broker killed (-9) and started
again, the PostgreSQL server killed (-9) and started again, a transaction left open in one
service's database, a poison message on a topic four services read. One platform for the
module; the faults come one after another, and after each the invariants must hold again
within the bound the test states, with no person doing anything.
"""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import pytest

from kamu_shared.events.envelope import Envelope
from kamu_shared.kafka.producer import event_producer
from tests.faults.client import HR, OPS, Refused, Who, left
from tests.faults.invariants import CONSUMERS, read_records

# Each starts servers or a platform of its own (the first test of a module pays for both).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

# A story of twelve commands, several going through Kafka first, on a busy 2-core machine.
STORY_SECONDS = 60.0
# A stream is in full flow (its stories at different steps) after this many 2xx commands.
IN_FLOW = 15

# The broker's absence shows in /readyz/background within the consumers' stall timeout
# (10 s, FAULT_ENV) plus a readiness round (2 s), with room for a busy machine.
BROKER_DETECT_SECONDS = 30.0
# From the broker accepting connections again to every invariant holding: consumers replaced
# after a stall (10 s) and a restart pause (at most 2 s), rejoining their groups (the dead
# members' sessions end after 10 s), the relays' producers reconnecting, and the backlog of
# the outage applied and notified.
BROKER_RECOVERY_SECONDS = 60.0

# How long PostgreSQL stays down: long enough that clients meet the outage.
POSTGRES_DOWN_SECONDS = 4.0
# From PostgreSQL accepting connections again (after crash recovery) to every invariant
# holding: pools replace their dead connections at the next use, the relays re-elect a
# leader (their lock sessions died), consumers and timers retry within their backoff (1-2 s).
POSTGRES_RECOVERY_SECONDS = 45.0

# From the accept's answer to meetings knowing the pairing, while a transaction stays open in
# goals' database: the relay wakes on NOTIFY (or polls every 0.2 s), the consumer fetches at
# once; about half a second idle, a few on a busy machine. Blocked by the other database's
# transaction, it would never arrive while that transaction lasts.
ACROSS_DATABASES_SECONDS = 5.0
# How long the transaction stays open at most: past the bound, with room to spare.
HELD_FOR_SECONDS = 20.0

# Parking a poison message is one failed decode, no retries; the stories after it go on.
POISON_RECOVERY_SECONDS = 30.0

Problems = list[str]


async def test_broker_killed_and_restarted_consumers_resume_with_no_person(faults):
    problems: Problems = []
    stream = faults.stream("k")
    stream.start()
    await stream.until(commands=IN_FLOW, timeout=STORY_SECONDS)

    faults.servers.kafka.kill()
    try:
        try:
            await faults.wait_statuses("/readyz/background", 503, BROKER_DETECT_SECONDS)
        except AssertionError as exc:
            problems.append(f"background work not reported unready: {exc}")
        api = await faults.statuses("/readyz")
        if api != dict.fromkeys(api, 200):
            problems.append(f"an API needs only PostgreSQL, yet /readyz answered {api}")
        # The APIs go on taking commands that need only their database.
        during = faults.stream("kb", actors=1)
        try:
            await asyncio.wait_for(during.register(during.new_story()), 30)
        except (TimeoutError, Refused) as exc:
            problems.append(f"registering people while the broker is down: {exc!r}")
    finally:
        await asyncio.to_thread(faults.servers.start_kafka)
    deadline = time.monotonic() + BROKER_RECOVERY_SECONDS

    problems += await recovered(faults, stream, "/readyz/background", deadline)
    assert not problems, "\n".join(problems)


async def test_postgres_killed_clients_see_503_with_retry_after_never_500(faults):
    problems: Problems = []
    stream = faults.stream("p")
    stream.start()
    await stream.until(commands=IN_FLOW, timeout=STORY_SECONDS)
    someone = stream.stories[0].colleague

    faults.servers.postgres.kill()
    down = time.monotonic()
    try:
        # What clients meet meanwhile: each service asked for a read and a command.
        while time.monotonic() - down < POSTGRES_DOWN_SECONDS:
            await asyncio.gather(*(probe(faults, s, someone.who) for s in PROBES))
    finally:
        await asyncio.to_thread(faults.servers.start_postgres)
    restarted = time.monotonic()
    deadline = restarted + POSTGRES_RECOVERY_SECONDS

    seen = faults.api.view.since(down)
    for service in PROBES:
        mine = [s for s in seen if s.service == service and s.at < restarted]
        if not any(s.status == 503 for s in mine):
            got = sorted({str(s.status or s.error) for s in mine})
            problems.append(f"{service} answered {got} while PostgreSQL was down, never 503")
        if silent := [s for s in mine if s.status is None]:
            problems.append(f"{service} gave no answer ({silent[0].error}) while it ran")
    problems += await recovered(faults, stream, "/readyz", deadline)
    assert not problems, "\n".join(problems)


# A read and a command per service, as its clients would send them.
PROBES = ("pairing", "meetings", "goals", "notifications", "insights")


async def probe(faults, service: str, who: Who) -> None:
    api = faults.api
    if service == "pairing":
        await api.send("GET", service, f"/people/{who.sub}", HR)
        body = {"display_name": "Probe", "email": "probe@example.org", "team": "Faults"}
        await api.send("PUT", service, f"/people/probe-{uuid.uuid4().hex[:8]}", HR, body)
    elif service == "meetings":
        await api.send("GET", service, f"/people/{who.sub}/meetings", who)
        await api.send("POST", service, "/meetings", who, {"pairing_id": "p"}, str(uuid.uuid4()))
    elif service == "goals":
        await api.send("GET", service, f"/people/{who.sub}/goals", who)
        body = {"title": "Probe", "category": "competence", "target_date": "2099-01-01"}
        await api.send("POST", service, "/goals", who, body, str(uuid.uuid4()))
    elif service == "notifications":
        await api.send("GET", service, f"/people/{who.sub}/inbox", who)
        await api.send("PUT", service, f"/people/{who.sub}/preferences", who, {})
    else:
        await api.send("GET", service, "/programme/overview", OPS)


async def test_transaction_held_open_in_another_database_does_not_hold_back_pairing(faults):
    stream = faults.stream("h", actors=1)
    story = stream.new_story()
    await stream.register(story)

    held = await asyncpg.connect(faults.platform.databases["goals"])
    transaction = held.transaction()
    await transaction.start()
    try:
        await held.fetchval("SELECT pg_current_xact_id()")  # a writer's transaction id
        pairing_id = await stream.pair(story)

        async def meetings_knows() -> bool:
            response = await faults.api.get(
                "meetings", f"/pairings/{pairing_id}/cadence", story.colleague.who
            )
            return bool(response and response.status_code == 200) and (
                response.json().get("status") == "active"
            )

        took = await seconds_until(meetings_knows, HELD_FOR_SECONDS)
    finally:
        await transaction.rollback()
        await held.close()
    assert took is not None, (
        f"the accept had not reached meetings after {HELD_FOR_SECONDS:g}s, while a "
        "transaction was open in goals' database"
    )
    assert took <= ACROSS_DATABASES_SECONDS, (
        f"the accept reached meetings after {took:.1f}s, while a transaction was open in "
        f"goals' database (bound {ACROSS_DATABASES_SECONDS:g}s)"
    )
    await stream.finish(story)
    await faults.settle(STORY_SECONDS)


async def seconds_until(check: Callable[[], Awaitable[bool]], limit: float) -> float | None:
    """How long until ``check()`` holds, polled every 50 ms; None if not within ``limit``."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > limit:
            return None
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_poison_message_is_parked_by_every_consumer_and_they_go_on(faults):
    platform, invariants = faults.platform, faults.invariants
    topic = invariants.topic("pairing")
    # No envelope at all, and a known event type whose data no consumer can read.
    bare = f"poison-{uuid.uuid4().hex[:8]}".encode()
    unreadable = Envelope(
        id=uuid.uuid4(),
        source="/kamu/pairing",
        type="kamu.pairing.pairing-created.v1",
        subject=f"pairing-poison-{uuid.uuid4().hex[:8]}",
        time=datetime.now(UTC),
        sequence=1,
        data={"garbage": True},
    )
    key, value, headers = unreadable.to_kafka()
    invariants.poison_keys |= {bare, key}
    producer = event_producer(platform.kafka_bootstrap, "fault-poison")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"\x00 not an event", key=bare)
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()

    # Commands after the poison: every consumer must go on past it.
    stream = faults.stream("x")
    stories = await stream.run(2)
    assert all(s.done for s in stories), [s.refused for s in stories]
    await faults.settle(POISON_RECOVERY_SECONDS)

    for consumer in CONSUMERS["pairing"]:
        group = invariants.group(consumer)
        parked = [
            bytes(r["key"])
            for r in await invariants.parked(consumer.database)
            if r["consumer_group"] == group
        ]
        assert sorted(parked) == sorted([bare, key]), f"{group} parked {parked}"
        dead = await read_records(platform.kafka_bootstrap, f"{topic}.dlq.{group}")
        assert sorted(r[2] or b"" for r in dead) == sorted([bare, key]), group
    background = await faults.statuses("/readyz/background")
    assert background == dict.fromkeys(background, 200), background


async def recovered(faults, stream, ready_path: str, deadline: float) -> Problems:  # type: ignore[no-untyped-def]
    """After a fault healed: the stream's stories finish, the invariants hold again and every
    service answers ``ready_path`` with 200, all by ``deadline``; what did not, as problems."""
    problems: Problems = list(await stream.stop(timeout=left(deadline)))
    try:
        await faults.settle(left(deadline))
    except AssertionError as exc:
        problems.append(str(exc))
    try:
        await faults.wait_statuses(ready_path, 200, left(deadline))
    except AssertionError as exc:
        problems.append(f"{ready_path} not ready again: {exc}")
    return problems
