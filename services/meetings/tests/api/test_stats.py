"""People Operations' aggregates against hand-computed figures, small groups withheld.

The running month's feedback is withheld by default (one more answer could be singled out from
how it moves the average); tests of today's answers use ``running_month_service``, which shows
it by setting.
"""

import statistics
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

WITHHELD = {"answers": None, "psychological_safety": None, "usefulness": None}
NO_ANSWERS = {"answers": 0, "psychological_safety": None, "usefulness": None}


def this_month(stats: dict) -> dict:
    month = datetime.now(UTC).date().replace(day=1).isoformat()
    return next(m for m in stats["months"] if m["month"] == month)


async def stats(service, path="/stats/meetings", **params):
    async with service.as_("ops", "people-ops") as ops:
        response = await ops.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def start_of_month(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def rate(service, person, meeting_id, ps=4, use=4):
    async with service.as_(person) as client:
        body = {"psychological_safety": ps, "usefulness": use}
        response = await client.post(f"/meetings/{meeting_id}/feedback", json=body)
    assert response.status_code == 200, response.text


async def test_monthly_figures_match_a_hand_computed_history(running_month_service):
    service = running_month_service
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
    assert month["feedback_by_respondent"] == {"colleague": WITHHELD, "kamu": WITHHELD}


async def test_four_people_are_too_few_for_any_figure(running_month_service):
    service = running_month_service
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


@pytest.mark.regression
async def test_the_running_months_feedback_is_withheld_by_default(service):
    """Was a bug (feedback in a running month): the averages of the month in progress moved
    with every answer, so whoever watched them could single out one answer from the change.
    By default only closed months show feedback; the rest of the running month stays shown."""
    for _ in range(service.settings.min_group):
        pairing, colleague, _kamu = await service.pair()
        held = await service.held(pairing, colleague)
        await rate(service, colleague, held["id"], ps=5, use=3)
    running = this_month(await stats(service))
    assert running["feedback"] == WITHHELD
    assert running["feedback_by_respondent"] == {"colleague": WITHHELD, "kamu": WITHHELD}
    assert running["people_met"] == 2 * service.settings.min_group  # the rest is shown

    # The same answers, as if given last month (a closed month): shown by default.
    last_month = start_of_month(datetime.now(UTC)) - timedelta(days=1)
    await service.pool.execute("UPDATE meetings_feedback SET given_at = $1", last_month)
    closed = await stats(service, months=2)
    five = {"answers": 5, "psychological_safety": 5.0, "usefulness": 3.0}
    assert [m["feedback"] for m in closed["months"]] == [five, WITHHELD]


@pytest.mark.regression
async def test_first_meetings_and_never_met_cannot_be_worked_out_by_differencing(service):
    """Was a bug: pairings started and first meetings were suppressed one by one, so with 6
    pairings started of which 5 met, People Operations read 6 and 5 and knew that exactly one
    pairing had not met yet (and /stats/cadence: 6 active, 5 never met, so one pair met). Both
    are now a breakdown (met / not yet met), withheld as a whole when a part is small."""
    now = datetime.now(UTC)
    at = max(start_of_month(now), now - timedelta(hours=1))  # started this month (UTC)
    pairs = [await service.pair(at=at) for _ in range(6)]

    async def figures():
        month = this_month(await stats(service))
        cadence = await stats(service, "/stats/cadence")
        return (
            month["pairings_started"],
            month["first_meetings"],
            cadence["active_pairings"],
            cadence["never_met"],
        )

    none_met = await figures()
    await service.held(pairs[0][0], pairs[0][1])
    one_met = await figures()
    for pairing, colleague, _ in pairs[1:5]:
        await service.held(pairing, colleague)
    five_met = await figures()
    month_of_five = this_month(await stats(service))
    await service.held(pairs[5][0], pairs[5][1])
    all_met = await figures()
    month_of_all = this_month(await stats(service))

    assert none_met == (6, 0, 6, 6)
    assert one_met == (6, None, 6, None)  # 1 met, 5 never met: neither part is shown
    assert five_met == (6, None, 6, None)  # 5 met, 1 not yet: neither part is shown
    assert month_of_five["days_to_first_meeting_median"] is None
    assert all_met == (6, 6, 6, 0)
    assert month_of_all["days_to_first_meeting_median"] is not None


@pytest.mark.regression
async def test_months_are_utc_months_and_feedback_counts_when_given(start, settings):
    """Were bugs: months were cut in the database server's time zone (a server at UTC+14 put
    a meeting of the last evening of a month, UTC, into the next month), and feedback counted
    in the month of the meeting rather than the month it was given. The pool's sessions now run
    in UTC, and answers are bucketed by ``given_at``. Figures of single people are shown here
    (min_group 1): this is about the buckets."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        name = await conn.fetchval("SELECT current_database()")
        await conn.execute(f"ALTER DATABASE \"{name}\" SET timezone TO 'Pacific/Kiritimati'")
    finally:
        await conn.close()
    conn = await asyncpg.connect(settings.database_url)
    try:
        server_zone = await conn.fetchval("SHOW TimeZone")  # what a plain session gets
    finally:
        await conn.close()
    now = datetime.now(UTC)
    this_start = start_of_month(now)
    paired_at = this_start - timedelta(hours=3)  # last month in UTC; the 1st at 11:00 at +14
    meeting_at = this_start - timedelta(hours=2)
    custom = settings.model_copy(
        update={
            "min_group": 1,
            "stats_running_month_feedback": True,
            "backdate_days": max(30, (now - paired_at).days + 2),
        }
    )
    async with start(custom) as service:
        session_zone = await service.pool.fetchval("SHOW TimeZone")
        pairing, colleague, kamu = await service.pair(at=paired_at)
        meeting = await service.schedule(pairing, colleague, starts_at=meeting_at.isoformat())
        async with service.as_(colleague) as c:
            held = await c.post(f"/meetings/{meeting['id']}/complete", json={})
            assert held.status_code == 200, held.text
        for person in (colleague, kamu):
            await rate(service, person, meeting["id"], ps=4, use=2)
        last, current = (await stats(service, months=2))["months"]

    assert last["month"] == (this_start - timedelta(days=1)).date().replace(day=1).isoformat()
    assert (last["meetings_held"], last["people_met"]) == (1, 2)
    assert (last["pairings_started"], last["first_meetings"]) == (1, 1)
    assert last["feedback"] == NO_ANSWERS  # held last month, rated this month
    assert (current["meetings_held"], current["people_met"], current["pairings_started"]) == (
        0,
        0,
        0,
    )
    assert current["feedback"] == {"answers": 2, "psychological_safety": 4.0, "usefulness": 2.0}
    assert server_zone == "Pacific/Kiritimati"  # what a session of its own would use
    assert session_zone == "UTC"
