"""The overdue timer: durable in PostgreSQL, once per lapse across restarts and replicas.

A "week" lasts a fraction of a second here (``cadence_week_seconds``), so lapses come fast; the
pairings start now (``at=``), not a day ago as ``pair()`` has them by default, so the clock
counts from the test's start. The first test keeps the clock itself instead (the length of a
week), so that its exact lapses hold on a busy machine too.
"""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from kamu_meetings.timers import fire_overdue
from kamu_shared.testing.waiting import eventually

OVERDUE = "kamu.meetings.meeting-overdue.v1"


async def lapses(service, pairing_id: str) -> list[dict]:
    rows = await service.pool.fetch(
        "SELECT data FROM kamu_events WHERE event_type = $1 AND stream_id = $2 ORDER BY position",
        OVERDUE,
        f"cadence-{pairing_id}",
    )
    return [r["data"] for r in rows]


async def test_each_lapse_is_recorded_once_and_nudges_escalate_gently(start, settings):
    """The test keeps the clock: the pairing began an hour ago and the test sets how long a
    cadence "week" lasts, so that 1.5, then 2.5, then 3.5 weeks have passed. Each step leaves
    the next lapse at least eight minutes of real time away, so a slow round of the timer (a
    busy machine) cannot skip a lapse, and the test waits on the records, never on a sleep."""
    began = datetime.now(UTC) - timedelta(hours=1)
    # Until the test moves the clock, less than a week has passed: nothing is due.
    clock = settings.model_copy(update={"cadence_week_seconds": 10 * 3600})
    async with start(clock) as service:
        pairing, colleague, kamu = await service.pair(cadence_weeks=1, at=began)
        assert await fire_overdue(service.runtime) == 0
        for weeks in (1, 2, 3):
            elapsed = (datetime.now(UTC) - began).total_seconds()
            service.runtime.settings.cadence_week_seconds = elapsed / (weeks + 0.5)

            async def recorded(weeks=weeks):
                found = await lapses(service, pairing)
                return found if len(found) >= weeks else None

            await eventually(recorded, timeout=60)  # the service's own timer records it
            # Another round (a second replica, a retry after a crash) records nothing more.
            assert await fire_overdue(service.runtime) == 0
        found = await lapses(service, pairing)
    assert [e["lapse"] for e in found] == [1, 2, 3]  # each lapse once, none skipped
    assert [e["nudge"] for e in found] == ["colleague", "kamu", "none"]
    assert {e["colleague_id"] for e in found} == {colleague}
    assert {e["kamu_id"] for e in found} == {kamu}


async def test_a_lapse_due_while_the_service_was_down_is_recorded_once_after_restart(
    start, settings
):
    slow = settings.model_copy(update={"cadence_week_seconds": 1.5})
    async with start(slow) as service:
        pairing, _, _ = await service.pair(cadence_weeks=1, at=datetime.now(UTC))
        assert await lapses(service, pairing) == []  # not due for 1.5 s
    await asyncio.sleep(2.0)  # lapse 1 falls due while nothing runs
    async with start(slow) as service:
        found = await eventually(lambda: lapses(service, pairing), timeout=10)
        await asyncio.sleep(0.5)  # time for a second (wrong) record of the same lapse
        numbers = [e["lapse"] for e in await lapses(service, pairing)]
    # Lapse 1 fell due while down (on a slow restart, lapse 2 may be current by then: only
    # the current lapse is recorded after an outage); whichever, it is recorded once.
    assert numbers[0] in (1, 2)
    assert len(numbers) == len(set(numbers))
    assert found[0]["nudge"] == "colleague"


