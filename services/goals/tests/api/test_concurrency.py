"""Racing commands against the real database: each fact is recorded once, nothing is merged,
and the end of a pairing always leaves the goals it shared private."""

import asyncio

import pytest

from kamu_goals.commands import goals as commands
from kamu_goals.domain import inbound
from kamu_goals.reactions import pairings
from kamu_shared.testing.waiting import eventually


async def events(service, goal_id: str, *names: str) -> int:
    return await service.count(
        "SELECT count(*) FROM kamu_events WHERE stream_id = $1 AND event_type = ANY($2::text[])",
        f"goal-{goal_id}",
        [f"kamu.goals.{n}.v1" for n in names],
    )


async def visibility(service, goal_id: str) -> str:
    return await service.pool.fetchval(
        "SELECT visibility FROM goals_goals WHERE goal_id = $1", goal_id
    )


async def test_two_revisions_from_the_same_version_record_one(service):
    goal = await service.goal("ada")
    path = f"/goals/{goal['id']}"

    async def revise(title):
        async with service.as_("ada") as me:
            return await me.patch(path, json={"title": title}, headers={"If-Match": '"v1"'})

    titles = [f"Title {i}" for i in range(4)]
    answers = await asyncio.gather(*(revise(t) for t in titles))
    async with service.as_("ada") as me:
        final = (await me.get(path)).json()
    codes = sorted(a.status_code for a in answers)
    winner = next(a.json() for a in answers if a.status_code == 200)
    assert codes == [200, 412, 412, 412]
    assert {a.headers["content-type"] for a in answers if a.status_code == 412} == {
        "application/problem+json"
    }
    assert await events(service, goal["id"], "goal-revised") == 1
    assert final["title"] == winner["title"]
    assert final["version"] == 2


async def test_a_review_racing_a_completion_closes_the_goal_once(service):
    _, colleague, kamu = await service.pair()
    for _ in range(3):
        goal = await service.goal(colleague, visibility="kamu")
        gid = goal["id"]

        async def act(person, path, body=None, gid=gid):
            async with service.as_(person) as client:
                return await client.post(f"/goals/{gid}/{path}", json=body)

        answers = await asyncio.gather(
            act(kamu, "reviews", {"outcome": "completed"}),
            act(colleague, "complete"),
            act(colleague, "reviews", {"outcome": "dropped"}),
            act(colleague, "abandon"),
        )
        after = await act(colleague, "progress", {"percent": 100, "status": "on-track"})
        async with service.as_(colleague) as me:
            final = (await me.get(f"/goals/{gid}")).json()

        won = [a for a in answers if a.status_code in (200, 201)]
        assert len(won) == 1, [a.text for a in answers]
        assert sorted(a.status_code for a in answers if a not in won) == [409, 409, 409]
        assert await events(service, gid, "goal-completed", "goal-abandoned") == 1
        reviews = await events(service, gid, "goal-reviewed")
        assert reviews == (1 if won[0].status_code == 201 else 0)
        assert final["status"] == won[0].json()["status"]
        assert final["status"] in ("completed", "abandoned")
        assert after.status_code == 409
        assert after.json()["type"] == "/problems/goal-closed"
        assert await events(service, gid, "goal-progress-recorded") == 0


async def test_check_ins_racing_the_pairings_end_are_kept_and_the_goals_end_private(service):
    pairing, colleague, kamu = await service.pair()
    goals = [await service.goal(colleague, visibility="kamu") for _ in range(6)]

    async def check_in(goal, i):
        async with service.as_(colleague) as me:
            return goal, await me.post(
                f"/goals/{goal['id']}/progress", json={"percent": i, "status": "on-track"}
            )

    ending = service.end(pairing, colleague, kamu)
    *answers, _ = await asyncio.gather(*(check_in(g, i) for g in goals for i in (10, 20)), ending)

    async def unshared():
        return {await visibility(service, g["id"]) for g in goals} == {"private"}

    await eventually(unshared, timeout=15)
    refused = [a.json()["type"] for _, a in answers if a.status_code != 200]
    # A check-in that lost the race to another write of its goal is refused, never merged.
    assert set(refused) <= {"/problems/concurrent-modification"}
    for goal in goals:
        accepted = sum(a.status_code == 200 for g, a in answers if g is goal)
        assert await events(service, goal["id"], "goal-progress-recorded") == accepted
        assert await events(service, goal["id"], "goal-unshared") == 1
    assert await service.count("SELECT count(*) FROM kamu_parked_messages") == 0


