"""The demo, loaded into the whole platform (every service its own process): every command is
accepted, the read models tell its story, and its past meetings invite nobody. Insights tells
the same story in People Operations' figures (small groups withheld), and each of its
projections rebuilt from the topics equals the live one."""

import asyncio
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

import asyncpg
import httpx
import icalendar
import pytest

from kamu_devstack.demo.load import load
from kamu_devstack.demo.story import Story, build
from kamu_devstack.platform import Platform
from kamu_devstack.services import PUBLISHERS
from kamu_shared.auth.mint import mint_token
from kamu_shared.testing.waiting import eventually

Json = dict[str, Any]
# Insights' projections (consumer groups projection.<name>), each in its schema rm_<name>.
PROJECTIONS = ("insights_pairing", "insights_meetings", "insights_goals", "insights_notifications")
MIN_GROUP = 5  # insights' (and meetings' and pairing's) default: smaller groups are withheld


def client(
    platform: Platform, service: str, sub: str, roles: tuple[str, ...] = ("employee",)
) -> httpx.AsyncClient:
    token = mint_token(secret=platform.secrets["jwt"], sub=sub, roles=roles)
    return httpx.AsyncClient(
        base_url=platform.url(service), headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


# Meetings withholds the running month's feedback by default; the demo gives all its feedback
# now, so without this its /stats would have nothing to compare insights' ratings with.
@pytest.mark.kamu_env(KAMU_STATS_RUNNING_MONTH_FEEDBACK="true")
async def test_the_demo_loads_and_the_services_tell_its_story(kamu_platform: Platform):
    story = build(40)
    urls = {n: kamu_platform.url(n) for n in PUBLISHERS}

    loaded = await load(
        story, urls, kamu_platform.secrets["jwt"], catcher_url=kamu_platform.url("catcher")
    )

    assert sum(loaded.calls.values()) == story.steps()
    pair = next(p for p in story.pairings if p.fate == "active" and p.meetings and p.goals)
    async with client(kamu_platform, "meetings", pair.colleague_id) as meetings:
        page = (await meetings.get(f"/people/{pair.colleague_id}/meetings")).json()
    statuses = Counter(m["status"] for m in page["items"])
    assert statuses == {
        "held": sum(m.held for m in pair.meetings),
        **({"scheduled": 1} if not pair.meetings[-1].held else {}),
    }
    async with client(kamu_platform, "goals", pair.colleague_id) as goals:
        mine = (await goals.get(f"/people/{pair.colleague_id}/goals")).json()["items"]
    assert sorted(g["title"] for g in mine) == sorted(g.title for g in pair.goals)
    # Only meetings ahead send invitations: the history's past meetings are logged, not arranged.
    no_email = {p.person_id for p in story.preferences if not p.email}
    quiet = {p.person_id for p in story.preferences if p.quiet_hours}  # may wait till morning
    ahead = [
        who
        for p in story.pairings
        for m in p.meetings
        if not m.held
        for who in (p.colleague_id, p.kamu_id)
        if who not in no_email
    ]
    now_due = [who for who in ahead if who not in quiet]
    async with httpx.AsyncClient(base_url=kamu_platform.url("catcher"), timeout=10) as catcher:

        async def invitations() -> list[dict]:
            mails = (await catcher.get("/api/mail")).json()
            return [m for m in mails if m["calendar"] == "REQUEST"]

        async def all_sent():
            return len(await invitations()) >= len(now_due)

        await eventually(all_sent, timeout=60)
        await asyncio.sleep(2)  # time for a wrong invitation (a past meeting's) to arrive too
        assert len(now_due) <= len(await invitations()) <= len(ahead)
        now = datetime.now(UTC)
        for mail in await invitations():
            raw = (await catcher.get(f"/api/mail/{mail['id']}")).content
            message = message_from_bytes(raw, policy=policy.default)
            (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
            (event,) = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
            assert event.decoded("DTSTART") > now

    await insights_tell_the_same_story(kamu_platform, story)
    await insights_rebuilt_equals_live(kamu_platform)


# --- insights ---------------------------------------------------------------------------------


def ratings_by_month(story: Story) -> tuple[Counter[str], dict[str, set[str]], list[int]]:
    """The story's feedback by the (UTC) month its meeting was held: answers, the colleagues
    whose meetings were rated (whom the figure describes), and every psychological safety
    score."""
    answers: Counter[str] = Counter()
    raters: dict[str, set[str]] = defaultdict(set)
    safety: dict[str, list[int]] = defaultdict(list)
    for p in story.pairings:
        for m in p.meetings:
            month = m.starts_at.astimezone(UTC).strftime("%Y-%m")
            for scores in (m.colleague_scores, m.kamu_scores):
                if scores:
                    answers[month] += 1
                    raters[month].add(p.colleague_id)
                    safety[month].append(scores[0])
    return answers, raters, [s for scores in safety.values() for s in scores]


def cells(answer: Json) -> list[Json]:
    """Every cell of one figure's answer: months, the period, now, and the breakdown."""
    found = [*answer["months"], *answer["breakdown"]]
    return found + [c for c in (answer["total"], answer["now"]) if c is not None]


def check_privacy(overview: dict[str, Json]) -> None:
    """No figure shows a group of 1 to 4 people; a withheld one shows nothing at all."""
    for name, answer in overview.items():
        assert answer["min_group"] == MIN_GROUP
        for cell in cells(answer):
            if cell["withheld"]:
                assert cell["people"] is None, (name, cell)
                shown = {k: v for k, v in cell.items() if k not in ("group", "month")}
                assert {k for k, v in shown.items() if v is not None} <= {
                    "withheld",
                    "months_withheld",
                }, (name, cell)
            else:
                assert cell["people"] == 0 or cell["people"] >= MIN_GROUP, (name, cell)


async def insights_tell_the_same_story(platform: Platform, story: Story) -> None:
    people_ops = ("people-ops",)
    async with (
        client(platform, "insights", "people-ops-demo", people_ops) as insights,
        client(platform, "pairing", "people-ops-demo", people_ops) as pairing,
        client(platform, "meetings", "people-ops-demo", people_ops) as meetings,
        client(platform, "insights", story.people[5].id) as employee,
    ):
        forbidden = await employee.get("/programme/overview")
        assert forbidden.status_code == 403, forbidden.text

        coverage = (await pairing.get("/coverage")).json()
        stats = (await meetings.get("/stats/meetings", params={"months": 1})).json()
        active = {p.colleague_id for p in story.pairings if p.fate == "active"}
        assert (coverage["people"], coverage["with_kamu"]) == (len(story.people), len(active))
        answers, raters, safety = ratings_by_month(story)
        (this_month,) = stats["months"]  # the demo's feedback is all given now
        assert this_month["feedback"]["answers"] == sum(answers.values())

        goals = [g for p in story.pairings for g in p.goals]
        waiting = {p.colleague_id for p in story.pairings if p.fate == "requested"}

        async def overview() -> dict[str, Json]:
            response = await insights.get("/programme/overview")
            assert response.status_code == 200, response.text
            answer: dict[str, Json] = response.json()
            return answer

        def caught_up(o: dict[str, Json]) -> bool:
            """Its projections have read what the demo recorded (they follow the topics)."""
            return (
                o["coverage"]["total"].get("covered") == len(active)
                and o["coverage"]["total"].get("headcount") == len(story.people)
                and sum(m.get("ratings") or 0 for m in o["feedback"]["months"])
                + sum(answers[m["month"]] for m in o["feedback"]["months"] if m["withheld"])
                == sum(answers.values())
                and (
                    o["goals"]["total"].get("set") == len(goals) or o["goals"]["total"]["withheld"]
                )
            )

        async def settled() -> dict[str, Json] | None:
            answer = await overview()
            return answer if caught_up(answer) else None

        try:
            figures = await eventually(settled, timeout=90)
        except AssertionError:
            figures = await overview()
        check_privacy(figures)

        # Coverage now: the colleagues in active pairings over the headcount, as pairing says,
        # and team by team (every demo team has more than MIN_GROUP people).
        total = figures["coverage"]["total"]
        assert (total["headcount"], total["covered"]) == (len(story.people), len(active))
        assert total["share"] == round(len(active) / len(story.people), 3)
        teams = {t["group"]: t for t in figures["coverage"]["breakdown"]}
        assert coverage["suppressed_teams"] == 0
        for team in coverage["teams"]:
            shown = teams[team["team"]]
            assert (shown["withheld"], shown["headcount"], shown["covered"]) == (
                False,
                team["people"],
                team["with_kamu"],
            ), team

        # Feedback month by month as the story rated its meetings; a month rated by fewer
        # than MIN_GROUP people is withheld, and the period adds up the months shown.
        feedback = figures["feedback"]
        months = [m["month"] for m in feedback["months"]]
        assert set(answers) <= set(months), "the default period covers the demo's history"
        withheld = 0
        for month in feedback["months"]:
            label, n = month["month"], len(raters[month["month"]])
            if 0 < n < MIN_GROUP:
                withheld += 1
                assert month["withheld"], month
                assert month["people"] is None, month
            else:
                assert not month["withheld"], month
                assert (month["people"], month.get("ratings", 0)) == (n, answers[label]), month
        shown_answers = sum(answers[m] for m in months if not 0 < len(raters[m]) < MIN_GROUP)
        assert feedback["total"]["ratings"] == shown_answers
        assert feedback["total"]["months_withheld"] == withheld
        # ... and all the ratings together are the answers meetings' own statistics count.
        assert (
            shown_answers + sum(answers[m] for m in months if 0 < len(raters[m]) < MIN_GROUP)
            == this_month["feedback"]["answers"]
            == len(safety)
        )

        # Goals: every goal of the story set during the load (this month).
        if not figures["goals"]["total"]["withheld"]:
            assert figures["goals"]["total"]["set"] == len(goals)

        # Requests waiting now: a handful of colleagues, withheld when fewer than MIN_GROUP.
        now = figures["waiting"]["now"]
        if 0 < len(waiting) < MIN_GROUP:
            assert now["withheld"], now
            assert now["people"] is None, now
        else:
            assert (now["withheld"], now["people"]) == (False, len(waiting)), now


async def read_schema(database_url: str, schema: str) -> dict[str, list[Json]]:
    """Every row of every table of one projection's schema, all columns, in key order; of the
    applied-events record only which events (not when they were applied)."""
    conn = await asyncpg.connect(database_url)
    try:
        tables = [
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 "
                "ORDER BY table_name",
                schema,
            )
        ]
        state = {}
        for table in tables:
            columns = "source, event_id" if table == "kamu_applied" else "*"
            rows = await conn.fetch(f'SELECT {columns} FROM "{schema}"."{table}"')
            state[table] = sorted((dict(r) for r in rows), key=repr)
        return state
    finally:
        await conn.close()


async def rebuild(platform: Platform, projection: str) -> str:
    """``python -m kamu_insights rebuild <projection>`` with insights' own settings."""
    return await platform.command("insights", "rebuild", projection)


async def insights_rebuilt_equals_live(platform: Platform) -> None:
    """Each insights projection rebuilt from the topics (beside the live copy, then swapped
    in) holds exactly the rows the live copy held."""
    database = platform.databases["insights"]

    async def live() -> dict[str, dict[str, list[Json]]]:
        return {p: await read_schema(database, f"rm_{p}") for p in PROJECTIONS}

    # Wait until nothing moves: the demo's last notifications are sent and projected.
    previous: dict[str, dict[str, list[Json]]] = {}

    async def still() -> dict[str, dict[str, list[Json]]] | None:
        nonlocal previous
        await asyncio.sleep(2)
        now = await live()
        found = now if now == previous else None
        previous = now
        return found

    before = await eventually(still, timeout=90)
    for projection, tables in before.items():
        assert [t for t, rows in tables.items() if t != "kamu_applied" and rows], projection
    said = await asyncio.gather(*(rebuild(platform, p) for p in PROJECTIONS))  # all at once
    for projection, output in zip(PROJECTIONS, said, strict=True):
        assert re.search(rf"rebuilt {projection}: [1-9]\d* events", output), output
    after = await live()
    for projection, tables in before.items():
        for table, rows in tables.items():
            assert after[projection][table] == rows, (
                f"{projection}: {table} differs after a rebuild"
            )
