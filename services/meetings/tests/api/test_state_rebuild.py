"""The state tables rebuilt from the event store equal the live ones."""

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from kamu_shared.testing.waiting import eventually

TABLES = {
    "meetings_meetings": "meeting_id",
    "meetings_feedback": "meeting_id, respondent",
    "meetings_cadence": "pairing_id",
}


async def snapshot(pool):
    return {
        t: [dict(r) for r in await pool.fetch(f"SELECT * FROM {t} ORDER BY {k}")]
        for t, k in TABLES.items()
    }


async def test_rebuilt_state_equals_live_state(start, settings):
    fast = settings.model_copy(update={"cadence_week_seconds": 0.5})
    async with start(fast) as service:
        pairing, colleague, kamu = await service.pair(cadence_weeks=1)
        # Let a lapse or two be recorded, then hold a meeting that restarts the clock.
        await eventually(
            lambda: service.count(
                "SELECT count(*) FROM kamu_events WHERE stream_id = $1", f"cadence-{pairing}"
            )
        )
    async with start(settings) as service:  # long weeks from here on: the clock stands still
        held = await service.held(pairing, colleague, notes="n")
        for person in (colleague, kamu):
            async with service.as_(person) as p:
                body = {"psychological_safety": 4, "usefulness": 5}
                assert (
                    await p.post(f"/meetings/{held['id']}/feedback", json=body)
                ).status_code == 200
        moved = await service.schedule(pairing, kamu, in_days=3)
        async with service.as_(kamu) as k:
            response = await k.post(
                f"/meetings/{moved['id']}/reschedule",
                json={
                    "starts_at": (datetime.now(UTC) + timedelta(days=20)).isoformat(),
                    "location": None,
                },
            )
            assert response.status_code == 200, response.text
        cancelled = await service.schedule(pairing, colleague, in_days=4)
        async with service.as_(colleague) as c:
            await c.post(f"/meetings/{cancelled['id']}/cancel", json={"reason": "travel"})
        other, oc, ok = await service.pair()
        await service.schedule(other, oc, in_days=2)
        await service.end(other, oc, ok)
        await asyncio.sleep(0.3)
        live = await snapshot(service.pool)
        rebuilt_events = await service.runtime.definition.state_rebuilders["state"](
            service.pool, None
        )
        rebuilt = await snapshot(service.pool)
    assert rebuilt_events >= 9
    assert rebuilt == live
    statuses = sorted(m["status"] for m in live["meetings_meetings"])
    assert statuses == ["cancelled", "cancelled", "held", "scheduled"]


@pytest.mark.regression
async def test_a_rebuild_does_not_deadlock_with_a_transaction_that_reads_then_writes(service):
    """Was a bug: the rebuild locked its tables in EXCLUSIVE mode, which lets readers in, then
    TRUNCATE upgraded that to ACCESS EXCLUSIVE. A transaction that had read the tables and then
    wrote them waited for the rebuild, which waited for it: a deadlock, and PostgreSQL aborted
    one of the two. The rebuild now takes ACCESS EXCLUSIVE first; it waits for the reader, the
    reader finishes, and both succeed."""
    pairing, colleague, _ = await service.pair()
    held = await service.held(pairing, colleague, notes="n")
    live = await snapshot(service.pool)
    rebuild_state = service.runtime.definition.state_rebuilders["state"]
    reader = await asyncpg.connect(service.settings.database_url)
    try:
        async with reader.transaction():
            await reader.fetchval("SELECT count(*) FROM meetings_meetings")
            rebuild = asyncio.create_task(rebuild_state(service.pool, None))
            await asyncio.sleep(0.5)  # the rebuild now waits for its lock (or holds a weak one)
            waiting = not rebuild.done()
            await reader.execute(
                "UPDATE meetings_meetings SET location = location WHERE meeting_id = $1",
                held["id"],
            )
        replayed = await asyncio.wait_for(rebuild, 30)
    finally:
        await reader.close()

    assert waiting
    assert replayed >= 2
    assert await snapshot(service.pool) == live
