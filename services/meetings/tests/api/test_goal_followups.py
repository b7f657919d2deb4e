"""Shared goals due for review become suggested agenda items of the pair's next meeting,
learned from the goals service's events on the real topic."""

import uuid

from kamu_meetings.domain import inbound
from kamu_shared.testing.waiting import eventually

G = inbound.goal_events


async def publish(service, event):
    await service.upstream.publish(G, event, f"goal-{event.goal_id}")


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
