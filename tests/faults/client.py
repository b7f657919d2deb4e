"""What the clients of a platform under faults do and see.

:class:`Api` is a well-behaved client: every POST carries an ``Idempotency-Key`` that stays the
same on every retry of that command; it retries when it got no answer, on 5xx and on 409 with
``Retry-After`` (honouring the header, capped so a test stays short), and records every answer
it got (:class:`ClientView`). :class:`CommandStream` drives real commands through it, story by
story, several stories at once, and remembers what every 2xx answer implies: the events each
service must have stored (:class:`Expected`) and the notifications each person must get.
"""

import asyncio
import contextlib
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from kamu_devstack.platform import Platform
from kamu_shared.auth.mint import mint_token

Json = dict[str, Any]

# Longest a single command is retried before the client gives up on it: longer than any
# outage a test makes, so a command given up on is a finding, not the test's impatience.
COMMAND_DEADLINE = 120.0
# A well-behaved client waits what Retry-After asks, but a test's clock runs faster.
RETRY_AFTER_CAP = 1.0
# Waits between retries after no answer at all (connection refused or reset).
NO_ANSWER_BACKOFF = (0.1, 0.2, 0.5, 1.0)


@dataclass(frozen=True)
class Who:
    """A caller: the token's subject and roles."""

    sub: str
    roles: tuple[str, ...] = ("employee",)


HR = Who("fault-hr-sync", ("service",))
OPS = Who("fault-people-ops", ("people-ops",))


@dataclass(frozen=True)
class Seen:
    """One answer a client got (``status`` None: no answer at all, ``error`` says why)."""

    at: float  # time.monotonic()
    service: str
    method: str
    path: str
    status: int | None
    content_type: str = ""
    retry_after: str | None = None
    problem: str | None = None
    error: str | None = None


class ClientView:
    """Every answer the clients got, and what a client must never see."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []

    def since(self, start: float, service: str | None = None) -> list[Seen]:
        return [s for s in self.seen if s.at >= start and service in (None, s.service)]

    def problems(self) -> list[str]:
        """500s (or any 5xx but 503), and 503s without Retry-After or problem+json."""
        found = []
        for s in self.seen:
            where = f"{s.method} {s.service}{s.path}"
            if s.status is None or s.status < 500:
                continue
            if s.status != 503:
                found.append(f"{where} answered {s.status} ({s.problem or s.content_type})")
                continue
            if not s.retry_after or not s.retry_after.strip().isdigit():
                found.append(f"{where} answered 503 without a valid Retry-After")
            if s.content_type.split(";")[0].strip() != "application/problem+json":
                found.append(f"{where} answered 503 as {s.content_type!r}, not problem+json")
        return found


class Refused(Exception):
    """A command answered with something a client cannot retry (a 4xx other than 409 with
    Retry-After), or retried past :data:`COMMAND_DEADLINE`."""


@dataclass
class Api:
    """The platform's HTTP APIs with tokens minted for whoever calls."""

    platform: Platform
    http: httpx.AsyncClient
    view: ClientView = field(default_factory=ClientView)
    _tokens: dict[Who, str] = field(default_factory=dict)

    def headers(self, who: Who) -> dict[str, str]:
        if who not in self._tokens:
            self._tokens[who] = mint_token(
                secret=self.platform.secrets["jwt"], sub=who.sub, roles=who.roles, ttl_seconds=7200
            )
        return {"Authorization": f"Bearer {self._tokens[who]}"}

    async def send(
        self,
        method: str,
        service: str,
        path: str,
        who: Who,
        body: Json | None = None,
        key: str | None = None,
    ) -> httpx.Response | None:
        """One request; what came back is recorded. None when no answer came."""
        headers = self.headers(who)
        if key is not None:
            headers["Idempotency-Key"] = key
        url = f"{self.platform.url(service)}{path}"
        try:
            response = await self.http.request(method, url, json=body, headers=headers)
        except httpx.TransportError as exc:
            self.view.seen.append(
                Seen(time.monotonic(), service, method, path, None, error=type(exc).__name__)
            )
            return None
        problem = None
        content_type = response.headers.get("content-type", "")
        if response.status_code >= 400 and "json" in content_type:
            with contextlib.suppress(ValueError):
                problem = str(response.json().get("type"))
        self.view.seen.append(
            Seen(
                time.monotonic(),
                service,
                method,
                path,
                response.status_code,
                content_type,
                response.headers.get("retry-after"),
                problem,
            )
        )
        return response

    async def command(
        self,
        method: str,
        service: str,
        path: str,
        who: Who,
        body: Json | None = None,
        *,
        deadline: float = COMMAND_DEADLINE,
    ) -> Json:
        """A command retried until it answers 2xx; its answer's JSON (``{}`` when none)."""
        key = str(uuid.uuid4()) if method == "POST" else None
        give_up = time.monotonic() + deadline
        for attempt in itertools.count():
            response = await self.send(method, service, path, who, body, key)
            if response is not None and response.status_code < 300:
                return response.json() if response.content else {}
            wait = _retry_wait(response, attempt)
            if wait is None:
                assert response is not None
                raise Refused(f"{method} {service}{path}: {response.status_code} {response.text}")
            if time.monotonic() + wait > give_up:
                status = response.status_code if response is not None else "no answer"
                raise Refused(f"{method} {service}{path}: still {status} after {deadline:g}s")
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def get(self, service: str, path: str, who: Who) -> httpx.Response | None:
        return await self.send("GET", service, path, who)


