"""The whole programme end to end, every service as its own process, seen only from outside:
the services' REST APIs, the catcher's JSON (the mail catcher and webhook receiver) and the
Kafka topics. No database is read except to check that each read model rebuilt from events
equals the live one.

People are synced from HR; a volunteer is trained; a colleague asks and the Kamu accepts; a
meeting is scheduled (the invitation arrives with its calendar file), held and rated; a goal is
set and shared, progress recorded, reviewed in the next meeting and completed; two meetings are
planned ahead, then the pairing ends: they are cancelled (CANCEL invitations) and the goal is
no longer the former Kamu's to read. Every notification arrives exactly once on each of its
channels: email, Slack, Teams, the colleague's signed webhook and the in-app inbox. Insights
shows People Operations nothing of so few people: every figure is withheld.
"""

import asyncio
import email
import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from typing import Any, TypeVar

import asyncpg
import httpx
from icalendar import Calendar
from standardwebhooks import Webhook

from kamu_devstack.platform import Platform
from kamu_shared.auth.mint import mint_token
from kamu_shared.events.envelope import Envelope
from kamu_shared.testing.kafka import read_topic
from kamu_shared.testing.waiting import eventually

Json = dict[str, Any]

# The tables each ``rebuild state`` rewrites: pairing's STATE_TABLES and goals' TABLES (their
# read_models/state.py), what meetings' and notifications' rebuild_state truncate, and the
# cadence clocks meetings' rebuild restarts. Named here rather than imported: the test sees
# the services only from outside.
STATE_TABLES: dict[str, tuple[str, ...]] = {
    "pairing": ("pairing_people", "pairing_kamus", "pairing_pairings"),
    "meetings": ("meetings_meetings", "meetings_feedback", "meetings_cadence"),
    "goals": ("goals_goals", "goals_progress", "goals_reviews"),
    "notifications": ("notifications_preferences",),
}


@dataclass(frozen=True)
class Who:
    """A caller: the token's subject and roles."""

    sub: str
    roles: tuple[str, ...] = ("employee",)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    team: str
    manager_id: str | None = None
    slack: str | None = None
    teams: str | None = None

    @property
    def email(self) -> str:
        return f"{self.id}@example.org"

    @property
    def who(self) -> Who:
        return Who(self.id)


HR = Who("hr-sync", ("service",))
OPS = Who("people-ops-1", ("people-ops",))
MAIJA = Person("maija", "Maija Manner", "Leadership")
AINO = Person("aino", "Aino Aalto", "Design", "maija", slack="UAINO", teams="29:aino")
KALLE = Person("kalle", "Kalle Koski", "Platform", "maija", slack="UKALLE", teams="29:kalle")
PEOPLE = (MAIJA, AINO, KALLE)
ON_TIME = 45.0  # seconds any one asynchronous effect may take on a busy 2-core machine
T = TypeVar("T")


async def waited(check: Callable[[], Awaitable[T | None]]) -> T:
    """``eventually`` for checks that answer ``None`` until the effect is there."""
    found = await eventually(check, timeout=ON_TIME)
    assert found is not None
    return found