class _CheckInAfterLoading:
    """The consumer's command handling, with the owner's check-in landing between the moment the
    consumer loads the goal and the moment it appends the goal-unshared."""

    def __init__(self, handling, check_in):
        self._handling = handling
        self._check_in = check_in
        self.loads = 0
        self.check_ins: list = []

    async def load(self, *args, **kwargs):
        loaded = await self._handling.load(*args, **kwargs)
        self.loads += 1
        if not self.check_ins:
            self.check_ins.append(await self._check_in())
        return loaded

    async def record(self, *args, **kwargs):
        return await self._handling.record(*args, **kwargs)


async def test_an_owner_command_between_the_consumers_read_and_its_append_is_retried_over(
    service, monkeypatch
):
    pairing, colleague, kamu = await service.pair()
    goal = await service.goal(colleague, visibility="kamu")

    async def check_in():
        async with service.as_(colleague) as me:
            return await me.post(
                f"/goals/{goal['id']}/progress", json={"percent": 30, "status": "at-risk"}
            )

    racing = _CheckInAfterLoading(pairings.HANDLING, check_in)
    monkeypatch.setattr(pairings, "HANDLING", racing)
    await service.end(pairing, colleague, kamu)
    async with service.as_(colleague) as me:
        final = (await me.get(f"/goals/{goal['id']}")).json()

    assert racing.check_ins[0].status_code == 200, racing.check_ins[0].text
    assert racing.loads == 2  # the first append found the goal moved: the consumer retried
    assert final["visibility"] == "private"
    assert final["shared_with"] is None
    assert final["latest_progress"]["percent"] == 30
    assert await events(service, goal["id"], "goal-unshared") == 1
    assert await events(service, goal["id"], "goal-progress-recorded") == 1
    assert await service.count("SELECT count(*) FROM kamu_parked_messages") == 0


@pytest.mark.regression
async def test_a_share_racing_the_pairings_end_does_not_outlive_it(service, monkeypatch):
    """Was a bug (now: a per-owner advisory lock orders the share and the consumer):
    ``POST /goals/{id}/share`` reads the owner's current Kamu (``goals_kamus``) and
    appends ``goal-shared`` later in its transaction, with nothing that orders it against the
    pairing-ended consumer. If the pairing ends in between, the consumer finds no shared goal
    to unshare (the share is not committed yet) and forgets the Kamu, then the share commits:
    the goal stays shared with the former Kamu for good (``visibility: kamu``, ``shared_with``
    the ex-Kamu), its owner is told so, and every ``goal-review-due`` names the ex-Kamu, so
    they are reminded of a goal they may no longer see. ``POST /goals`` with ``visibility:
    kamu`` has the same race. (The end is made to land exactly after the share read the Kamu.)"""
    pairing, colleague, kamu = await service.pair()
    goal = await service.goal(colleague)
    original = commands.current_kamu
    ended = []

    async def kamu_then_the_end(conn, person_id):
        found = await original(conn, person_id)
        if not ended:
            ended.append(True)
            # The end is published now and reaches the consumer while the share is running.
            await service.upstream.publish(
                inbound.pairing_events,
                inbound.PairingEnded(pairing_id=pairing, colleague_id=colleague, kamu_id=kamu),
                f"pairing-{pairing}",
            )
            await asyncio.sleep(1.0)
        return found

    monkeypatch.setattr(commands, "current_kamu", kamu_then_the_end)
    async with service.as_(colleague) as me:
        shared = await me.post(f"/goals/{goal['id']}/share")

        async def forgotten():
            return not await service.pool.fetchval(
                "SELECT 1 FROM goals_kamus WHERE pairing_id = $1", pairing
            )

        await eventually(forgotten)
        await asyncio.sleep(0.5)  # a late unshare would have landed by now
        final = (await me.get(f"/goals/{goal['id']}")).json()

    assert shared.status_code in (200, 409), shared.text  # refusing is fine, outliving is not
    assert await visibility(service, goal["id"]) == "private"
    assert final["shared_with"] is None