def _retry_wait(response: httpx.Response | None, attempt: int) -> float | None:
    """How long a well-behaved client waits before retrying; None: it does not retry."""
    if response is None:
        return NO_ANSWER_BACKOFF[min(attempt, len(NO_ANSWER_BACKOFF) - 1)]
    status = response.status_code
    after = response.headers.get("retry-after", "")
    asked = float(after) if after.strip().isdigit() else None
    if status >= 500 or (status == 409 and asked is not None):
        # A 5xx without Retry-After is a finding (ClientView); the client still retries: its
        # Idempotency-Key makes that safe.
        return min(asked if asked is not None else 0.5, RETRY_AFTER_CAP)
    return None


def left(deadline: float) -> float:
    """Seconds to ``deadline`` (time.monotonic()), at least one: a late phase of a test still
    gets looked at, and says what it found."""
    return max(deadline - time.monotonic(), 1.0)


@dataclass(frozen=True)
class Expected:
    """An event a 2xx command implies: ``service`` stored exactly one ``name`` event whose
    data has ``value`` in ``field``."""

    service: str
    name: str
    field: str
    value: str


@dataclass(frozen=True)
class Person:
    id: str
    name: str

    @property
    def email(self) -> str:
        return f"{self.id}@example.org"

    @property
    def slack(self) -> str:
        return f"U{self.id.upper()}"

    @property
    def teams(self) -> str:
        return f"29:{self.id}"

    @property
    def who(self) -> Who:
        return Who(self.id)


@dataclass
class Story:
    """One colleague and one Kamu through the programme: what was done, what it implies."""

    colleague: Person
    kamu: Person
    webhook: bool
    expected: list[Expected] = field(default_factory=list)
    notifications: Counter[tuple[str, str]] = field(default_factory=Counter)
    pairing_id: str | None = None
    began_by: datetime | None = None
    goal_shared: bool = False
    done: bool = False
    refused: str | None = None

    def other(self, person_id: str) -> Person:
        return self.kamu if person_id == self.colleague.id else self.colleague


