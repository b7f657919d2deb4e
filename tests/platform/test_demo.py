"""The demo, loaded into the whole platform (every service its own process): every command is
accepted, the read models tell its story, and its past meetings invite nobody."""

import asyncio
from collections import Counter
from datetime import UTC, datetime
from email import message_from_bytes, policy

import httpx
import icalendar

from kamu_devstack.demo.load import load
from kamu_devstack.demo.story import build
from kamu_devstack.platform import Platform
from kamu_shared.auth.mint import mint_token
from kamu_shared.testing.waiting import eventually


def client(platform: Platform, service: str, sub: str) -> httpx.AsyncClient:
    token = mint_token(secret=platform.secrets["jwt"], sub=sub, roles=["employee"])
    return httpx.AsyncClient(
        base_url=platform.url(service), headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


async def test_the_demo_loads_and_the_services_tell_its_story(kamu_platform: Platform):
    story = build(40)
    urls = {n: kamu_platform.url(n) for n in ("pairing", "meetings", "goals", "notifications")}

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
