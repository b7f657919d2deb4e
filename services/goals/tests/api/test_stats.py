"""People Operations' goal aggregates against a hand-computed history, small groups withheld."""

import asyncio
from datetime import UTC, datetime

ZEROS = {"professional": 0, "personal": 0, "wellbeing": 0, "competence": 0}
WITHHELD = dict.fromkeys(ZEROS)


def this_month(stats: dict) -> dict:
    month = datetime.now(UTC).date().replace(day=1).isoformat()
    return next(m for m in stats["months"] if m["month"] == month)


async def stats(service, **params) -> dict:
    async with service.as_("ops", "people-ops") as ops:
        response = await ops.get("/stats/goals", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def act(service, person: str, path: str, body: dict | None = None) -> dict:
    async with service.as_(person) as client:
        response = await client.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_monthly_figures_match_a_hand_computed_history(start, settings):
    week = settings.model_copy(update={"review_week_seconds": 1.0})
    async with start(week) as service:
        people = [f"p{i}" for i in range(1, 7)]
        # Six people each set a professional goal; p6's is reviewed every "week" (1 s), the
        # others' every 52 weeks. p1 and p2 also set a wellbeing goal.
        main = {
            p: await service.goal(p, review_interval_weeks=1 if p == "p6" else 52) for p in people
        }
        wellbeing = {p: await service.goal(p, category="wellbeing") for p in ("p1", "p2")}
        # Reviews: p1 to p4 complete theirs on time, p5 reviews twice on time (keep, adjust).
        for p in ("p1", "p2", "p3", "p4"):
            await act(service, p, f"/goals/{main[p]['id']}/reviews", {"outcome": "completed"})
        for outcome in ("keep", "adjust"):
            await act(service, "p5", f"/goals/{main['p5']['id']}/reviews", {"outcome": outcome})
        # p6 completes theirs in a review made after its week had passed: late.
        await asyncio.sleep(1.2)
        late = await act(
            service, "p6", f"/goals/{main['p6']['id']}/reviews", {"outcome": "completed"}
        )
        # p1 completes the wellbeing goal without a review; p2 drops theirs (not completed).
        await act(service, "p1", f"/goals/{wellbeing['p1']['id']}/complete")
        await act(service, "p2", f"/goals/{wellbeing['p2']['id']}/abandon")
        body = await stats(service, months=2)

    assert late["reviews"][0]["on_time"] is False
    assert body["min_group"] == 5
    previous, month = body["months"]
    assert month == this_month(body)
    # Set: 8 goals by 6 people; professional 6 (6 people), wellbeing 2 (2 people): the small
    # part withholds the split as a whole (the other part would give it away), zeros shown.
    assert month["set"] == {
        "total": 8,
        "by_category": {**ZEROS, "professional": None, "wellbeing": None},
    }
    # Reviewed: 7 reviews by 6 people, all professional; 6 of the 7 on time.
    assert month["reviewed"] == {"total": 7, "by_category": {**ZEROS, "professional": 7}}
    assert month["reviewed_on_time_share"] == round(6 / 7, 3)
    # Completed: p1-p4 and p6's professional goals (5 people) and p1's wellbeing goal (1).
    assert month["completed"] == {
        "total": 6,
        "by_category": {**ZEROS, "professional": None, "wellbeing": None},
    }
    nothing = {"total": 0, "by_category": ZEROS}
    assert previous["set"] == nothing
    assert previous["reviewed"] == nothing
    assert previous["completed"] == nothing
    assert previous["reviewed_on_time_share"] is None


async def test_a_split_with_no_small_part_is_shown(service):
    for i in range(5):
        await service.goal(f"q{i}", category="wellbeing")
        await service.goal(f"q{i}", category="competence")
    month = this_month(await stats(service))
    assert month["set"] == {
        "total": 10,
        "by_category": {**ZEROS, "wellbeing": 5, "competence": 5},
    }
    assert month["reviewed"] == {"total": 0, "by_category": ZEROS}
    assert month["reviewed_on_time_share"] is None


async def test_fewer_than_five_people_are_too_few_for_any_figure(service):
    for i in range(4):
        person = f"r{i}"
        goals = [
            await service.goal(person),
            await service.goal(person, category="personal"),
        ]
        for goal in goals:
            await act(service, person, f"/goals/{goal['id']}/reviews", {"outcome": "keep"})
            await act(service, person, f"/goals/{goal['id']}/reviews", {"outcome": "completed"})
    month = this_month(await stats(service))
    # 8 goals, 16 reviews (all on time), 8 completions: but only 4 people.
    for figure in ("set", "reviewed", "completed"):
        assert month[figure] == {"total": None, "by_category": WITHHELD}, figure
    assert month["reviewed_on_time_share"] is None


async def test_the_figures_are_for_people_operations_only(service):
    await service.goal("s1")
    for who, roles in (("s1", ()), ("someone", ("employee",)), ("svc", ("service",))):
        async with service.as_(who, *roles) as client:
            assert (await client.get("/stats/goals")).status_code == 403
    async with service.as_("admin", "admin") as admin:
        assert (await admin.get("/stats/goals")).status_code == 200
