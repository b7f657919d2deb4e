"""Small groups stay hidden through the API, also from two overlapping questions: a team and
the whole organisation, or one period and a longer one."""

from datetime import UTC, date, datetime

from kamu_insights.api import answer
from kamu_insights.figures.catalogue import FIGURES
from kamu_insights.figures.periods import months_between

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


async def test_a_team_and_the_whole_organisation_do_not_give_a_small_team_away(service, at):
    # Given: A has 6 people, B 7 and C 3 in January; two of C are paired. Two more join C
    # in February, so every team has at least 5 people from then on.
    a = await service.team("A", 6, at("2026-01-02"))
    await service.team("B", 7, at("2026-01-02"))
    c = await service.team("C", 3, at("2026-01-02"))
    await service.person("c-4", "C", at("2026-02-02"))
    await service.person("c-5", "C", at("2026-02-03"))
    await service.paired("p1", c[0], a[0], at("2026-01-05"))
    await service.paired("p2", c[1], a[0], at("2026-01-06"))
    await service.paired("p3", a[1], c[2], at("2026-01-07"))
    await service.settled()
    months = months_between(date(2026, 1, 1), date(2026, 2, 1), NOW)

    async def coverage(team):
        return await answer(service.runtime, FIGURES["coverage"], team, None, months, NOW)

    whole = await coverage(None)
    teams = {t: await coverage(t) for t in ("A", "B", "C")}

    # Then, January: the whole is shown (16 people, 3 paired); C is small, so no team is
    # shown, asked for alone or in the breakdown: the whole minus A and B would be C.
    jan = whole.months[0]
    assert (jan["headcount"], jan["covered"], jan["withheld"]) == (16, 3, False)
    for team, answered in teams.items():
        assert answered.months[0] == {
            "month": "2026-01",
            "people": None,
            "withheld": True,
            "headcount": None,
            "covered": None,
            "share": None,
        }, team
    # February: every team has 5 or more: all shown, and they add up to the whole.
    feb = {t: answered.months[1] for t, answered in teams.items()}
    assert {t: (m["headcount"], m["covered"]) for t, m in feb.items()} == {
        "A": (6, 1),
        "B": (7, 0),
        "C": (5, 2),
    }
    assert sum(m["headcount"] for m in feb.values()) == whole.months[1]["headcount"]
    assert [b["withheld"] for b in whole.breakdown] == [False, False, False]


async def test_a_longer_period_differs_from_a_shorter_one_only_by_months_that_are_shown(
    service, at
):
    # Given: six people rate their meetings in January and February, two in March.
    team = await service.team("A", 6, at("2026-01-02"))
    ratings = [(p, "2026-01-15", 4, 4) for p in team] + [(p, "2026-02-15", 3, 5) for p in team]
    ratings += [(team[0], "2026-03-10", 1, 1), (team[1], "2026-03-11", 1, 2)]
    for i, (person, day, safety, useful) in enumerate(ratings):
        await service.rating(
            f"m{i}", f"p-{person}", person, "k-1", "colleague", safety, useful, at(day)
        )
    await service.settled()

    async def feedback(first, last):
        months = months_between(first, last, NOW)
        return await answer(service.runtime, FIGURES["feedback"], "A", None, months, NOW)

    two = await feedback(date(2026, 1, 1), date(2026, 2, 1))
    three = await feedback(date(2026, 1, 1), date(2026, 3, 1))
    march = await feedback(date(2026, 3, 1), date(2026, 3, 1))

    # Then: March (two people) is withheld, and the longer period adds up only the months
    # shown, so it equals the shorter one: subtracting them tells nothing about March.
    assert march.total["withheld"] is True
    assert three.months[2]["withheld"] is True
    assert {k: v for k, v in three.total.items() if k != "months_withheld"} == {
        k: v for k, v in two.total.items() if k != "months_withheld"
    }
    assert (three.total["ratings"], three.total["psychological_safety"]) == (12, 3.5)
    assert three.total["months_withheld"] == 1


async def test_the_whole_is_withheld_whichever_breakdown_it_stands_beside(service, at):
    # Given: in January five people, each in a team of their own, set one goal each in the
    # same category. By team the groups could only be ones, so the whole must go, also when
    # asked by category (where it would stand alone and look harmless).
    for i in range(5):
        await service.person(f"p-{i}", f"T{i}", at("2026-01-02"))
        await service.goal(f"g{i}", f"p-{i}", "professional", at("2026-01-10"))
    await service.settled()
    months = months_between(date(2026, 1, 1), date(2026, 1, 1), NOW)

    by_team = await answer(service.runtime, FIGURES["goals"], None, "team", months, NOW)
    by_category = await answer(service.runtime, FIGURES["goals"], None, "category", months, NOW)

    assert by_team.months[0]["withheld"] is True
    assert by_category.months[0]["withheld"] is True
    assert by_category.breakdown[0]["withheld"] is True
