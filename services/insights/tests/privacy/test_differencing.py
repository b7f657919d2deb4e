"""Small groups stay hidden through the API, also from two overlapping questions: a team and
the whole organisation, or one period and a longer one."""

from datetime import UTC, date, datetime

from kamu_insights.api import answer
from kamu_insights.figures.catalogue import FIGURES
from kamu_insights.figures.periods import months_between

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


async def test_a_team_and_the_whole_organisation_do_not_give_a_small_team_away(service, at):
    # Given: A has 6 people, B 7 and C 3; two of C are paired.
    a = await service.team("A", 6, at("2026-01-02"))
    await service.team("B", 7, at("2026-01-02"))
    c = await service.team("C", 3, at("2026-01-02"))
    await service.paired("p1", c[0], a[0], at("2026-01-05"))
    await service.paired("p2", c[1], a[0], at("2026-01-06"))
    await service.paired("p3", a[1], c[2], at("2026-01-07"))
    await service.settled()
    months = months_between(date(2026, 1, 1), date(2026, 1, 1), NOW)

    async def coverage(team):
        return await answer(service.runtime, FIGURES["coverage"], team, None, months, NOW)

    whole, team_a, team_b, team_c = [await coverage(t) for t in (None, "A", "B", "C")]

    # Then: the whole is shown (16 people, 3 paired) and C is withheld, in the breakdown and
    # asked for alone; A goes with it (the smaller of A and B), because the whole minus the
    # shown teams must describe at least 5 people.
    assert (whole.total["headcount"], whole.total["covered"]) == (16, 3)
    assert team_c.total == {
        "people": None,
        "withheld": True,
        "headcount": None,
        "covered": None,
        "share": None,
    }
    assert team_a.total["withheld"] is True
    assert (team_b.total["headcount"], team_b.total["covered"]) == (7, 0)
    withheld = [b["group"] for b in whole.breakdown if b["withheld"]]
    assert withheld == ["A", "C"]
    # What subtracting tells: A and C together, 9 people.
    assert whole.total["headcount"] - team_b.total["headcount"] == 9


async def test_a_longer_period_differs_from_a_shorter_one_only_by_months_that_are_shown(
    service, at
):
    # Given: six people rate their meetings in January and February, two in March.
    team = await service.team("A", 6, at("2026-01-02"))
    kamu = "k-1"
    ratings = [(p, "2026-01-15", 4, 4) for p in team] + [(p, "2026-02-15", 3, 5) for p in team]
    ratings += [(team[0], "2026-03-10", 1, 1), (team[1], "2026-03-11", 1, 2)]
    for i, (person, day, safety, useful) in enumerate(ratings):
        meeting = f"m{i}"
        await service.rating(
            meeting, f"p-{person}", person, kamu, "colleague", safety, useful, at(day)
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
