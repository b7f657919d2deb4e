"""The state tables rebuilt from the event store equal the live ones."""

import asyncio
from datetime import UTC, datetime, timedelta

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
