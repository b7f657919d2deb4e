"""Coverage: the share of people with an active Kamu at each month's end, by team."""

from datetime import UTC, date, datetime

from kamu_insights.api import answer
from kamu_insights.figures.catalogue import FIGURES
from kamu_insights.figures.periods import months_between

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
MONTHS = months_between(date(2026, 1, 1), date(2026, 3, 1), NOW)


async def test_coverage_counts_people_paired_at_each_months_end(service, at):
    # Given: Sales has 6 people from January, 2 of them paired in January, 1 more in February,
    # one of the January pairs ended in March; Ops has 5 people, one paired in March.
    sales = await service.team("Sales", 6, at("2026-01-02"))
    ops = await service.team("Ops", 5, at("2026-01-02"))
    await service.kamu("k-1", at("2026-01-02"))
    await service.paired("p1", sales[0], ops[0], at("2026-01-10"))
    await service.paired("p2", sales[1], ops[0], at("2026-01-20"))
    await service.paired("p3", sales[2], ops[1], at("2026-02-05"))
    await service.ended("p1", sales[0], ops[0], at("2026-03-01"))
    await service.paired("p4", ops[2], sales[3], at("2026-03-10"))
    await service.settled()

    # When
    whole = await answer(service.runtime, FIGURES["coverage"], None, None, MONTHS, NOW)
    team = await answer(service.runtime, FIGURES["coverage"], "Sales", None, MONTHS, NOW)

    # Then: months end Jan 31, Feb 28, Mar 20 (now)
    assert [(m["month"], m["headcount"], m["covered"], m["share"]) for m in whole.months] == [
        ("2026-01", 11, 2, 0.182),
        ("2026-02", 11, 3, 0.273),
        ("2026-03", 11, 3, 0.273),
    ]
    assert [(m["covered"], m["share"]) for m in team.months] == [
        (2, 0.333),
        (3, 0.5),
        (2, 0.333),
    ]
    assert {b["group"]: b["covered"] for b in whole.breakdown} == {"Ops": 1, "Sales": 2}
    assert whole.total == {k: v for k, v in whole.months[-1].items() if k != "month"}
