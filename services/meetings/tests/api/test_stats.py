"""People Operations' aggregates against hand-computed figures, small groups withheld."""

import statistics
from datetime import UTC, datetime, timedelta


def this_month(stats: dict) -> dict:
    month = datetime.now(UTC).date().replace(day=1).isoformat()
    return next(m for m in stats["months"] if m["month"] == month)


async def stats(service, path="/stats/meetings"):
    async with service.as_("ops", "people-ops") as ops:
        response = await ops.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def test_monthly_figures_match_a_hand_computed_history(service):
    now = datetime.now(UTC)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    pairs, paired_at, first_held = [], [], []
    for i in range(5):
        at = max(month_start + timedelta(minutes=1), now - timedelta(days=i + 1))
        pairs.append(await service.pair(at=at))
        paired_at.append(at)
    # Colleague ratings (ps, usefulness) for each pair's meeting; the Kamu rates only 3.
    colleague_scores = [(5, 4), (4, 4), (3, 2), (5, 5), (4, 3)]
    kamu_scores = [(4, 4), (5, 3), (3, 3)]
    for i, (pairing, colleague, kamu) in enumerate(pairs):
        held = await service.held(pairing, colleague)
        first_held.append(datetime.fromisoformat(held["starts_at"]))
        async with service.as_(colleague) as c:
            ps, use = colleague_scores[i]
            body = {"psychological_safety": ps, "usefulness": use}
            assert (await c.post(f"/meetings/{held['id']}/feedback", json=body)).status_code == 200
        if i < len(kamu_scores):
            async with service.as_(kamu) as k:
                ps, use = kamu_scores[i]
                body = {"psychological_safety": ps, "usefulness": use}
                assert (
                    await k.post(f"/meetings/{held['id']}/feedback", json=body)
                ).status_code == 200

    month = this_month(await stats(service))
    assert month["meetings_held"] == 5
    assert month["people_met"] == 10
    assert month["pairings_started"] == 5
    assert month["first_meetings"] == 5
    days = [(h - p).total_seconds() / 86400 for h, p in zip(first_held, paired_at, strict=True)]
    assert month["days_to_first_meeting_median"] == round(statistics.median(days), 1)
    answers = colleague_scores + kamu_scores
    assert month["feedback"] == {
        "answers": 8,
        "psychological_safety": round(statistics.mean(a for a, _ in answers), 2),
        "usefulness": round(statistics.mean(b for _, b in answers), 2),
    }
    # 3 Kamu answers are too few; showing the 5 colleague answers would give them away
    # (the total minus the colleagues' part), so both parts are withheld.
    withheld = {"answers": None, "psychological_safety": None, "usefulness": None}
    assert month["feedback_by_respondent"] == {"colleague": withheld, "kamu": withheld}


async def test_four_people_are_too_few_for_any_figure(service):
    for _ in range(2):
        pairing, colleague, kamu = await service.pair()
        held = await service.held(pairing, colleague)
        for person in (colleague, kamu):
            async with service.as_(person) as p:
                body = {"psychological_safety": 5, "usefulness": 5}
                assert (
                    await p.post(f"/meetings/{held['id']}/feedback", json=body)
                ).status_code == 200
    month = this_month(await stats(service))
    assert month["people_met"] is None  # four people
    assert month["meetings_held"] is None
    assert month["pairings_started"] is None
    assert month["feedback"]["answers"] is None  # four answers
    assert month["feedback"]["psychological_safety"] is None


async def test_cadence_counts_for_people_ops_only(service):
    for _ in range(6):
        await service.pair()
    body = await stats(service, "/stats/cadence")
    assert body["active_pairings"] == 6
    assert body["never_met"] == 6
    assert body["on_track"] == 6
    assert body["overdue"] == 0
    assert body["overdue_by_lapse"] == {"1": 0, "2": 0, "3+": 0}
    for roles in (("employee",), ("service",)):
        async with service.as_("someone", *roles) as other:
            assert (await other.get("/stats/cadence")).status_code == 403
            assert (await other.get("/stats/meetings")).status_code == 403
