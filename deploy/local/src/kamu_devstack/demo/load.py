"""Loading the demo story into running services, over their public APIs only.

Every command goes through the same REST routes any client uses, as the person who would do it
(the colleague asks, the Kamu accepts, People Operations syncs people), with tokens signed by
the stack's secret. Loading twice changes nothing: people and offers are PUTs of the same
state, and every POST carries an ``Idempotency-Key`` derived from the story, so a second load
gets the first load's answers back (and an interrupted load resumes where it stopped).
"""

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from kamu_devstack.demo.story import (
    Goal,
    Meeting,
    Pairing,
    Person,
    Preference,
    Story,
    Volunteer,
)
from kamu_shared.auth.mint import mint_token

# Commands that wait for another service's event answer 409 with these, and are retried: a
# pairing not yet known to meetings, or known as asked but not yet as accepted; a Kamu not yet
# known to goals; a person not yet known to notifications.
WAITING = {"awaiting-upstream", "pairing-not-active", "no-kamu", "unknown-person"}
WAIT_LIMIT = 120.0  # seconds one command may wait for its upstream event
CONCURRENCY = 12
PEOPLE_OPS = "people-ops-demo"  # the demo's People Operations person (not one of the people)


class LoadError(RuntimeError):
    """A command the demo needs was refused: the story and the services disagree."""


@dataclass
class Api:
    """The services' REST APIs as the demo's people call them."""

    urls: Mapping[str, str]
    secret: str
    advance: Callable[[], None] = lambda: None
    client: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=30))
    calls: Counter[str] = field(default_factory=Counter)
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def token(self, sub: str, role: str) -> str:
        if (sub, role) not in self._tokens:
            self._tokens[(sub, role)] = mint_token(
                secret=self.secret, sub=sub, roles=[role], ttl_seconds=6 * 3600
            )
        return self._tokens[(sub, role)]

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        as_: str,
        role: str = "employee",
        body: Any = None,
        key: str | None = None,
    ) -> Any:
        """Send one command; retry while it waits for an upstream event or the service blips."""
        headers = {"Authorization": f"Bearer {self.token(as_, role)}"}
        if key is not None:
            headers["Idempotency-Key"] = f"demo:{key}"
        deadline = time.monotonic() + WAIT_LIMIT
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.client.request(
                    method, self.urls[service] + path, json=body, headers=headers
                )
            except httpx.TransportError:
                if attempt >= 5:
                    raise
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            if response.status_code < 300:
                self.calls[service] += 1
                self.advance()
                return response.json() if response.content else None
            problem = _problem(response)
            retry = response.status_code >= 500 and attempt < 5
            waiting = response.status_code == 409 and problem.get("slug") in WAITING
            if (retry or waiting) and time.monotonic() < deadline:
                # The event it waits for is already on its way: ask again sooner than
                # Retry-After's whole seconds.
                await asyncio.sleep(min(0.5, 0.05 * attempt))
                continue
            raise LoadError(f"{method} {service}{path} as {as_}: {response.status_code} {problem}")

    async def close(self) -> None:
        await self.client.aclose()


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text[:200]}
    if not isinstance(body, dict):
        return {"detail": body}
    slug = str(body.get("type", "")).rsplit("/", 1)[-1]
    return {"slug": slug, "detail": body.get("detail")}


@dataclass(frozen=True)
class Loaded:
    """What a load did, for the summary line."""

    seconds: float
    calls: Mapping[str, int]
    story: Story

    def line(self) -> str:
        s = self.story
        meetings = [m for p in s.pairings for m in p.meetings]
        return (
            f"{len(s.people)} people, {len(s.volunteers)} Kamus, pairings: "
            f"{s.count('active')} active, {s.count('ended')} ended, {s.count('requested')} "
            f"asked, {s.count('declined')} declined, {s.count('withdrawn')} withdrawn; "
            f"{sum(m.held for m in meetings)} meetings held, "
            f"{sum(not m.held for m in meetings)} upcoming, "
            f"{sum(len(p.goals) for p in s.pairings)} goals; "
            f"{sum(self.calls.values())} commands in {self.seconds:.1f}s"
        )


