"""A goal's life over HTTP, with the Kamu's access following pairing events on the real topic."""

import asyncio
import time
import uuid
from datetime import UTC, datetime

from kamu_goals.domain import inbound
from kamu_shared.testing.kafka import read_topic
from kamu_shared.testing.waiting import eventually


async def test_a_shared_goal_is_checked_in_on_reviewed_and_completed(service, kafka_bootstrap):
    _, colleague, kamu = await service.pair()
    goal = await service.goal(colleague, visibility="kamu", success_criteria="a team of 3")
    assert goal["visibility"] == "kamu"
    assert goal["shared_with"] == kamu
    gid = goal["id"]
    async with service.as_(colleague) as me:
        revised = await me.patch(f"/goals/{gid}", json={"title": "Lead a small team"})
        assert revised.status_code == 428  # If-Match required
        revised = await me.patch(
            f"/goals/{gid}", json={"title": "Lead a small team"}, headers={"If-Match": '"v1"'}
        )
        assert revised.status_code == 200, revised.text
        assert revised.json()["title"] == "Lead a small team"
        stale = await me.patch(f"/goals/{gid}", json={"title": "x"}, headers={"If-Match": '"v1"'})
        assert stale.status_code == 412
        checked = await me.post(
            f"/goals/{gid}/progress", json={"percent": 40, "status": "on-track", "note": "hired"}
        )
        assert checked.json()["latest_progress"]["percent"] == 40
    async with service.as_(kamu) as k:
        seen = await k.get(f"/goals/{gid}")
        assert seen.status_code == 200
        assert seen.json()["latest_progress"]["note"] == "hired"
        assert (
            await k.post(f"/goals/{gid}/progress", json={"percent": 1, "status": "blocked"})
        ).status_code == 403
        reviewed = await k.post(
            f"/goals/{gid}/reviews",
            json={"outcome": "completed", "reflection": "done", "meeting_id": str(uuid.uuid4())},
        )
        assert reviewed.status_code == 201, reviewed.text
        assert reviewed.json()["status"] == "completed"
    async with service.as_(colleague) as me:
        late = await me.post(f"/goals/{gid}/progress", json={"percent": 100, "status": "on-track"})
        assert late.status_code == 409
        assert late.json()["type"] == "/problems/goal-closed"

    async def published():
        found = await read_topic(kafka_bootstrap, service.runtime.topic)
        mine = [m.type for m in found if m.subject == f"goal-{gid}"]
        return mine if len(mine) >= 5 else None

    types = await eventually(published)
    assert types == [
        "kamu.goals.goal-set.v1",
        "kamu.goals.goal-revised.v1",
        "kamu.goals.goal-progress-recorded.v1",
        "kamu.goals.goal-reviewed.v1",
        "kamu.goals.goal-completed.v1",
    ]


async def test_the_kamus_access_follows_the_pairing(service):
    pairing, colleague, kamu = await service.pair()
    private = await service.goal(colleague)
    shared = await service.goal(colleague, visibility="kamu")
    async with service.as_(kamu) as k:
        listed = (await k.get(f"/people/{colleague}/goals")).json()["items"]
        assert [g["id"] for g in listed] == [shared["id"]]
        assert (await k.get(f"/goals/{private['id']}")).status_code == 404
    await service.end(pairing, colleague, kamu)

    async def unshared():
        row = await service.pool.fetchrow(
            "SELECT visibility FROM goals_goals WHERE goal_id = $1", shared["id"]
        )
        return row["visibility"] == "private"

    await eventually(unshared)
    async with service.as_(kamu) as k:
        assert (await k.get(f"/goals/{shared['id']}")).status_code == 404
        assert (await k.get(f"/people/{colleague}/goals")).status_code == 404
    _, _, next_kamu = await service.pair(colleague)
    async with service.as_(next_kamu) as k:
        assert (await k.get(f"/people/{colleague}/goals")).json()["items"] == []
    async with service.as_(colleague) as me:
        assert (await me.post(f"/goals/{shared['id']}/share")).status_code == 200
    async with service.as_(next_kamu) as k:
        listed = (await k.get(f"/people/{colleague}/goals")).json()["items"]
        assert [g["id"] for g in listed] == [shared["id"]]
    for outsider, roles in (("someone", ()), ("ops", ("people-ops",))):
        async with service.as_(outsider, *roles) as o:
            assert (await o.get(f"/goals/{shared['id']}")).status_code == 404
            assert (await o.get(f"/people/{colleague}/goals")).status_code == 404


async def test_reviews_fall_due_once_per_lapse_across_a_restart(start, settings):
    # A "week" of 5 s: the first lapse falls due 10 s after the goal is set, while the service
    # is down; the next one 10 s later leaves a busy machine time to restart and review.
    fast = settings.model_copy(update={"review_week_seconds": 5.0})
    async with start(fast) as service:
        goal = await service.goal("ada", review_interval_weeks=2)
    await asyncio.sleep(10.5)
    async with start(fast) as service:

        async def due():
            return await service.count(
                "SELECT count(*) FROM kamu_events WHERE event_type = $1 AND stream_id = $2",
                "kamu.goals.goal-review-due.v1",
                f"goal-{goal['id']}",
            )

        await eventually(due, timeout=10)
        async with service.as_("ada") as me:
            listed = (await me.get("/people/ada/goals/due")).json()["items"]
            assert [g["id"] for g in listed] == [goal["id"]]
            reviewed = time.monotonic()
            await me.post(f"/goals/{goal['id']}/reviews", json={"outcome": "keep"})
            still_due = (await me.get("/people/ada/goals/due")).json()["items"]
            if time.monotonic() - reviewed < 10.0:  # the next lapse: two "weeks" (10 s) later
                assert still_due == []
        assert await due() == 1


async def test_a_goal_reviewed_in_a_meeting_is_linked_to_it(service):
    _, colleague, kamu = await service.pair()
    goal = await service.goal(colleague)
    meeting_id = str(uuid.uuid4())
    await service.upstream.publish(
        inbound.meeting_events,
        inbound.MeetingHeld(
            meeting_id=meeting_id,
            colleague_id=colleague,
            kamu_id=kamu,
            held_at=datetime.now(UTC),
            goal_ids=[goal["id"], str(uuid.uuid4())],
        ),
        f"meeting-{meeting_id}",
    )

    async def linked():
        async with service.as_(colleague) as me:
            return (await me.get(f"/goals/{goal['id']}")).json()["meetings"]

    assert await eventually(linked) == [meeting_id]
