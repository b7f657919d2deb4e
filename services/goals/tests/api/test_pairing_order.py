"""Pairings of one colleague arrive in any order (different keys, different partitions): the
goals service must never make a former Kamu current again, nor unshare what a later pairing
with the same Kamu shared."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kamu_goals.domain import inbound

P = inbound.pairing_events


async def created(service, pairing, colleague, kamu, at):
    await service.upstream.publish(
        P,
        inbound.PairingCreated(pairing_id=pairing, colleague_id=colleague, kamu_id=kamu),
        f"pairing-{pairing}",
        at=at,
    )


async def ended(service, pairing, colleague, kamu, at):
    await service.upstream.publish(
        P,
        inbound.PairingEnded(pairing_id=pairing, colleague_id=colleague, kamu_id=kamu),
        f"pairing-{pairing}",
        at=at,
    )


async def settled(service, n):
    """Until the pairing consumer has handled ``n`` events."""
    for _ in range(200):
        if await service.count("SELECT count(*) FROM kamu_processed_events") >= n:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the pairing events were not handled")


async def current(service, colleague):
    return await service.pool.fetchval(
        "SELECT kamu_id FROM goals_kamus WHERE colleague_id = $1", colleague
    )


@pytest.mark.regression
async def test_a_late_creation_of_an_older_or_ended_pairing_never_makes_its_kamu_current(service):
    """Found in review: the newest pairing-created won only if it came last; a lagging older
    one (or one replayed from the dead letters after its end) made the former Kamu current
    again, and they could read what the colleague shared next."""
    now = datetime.now(UTC)
    colleague, old, new = "cee", "kay-old", "kay-new"
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    await created(service, b, colleague, new, now - timedelta(hours=1))
    await created(service, a, colleague, old, now - timedelta(days=3))  # lagging
    await settled(service, 2)
    assert await current(service, colleague) == new
    await ended(service, a, colleague, old, now - timedelta(days=2))
    await created(service, a, colleague, old, now - timedelta(days=3))  # a replay after its end
    await settled(service, 3)
    await asyncio.sleep(0.5)
    assert await current(service, colleague) == new


@pytest.mark.regression
async def test_the_end_of_an_earlier_pairing_with_the_same_kamu_keeps_later_shares(service):
    """Found in review: a late pairing-ended unshared every goal shared with that Kamu, also
    those shared during a newer pairing with the same Kamu."""
    now = datetime.now(UTC)
    colleague, kamu = "dee", "kay"
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    await created(service, b, colleague, kamu, now - timedelta(hours=1))
    await settled(service, 1)
    goal = await service.goal(colleague, visibility="kamu")
    await ended(service, a, colleague, kamu, now - timedelta(days=1))  # the older pairing
    await settled(service, 2)
    async with service.as_(kamu) as k:
        seen = await k.get(f"/goals/{goal['id']}")
    assert seen.status_code == 200
    assert seen.json()["visibility"] == "kamu"
