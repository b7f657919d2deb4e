"""Goals by team and category, and notification outcomes by channel, hand-computed.

Goals (team A: a-1..a-3, team B: b-1, b-2): in January a-1 and a-2 set professional goals (g1,
g2), b-1 and b-2 wellbeing ones (g3, g5); in February a-1 sets a personal goal (g4) and g1 (on
time), g2 (late) and g3 (on time) are reviewed; in March g1 is completed and g2 abandoned.
"""

import pytest


@pytest.fixture
async def goals(service, at, arithmetic_only):
    await service.team("A", 3, at("2026-01-01", 8))
    await service.team("B", 2, at("2026-01-01", 8))
    await service.goal("g1", "a-1", "professional", at("2026-01-05"))
    await service.goal("g2", "a-2", "professional", at("2026-01-10"))
    await service.goal("g3", "b-1", "wellbeing", at("2026-01-12"))
    await service.goal("g5", "b-2", "wellbeing", at("2026-01-15"))
    await service.goal("g4", "a-1", "personal", at("2026-02-03"))
    await service.reviewed("g1", "a-1", True, at("2026-02-01"), meeting="m-1")
    await service.reviewed("g2", "a-2", False, at("2026-02-02"))
    await service.reviewed("g3", "b-1", True, at("2026-02-05"))
    await service.closed("g1", "a-1", True, at("2026-03-01"))
    await service.closed("g2", "a-2", False, at("2026-03-02"))
    await service.settled()


def counts(cell):
    keys = ("set", "reviewed", "reviewed_on_time", "completed", "abandoned")
    return tuple(cell[k] for k in keys)


async def test_goals_set_reviewed_on_time_and_closed_each_month(goals, figure):
    answer = await figure("goals")

    assert [counts(m) for m in answer.months] == [
        (4, 0, 0, 0, 0),
        (1, 3, 2, 0, 0),
        (0, 0, 0, 1, 1),
    ]
    assert answer.months[1]["on_time_share"] == 0.667
    assert counts(answer.total) == (5, 3, 2, 1, 1)


async def test_goals_by_team_and_by_category(goals, figure):
    team_a = await figure("goals", team="A")
    by_category = await figure("goals", by="category")

    assert [counts(m) for m in team_a.months] == [
        (2, 0, 0, 0, 0),
        (1, 2, 1, 0, 0),
        (0, 0, 0, 1, 1),
    ]
    # One person may set goals in two categories: a category's people are not shown, or the
    # whole beside them would count who is in both.
    assert all(b["people"] is None for b in by_category.breakdown)
    by = {b["group"]: counts(b) for b in by_category.breakdown}
    assert by == {
        "professional": (2, 2, 1, 1, 1),
        "wellbeing": (2, 1, 1, 0, 0),
        "personal": (1, 0, 0, 0, 0),
    }


async def test_a_team_has_no_breakdown_by_category(goals, service):
    async with service.as_() as client:
        response = await client.get("/programme/goals", params={"team": "A", "by": "category"})
    assert response.status_code == 422
    assert "category" in response.json()["detail"]


async def test_notification_outcomes_by_channel(service, at, arithmetic_only, figure):
    await service.team("A", 3, at("2026-01-01", 8))
    await service.delivery("n1", "a-1", "email", "sent", at("2026-01-03"))
    await service.delivery("n1", "a-1", "slack", "failed", at("2026-01-03"))
    await service.delivery("n2", "a-2", "email", "sent", at("2026-01-04"))
    await service.delivery("n3", "a-3", "email", "suppressed", at("2026-01-05"))
    await service.delivery("n3", "a-3", "slack", "sent", at("2026-01-05"))
    await service.settled()

    answer = await figure("notifications")

    jan = answer.months[0]
    assert (jan["sent"], jan["failed"], jan["suppressed"], jan["failed_share"]) == (3, 1, 1, 0.25)
    by = {b["group"]: b for b in answer.breakdown}
    assert (by["email"]["sent"], by["email"]["suppressed"], by["email"]["failed_share"]) == (
        2,
        1,
        0.0,
    )
    assert (by["slack"]["sent"], by["slack"]["failed"], by["slack"]["failed_share"]) == (1, 1, 0.5)
