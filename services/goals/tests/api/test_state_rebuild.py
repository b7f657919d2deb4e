"""The state tables rebuilt from the event store equal the live ones."""

from kamu_shared.testing.waiting import eventually

TABLES = {
    "goals_goals": "goal_id",
    "goals_progress": "goal_id, version",
    "goals_reviews": "goal_id, version",
}


async def snapshot(pool) -> dict[str, list[dict]]:
    return {
        t: [dict(r) for r in await pool.fetch(f"SELECT * FROM {t} ORDER BY {k}")]
        for t, k in TABLES.items()
    }


async def post(service, person: str, path: str, body: dict | None = None, status: int = 200):
    async with service.as_(person) as client:
        response = await client.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


async def test_rebuilt_state_equals_live_state(start, settings):
    fast = settings.model_copy(update={"review_week_seconds": 0.3})
    async with start(fast) as service:
        # A goal falls due twice, is reviewed late, and falls due again from the review.
        lapsing = await service.goal("d", review_interval_weeks=1)

        async def lapses():
            return await service.count(
                "SELECT count(*) FROM kamu_events WHERE stream_id = $1 AND event_type = $2",
                f"goal-{lapsing['id']}",
                "kamu.goals.goal-review-due.v1",
            )

        async def lapsed(times):
            return await lapses() >= times

        await eventually(lambda: lapsed(2), timeout=10)
        await post(service, "d", f"/goals/{lapsing['id']}/reviews", {"outcome": "adjust"}, 201)
        before = await lapses()
        await eventually(lambda: lapsed(before + 1), timeout=10)
    async with start(settings) as service:  # real weeks from here on: the clock stands still
        pairing, colleague, kamu = await service.pair()
        # Set private, revised, checked in on, shared, reviewed by the Kamu, then unshared by
        # the pairing's end.
        revised = await service.goal(colleague, description="first", success_criteria="3")
        async with service.as_(colleague) as me:
            answer = await me.patch(
                f"/goals/{revised['id']}",
                json={"title": "Lead a small team", "description": None, "category": "personal"},
                headers={"If-Match": '"v1"'},
            )
            assert answer.status_code == 200, answer.text
        for percent, status in ((20, "at-risk"), (40, "on-track")):
            await post(
                service,
                colleague,
                f"/goals/{revised['id']}/progress",
                {"percent": percent, "status": status, "note": f"{percent}%"},
            )
        await post(service, colleague, f"/goals/{revised['id']}/share")
        await post(
            service,
            kamu,
            f"/goals/{revised['id']}/reviews",
            {"outcome": "keep", "reflection": "fine", "meeting_id": pairing},
            201,
        )
        # Set shared, checked in on, completed in a review.
        completed = await service.goal(colleague, visibility="kamu", category="wellbeing")
        await post(
            service,
            colleague,
            f"/goals/{completed['id']}/progress",
            {"percent": 100, "status": "on-track"},
        )
        await post(
            service, colleague, f"/goals/{completed['id']}/reviews", {"outcome": "completed"}, 201
        )
        # Set shared, unshared by the owner, then abandoned.
        abandoned = await service.goal(colleague, visibility="kamu", category="competence")
        await post(service, colleague, f"/goals/{abandoned['id']}/unshare")
        await post(service, colleague, f"/goals/{abandoned['id']}/abandon")
        # Dropped in a review; and one completed without a review.
        dropped = await service.goal("e")
        await post(service, "e", f"/goals/{dropped['id']}/reviews", {"outcome": "dropped"}, 201)
        done = await service.goal("e", target_date=revised["target_date"])
        await post(service, "e", f"/goals/{done['id']}/complete")
        await service.end(pairing, colleague, kamu)

        async def unshared():
            return await service.pool.fetchval(
                "SELECT visibility = 'private' FROM goals_goals WHERE goal_id = $1",
                revised["id"],
            )

        await eventually(unshared)
        live = await snapshot(service.pool)
        stored = await service.count("SELECT count(*) FROM kamu_events")
        rebuilt_events = await service.runtime.definition.state_rebuilders["state"](
            service.pool, None
        )
        rebuilt = await snapshot(service.pool)
        causes = await service.pool.fetch(
            "SELECT data->>'cause' AS cause FROM kamu_events WHERE event_type = $1",
            "kamu.goals.goal-unshared.v1",
        )

    assert rebuilt_events == stored
    assert rebuilt == live
    goals = {g["goal_id"]: g for g in live["goals_goals"]}
    assert sorted(g["status"] for g in goals.values()) == [
        "abandoned",
        "abandoned",
        "active",
        "active",
        "completed",
        "completed",
    ]
    assert {g["visibility"] for g in goals.values()} == {"private"}  # the end unshared both
    assert sorted(c["cause"] for c in causes) == ["owner", "pairing-ended", "pairing-ended"]
    assert goals[revised["id"]]["title"] == "Lead a small team"
    assert goals[revised["id"]]["description"] is None
    assert goals[lapsing["id"]]["due_lapses"] >= 1
    assert goals[lapsing["id"]]["last_reviewed_at"] is not None
    assert len(live["goals_progress"]) == 3
    assert len(live["goals_reviews"]) == 4
