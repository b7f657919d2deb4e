"""One command for a poison event, however many consumer groups parked it (`./kamu dlq`).

Every service that reads the pairing topic (meetings, goals, notifications and insights'
projections) parks an event it cannot apply, each in its own database. Here the whole platform
runs, each service its own process; events are produced straight onto the pairing topic, as a
faulty producer would. The commands are `./kamu dlq ...` as it runs against a stack, given
this platform's services instead of the stack's state file; they run each service's own
`python -m kamu_<service> dlq ... --json` with that service's settings.
"""

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from kamu_devstack.cli import dlq_main
from kamu_devstack.deadletters import ServiceCommands, platform_services
from kamu_devstack.platform import Platform
from kamu_shared.events.envelope import Envelope
from kamu_shared.kafka.topics import ensure_topics, in_namespace
from kamu_shared.testing.waiting import eventually

CREATED = "kamu.pairing.pairing-created.v1"
# The services whose consumer groups read pairing-created, and so park a bad one.
READERS = {"meetings", "goals", "notifications", "insights"}
# Where a bug is planted for the replay: the services whose reactions record what they applied
# in kamu_processed_events (insights' projections keep their own records and apply the event).
BUGGED = ("meetings", "goals", "notifications")
ON_TIME = 90.0  # seconds for consumers to retry and park on a busy 2-core machine


async def produce(platform: Platform, data: dict, subject: str, event_id: str | None = None) -> str:
    """A pairing-created event straight onto the pairing topic; returns its id."""
    envelope = Envelope(
        id=uuid.UUID(event_id) if event_id else uuid.uuid4(),
        source="/kamu/pairing",
        type=CREATED,
        subject=subject,
        time=datetime.now(UTC),
        sequence=1,
        data=data,
        actor="tests",
    )
    topic = in_namespace("kamu.pairing.events", platform.namespace)
    await ensure_topics(platform.kafka_bootstrap, [topic], 3)
    producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap)
    await producer.start()
    try:
        key, value, headers = envelope.to_kafka()
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()
    return str(envelope.id)


async def query(platform: Platform, service: str, sql: str, *args) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(platform.databases[service])
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def execute(platform: Platform, service: str, sql: str) -> None:
    conn = await asyncpg.connect(platform.databases[service])
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def parked_in(platform: Platform, event_id: str, status: str = "parked") -> dict[str, set]:
    """The groups of each service that hold the event in ``status`` (read straight from the
    services' databases: cheap enough to poll)."""
    found: dict[str, set] = {}
    for service in READERS:
        rows = await query(
            platform,
            service,
            "SELECT consumer_group FROM kamu_parked_messages WHERE event_id = $1 AND status = $2",
            event_id,
            status,
        )
        if rows:
            found[service] = {r["consumer_group"] for r in rows}
    return found


async def kamu_dlq(services: list[ServiceCommands], capsys, *argv: str) -> tuple[int, str]:
    """``./kamu dlq <argv>``: its exit code and what it printed."""
    capsys.readouterr()
    code = await asyncio.to_thread(dlq_main, services, list(argv))
    return code, capsys.readouterr().out


async def plant_bug(platform: Platform, service: str, event_id: str) -> None:
    """A bug in the service: recording that it applied this event fails (as a bug in a
    handler would), so each group that reads the event retries it, then parks it."""
    await execute(
        platform,
        service,
        f"""CREATE FUNCTION planted_bug() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'planted bug'; END $$;
            CREATE TRIGGER planted_bug BEFORE INSERT ON kamu_processed_events FOR EACH ROW
            WHEN (NEW.event_id = '{event_id}') EXECUTE FUNCTION planted_bug();""",
    )


async def fix_bug(platform: Platform, service: str) -> None:
    await execute(
        platform,
        service,
        "DROP TRIGGER planted_bug ON kamu_processed_events; DROP FUNCTION planted_bug();",
    )


# A whole platform and eight service commands (four services, twice): past the default limit
# on a busy two-core machine.
@pytest.mark.timeout(600)
@pytest.mark.kamu_env(
    KAMU_CONSUMER_RETRY_ATTEMPTS="2", KAMU_CONSUMER_BACKOFF_INITIAL_SECONDS="0.05"
)
async def test_one_command_discards_or_replays_an_event_in_every_group_that_parked_it(
    kamu_platform: Platform, capsys
):
    services = platform_services(kamu_platform)
    # A poison event: no colleague, no Kamu; every reader parks it at once.
    pairing = str(uuid.uuid4())
    poison = await produce(kamu_platform, {"pairing_id": pairing}, f"pairing-{pairing}")
    # A good event that three services cannot apply until their bug is fixed.
    fine = str(uuid.uuid4())
    for service in BUGGED:
        await plant_bug(kamu_platform, service, fine)
    paired = {"pairing_id": str(uuid.uuid4()), "colleague_id": "c-1", "kamu_id": "k-1"}
    await produce(kamu_platform, {**paired, "cadence_weeks": 2}, "pairing-2", event_id=fine)

    async def parked_where_expected():
        found = await parked_in(kamu_platform, poison), await parked_in(kamu_platform, fine)
        return found if (set(found[0]), set(found[1])) == (READERS, set(BUGGED)) else None

    poisoned, bugged = await eventually(parked_where_expected, timeout=ON_TIME)

    # discard: gone from every group at once, and who and why are recorded
    reason = "pairing-created without colleague or Kamu: nothing to apply"
    code, out = await kamu_dlq(
        services, capsys, "discard", "--event-id", poison, "--reason", reason, "--by", "ops-ana"
    )
    assert code == 0, out
    lines = out.splitlines()
    assert {line.split()[0] for line in lines[:-1]} == READERS  # a line per group
    assert sorted(line.split()[1].rstrip(":") for line in lines[:-1]) == sorted(
        group for names in poisoned.values() for group in names
    )
    groups = sum(len(names) for names in poisoned.values())
    assert lines[-1].startswith(f"discarded event {poison} in {groups} group(s)")
    assert await parked_in(kamu_platform, poison) == {}
    assert await parked_in(kamu_platform, poison, "discarded") == poisoned
    for service in READERS:  # in each service's log
        log = await asyncio.to_thread(Path(kamu_platform.process(service).log).read_text)
        record = next(
            json.loads(line) for line in log.splitlines() if '"message-discarded"' in line
        )
        assert (record["event_id"], record["by"], record["reason"]) == (poison, "ops-ana", reason)

    # the fix is deployed: one replay applies it in every group that parked it, once
    for service in BUGGED:
        await fix_bug(kamu_platform, service)
    code, out = await kamu_dlq(services, capsys, "replay", "--event-id", fine)
    assert code == 0, out
    groups = sum(len(names) for names in bugged.values())
    assert f"replayed {groups} message(s) in {groups} group(s); 0 failed again" in out
    assert await parked_in(kamu_platform, fine) == {}
    assert await parked_in(kamu_platform, fine, "replayed") == bugged
    for service in BUGGED:
        applied = await query(
            kamu_platform,
            service,
            "SELECT consumer_group FROM kamu_processed_events WHERE event_id = $1",
            fine,
        )
        assert sorted(r["consumer_group"] for r in applied) == sorted(bugged[service])
    known = await query(
        kamu_platform,
        "meetings",
        "SELECT status FROM meetings_pairings WHERE pairing_id = $1",
        paired["pairing_id"],
    )
    assert [r["status"] for r in known] == ["active"]  # its effect, there once