@dataclass
class Api:
    """The platform's HTTP APIs with tokens minted for whoever calls."""

    platform: Platform
    http: httpx.AsyncClient
    _tokens: dict[Who, str] = field(default_factory=dict)

    def headers(self, who: Who) -> dict[str, str]:
        if who not in self._tokens:
            self._tokens[who] = mint_token(
                secret=self.platform.secrets["jwt"], sub=who.sub, roles=who.roles
            )
        return {"Authorization": f"Bearer {self._tokens[who]}"}

    async def call(
        self, method: str, service: str, path: str, who: Who, body: Json | None = None
    ) -> httpx.Response:
        url = f"{self.platform.url(service)}{path}"
        return await self.http.request(method, url, json=body, headers=self.headers(who))

    async def ok(
        self,
        method: str,
        service: str,
        path: str,
        who: Who,
        body: Json | None = None,
        *,
        status: int = 200,
    ) -> Json:
        response = await self.call(method, service, path, who, body)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        answer: Json = response.json()
        return answer

    async def until(
        self,
        method: str,
        service: str,
        path: str,
        who: Who,
        body: Json | None = None,
        *,
        status: int = 200,
        waiting_for: Iterable[str] = ("awaiting-upstream",),
    ) -> Json:
        """Retry while the service answers 409 with one of the ``waiting_for`` problems (it
        has not heard an upstream event yet, or the meeting has not started yet)."""
        slugs = {f"/problems/{s}" for s in waiting_for}

        async def attempt() -> Json | None:
            response = await self.call(method, service, path, who, body)
            if response.status_code == 409 and response.json().get("type") in slugs:
                return None
            assert response.status_code == status, f"{method} {path}: {response.text}"
            answer: Json = response.json()
            return answer

        return await waited(attempt)

    async def status(self, service: str, path: str, who: Who) -> int:
        return (await self.call("GET", service, path, who)).status_code

    async def catcher(self, path: str) -> Any:
        response = await self.http.get(f"{self.platform.url('catcher')}{path}")
        response.raise_for_status()
        return response.json()

    async def mails(self) -> list[EmailMessage]:
        messages = []
        for summary in await self.catcher("/api/mail"):
            raw = await self.http.get(f"{self.platform.url('catcher')}/api/mail/{summary['id']}")
            raw.raise_for_status()
            message = email.message_from_bytes(raw.content, policy=policy.default)
            assert isinstance(message, EmailMessage)
            messages.append(message)
        return messages

    async def topic(self, service: str) -> list[Envelope]:
        return await read_topic(
            self.platform.kafka_bootstrap, f"{self.platform.namespace}.{service}.events"
        )

    async def events(self, service: str, name: str, at_least: int) -> list[Json]:
        """The data of the ``name`` events on the service's topic, once ``at_least`` are there
        (the relay publishes after the commit)."""

        async def enough() -> list[Json] | None:
            found = of_type(await self.topic(service), name)
            return found if len(found) >= at_least else None

        return await waited(enough)


def of_type(envelopes: Iterable[Envelope], name: str) -> list[Json]:
    """The data of the events named ``name`` (any version)."""
    return [e.data for e in envelopes if re.fullmatch(rf"kamu\.\w+\.{name}\.v\d+", e.type)]


def calendar_part(message: EmailMessage) -> tuple[str, Calendar]:
    """The inline ``text/calendar`` part calendar clients act on: its method and contents."""
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert isinstance(part, EmailMessage)
    method = part.get_param("method")
    assert isinstance(method, str)
    calendar = Calendar.from_ical(part.get_content())
    assert isinstance(calendar, Calendar)
    return method, calendar