async def load(
    story: Story,
    urls: Mapping[str, str],
    secret: str,
    *,
    catcher_url: str | None = None,
    advance: Callable[[], None] = lambda: None,
    phase: Callable[[str], None] = lambda _name: None,
) -> Loaded:
    """Send the whole story to the services at ``urls`` (``pairing``, ``meetings``, ...)."""
    started = time.monotonic()
    api = Api(urls, secret, advance)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def each(items: Any, send: Callable[[Any], Any]) -> None:
        async def one(item: Any) -> None:
            async with gate:
                await send(item)

        await asyncio.gather(*(one(item) for item in items))

    try:
        phase("people from HR")
        await each(story.people, lambda p: _person(api, p))
        phase("Kamu volunteers and their training")
        await each(story.volunteers, lambda v: _volunteer(api, v))
        phase("notification preferences")
        await each(story.preferences, lambda p: _preferences(api, p, catcher_url))
        # Ended pairings first, each to its end: their Kamus' places are free again before the
        # pairings active today are accepted.
        phase("past pairings, their meetings and goals")
        await each(_by_kamu(p for p in story.pairings if p.fate == "ended"), _one_by_one(api))
        phase("pairings today, meetings, feedback, goals")
        await each([p for p in story.pairings if p.fate != "ended"], lambda p: _pairing(api, p))
    finally:
        await api.close()
    return Loaded(time.monotonic() - started, dict(api.calls), story)


def _by_kamu(pairings: Iterable[Pairing]) -> list[list[Pairing]]:
    """A Kamu's past pairings one after another (each holds a place until it ends), different
    Kamus' side by side."""
    groups: dict[str, list[Pairing]] = defaultdict(list)
    for pairing in pairings:
        groups[pairing.kamu_id].append(pairing)
    return list(groups.values())


def _one_by_one(api: Api) -> Callable[[list[Pairing]], Awaitable[None]]:
    async def send(group: list[Pairing]) -> None:
        for pairing in group:
            await _pairing(api, pairing)

    return send


async def _person(api: Api, person: Person) -> None:
    body = {
        "display_name": person.name,
        "email": person.email,
        "team": person.team,
        "manager_id": person.manager_id,
        "locale": person.locale,
        "time_zone": person.time_zone,
        "slack_user_id": person.slack_user_id,
        "teams_user_id": person.teams_user_id,
        "joined_on": person.joined_on.isoformat(),  # the same date every load: no change
    }
    await api.call(
        "pairing", "PUT", f"/people/{person.id}", as_=PEOPLE_OPS, role="people-ops", body=body
    )


async def _volunteer(api: Api, volunteer: Volunteer) -> None:
    who = volunteer.person_id
    offer = {
        "capacity": volunteer.capacity,
        "hours_per_month": volunteer.hours_per_month,
        "topics": list(volunteer.topics),
        "languages": list(volunteer.languages),
    }
    await api.call("pairing", "PUT", f"/kamus/{who}", as_=who, body=offer)
    if volunteer.trained_on:
        training = {"training": "Kamu basics", "completed_on": volunteer.trained_on.isoformat()}
        await api.call(
            "pairing",
            "POST",
            f"/kamus/{who}/training",
            as_=PEOPLE_OPS,
            role="people-ops",
            body=training,
            key=f"{who}:training",
        )
    if volunteer.paused:
        await api.call("pairing", "POST", f"/kamus/{who}/pause", as_=who, key=f"{who}:pause")


async def _preferences(api: Api, preference: Preference, catcher_url: str | None) -> None:
    who = preference.person_id
    body: dict[str, Any] = {"channels": {"email": preference.email}}
    if preference.webhook and catcher_url:
        body["webhook_url"] = f"{catcher_url}/hooks/people/{who}"
    if preference.quiet_hours:
        body["quiet_hours"] = {"start": preference.quiet_hours[0], "end": preference.quiet_hours[1]}
    if preference.digest:
        body["digest"] = "daily"
    await api.call("notifications", "PUT", f"/people/{who}/preferences", as_=who, body=body)


