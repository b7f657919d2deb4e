"""Kamu load, time to pair, first meeting and waiting requests against hand-computed values.

History (January to March 2026, read on March 20): team A has a-1..a-6, team B b-1..b-5.
b-1 volunteers on Jan 2 (capacity 2, 4 h a month); a-1 on Feb 10 (capacity 3, 6 h) but has been
a-4's Kamu since December (a pairing moved in with its history).
- p1: a-2 asks b-1 on Jan 5, paired Jan 8 (3 days); met Jan 15 (60 min) and Feb 1 (60 min).
- p2: a-3 asks b-1 on Jan 10, paired Jan 20 (10 days); met Feb 3 (30 min).
- p3: b-2 asks a-1 on Feb 11, paired Feb 12 (1 day); no meeting yet.
- p4: a-4 with a-1, began Dec 1 2025, recorded Feb 15: no request time, not in time-to-pair.
- p5: b-3 asked a-1 on Mar 15, p6: a-5 asked b-1 on Mar 18: waiting 5 and 2 days.
"""

import pytest


@pytest.fixture
async def history(service, at, arithmetic_only):
    await service.team("A", 6, at("2026-01-02"))
    await service.team("B", 5, at("2026-01-02"))
    await service.kamu("b-1", at("2026-01-02"), capacity=2, hours=4.0)
    await service.kamu("a-1", at("2026-02-10"), capacity=3, hours=6.0)
    await service.requested("p1", "a-2", "b-1", at("2026-01-05"))
    await service.paired("p1", "a-2", "b-1", at("2026-01-08"))
    await service.requested("p2", "a-3", "b-1", at("2026-01-10"))
    await service.paired("p2", "a-3", "b-1", at("2026-01-20"))
    await service.requested("p3", "b-2", "a-1", at("2026-02-11"))
    await service.paired("p3", "b-2", "a-1", at("2026-02-12"))
    await service.requested("p4", "a-4", "a-1", at("2026-02-15", 9))
    await service.paired("p4", "a-4", "a-1", at("2026-02-15"), began=at("2025-12-01"))
    await service.requested("p5", "b-3", "a-1", at("2026-03-15"))
    await service.requested("p6", "a-5", "b-1", at("2026-03-18"))
    await service.meeting("m1", "p1", "a-2", "b-1", at("2026-01-15"), minutes=60)
    await service.meeting("m2", "p1", "a-2", "b-1", at("2026-02-01"), minutes=60)
    await service.meeting("m3", "p2", "a-3", "b-1", at("2026-02-03"), minutes=30)
    await service.settled()


async def test_kamu_load_counts_pairings_capacity_and_hours_at_each_months_end(history, figure):
    load = await figure("kamu-load")

    # Jan: b-1 (p1, p2: at capacity) and a-1 (p4 from its history); 1 h met in January.
    # Feb: b-1 (p1, p2), a-1 (p3, p4); 1.5 h met. Mar (to the 20th): same pairings, no meeting.
    def row(m):
        keys = ("kamus", "capacity", "pairings", "at_capacity", "hours_allocated", "hours_met")
        return tuple(m[k] for k in (*keys, "utilisation", "hours_share"))

    assert [row(m) for m in load.months] == [
        (2, 5, 3, 1, 10.0, 1.0, 0.6, 0.1),
        (2, 5, 4, 1, 10.0, 1.5, 0.8, 0.15),
        (2, 5, 4, 1, 10.0, 0.0, 0.8, 0.0),
    ]
    # By the Kamu's team, at the period's end: a-1 (A) has p3 and p4, b-1 (B) p1 and p2.
    assert {b["group"]: (b["pairings"], b["at_capacity"]) for b in load.breakdown} == {
        "A": (2, 0),
        "B": (2, 1),
    }
    assert load.total["pairings"] == 4


async def test_time_to_pair_takes_requests_to_pairings_and_leaves_history_out(history, figure):
    ttp = await figure("time-to-pair")

    jan, feb, mar = ttp.months
    assert (jan["pairings"], jan["median_days"], jan["p90_days"]) == (2, 6.5, 9.3)
    assert (feb["pairings"], feb["median_days"]) == (1, 1.0)  # p3 (p4 came with its history)
    assert (mar["people"], mar["pairings"]) == (0, 0)
    assert (ttp.total["pairings"], ttp.total["median_days"]) == (3, 3.0)
    by_team = {b["group"]: b["median_days"] for b in ttp.breakdown}
    assert by_team == {"A": 6.5, "B": 1.0}


async def test_first_meeting_counts_days_from_pairing_to_the_first_held_meeting(history, figure):
    first = await figure("first-meeting")

    jan = first.months[0]
    # p1: Jan 8 -> Jan 15 (7 days); p2: Jan 20 -> Feb 3 (14 days).
    assert (jan["pairings"], jan["met"], jan["met_share"], jan["median_days"]) == (
        2,
        2,
        1.0,
        10.5,
    )
    feb = first.months[1]  # p3, not met yet
    assert (feb["pairings"], feb["met"], feb["met_share"], feb["median_days"]) == (1, 0, 0.0, None)


async def test_waiting_requests_are_counted_now_with_their_age(history, figure):
    waiting = await figure("waiting")

    assert (waiting.now["requests"], waiting.now["median_days"]) == (2, 3.5)
    assert {b["group"]: (b["requests"], b["median_days"]) for b in waiting.breakdown} == {
        "A": (1, 2.0),
        "B": (1, 5.0),
    }


async def test_a_kamu_who_left_no_longer_counts_and_imported_pairings_have_no_first_meeting(
    service, at, arithmetic_only, figure
):
    await service.team("A", 3, at("2026-01-02"))
    await service.person("nobody-1", None, at("2026-01-02"))
    await service.kamu("a-1", at("2026-01-02"), capacity=2, hours=4.0)
    await service.kamu("a-2", at("2026-01-02"), capacity=3, hours=6.0)
    await service.left("a-2", at("2026-02-10"))
    # Moved in with its history in February: its first meeting in Kamu is not its first.
    await service.paired("h1", "a-3", "a-1", at("2026-02-20"), began=at("2026-02-01"))
    await service.meeting("hm1", "h1", "a-3", "a-1", at("2026-02-05"))
    await service.settled()

    load = await figure("kamu-load")
    first = await figure("first-meeting")
    coverage = await figure("coverage")

    assert [m["kamus"] for m in load.months] == [2, 1, 1]
    assert [m["capacity"] for m in load.months] == [5, 2, 2]
    assert first.months[1]["pairings"] == 0
    # Someone HR gave no team is in the group "" (no name a team could have).
    assert {b["group"] for b in coverage.breakdown} == {"", "A"}
