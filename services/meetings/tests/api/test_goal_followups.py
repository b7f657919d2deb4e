"""Shared goals due for review become suggested agenda items of the pair's next meeting,
learned from the goals service's events on the real topic."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kamu_meetings.domain import inbound
from kamu_shared.testing.waiting import eventually

G = inbound.goal_events


async def publish(service, event, *, at=None):
    return await service.upstream.publish(G, event, f"goal-{event.goal_id}", at=at)


async def suggested(service, person, meeting_id):
    async with service.as_(person) as client:
        return (await client.get(f"/meetings/{meeting_id}")).json()["suggested_agenda"]


async def test_shared_goals_due_for_review_are_suggested_until_reviewed(service):
    pairing, colleague, kamu = await service.pair()
    meeting = await service.schedule(pairing, colleague)
    shared, private, kamus_own, unshared = (str(uuid.uuid4()) for _ in range(4))
    await publish(
        service,
        inbound.GoalSet(goal_id=shared, owner_id=colleague, title="Lead a team", visibility="kamu"),
    )
    await publish(
        service,
        inbound.GoalSet(goal_id=private, owner_id=colleague, title="Private", visibility="private"),
    )
    await publish(
        service,
        inbound.GoalSet(goal_id=kamus_own, owner_id=kamu, title="Kamu's own", visibility="kamu"),
    )
    await publish(
        service,
        inbound.GoalSet(
            goal_id=unshared, owner_id=colleague, title="Was shared", visibility="kamu"
        ),
    )
    await publish(service, inbound.GoalUnshared(goal_id=unshared))
    for goal in (shared, private, kamus_own, unshared):
        await publish(service, inbound.GoalReviewDue(goal_id=goal))

    async def shown():
        items = await suggested(service, kamu, meeting["id"])
        return items if items else None

    await eventually(shown)
    # Give the rest of the events time to land before asserting what is *not* there.
    await eventually(lambda: _due_count(service, 4))  # every review-due has landed
    items = await suggested(service, kamu, meeting["id"])
    assert [(i["goal_id"], i["title"]) for i in items] == [(shared, "Lead a team")]
    assert await suggested(service, colleague, meeting["id"]) == items

    await publish(service, inbound.GoalRevised(goal_id=shared, title="Lead a small team"))
    await publish(service, inbound.GoalReviewed(goal_id=shared))

    async def gone():
        return await suggested(service, kamu, meeting["id"]) == []

    await eventually(gone)


async def _due_count(service, n):
    return (
        await service.count("SELECT count(*) FROM meetings_goals WHERE due_since IS NOT NULL") >= n
    )


async def test_completed_goals_are_never_suggested(service):
    pairing, colleague, _ = await service.pair()
    meeting = await service.schedule(pairing, colleague)
    goal = str(uuid.uuid4())
    await publish(
        service,
        inbound.GoalSet(goal_id=goal, owner_id=colleague, title="Run 10k", visibility="kamu"),
    )
    await publish(service, inbound.GoalReviewDue(goal_id=goal))
    await eventually(lambda: suggested(service, colleague, meeting["id"]))
    await publish(service, inbound.GoalCompleted(goal_id=goal))

    async def gone():
        return await suggested(service, colleague, meeting["id"]) == []

    await eventually(gone)
    held = await service.held(pairing, colleague, goal_ids=[goal])
    assert held["goal_ids"] == [goal]
    assert held["suggested_agenda"] == []  # only scheduled meetings carry suggestions


async def _handled(service, *envelopes):
    """Wait until the meetings service has applied these upstream events."""

    async def applied():
        return await service.count(
            "SELECT count(*) FROM kamu_processed_events WHERE event_id = ANY($1::uuid[])",
            [e.id for e in envelopes],
        ) == len(envelopes)

    await eventually(applied)


async def _new_kamu_after_sharing(service):
    """A colleague shared a goal with their first Kamu two days ago (it is due for review);
    that pairing ended, and one with a new Kamu began a day ago. Returns (colleague, the new
    Kamu, the goal's id, a meeting of the new pairing)."""
    now = datetime.now(UTC)
    first, colleague, former = await service.pair(at=now - timedelta(days=3))
    goal = str(uuid.uuid4())
    shared_at = now - timedelta(days=2)
    goal_set = await publish(
        service,
        inbound.GoalSet(
            goal_id=goal, owner_id=colleague, title="Mentor a trainee", visibility="kamu"
        ),
        at=shared_at,
    )
    due = await publish(service, inbound.GoalReviewDue(goal_id=goal), at=shared_at)
    await service.upstream.publish(
        inbound.pairing_events,
        inbound.PairingEnded(pairing_id=first, colleague_id=colleague, kamu_id=former),
        f"pairing-{first}",
        at=now - timedelta(days=1.5),
    )
    await service.wait_for_pairing(first, "ended")
    second, _, kamu = await service.pair(colleague, at=now - timedelta(days=1))
    meeting = await service.schedule(second, colleague)
    await _handled(service, goal_set, due)
    return colleague, kamu, goal, meeting


@pytest.mark.regression
async def test_a_goal_shared_before_the_pairing_began_is_not_suggested_to_its_kamu(service):
    """Was a bug: a goal counted as shared whenever its ``shared`` flag was set, so what the
    colleague had shared with a former Kamu showed on the meetings of their next Kamu, who was
    never shown it (DESIGN: sharing ends when the pairing ends). Sharing now counts from when
    it happened (the event's time), for a pairing that began by then: unshared and shared
    again while paired with the new Kamu, it is suggested; unshared again, it is gone."""
    colleague, kamu, goal, meeting = await _new_kamu_after_sharing(service)
    assert await suggested(service, kamu, meeting["id"]) == []
    assert await suggested(service, colleague, meeting["id"]) == []

    unshared = await publish(service, inbound.GoalUnshared(goal_id=goal))
    shared = await publish(service, inbound.GoalShared(goal_id=goal))
    await _handled(service, unshared, shared)
    shared_again = await suggested(service, kamu, meeting["id"])
    assert [g["goal_id"] for g in shared_again] == [goal]

    private = await publish(service, inbound.GoalUnshared(goal_id=goal))
    await _handled(service, private)
    assert await suggested(service, kamu, meeting["id"]) == []
    assert await suggested(service, colleague, meeting["id"]) == []


@pytest.mark.regression
async def test_a_goal_shared_again_with_the_next_kamu_is_suggested_to_them(service):
    """Was a bug, found with the fix of the one above: a ``goal-shared`` made while the new
    Kamu's pairing runs is a share with them, and counts from its own time; but when the goal
    was still marked shared from the previous pairing, the share time stayed the old one, so
    the new Kamu never saw the goal the colleague had just shared. (A revision is not a
    share: it rightly does not.)"""
    _colleague, kamu, goal, meeting = await _new_kamu_after_sharing(service)
    revised = await publish(service, inbound.GoalRevised(goal_id=goal, title="Mentor"))
    await _handled(service, revised)
    after_revision = await suggested(service, kamu, meeting["id"])
    shared = await publish(service, inbound.GoalShared(goal_id=goal))
    await _handled(service, shared)
    after_sharing = await suggested(service, kamu, meeting["id"])

    assert after_revision == []
    assert [g["goal_id"] for g in after_sharing] == [goal]