async def _pairing(api: Api, plan: Pairing) -> None:
    colleague, kamu = plan.colleague_id, plan.kamu_id
    asked = await api.call(
        "pairing",
        "POST",
        "/pairings",
        as_=colleague,
        body={"colleague_id": colleague, "kamu_id": kamu, "message": plan.message},
        key=f"{plan.key}:request",
    )
    pairing_id = asked["id"]
    answer = {"declined": ("decline", kamu), "withdrawn": ("withdraw", colleague)}.get(plan.fate)
    if answer:
        verb, who = answer
        await api.call(
            "pairing", "POST", f"/pairings/{pairing_id}/{verb}", as_=who, key=f"{plan.key}:{verb}"
        )
        return
    if plan.fate == "requested":
        return
    terms: dict[str, Any] = {
        "cadence_weeks": plan.cadence_weeks,
        "meeting_minutes": plan.meeting_minutes,
    }
    if plan.began_at:  # history moved in: People Operations records when it began
        terms["began_at"] = plan.began_at.isoformat()
    await api.call(
        "pairing",
        "POST",
        f"/pairings/{pairing_id}/accept",
        as_=kamu if plan.began_at is None else PEOPLE_OPS,
        role="employee" if plan.began_at is None else "people-ops",
        body=terms,
        key=f"{plan.key}:accept",
    )
    goal_ids = {g.key: await _goal(api, plan, g) for g in plan.goals}
    meeting_of: dict[str, str] = {}
    for meeting in plan.meetings:
        meeting_id = await _meeting(api, plan, pairing_id, meeting, goal_ids)
        meeting_of |= {goal: meeting_id for goal in meeting.reviews}
    for goal in plan.goals:
        if goal.outcome:
            review = {"outcome": goal.outcome, "meeting_id": meeting_of.get(goal.key)}
            await api.call(
                "goals",
                "POST",
                f"/goals/{goal_ids[goal.key]}/reviews",
                as_=colleague,
                body=review,
                key=f"{goal.key}:review",
            )
    if plan.fate == "ended":
        ender = colleague if int(plan.key[1:]) % 2 else kamu
        await api.call(
            "pairing", "POST", f"/pairings/{pairing_id}/end", as_=ender, key=f"{plan.key}:end"
        )


async def _goal(api: Api, plan: Pairing, goal: Goal) -> str:
    owner = plan.colleague_id
    body = {
        "title": goal.title,
        "category": goal.category,
        "target_date": goal.target_date.isoformat(),
        "visibility": "kamu" if goal.shared else "private",
    }
    made = await api.call("goals", "POST", "/goals", as_=owner, body=body, key=f"{goal.key}:set")
    goal_id: str = made["id"]
    for n, (percent, status) in enumerate(goal.check_ins, 1):
        await api.call(
            "goals",
            "POST",
            f"/goals/{goal_id}/progress",
            as_=owner,
            body={"percent": percent, "status": status},
            key=f"{goal.key}:progress-{n}",
        )
    return goal_id


async def _meeting(
    api: Api, plan: Pairing, pairing_id: str, meeting: Meeting, goal_ids: Mapping[str, str]
) -> str:
    colleague, kamu = plan.colleague_id, plan.kamu_id
    slot = {
        "pairing_id": pairing_id,
        "starts_at": meeting.starts_at.isoformat(),
        "time_zone": meeting.time_zone,
        "duration_minutes": plan.meeting_minutes,
        "location": "Video call",
    }
    made = await api.call(
        "meetings", "POST", "/meetings", as_=colleague, body=slot, key=f"{meeting.key}:schedule"
    )
    meeting_id: str = made["id"]
    if not meeting.held:
        return meeting_id
    record = {"notes": meeting.notes, "goal_ids": [goal_ids[g] for g in meeting.reviews]}
    await api.call(
        "meetings",
        "POST",
        f"/meetings/{meeting_id}/complete",
        as_=kamu,
        body=record,
        key=f"{meeting.key}:complete",
    )
    for who, scores in ((colleague, meeting.colleague_scores), (kamu, meeting.kamu_scores)):
        if scores:
            await api.call(
                "meetings",
                "POST",
                f"/meetings/{meeting_id}/feedback",
                as_=who,
                body={"psychological_safety": scores[0], "usefulness": scores[1]},
                key=f"{meeting.key}:feedback-{who}",
            )
    return meeting_id