def soon(seconds: int = 8) -> datetime:
    """A start a few seconds ahead: time for the scheduling command to be recorded before the
    meeting begins (a meeting recorded after its start is being logged and invites nobody)."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)


async def schedule(api: Api, pairing_id: str, by: Person, starts: datetime) -> Json:
    body = {"pairing_id": pairing_id, "starts_at": starts.isoformat(), "location": "Cafe Ursula"}
    meeting = await api.ok("POST", "meetings", "/meetings", by.who, body, status=201)
    assert meeting["status"] == "scheduled"
    return meeting


async def hold(api: Api, meeting_id: str, by: Person, body: Json) -> Json:
    """Record the meeting as held once it has started (409 meeting-not-started until then)."""
    return await api.until(
        "POST",
        "meetings",
        f"/meetings/{meeting_id}/complete",
        by.who,
        body,
        waiting_for=("meeting-not-started",),
    )


# --- notifications ------------------------------------------------------------------------


EXPECTED_KINDS = {
    AINO.id: Counter(
        {
            "pairing-accepted": 1,
            "meeting-scheduled": 4,
            "meeting-cancelled": 2,
            "pairing-ended": 1,
        }
    ),
    KALLE.id: Counter(
        {
            "pairing-requested": 1,
            "meeting-scheduled": 4,
            "meeting-cancelled": 2,
            "pairing-ended": 1,
        }
    ),
}
# Everyone has email, Slack and Teams (both have identities) and the inbox; Aino her webhook.
CHANNELS = {
    AINO.id: {"email", "slack", "teams", "webhook", "inapp"},
    KALLE.id: {"email", "slack", "teams", "inapp"},
}
FINISHED = {"sent", "failed", "suppressed", "fallback"}


async def notifications_of(api: Api, person: Person) -> list[Json]:
    """The person's notifications as the service records them (from the inbox's ids)."""
    inbox = await api.ok("GET", "notifications", f"/people/{person.id}/inbox?limit=200", person.who)
    assert inbox["next_cursor"] is None
    return [
        await api.ok("GET", "notifications", f"/notifications/{item['id']}", person.who)
        for item in inbox["items"]
    ]


async def settled_notifications(api: Api) -> dict[str, list[Json]]:
    """Every expected notification planned and each of its deliveries finished."""

    async def snapshot() -> tuple[bool, dict[str, list[Json]]]:
        found: dict[str, list[Json]] = {}
        for person in (AINO, KALLE):
            inbox = await api.ok(
                "GET", "notifications", f"/people/{person.id}/inbox?limit=200", person.who
            )
            if Counter(i["kind"] for i in inbox["items"]) != EXPECTED_KINDS[person.id]:
                return False, {}
        for person in (AINO, KALLE):
            found[person.id] = await notifications_of(api, person)
        done = all(
            d["status"] in FINISHED for ns in found.values() for n in ns for d in n["deliveries"]
        )
        return done, found

    async def settled() -> dict[str, list[Json]] | None:
        done, found = await snapshot()
        return found if done else None

    try:
        return await waited(settled)
    except AssertionError:
        for person in (AINO, KALLE):  # say what is missing, extra or still pending
            mine = await notifications_of(api, person)
            kinds = Counter(n["kind"] for n in mine)
            pending = [
                (n["kind"], d["channel"], d["status"], d["detail"])
                for n in mine
                for d in n["deliveries"]
                if d["status"] not in FINISHED
            ]
            assert (kinds, pending) == (EXPECTED_KINDS[person.id], []), person.id
        raise


# --- rebuilding read models -----------------------------------------------------------------


async def read_state(database_url: str, tables: Iterable[str]) -> dict[str, list[Json]]:
    """Every row of every table, all columns, ordered by the primary key."""
    conn = await asyncpg.connect(database_url)
    try:
        state = {}
        for table in tables:
            key = await conn.fetch(
                """SELECT a.attname FROM pg_index i
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                   WHERE i.indrelid = $1::regclass AND i.indisprimary
                   ORDER BY array_position(i.indkey::int2[], a.attnum)""",
                table,
            )
            assert key, f"{table} has no primary key"
            order = ", ".join(f'"{r["attname"]}"' for r in key)
            rows = await conn.fetch(f"SELECT * FROM {table} ORDER BY {order}")
            state[table] = [dict(r) for r in rows]
        return state
    finally:
        await conn.close()


async def rebuild(platform: Platform, service: str) -> str:
    """``python -m kamu_<service> rebuild state`` with the service's own environment."""
    return await platform.command(service, "rebuild", "state", timeout=120)


# --- the journey ------------------------------------------------------------------------------


async def test_the_whole_journey_over_http_and_kafka(kamu_platform: Platform) -> None:
    platform = kamu_platform
    async with httpx.AsyncClient(timeout=30) as http:
        api = Api(platform, http)
        await journey(api)