async def test_after_a_long_outage_only_the_current_lapse_is_recorded(start, settings):
    quick = settings.model_copy(update={"cadence_week_seconds": 0.5})
    async with start(quick) as service:
        pairing, _, _ = await service.pair(
            cadence_weeks=1, at=datetime.now(UTC) - timedelta(seconds=1.7)
        )
        found = await eventually(lambda: lapses(service, pairing), timeout=10)
    # Three cadences (or a fourth, on a slow machine) passed before the service heard of the
    # pairing: it records the current lapse, not one record per lapse missed.
    assert found[0]["lapse"] >= 3
    assert [e["lapse"] for e in found if e["lapse"] < 3] == []
    assert found[0]["nudge"] == "colleague"  # the first recorded since the start, found late


async def test_two_replicas_record_each_lapse_once(start, settings):
    fast = settings.model_copy(update={"cadence_week_seconds": 0.3})
    async with start(fast) as one, start(fast) as _two:
        pairings = [await one.pair(cadence_weeks=1, at=datetime.now(UTC)) for _ in range(4)]
        await asyncio.sleep(2.5)
    async with start(settings) as service:  # slow weeks: no new lapses while we look
        for pairing, _, _ in pairings:
            numbers = [e["lapse"] for e in await lapses(service, pairing)]
            assert numbers
            assert numbers == sorted(set(numbers))


async def test_a_held_meeting_restarts_the_clock(start, settings):
    clock = settings.model_copy(update={"cadence_week_seconds": 1.0})
    async with start(clock) as service:
        pairing, colleague, _ = await service.pair(cadence_weeks=1)  # lapsed long ago
        await eventually(lambda: lapses(service, pairing), timeout=10)
        async with service.as_(colleague) as c:
            cadence = (await c.get(f"/pairings/{pairing}/cadence")).json()
            assert cadence["overdue"] is True
            meeting = await service.schedule(pairing, colleague, in_days=-0.5 / 86400)
            held = await c.post(f"/meetings/{meeting['id']}/complete")
            assert held.status_code == 200
            cadence = (await c.get(f"/pairings/{pairing}/cadence")).json()
        assert cadence["overdue"] is False
        assert cadence["lapses"] == 0
        assert cadence["last_held_at"] is not None
        before = len(await lapses(service, pairing))

        async def lapsed_again():
            found = await lapses(service, pairing)
            return found[before:] if len(found) > before else None

        again = await eventually(lapsed_again, timeout=10)
    assert again[0]["lapse"] == 1  # counted afresh from the meeting
    assert again[0]["nudge"] == "colleague"


def failed_rounds() -> float:
    sample = REGISTRY.get_sample_value("kamu_timer_failures_total", {"timer": "meetings-overdue"})
    return sample or 0.0


@pytest.mark.regression
async def test_one_failed_timer_round_does_not_take_the_replica_out_of_service(start, settings):
    """Was a bug: readiness (now ``/readyz/background``) failed as soon as one round of the
    overdue timer failed (a bad row, a blip). Every replica polls the same rows, so one bad
    row took them all out of service at once. It now fails after 3 failed rounds in a row,
    and recovers with the next good round. (A negative batch size, which validation would
    refuse, makes rounds fail.)"""
    failing = settings.model_copy(update={"overdue_poll_seconds": 0.4, "overdue_batch": -1})
    timer = "timer:meetings-overdue"
    before = failed_rounds()
    async with start(failing) as service, service.as_("probe") as probe:

        async def first_failure():
            return failed_rounds() >= before + 1

        await eventually(first_failure, timeout=10)
        after_one = await probe.get("/readyz/background")

        async def unready_for_the_timer():
            answer = await probe.get("/readyz/background")
            return answer if timer in answer.text else None

        down = await eventually(unready_for_the_timer, timeout=10)
        rounds_when_down = failed_rounds() - before
        service.runtime.settings.overdue_batch = 500  # the rows can be handled again

        async def ready_for_the_timer():
            answer = await probe.get("/readyz/background")
            return answer if timer not in answer.text else None

        back = await eventually(ready_for_the_timer, timeout=10)

    assert timer not in after_one.text
    assert down.status_code == 503
    assert rounds_when_down >= 3
    assert timer not in back.text
