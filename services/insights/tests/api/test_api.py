"""The programme API: People Operations only, clear problems for bad questions, whole answers."""

import pytest
from aiokafka.admin import AIOKafkaAdminClient


async def test_programme_figures_are_for_people_operations(service):
    async with service.as_("e-1", "employee") as employee:
        response = await employee.get("/programme/overview")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    async with service.as_("admin-1", "admin") as admin:
        assert (await admin.get("/programme/figures")).status_code == 200


async def test_without_a_token_the_answer_is_401(service):
    async with service.as_() as client:
        client.headers.pop("Authorization")
        response = await client.get("/programme/coverage")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"from": "2026-13"}, "YYYY-MM"),
        ({"from": "last year"}, "YYYY-MM"),
        ({"from": "2026-5"}, "YYYY-MM"),
        ({"to": "0001-01"}, "1970-01 or later"),
        ({"from": "\uff12\uff10\uff12\uff16-01"}, "YYYY-MM"),  # full-width digits
        ({"from": "2026-05", "to": "2026-02"}, "after it ends"),
        ({"to": "2999-01"}, "future"),
        ({"from": "2001-01", "to": "2026-01"}, "at most"),
        ({"by": "colour"}, "broken down by"),
        ({"team": "Nobody"}, "No team named"),
    ],
)
async def test_a_bad_question_gets_a_clear_problem(service, params, words):
    async with service.as_() as client:
        response = await client.get("/programme/coverage", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert words in response.json()["detail"]


async def test_an_unknown_figure_is_404(service):
    async with service.as_() as client:
        response = await client.get("/programme/happiness")
    assert response.status_code == 404
    assert "/programme/figures" in response.json()["detail"]


async def test_the_overview_answers_every_figure_for_the_period_asked(service, at):
    await service.team("A", 5, at("2026-01-02"))
    await service.settled()
    async with service.as_() as client:
        overview = await client.get(
            "/programme/overview", params={"from": "2026-01", "to": "2026-03"}
        )
        teams = await client.get("/programme/teams")
        one_team = await client.get("/programme/overview", params={"team": "A"})
        figures = await client.get("/programme/figures")

    assert overview.status_code == 200
    body = overview.json()
    names = {f["name"] for f in figures.json()}
    assert set(body) == names | {"goals-by-category"}
    assert [m["month"] for m in body["coverage"]["months"]] == ["2026-01", "2026-02", "2026-03"]
    assert body["coverage"]["total"]["headcount"] == 5
    assert body["coverage"]["min_group"] == 5
    assert teams.json() == [{"team": "A"}]
    # For one team: the figures with a team breakdown (not notifications, not categories).
    assert set(one_team.json()) == names - {
        "notifications"
    }  # names only: a size would help subtract


async def test_insights_publishes_nothing_so_it_has_no_topic(service):
    admin = AIOKafkaAdminClient(bootstrap_servers=service.settings.kafka_bootstrap)
    await admin.start()
    try:
        topics = set(await admin.list_topics())
    finally:
        await admin.close()
    namespace = service.settings.topic_namespace
    assert f"{namespace}.pairing.events" in topics  # what it reads is there
    assert f"{namespace}.insights.events" not in topics
