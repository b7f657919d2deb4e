"""Cadence adherence, overdue pairs and feedback averages against hand-computed values.

History (January to March 2026, read on March 20), every pairing meeting every 2 weeks:
- c1: a-1 with Kamu b-1 from Jan 1; met Jan 20, Feb 20, Mar 10.
- c2: a-2 with b-1 from Jan 5; met Jan 25 only; overdue since then (lapses Feb 8 and Feb 22).
- c3: b-2 with a-3 from Mar 10 (too new to be due in March).
- c4: a-4 with b-3 from Jan 3, never met, ended Feb 10.
c1 also lapsed once (since Jan 20, recorded Feb 3) but met again on Feb 20.
"""

import pytest


@pytest.fixture
async def history(service, at, arithmetic_only):
    await service.team("A", 4, at("2026-01-01", 8))
    await service.team("B", 3, at("2026-01-01", 8))
    await service.paired("c1", "a-1", "b-1", at("2026-01-01"))
    await service.paired("c2", "a-2", "b-1", at("2026-01-05"))
    await service.paired("c3", "b-2", "a-3", at("2026-03-10"))
    await service.paired("c4", "a-4", "b-3", at("2026-01-03"))
    await service.ended("c4", "a-4", "b-3", at("2026-02-10"))
    held = {"m1": ("c1", "a-1", "2026-01-20"), "m2": ("c2", "a-2", "2026-01-25")}
    held |= {"m3": ("c1", "a-1", "2026-02-20"), "m4": ("c1", "a-1", "2026-03-10")}
    for meeting, (pairing, colleague, day) in held.items():
        await service.meeting(meeting, pairing, colleague, "b-1", at(day))
    await service.overdue("c1", "a-1", "b-1", 1, at("2026-01-20"), at("2026-02-03"))
    await service.overdue("c2", "a-2", "b-1", 1, at("2026-01-25"), at("2026-02-08"))
    await service.overdue("c2", "a-2", "b-1", 2, at("2026-01-25"), at("2026-02-22"))
    ratings = [
        ("m1", "c1", "a-1", "colleague", 4, 3, "2026-01-20"),
        ("m1", "c1", "a-1", "kamu", 5, 4, "2026-01-20"),
        ("m2", "c2", "a-2", "colleague", 3, 2, "2026-01-25"),
        ("m3", "c1", "a-1", "colleague", 5, 5, "2026-02-20"),
        ("m4", "c1", "a-1", "colleague", 4, 4, "2026-03-10"),
        ("m4", "c1", "a-1", "kamu", 4, 5, "2026-03-10"),
    ]
    for meeting, pairing, colleague, who, safety, useful, day in ratings:
        await service.rating(meeting, pairing, colleague, "b-1", who, safety, useful, at(day))
    await service.settled()


async def test_cadence_adherence_is_the_share_of_due_pairs_that_met_within_their_cadence(
    history, figure
):
    cadence = await figure("cadence")

    # Jan 31: c1, c2, c4 due; c1 and c2 met since Jan 18. Feb 28: c1, c2 due (c4 ended); c1
    # met since Feb 14. Mar 20: c1, c2 due (c3 too new); c1 met since Mar 6.
    assert [(m["pairings"], m["on_cadence"], m["adherence"]) for m in cadence.months] == [
        (3, 2, 0.667),
        (2, 1, 0.5),
        (2, 1, 0.5),
    ]
    assert [b["group"] for b in cadence.breakdown] == ["A"]


async def test_a_pairing_is_overdue_until_it_meets_again(history, figure):
    overdue = await figure("overdue")

    assert (overdue.now["pairings"], overdue.now["overdue"]) == (3, 1)  # c2 only
    assert overdue.now["overdue_share"] == 0.333
    assert {b["group"]: (b["pairings"], b["overdue"]) for b in overdue.breakdown} == {
        "A": (2, 1),
        "B": (1, 0),
    }


async def test_feedback_averages_ratings_of_meetings_held_in_each_month(history, figure):
    feedback = await figure("feedback")

    jan, feb, mar = feedback.months
    # Jan: a-1 (4, 3), b-1 (5, 4), a-2 (3, 2). Feb: a-1 (5, 5). Mar: a-1 (4, 4), b-1 (4, 5).
    # The people a cell describes are the colleagues whose meetings were rated (a-1, a-2).
    assert (jan["people"], jan["ratings"]) == (2, 3)
    assert (jan["psychological_safety"], jan["usefulness"]) == (4.0, 3.0)
    assert (feb["people"], feb["psychological_safety"], feb["usefulness"]) == (1, 5.0, 5.0)
    assert (mar["psychological_safety"], mar["usefulness"]) == (4.0, 4.5)
    total = feedback.total
    assert (total["ratings"], total["psychological_safety"], total["usefulness"]) == (
        6,
        4.17,
        3.83,
    )