async def journey(api: Api) -> None:
    platform = api.platform
    ok = api.ok

    # People synced from HR; Kalle volunteers and People Operations records his training.
    for person in PEOPLE:
        body = {
            "display_name": person.name,
            "email": person.email,
            "team": person.team,
            "manager_id": person.manager_id,
            "locale": "en",
            "time_zone": "Europe/Helsinki",
            "slack_user_id": person.slack,
            "teams_user_id": person.teams,
        }
        synced = await ok("PUT", "pairing", f"/people/{person.id}", HR, body, status=201)
        assert synced["left"] is False
    offer = {"capacity": 2, "hours_per_month": 4, "topics": ["design"], "languages": ["fi", "en"]}
    await ok("PUT", "pairing", f"/kamus/{KALLE.id}", KALLE.who, offer, status=201)
    training = {"training": "Kamu basics", "completed_on": date.today().isoformat()}
    trained = await ok("POST", "pairing", f"/kamus/{KALLE.id}/training", OPS, training)
    assert trained["trainings"] == ["Kamu basics"]

    # Aino receives notifications on her own webhook too (the catcher's receiver).
    hook = f"{platform.url('catcher')}/hooks/{AINO.id}"
    prefs = await ok(
        "PUT", "notifications", f"/people/{AINO.id}/preferences", AINO.who, {"webhook_url": hook}
    )
    secret = prefs["webhook_secret"]
    assert secret.startswith("whsec_")
    shown = await ok("GET", "notifications", f"/people/{AINO.id}/preferences", AINO.who)
    assert shown["webhook_secret"] == secret

    # Aino asks, Kalle accepts.
    asked = await ok(
        "POST",
        "pairing",
        "/pairings",
        AINO.who,
        {"colleague_id": AINO.id, "kamu_id": KALLE.id, "message": "Help me grow as a lead?"},
        status=201,
    )
    pairing_id = asked["id"]
    assert asked["status"] == "requested"
    accepted = await ok("POST", "pairing", f"/pairings/{pairing_id}/accept", KALLE.who)
    assert accepted["status"] == "active"

    # Meetings hears of the pairing from Kafka; the pair schedules, holds and rates a meeting.
    async def meetings_knows() -> bool:
        response = await api.call("GET", "meetings", f"/pairings/{pairing_id}/cadence", AINO.who)
        return response.status_code == 200 and response.json()["status"] == "active"

    await eventually(meetings_knows, timeout=ON_TIME)
    first_start = soon()
    first = await schedule(api, pairing_id, AINO, first_start)
    held = await hold(api, first["id"], KALLE, {"notes": "Talked about leading without a title."})
    assert held["status"] == "held"
    assert held["notes"] is None  # command answers never carry notes
    rating = {"psychological_safety": 5, "usefulness": 4}
    for person in (AINO, KALLE):
        rated = await ok(
            "POST", "meetings", f"/meetings/{first['id']}/feedback", person.who, rating
        )
        assert rated["my_feedback_given"] is True
    again = await api.call(
        "POST", "meetings", f"/meetings/{first['id']}/feedback", AINO.who, rating
    )
    assert again.status_code == 409
    mine = await ok("GET", "meetings", f"/meetings/{first['id']}", AINO.who)
    assert mine["notes"] == "Talked about leading without a title."

    # Goals hears of the pairing too: Aino sets a goal, shares it and records progress.
    async def goals_knows() -> bool:
        return await api.status("goals", f"/people/{AINO.id}/goals", KALLE.who) == 200

    await eventually(goals_knows, timeout=ON_TIME)
    target = (date.today() + timedelta(days=90)).isoformat()
    goal = await ok(
        "POST",
        "goals",
        "/goals",
        AINO.who,
        {
            "title": "Run the design review on my own",
            "category": "competence",
            "success_criteria": "Two reviews led by the end of the quarter",
            "target_date": target,
        },
        status=201,
    )
    goal_id = goal["id"]
    assert (goal["visibility"], goal["status"]) == ("private", "active")
    assert await api.status("goals", f"/goals/{goal_id}", KALLE.who) == 404  # private: not his
    shared = await ok("POST", "goals", f"/goals/{goal_id}/share", AINO.who)
    assert (shared["visibility"], shared["shared_with"]) == ("kamu", KALLE.id)
    progress = {"percent": 40, "status": "on-track", "note": "Led the first one"}
    await ok("POST", "goals", f"/goals/{goal_id}/progress", AINO.who, progress)
    seen = await ok("GET", "goals", f"/goals/{goal_id}", KALLE.who)
    assert seen["latest_progress"]["percent"] == 40

    # The next meeting reviews the goal: held with it, Kalle's review names the meeting.
    second = await schedule(api, pairing_id, KALLE, soon())
    second_held = await hold(api, second["id"], KALLE, {"goal_ids": [goal_id]})
    assert second_held["goal_ids"] == [goal_id]

    async def linked() -> bool:
        found = await ok("GET", "goals", f"/goals/{goal_id}", KALLE.who)
        return bool(found["meetings"] == [second["id"]])

    await eventually(linked, timeout=ON_TIME)
    review = {"outcome": "keep", "reflection": "On track", "meeting_id": second["id"]}
    reviewed = await ok("POST", "goals", f"/goals/{goal_id}/reviews", KALLE.who, review, status=201)
    assert [(r["reviewer_role"], r["meeting_id"]) for r in reviewed["reviews"]] == [
        ("kamu", second["id"])
    ]
    completed = await ok("POST", "goals", f"/goals/{goal_id}/complete", AINO.who)
    assert completed["status"] == "completed"
    assert (await ok("GET", "goals", f"/goals/{goal_id}", KALLE.who))["status"] == "completed"

    # Two meetings planned ahead, then Aino ends the pairing.
    ahead = [datetime.now(UTC).replace(microsecond=0) + timedelta(days=d) for d in (3, 17)]
    future = [await schedule(api, pairing_id, AINO, starts) for starts in ahead]
    ended = await ok("POST", "pairing", f"/pairings/{pairing_id}/end", AINO.who)
    assert ended["status"] == "ended"

    # The future meetings are cancelled; the held ones stay as they were.
    async def cancelled() -> list[Json] | None:
        found = [await ok("GET", "meetings", f"/meetings/{m['id']}", AINO.who) for m in future]
        return found if all(m["status"] == "cancelled" for m in found) else None

    for meeting in await waited(cancelled):
        assert meeting["cancel_cause"] == "pairing-ended"
    for meeting in (first, second):
        assert (await ok("GET", "meetings", f"/meetings/{meeting['id']}", KALLE.who))[
            "status"
        ] == "held"

    # The goal is private again: the former Kamu cannot read, list or review it (404).
    async def revoked() -> bool:
        return await api.status("goals", f"/goals/{goal_id}", KALLE.who) == 404

    await eventually(revoked, timeout=ON_TIME)
    assert await api.status("goals", f"/people/{AINO.id}/goals", KALLE.who) == 404
    late = await api.call("POST", "goals", f"/goals/{goal_id}/reviews", KALLE.who, review)
    assert late.status_code == 404
    owned = await ok("GET", "goals", f"/goals/{goal_id}", AINO.who)
    assert (owned["visibility"], owned["shared_with"], owned["status"]) == (
        "private",
        None,
        "completed",
    )
    assert [r["meeting_id"] for r in owned["reviews"]] == [second["id"]]

    # The same story on Kafka.
    ends = await api.events("pairing", "pairing-ended", 1)
    assert [e["pairing_id"] for e in ends] == [pairing_id]
    cancels = await api.events("meetings", "meeting-cancelled", len(future))
    assert sorted((e["meeting_id"], e["cause"]) for e in cancels) == sorted(
        (m["id"], "pairing-ended") for m in future
    )
    holds = await api.events("meetings", "meeting-held", 2)
    assert sorted(e["meeting_id"] for e in holds) == sorted([first["id"], second["id"]])
    (unshared,) = await api.events("goals", "goal-unshared", 1)
    assert (unshared["goal_id"], unshared["cause"]) == (goal_id, "pairing-ended")

    # Notifications: each planned once, each delivery finished.
    notes = await settled_notifications(api)
    meetings = {m["id"]: m for m in (first, second, *future)}
    await check_deliveries(api, notes, meetings, {m["id"] for m in future}, secret)

    # Each read model rebuilt from events equals the live one.
    live = {s: await read_state(platform.databases[s], t) for s, t in STATE_TABLES.items()}
    for service, tables in live.items():
        assert any(tables.values()), f"{service}: nothing to compare"
    said = await asyncio.gather(*(rebuild(platform, s) for s in STATE_TABLES))  # all at once
    for service, output in zip(STATE_TABLES, said, strict=True):
        assert re.search(r"rebuilt state from [1-9]\d* stored events", output), output
        rebuilt = await read_state(platform.databases[service], STATE_TABLES[service])
        for table, rows in live[service].items():
            assert rebuilt[table] == rows, f"{service}: {table} differs after a rebuild"

    # Still exactly once, seconds later: nothing arrived twice in the meantime.
    await check_deliveries(api, notes, meetings, {m["id"] for m in future}, secret)

    # Insights, for People Operations only: three people are too few for any figure to show.
    assert await api.status("insights", "/programme/overview", AINO.who) == 403

    async def withheld() -> Json | None:
        figures = await ok("GET", "insights", "/programme/overview", OPS)
        return figures if figures["coverage"]["total"]["withheld"] else None

    for name, figure in (await waited(withheld)).items():
        for cell in [*figure["months"], *figure["breakdown"], figure["total"], figure["now"]]:
            if cell is not None:
                assert cell["people"] in (None, 0), (name, cell)