class CommandStream:
    """Stories run ``actors`` at a time until stopped; every 2xx remembered."""

    def __init__(self, api: Api, label: str, actors: int = 3) -> None:
        self.api = api
        self.label = label
        self.actors = actors
        self.stories: list[Story] = []
        self._numbers = itertools.count(1)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def people(self) -> dict[str, Person]:
        return {p.id: p for s in self.stories for p in (s.colleague, s.kamu)}

    @property
    def expected(self) -> list[Expected]:
        return [e for s in self.stories for e in s.expected]

    def completed(self) -> int:
        return sum(s.done for s in self.stories)

    def refusals(self) -> list[str]:
        return [f"{s.colleague.id}: {s.refused}" for s in self.stories if s.refused]

    def start(self) -> None:
        self._stop.clear()
        self._tasks = [asyncio.create_task(self._actor()) for _ in range(self.actors)]

    async def stop(self, timeout: float) -> list[str]:
        """Let each actor finish its story; what could not finish in ``timeout`` is named."""
        self._stop.set()
        _, pending = await asyncio.wait(self._tasks, timeout=timeout) if self._tasks else ((), ())
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        unfinished = [
            f"{s.colleague.id}: unfinished after {timeout:g}s"
            for s in self.stories
            if not s.done and not s.refused
        ]
        return unfinished

    async def run(self, stories: int) -> list[Story]:
        """``stories`` stories side by side, to the end."""
        return list(await asyncio.gather(*(self.story() for _ in range(stories))))

    async def _actor(self) -> None:
        while not self._stop.is_set():
            await self.story()

    async def until(self, commands: int, timeout: float) -> None:
        """Until this stream's commands have had at least ``commands`` 2xx answers that
        imply events: the stream is in full flow (its stories at different steps)."""
        deadline = time.monotonic() + timeout
        while len(self.expected) < commands:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(self.expected)} of {commands} commands answered in {timeout:g}s; "
                    f"refused: {self.refusals()}"
                )
            await asyncio.sleep(0.05)

    def new_story(self) -> Story:
        n = next(self._numbers)
        tag = f"{self.label}{n:03d}"
        story = Story(
            colleague=Person(f"{tag}-c", f"Colleague {tag.upper()}"),
            kamu=Person(f"{tag}-k", f"Kamu {tag.upper()}"),
            webhook=n % 2 == 1,
        )
        self.stories.append(story)
        return story

    async def story(self, story: Story | None = None) -> Story:
        """A new story (or ``story``) to its end; a refusal ends it early, noted."""
        story = story or self.new_story()
        try:
            await self.register(story)
            await self.pair(story)
            await self.finish(story)
        except Refused as exc:
            story.refused = str(exc)
        return story

    async def finish(self, story: Story) -> None:
        """A paired story's meetings and goal."""
        await self._meet(story)
        await self._set_goal(story)
        story.done = True

    async def register(self, story: Story) -> None:
        """People synced, the colleague's webhook, the Kamu volunteered and trained."""
        api = self.api
        for person in (story.colleague, story.kamu):
            await api.command("PUT", "pairing", f"/people/{person.id}", HR, person_body(person))
            story.expected.append(Expected("pairing", "person-registered", "person_id", person.id))
        c, k = story.colleague, story.kamu
        if story.webhook:
            hook = {"webhook_url": f"{api.platform.url('catcher')}/hooks/{c.id}"}
            await api.command("PUT", "notifications", f"/people/{c.id}/preferences", c.who, hook)
            story.expected.append(Expected("notifications", "preferences-set", "person_id", c.id))
        offer = {"capacity": 2, "hours_per_month": 4, "topics": ["faults"], "languages": ["en"]}
        await api.command("PUT", "pairing", f"/kamus/{k.id}", k.who, offer)
        story.expected.append(Expected("pairing", "kamu-volunteered", "person_id", k.id))
        training = {"training": "Kamu basics", "completed_on": date.today().isoformat()}
        await api.command("POST", "pairing", f"/kamus/{k.id}/training", OPS, training)
        story.expected.append(Expected("pairing", "kamu-training-completed", "person_id", k.id))

    async def pair(self, story: Story) -> str:
        """The colleague asks, the Kamu accepts: the pairing's id."""
        api, c, k = self.api, story.colleague, story.kamu
        ask = {"colleague_id": c.id, "kamu_id": k.id, "message": "Spar with me?"}
        asked = await api.command("POST", "pairing", "/pairings", c.who, ask)
        pairing_id = story.pairing_id = str(asked["id"])
        story.expected.append(Expected("pairing", "pairing-requested", "pairing_id", pairing_id))
        story.notifications[(k.id, "pairing-requested")] += 1
        await api.command("POST", "pairing", f"/pairings/{pairing_id}/accept", k.who)
        story.began_by = datetime.now(UTC)  # the pairing began before its accept answered
        story.expected.append(Expected("pairing", "pairing-created", "pairing_id", pairing_id))
        story.notifications[(c.id, "pairing-accepted")] += 1
        return pairing_id

    async def _meet(self, story: Story) -> None:
        """A meeting ahead (both invited), and one logged afterwards as held (nobody told).
        The client waits until meetings shows the pairing active, as the app does: before,
        meetings answers 409 (``pairing-not-active`` once it knows of the request)."""
        api, c, k = self.api, story.colleague, story.kamu
        await self.wait_for(
            lambda: api.get("meetings", f"/pairings/{story.pairing_id}/cadence", c.who),
            f"meetings to know {story.pairing_id} as active",
            lambda found: found.get("status") == "active",
        )
        now = datetime.now(UTC).replace(microsecond=0)
        ahead = {
            "pairing_id": story.pairing_id,
            "starts_at": (now + timedelta(days=2)).isoformat(),
            "location": "Cafe Ursula",
        }
        meeting = await api.command("POST", "meetings", "/meetings", c.who, ahead)
        story.expected.append(
            Expected("meetings", "meeting-scheduled", "meeting_id", meeting["id"])
        )
        for person in (c, k):
            story.notifications[(person.id, "meeting-scheduled")] += 1
        # Logged afterwards: it started when the pairing had begun, before this moment.
        assert story.began_by is not None
        past = {**ahead, "starts_at": story.began_by.isoformat()}
        logged = await api.command("POST", "meetings", "/meetings", k.who, past)
        story.expected.append(Expected("meetings", "meeting-scheduled", "meeting_id", logged["id"]))
        notes = {"notes": "Talked about faults."}
        await api.command("POST", "meetings", f"/meetings/{logged['id']}/complete", k.who, notes)
        story.expected.append(Expected("meetings", "meeting-held", "meeting_id", logged["id"]))

    async def _set_goal(self, story: Story) -> None:
        """A goal, shared with the Kamu once goals has heard of the pairing (until then the
        Kamu cannot read the colleague's goals, and sharing would be refused)."""
        api, c, k = self.api, story.colleague, story.kamu
        target = (date.today() + timedelta(days=60)).isoformat()
        body = {
            "title": "Recover without a person",
            "category": "competence",
            "success_criteria": "Nothing lost",
            "target_date": target,
        }
        goal = await api.command("POST", "goals", "/goals", c.who, body)
        story.expected.append(Expected("goals", "goal-set", "goal_id", goal["id"]))
        await self.wait_for(
            lambda: api.get("goals", f"/people/{c.id}/goals", k.who), f"goals to know {k.id}"
        )
        await api.command("POST", "goals", f"/goals/{goal['id']}/share", c.who)
        story.expected.append(Expected("goals", "goal-shared", "goal_id", goal["id"]))
        story.goal_shared = True

    async def wait_for(
        self,
        ask: Callable[[], Awaitable[httpx.Response | None]],
        what: str,
        wanted: Callable[[Json], bool] = lambda _: True,
        deadline: float = COMMAND_DEADLINE,
    ) -> None:
        """Until ``ask()`` answers 200 with what is ``wanted``: a client polling a read for an
        effect it knows is coming (as one that has just seen the pairing accepted)."""
        give_up = time.monotonic() + deadline
        while True:
            response = await ask()
            if response is not None and response.status_code == 200 and wanted(response.json()):
                return
            if time.monotonic() > give_up:
                raise Refused(f"gave up waiting for {what} after {deadline:g}s")
            await asyncio.sleep(0.2)


def person_body(person: Person) -> Json:
    return {
        "display_name": person.name,
        "email": person.email,
        "team": "Faults",
        "locale": "en",
        "time_zone": "Europe/Helsinki",
        "slack_user_id": person.slack,
        "teams_user_id": person.teams,
    }