async def check_deliveries(
    api: Api,
    notes: dict[str, list[Json]],
    meetings: dict[str, Json],
    cancelled: set[str],
    secret: str,
) -> None:
    """Every notification arrived exactly once on each of its channels, as recorded."""
    people = {AINO.id: AINO, KALLE.id: KALLE}
    owner = {n["id"]: people[pid] for pid, ns in notes.items() for n in ns}
    by_id = {n["id"]: n for ns in notes.values() for n in ns}
    for pid, ns in notes.items():
        for n in ns:
            channels = {d["channel"]: d["status"] for d in n["deliveries"]}
            assert channels == dict.fromkeys(CHANNELS[pid], "sent"), (n["kind"], channels)
    expected = Counter({(nid, c) for nid in by_id for c in CHANNELS[owner[nid].id]})

    # Kafka: one notification-sent per notification and channel, no failure or suppression.
    async def outcomes() -> list[Envelope] | None:
        events = await api.topic("notifications")
        sent = of_type(events, "notification-sent")
        return events if len(sent) >= len(expected) else None

    events = await waited(outcomes)
    sent = Counter(
        (e["notification_id"], e["channel"]) for e in of_type(events, "notification-sent")
    )
    assert sent == expected
    assert of_type(events, "notification-failed") == []
    assert of_type(events, "notification-suppressed") == []

    # Email: one message per notification, meetings with their iTIP method.
    mails = await api.mails()
    by_notification = Counter(str(m["X-Kamu-Notification-Id"]) for m in mails)
    assert by_notification == Counter(set(by_id))
    invitations: Counter[tuple[str, str, str]] = Counter()
    for message in mails:
        n = by_id[str(message["X-Kamu-Notification-Id"])]
        person = owner[n["id"]]
        assert person.email in str(message["To"])
        assert message["Message-ID"] == f"<{n['id']}@kamu.invalid>"
        if n["kind"] in ("meeting-scheduled", "meeting-cancelled"):
            invitations[(person.id, *check_invite(message, n, meetings))] += 1
        else:
            assert not [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    # Both members: a REQUEST for every meeting, a CANCEL for each one the end cancelled.
    assert invitations == Counter(
        [(p.id, "REQUEST", m) for p in (AINO, KALLE) for m in meetings]
        + [(p.id, "CANCEL", m) for p in (AINO, KALLE) for m in cancelled]
    )

    # Slack and Teams: one post per notification, addressed to the person's identity.
    hooks: list[Json] = await api.catcher("/api/hooks")
    slack = [json.loads(h["body"]) for h in hooks if h["path"] == "/hooks/slack"]
    assert Counter(b["notification_id"] for b in slack) == Counter(set(by_id))
    for body in slack:
        assert body["user"] == owner[body["notification_id"]].slack
    teams = [json.loads(h["body"]) for h in hooks if h["path"] == "/hooks/teams"]
    assert Counter(b["notification_id"] for b in teams) == Counter(set(by_id))
    for body in teams:
        assert body["recipient"] == owner[body["notification_id"]].teams

    # Aino's webhook: every one of hers once, signed with the secret her preferences show.
    personal = [h for h in hooks if h["path"] == f"/hooks/{AINO.id}"]
    payloads = [Webhook(secret).verify(h["body"], h["headers"]) for h in personal]
    for hook, payload in zip(personal, payloads, strict=True):
        assert hook["headers"]["webhook-id"] == payload["id"]
        assert payload["recipient_id"] == AINO.id
        assert payload["kind"] == by_id[payload["id"]]["kind"]
    assert Counter(p["id"] for p in payloads) == Counter({n["id"] for n in notes[AINO.id]})
    assert {h["path"] for h in hooks} == {"/hooks/slack", "/hooks/teams", f"/hooks/{AINO.id}"}

    # In the app: each notification in its recipient's inbox once.
    for person in (AINO, KALLE):
        inbox = await api.ok(
            "GET", "notifications", f"/people/{person.id}/inbox?limit=200", person.who
        )
        ids = [i["id"] for i in inbox["items"]]
        assert Counter(ids) == Counter({n["id"] for n in notes[person.id]})


def check_invite(message: EmailMessage, n: Json, meetings: dict[str, Json]) -> tuple[str, str]:
    """The invitation's iTIP method and meeting, after checking what calendar clients read:
    the meetings feed's UID, the meeting's sequence, both members as attendees and its start,
    in the inline part and in the attached calendar file alike."""
    method, calendar = calendar_part(message)
    (attached,) = [p for p in message.iter_attachments() if p.get_filename() == "invite.ics"]
    assert isinstance(attached, EmailMessage)
    assert Calendar.from_ical(attached.get_content()) == calendar
    (event,) = calendar.walk("VEVENT")
    uids = {f"{mid}@kamu": mid for mid in meetings}
    meeting = meetings[uids[str(event["UID"])]]
    attendees = {str(a) for a in event.get("ATTENDEE")}
    assert attendees == {f"mailto:{AINO.email}", f"mailto:{KALLE.email}"}
    assert event.decoded("DTSTART") == datetime.fromisoformat(meeting["starts_at"])
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=60)
    assert str(calendar["METHOD"]) == method
    if n["kind"] == "meeting-scheduled":
        assert (method, int(str(event["SEQUENCE"])), str(event["STATUS"])) == (
            "REQUEST",
            0,
            "CONFIRMED",
        )
    else:
        assert (method, int(str(event["SEQUENCE"])), str(event["STATUS"])) == (
            "CANCEL",
            1,
            "CANCELLED",
        )
        text = message.get_body(("plain",))
        assert text is not None
        assert "because the pairing ended" in text.get_content()
    return method, meeting["id"]
