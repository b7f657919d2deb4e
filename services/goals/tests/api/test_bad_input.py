"""API tests of every goals route with bad input (each gets problem+json, nothing written).

Three parts: bad input route by route (the exact 4xx problem and not one row written), the rules
the commands enforce (409 with the rule's slug, 403 for what the Kamu may not do) in the same
table, and a seeded sweep of junk at every route that must never answer 5xx. The table runs
against one service per module (a service per case would take minutes): every case is refused
(until a bug lets one through), so the world it starts from stays as it was, and each case
compares the rows before and after itself. Cases marked ``regression`` found a bug; a comment
by each says what it is.
"""

import base64
import json
import random
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
import structlog

from kamu_devstack.probes import database_url, ensure_databases
from kamu_goals.app import create_app
from kamu_goals.domain import inbound
from kamu_goals.settings import GoalsSettings
from kamu_shared.auth.mint import mint_token
from kamu_shared.testing.problems import assert_problem
from kamu_shared.testing.upstream import Upstream
from kamu_shared.testing.waiting import eventually
from kamu_shared.web.pagination import encode_cursor

SECRET = "goals-bad-input-secret-of-at-least-32-bytes!"

COLE = ("cole",)  # the colleague of the world's pairing: owns {active}, {done}, {private}
KIM = ("kim",)  # cole's Kamu: {active} is shared with her
GUS = ("gus",)  # no Kamu: owns {lonely}
OLGA = ("olga",)  # an employee who owns nothing
OPS = ("ops", "people-ops")
SERVICE = ("calendar-sync", "service")

LONG_ID = "a" * 65  # goal and meeting ids: 1 to 64 of [A-Za-z0-9-]
LONG_PERSON = "a" * 101  # person ids: 1 to 100 of [A-Za-z0-9._@:-]
NUL = "a\x00b"

REGRESSION = pytest.mark.regression


# ----------------------------------------------------------------------------------------------
# One running service for the module, on the session's real PostgreSQL and Kafka.


class Stack:
    """The goals service with a database and a topic namespace of its own; pairings arrive as
    pairing's events over the real topic, as in production. The same helpers as the
    ``service`` fixture of conftest, so :func:`world` runs on either."""

    def __init__(self, app: Any, settings: GoalsSettings, upstream: Upstream) -> None:
        self.app = app
        self.settings = settings
        self.upstream = upstream

    @property
    def pool(self) -> Any:
        return self.app.state.runtime.pool

    def as_(self, sub: str, *roles: str) -> httpx.AsyncClient:
        token = mint_token(secret=SECRET, sub=sub, roles=list(roles or ("employee",)))
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://goals",
            headers={"Authorization": f"Bearer {token}"},
        )

    async def publish(self, event: Any, subject: str) -> None:
        registry = inbound.pairing_events
        await self.upstream.publish(registry, event, subject, at=datetime.now(UTC))

    async def pair(self, colleague: str, kamu: str) -> tuple[str, str, str]:
        pairing_id = str(uuid.uuid4())
        await self.publish(
            inbound.PairingCreated(pairing_id=pairing_id, colleague_id=colleague, kamu_id=kamu),
            f"pairing-{pairing_id}",
        )

        async def known() -> Any:
            return await self.pool.fetchval(
                "SELECT 1 FROM goals_kamus WHERE pairing_id = $1", pairing_id
            )

        await eventually(known, timeout=30)
        return pairing_id, colleague, kamu

    async def goal(self, owner: str, **fields: Any) -> dict:
        body = {
            "title": "Lead a team",
            "category": "professional",
            "target_date": (date.today() + timedelta(days=90)).isoformat(),
            "review_interval_weeks": 4,
            **fields,
        }
        async with self.as_(owner) as client:
            response = await client.post("/goals", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def count(self, sql: str, *args: Any) -> int:
        return int(await self.pool.fetchval(sql, *args))


@asynccontextmanager
async def running(postgres_url: str, kafka_bootstrap: str) -> AsyncIterator[Stack]:
    name = f"kamu_t_goals_{uuid.uuid4().hex[:10]}"
    await ensure_databases(postgres_url, [name])
    settings = GoalsSettings(
        database_url=database_url(postgres_url, name),
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=SECRET,
        topic_namespace=f"t{uuid.uuid4().hex[:10]}",
        relay_poll_interval_seconds=0.1,
        review_poll_seconds=0.5,
        consumer_backoff_initial_seconds=0.05,
        consumer_retry_attempts=2,
        log_format="json",
    )
    registries = (inbound.pairing_events, inbound.meeting_events)
    upstream = Upstream(kafka_bootstrap, settings.topic_namespace, registries)
    try:
        app = create_app(settings)
        async with upstream, app.router.lifespan_context(app):
            yield Stack(app, settings, upstream)
    finally:
        conn = await asyncpg.connect(postgres_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def world(service) -> dict[str, str]:
    """cole and kim paired; cole's {active} goal shared with kim (with a check-in and a review),
    his {done} goal completed, his {private} and {spare} ones never shared; gus, with no Kamu, owns
    {lonely}."""
    await service.pair("cole", "kim")
    active = await service.goal("cole", visibility="kamu", description="my plan")
    done = await service.goal("cole", title="Run a marathon", category="wellbeing")
    private = await service.goal("cole", title="Speak up", category="personal")
    spare = await service.goal("cole", title="Read more", category="personal")
    lonely = await service.goal("gus", title="Learn Rust", category="competence")
    async with service.as_(*COLE) as cole:
        checked = await cole.post(
            f"/goals/{active['id']}/progress", json={"percent": 10, "status": "on-track"}
        )
        assert checked.status_code == 200, checked.text
        reviewed = await cole.post(f"/goals/{active['id']}/reviews", json={"outcome": "keep"})
        assert reviewed.status_code == 201, reviewed.text
        closed = await cole.post(f"/goals/{done['id']}/complete")
        assert closed.status_code == 200, closed.text
    return {
        "active": active["id"],
        "done": done["id"],
        "private": private["id"],
        "spare": spare["id"],
        "lonely": lonely["id"],
    }


@pytest.fixture(scope="module", autouse=True)
def plain_tracebacks():
    """Unconfigured (as in tests), structlog draws each logged traceback with rich, which
    takes seconds per 500; the cases that still get one would take a minute. Plain text here,
    the configuration as it was afterwards."""
    saved = structlog.get_config()
    renderer = structlog.dev.ConsoleRenderer(
        colors=False, exception_formatter=structlog.dev.plain_traceback
    )
    structlog.configure(processors=[*saved["processors"][:-1], renderer])
    yield
    structlog.configure(**saved)


@pytest.fixture(scope="module")
async def stack(postgres_url, kafka_bootstrap):
    async with running(postgres_url, kafka_bootstrap) as running_stack:
        running_stack.ids = await world(running_stack)
        yield running_stack


# ----------------------------------------------------------------------------------------------
# What "nothing written" means, what a problem looks like, refused tokens.

COUNTED = ("kamu_events", "kamu_streams", "kamu_idempotency_keys")
COMPARED = ("goals_goals", "goals_progress", "goals_reviews", "goals_kamus", "goals_meeting_links")


async def written(service) -> dict[str, Any]:
    """Rows of the event store and the idempotency keys, and the full rows of the state tables
    (an UPDATE is a write too)."""
    counts = {t: await service.count(f"SELECT count(*) FROM {t}") for t in COUNTED}
    rows = {
        t: [dict(r) for r in await service.pool.fetch(f"SELECT * FROM {t} ORDER BY 1, 2")]
        for t in COMPARED
    }
    return {"counts": counts, "rows": rows}


def refused_token(service, kind: str, caller: tuple[str, ...]) -> str:
    """An Authorization header value the service must refuse, for ``caller``."""
    secret = service.settings.jwt_secret.get_secret_value()
    roles = list(caller[1:] or ("employee",))
    claims: dict[str, Any] = {"secret": secret, "sub": caller[0], "roles": roles}
    raw = {"sub": caller[0], "roles": roles, "iss": "kamu", "aud": "kamu"}
    if kind == "garbage":
        return "Bearer not.a.jwt"
    if kind == "basic":
        return "Basic Y29sZTpzZWNyZXQ="
    if kind == "empty":
        return "Bearer "
    if kind == "unsigned":
        return "Bearer " + jwt.encode({**raw, "exp": time.time() + 600}, None, algorithm="none")
    if kind == "without-exp":
        return "Bearer " + jwt.encode(raw, secret, algorithm="HS256")
    if kind == "without-sub":
        no_sub = {k: v for k, v in raw.items() if k != "sub"}
        return "Bearer " + jwt.encode({**no_sub, "exp": time.time() + 600}, secret, "HS256")
    if kind == "expired":
        claims.update(now=time.time() - 7200, ttl_seconds=60)
    elif kind == "forged":
        claims.update(secret="another-secret-of-at-least-32-bytes!!")
    elif kind == "other-audience":
        claims.update(audience="elsewhere")
    elif kind == "other-issuer":
        claims.update(issuer="elsewhere")
    return f"Bearer {mint_token(**claims)}"


def moments() -> dict[str, Any]:
    """Dates relative to today, for bodies: "$future" and so on."""
    today = datetime.now(UTC).date()
    later = today + timedelta(days=400)
    midnight = datetime(later.year, later.month, later.day, tzinfo=UTC)
    return {
        "future": (today + timedelta(days=90)).isoformat(),
        "past": (today - timedelta(days=3)).isoformat(),
        "unix-time": int(midnight.timestamp()),
        "unix-text": str(int(midnight.timestamp())),
        "date-time": midnight.isoformat(),
    }


def fill(value: Any, known: dict[str, Any]) -> Any:
    """``value`` with each "$name" string replaced by what ``known`` says (recursively)."""
    if isinstance(value, str) and value.startswith("$") and value[1:] in known:
        return known[value[1:]]
    if isinstance(value, dict):
        return {k: fill(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, known) for v in value]
    return value


_GOAL_IN_PATH = re.compile(r"^/goals/([A-Za-z0-9-]{1,64})(?:/|$)")


async def current_etag(service, path: str) -> str:
    """The ETag of the goal the path names (a made-up one if there is none)."""
    match = _GOAL_IN_PATH.match(path)
    version = None
    if match:
        version = await service.pool.fetchval(
            "SELECT version FROM goals_goals WHERE goal_id = $1", match.group(1)
        )
    return f'"v{version or 1}"'


# ----------------------------------------------------------------------------------------------
# Bad input, route by route.

UNSET: Any = object()


@dataclass(frozen=True)
class Bad:
    """One bad request and the problem it must get."""

    method: str
    path: str  # may name the world's ids: "{active}", "{done}", ...
    status: int
    slug: str | None
    caller: tuple[str, ...]
    json: Any = UNSET
    content: bytes | None = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    auth: str | None = None  # "missing" or a kind of refused token

    async def send(self, service, ids: dict[str, str]) -> httpx.Response:
        path = self.path.format(**ids)
        headers = dict(self.headers)
        if headers.get("If-Match") == "$etag":
            headers["If-Match"] = await current_etag(service, path)
        known = moments()
        kw: dict[str, Any] = {}
        if self.content is not None:
            headers.setdefault("content-type", "application/json")
            kw["content"] = self.content
        elif self.json is not UNSET:
            kw["json"] = fill(self.json, known)
        async with service.as_(*self.caller) as client:
            if self.auth == "missing":
                del client.headers["Authorization"]
            elif self.auth is not None:
                client.headers["Authorization"] = refused_token(service, self.auth, self.caller)
            return await client.request(
                self.method, path, params=fill(self.params, known), headers=headers, **kw
            )


@dataclass(frozen=True)
class Route:
    """A route and a request to it that would succeed (and write, for a command)."""

    method: str
    path: str  # "<id>" is the id under test
    caller: tuple[str, ...]
    body: dict[str, Any] | None = None
    ok_id: str = ""
    ok_status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.method} {self.path.replace('<id>', '{id}')}"

    def request(self) -> Bad:
        """The good request itself (used to check that it does succeed)."""
        path = self.path.replace("<id>", self.ok_id)
        body = UNSET if self.body is None else self.body
        return Bad(
            self.method, path, self.ok_status, None, self.caller, json=body, headers=self.headers
        )

    def bad(self, name: str, status: int, slug: str | None = None, **kw: Any) -> Any:
        """The good request with ``kw`` changed; ``id=`` replaces the path id; ``marks=`` marks
        the case (``REGRESSION``)."""
        marks = list(kw.pop("marks", ()))
        path = self.path.replace("<id>", kw.pop("id", self.ok_id))
        if "content" not in kw:
            kw.setdefault("json", UNSET if self.body is None else self.body)
        kw["headers"] = {**self.headers, **kw.get("headers", {})}
        kw["headers"] = {k: v for k, v in kw["headers"].items() if v is not None}
        request = Bad(self.method, path, status, slug, kw.pop("caller", self.caller), **kw)
        return pytest.param(request, id=f"{self.name} {name}", marks=marks)

    def invalid(self, name: str, **kw: Any) -> Any:
        return self.bad(name, 422, "validation-failed", **kw)

    def with_(self, **changes: Any) -> dict[str, Any]:
        assert self.body is not None
        return {**self.body, **changes}

    def fields(self, *table: tuple[Any, ...]) -> list[Any]:
        """(field, value, label, *marks): the good body with one field's value replaced."""
        assert self.body is not None
        cases = []
        for name, value, label, *marks in table:
            slug = "invalid-characters" if isinstance(value, str) and "\x00" in value else None
            cases.append(
                self.bad(
                    label,
                    422,
                    slug or "validation-failed",
                    json=self.with_(**{name: value}),
                    marks=marks,
                )
            )
        return cases

    def shapes(self, *, required: tuple[str, ...] = ()) -> list[Any]:
        """Malformed JSON, another JSON type, not JSON, no body, each required field missing."""
        assert self.body is not None
        missing = [
            self.invalid(f"without {name}", json={k: v for k, v in self.body.items() if k != name})
            for name in required
        ]
        return [
            self.bad("malformed JSON", 400, "malformed-json", content=b'{"a": 1,'),
            self.bad("truncated JSON", 400, "malformed-json", content=b'{"title": "Le'),
            self.bad("single quotes", 400, "malformed-json", content=b"{'title': 'x'}"),
            self.invalid("a list", json=[self.body]),
            self.invalid("a string", json="hello"),
            self.invalid("a number", json=5),
            self.invalid("null", json=None),
            self.invalid("text/plain", content=b"x=1", headers={"content-type": "text/plain"}),
            self.invalid("no body", content=b""),
            self.invalid("a lone surrogate", content=b'{"title": "a\\ud800"}'),
            *missing,
        ]

    def raw(self, label: str, **changes: Any) -> Any:
        """The good body with ``changes``, as JSON Python writes it (NaN and Infinity too)."""
        assert self.body is not None
        body = fill(self.with_(**changes), moments())
        return self.invalid(label, content=json.dumps(body).encode())

    def goal_ids(self) -> list[Any]:
        """Goal ids: server-issued, 1 to 64 of [A-Za-z0-9-]."""
        return [
            self.invalid("id with a space", id="a%20b"),
            self.invalid("id with an underscore", id="a_b"),
            self.invalid("id with a dot", id="a.b"),
            self.invalid("id with an emoji", id="%F0%9F%98%80"),
            self.invalid("id with a newline", id="abc%0A"),
            self.invalid("id of 65 characters", id=LONG_ID),
            self.bad("id with a NUL", 422, "invalid-characters", id="a%00b"),
            self.bad("unknown id", 404, "not-found", id="no-such-goal"),
            self.bad("unknown UUID", 404, "not-found", id=str(uuid.UUID(int=7))),
        ]

    def person_ids(self) -> list[Any]:
        return [
            self.invalid("id with a space", id="a%20b"),
            self.invalid("id with a backslash", id="a%5Cb"),
            self.invalid("id with a comma", id="a,b"),
            self.invalid("id of 101 characters", id=LONG_PERSON),
            self.bad("id with a NUL", 422, "invalid-characters", id="a%00b"),
        ]

    def idempotency_keys(self) -> list[Any]:
        keys = {"with a space": "a b", "empty": "", "of 256 characters": "k" * 256}
        return [
            self.bad(
                f"Idempotency-Key {label}",
                400,
                "invalid-idempotency-key",
                headers={"Idempotency-Key": key},
            )
            for label, key in keys.items()
        ]

    def hidden(self, id_: str = "<ok>") -> list[Any]:
        """Callers to whom the goal does not exist: another employee, people-ops, a service."""
        goal = self.ok_id if id_ == "<ok>" else id_
        return [
            self.bad(f"{who}: 404", 404, "not-found", caller=caller, id=goal)
            for who, caller in (
                ("another employee", OLGA),
                ("people-ops", OPS),
                ("a service", SERVICE),
            )
        ]

    def unauthenticated(self, *kinds: str) -> list[Any]:
        return [self.bad(f"{kind} token", 401, auth=kind) for kind in ("missing", *kinds)]


SET = Route(
    "POST",
    "/goals",
    COLE,
    {
        "title": "Lead a team",
        "description": "grow into a lead role",
        "category": "professional",
        "success_criteria": "a team of 3",
        "target_date": "$future",
        "review_interval_weeks": 4,
        "visibility": "private",
    },
    ok_status=201,
)
REVISE = Route(
    "PATCH",
    "/goals/<id>",
    COLE,
    {"title": "Lead a bigger team", "review_interval_weeks": 2},
    "{active}",
    headers={"If-Match": "$etag"},
)
PROGRESS = Route(
    "POST",
    "/goals/<id>/progress",
    COLE,
    {"percent": 40, "status": "on-track", "note": "hired one"},
    "{active}",
)
REVIEW = Route(
    "POST",
    "/goals/<id>/reviews",
    COLE,
    {"outcome": "keep", "reflection": "going well", "meeting_id": str(uuid.UUID(int=1))},
    "{active}",
    ok_status=201,
)
COMPLETE = Route("POST", "/goals/<id>/complete", COLE, ok_id="{active}")
ABANDON = Route("POST", "/goals/<id>/abandon", COLE, ok_id="{spare}")
SHARE = Route("POST", "/goals/<id>/share", COLE, ok_id="{private}")
UNSHARE = Route("POST", "/goals/<id>/unshare", COLE, ok_id="{active}")
GET_GOAL = Route("GET", "/goals/<id>", COLE, ok_id="{active}")
LIST = Route("GET", "/people/<id>/goals", COLE, ok_id="cole")
DUE = Route("GET", "/people/<id>/goals/due", COLE, ok_id="cole")
STATS = Route("GET", "/stats/goals", OPS)
ROUTES = (
    SET,
    REVISE,
    PROGRESS,
    REVIEW,
    COMPLETE,
    ABANDON,
    SHARE,
    UNSHARE,
    GET_GOAL,
    LIST,
    DUE,
    STATS,
)
ON_A_GOAL = (REVISE, PROGRESS, REVIEW, COMPLETE, ABANDON, SHARE, UNSHARE, GET_GOAL)
POSTS = (SET, PROGRESS, REVIEW, COMPLETE, ABANDON, SHARE, UNSHARE)
TOKENS = (
    "expired",
    "forged",
    "other-audience",
    "other-issuer",
    "garbage",
    "basic",
    "empty",
    "unsigned",
    "without-exp",
    "without-sub",
)


def cursor(text: str) -> str:
    """A cursor in the right alphabet whose decoded bytes are ``text``."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def wrong_ints(name: str, good: int) -> list[tuple[Any, ...]]:
    """An integer field given every other JSON type."""
    return [
        (name, str(good), f"{name} a string"),
        (name, True, f"{name} true"),
        (name, False, f"{name} false"),
        (name, float(good), f"{name} a float"),
        (name, good + 0.5, f"{name} a fraction"),
        (name, None, f"{name} null"),
        (name, [good], f"{name} a list"),
        (name, {"value": good}, f"{name} an object"),
    ]


def texts(name: str, limit: int) -> list[tuple[Any, ...]]:
    """A free-text field: too long, another type, a NUL."""
    return [
        (name, "x" * (limit + 1), f"{name} of {limit + 1} characters"),
        (name, 5, f"{name} a number"),
        (name, True, f"{name} true"),
        (name, ["x"], f"{name} a list"),
        (name, NUL, f"{name} with a NUL"),
    ]


def enums(name: str, good: str, *, nullable: bool = False) -> list[tuple[Any, ...]]:
    """An enumerated field: unknown values, another case, another type."""
    cases: list[tuple[Any, ...]] = [
        (name, "unknown", f"{name} unknown"),
        (name, "", f"empty {name}"),
        (name, good.upper(), f"{name} in capitals"),
        (name, f" {good}", f"{name} with a space"),
        (name, f"{good}\n", f"{name} with a newline"),
        (name, 1, f"{name} a number"),
        (name, [good], f"{name} a list"),
    ]
    if not nullable:
        cases.append((name, None, f"{name} null"))
    return cases


def dates(name: str, *, nullable: bool = False) -> list[tuple[Any, ...]]:
    """Malformed dates (the contract: an ISO 8601 calendar date, YYYY-MM-DD)."""
    cases: list[tuple[Any, ...]] = [
        (name, "tomorrow", f"{name} a word"),
        (name, "", f"empty {name}"),
        (name, "2030-02-30", f"{name} 30 February"),
        (name, "2030-13-01", f"{name} month 13"),
        (name, "31.12.2030", f"{name} day first"),
        (name, "2030/12/31", f"{name} with slashes"),
        (name, "2030-1-1", f"{name} without zeros"),
        (name, "20301231", f"{name} without dashes"),
        (name, "+2030-12-31", f"{name} with a sign"),
        (name, "10000-01-01", f"{name} in year 10000"),
        (name, "0000-01-01", f"{name} in year 0"),
        (name, True, f"{name} true"),
        (name, ["2030-12-31"], f"{name} a list"),
        (name, NUL, f"{name} with a NUL"),
        # Fails: target_date is a pydantic ``date`` in lax mode, which takes a Unix time (a
        # number, or digits in a string) at midnight UTC, and a date-time at midnight, as a
        # date; the contract asks for a calendar date (meetings refuses Unix times since its
        # own regression). 201/200, and the goal is written. Fix: a strict date type
        # (e.g. Annotated[date, Strict()] or a before-validator asking for YYYY-MM-DD) in
        # commands/goals.py GoalBody/RevisionBody.
        (name, "$unix-time", f"{name} a Unix time", REGRESSION),
        (name, "$unix-text", f"{name} a Unix time in a string", REGRESSION),
        (name, "$date-time", f"{name} a date-time", REGRESSION),
    ]
    if not nullable:
        cases.append((name, None, f"{name} null"))
    return cases


BAD = [
    # POST /goals: set a goal.
    *SET.shapes(required=("title", "category", "target_date")),
    *SET.fields(
        ("title", "", "empty title"),
        ("title", "x" * 201, "title of 201 characters"),
        ("title", 5, "title a number"),
        ("title", True, "title true"),
        ("title", None, "title null"),
        ("title", ["Lead"], "title a list"),
        ("title", NUL, "title with a NUL"),
        *texts("description", 4000),
        *texts("success_criteria", 4000),
        *enums("category", "professional"),
        *enums("visibility", "private"),
        ("visibility", "public", "visibility public"),
        ("visibility", "shared", "visibility shared"),
        *dates("target_date"),
        ("review_interval_weeks", 0, "review_interval_weeks 0"),
        ("review_interval_weeks", 53, "review_interval_weeks 53"),
        ("review_interval_weeks", -1, "review_interval_weeks negative"),
        ("review_interval_weeks", 10**20, "review_interval_weeks 10**20"),
        *wrong_ints("review_interval_weeks", 4),
    ),
    SET.raw("review_interval_weeks NaN", review_interval_weeks=float("nan")),
    SET.raw("review_interval_weeks -Infinity", review_interval_weeks=float("-inf")),
    SET.bad(
        "target_date in the past", 422, "target-date-in-past", json=SET.with_(target_date="$past")
    ),
    SET.bad(
        "target_date in year 1",
        422,
        "target-date-in-past",
        json=SET.with_(target_date="0001-01-01"),
    ),
    SET.bad(
        "visibility kamu without a Kamu",
        409,
        "no-kamu",
        caller=GUS,
        json=SET.with_(visibility="kamu"),
    ),
    *SET.idempotency_keys(),
    # PATCH /goals/{id}: revise (If-Match required).
    *REVISE.shapes(),
    *REVISE.fields(
        ("title", "", "empty title"),
        ("title", "x" * 201, "title of 201 characters"),
        ("title", 5, "title a number"),
        ("title", NUL, "title with a NUL"),
        *texts("description", 4000),
        *texts("success_criteria", 4000),
        *enums("category", "professional", nullable=True),
        *dates("target_date", nullable=True),
        ("review_interval_weeks", 0, "review_interval_weeks 0"),
        ("review_interval_weeks", 53, "review_interval_weeks 53"),
        *[c for c in wrong_ints("review_interval_weeks", 2) if c[1] is not None],
    ),
    REVISE.raw("review_interval_weeks NaN", review_interval_weeks=float("nan")),
    REVISE.bad(
        "target_date in the past",
        422,
        "target-date-in-past",
        json=REVISE.with_(target_date="$past"),
    ),
    REVISE.bad("without If-Match", 428, "precondition-required", headers={"If-Match": None}),
    *(
        REVISE.bad(f"{label} If-Match", 412, "precondition-failed", headers={"If-Match": tag})
        for label, tag in (
            ("stale", '"v1"'),
            ("a future", '"v99"'),
            ("weak", 'W/"v3"'),
            ("unparseable", "v3"),
            ("empty", '""'),
        )
    ),
    REVISE.bad("a completed goal", 409, "goal-closed", id="{done}"),
    REVISE.bad("by the Kamu", 403, "forbidden", caller=KIM),
    REVISE.bad(
        "by the Kamu, without If-Match", 403, "forbidden", caller=KIM, headers={"If-Match": None}
    ),
    REVISE.bad("a private goal, by the Kamu", 404, "not-found", caller=KIM, id="{private}"),
    # POST /goals/{id}/progress
    *PROGRESS.shapes(required=("percent", "status")),
    *PROGRESS.fields(
        ("percent", -1, "percent -1"),
        ("percent", 101, "percent 101"),
        ("percent", 10**20, "percent 10**20"),
        *wrong_ints("percent", 40),
        *enums("status", "on-track"),
        ("status", "on track", "status on track"),
        ("status", "done", "status done"),
        ("status", "completed", "status completed"),
        *texts("note", 4000),
    ),
    PROGRESS.raw("percent NaN", percent=float("nan")),
    PROGRESS.raw("percent Infinity", percent=float("inf")),
    PROGRESS.invalid("percent 1e2", content=b'{"percent": 1e2, "status": "on-track"}'),
    PROGRESS.bad("a completed goal", 409, "goal-closed", id="{done}"),
    PROGRESS.bad("by the Kamu", 403, "forbidden", caller=KIM),
    *PROGRESS.idempotency_keys(),
    # POST /goals/{id}/reviews
    *REVIEW.shapes(required=("outcome",)),
    *REVIEW.fields(
        *enums("outcome", "keep"),
        ("outcome", "done", "outcome done"),
        ("outcome", "abandoned", "outcome abandoned"),
        *texts("reflection", 4000),
        ("meeting_id", "", "empty meeting_id"),
        ("meeting_id", "a_b", "meeting_id with an underscore"),
        ("meeting_id", LONG_ID, "meeting_id of 65 characters"),
        ("meeting_id", 5, "meeting_id a number"),
        ("meeting_id", NUL, "meeting_id with a NUL"),
    ),
    REVIEW.bad("a completed goal", 409, "goal-closed", id="{done}"),
    REVIEW.bad(
        "a completed goal, outcome completed",
        409,
        "goal-closed",
        id="{done}",
        json=REVIEW.with_(outcome="completed"),
    ),
    REVIEW.bad("a private goal, by the Kamu", 404, "not-found", caller=KIM, id="{private}"),
    *REVIEW.idempotency_keys(),
    # POST /goals/{id}/complete, abandon, share, unshare: owner-only, no body.
    COMPLETE.bad("a completed goal", 409, "goal-closed", id="{done}"),
    ABANDON.bad("a completed goal", 409, "goal-closed", id="{done}"),
    SHARE.bad("without a Kamu", 409, "no-kamu", caller=GUS, id="{lonely}"),
    *(
        route.bad("by the Kamu", 403, "forbidden", caller=KIM, id="{active}")
        for route in (COMPLETE, ABANDON, SHARE, UNSHARE)
    ),
    *(
        route.bad("a private goal, by the Kamu", 404, "not-found", caller=KIM, id="{private}")
        for route in (COMPLETE, ABANDON, SHARE, UNSHARE, GET_GOAL)
    ),
    *(case for route in (COMPLETE, SHARE) for case in route.idempotency_keys()),
    # Every route on a goal: its id, and callers it does not exist for.
    *(case for route in ON_A_GOAL for case in (*route.goal_ids(), *route.hidden())),
    # GET /people/{id}/goals and /people/{id}/goals/due
    *(
        case
        for route in (LIST, DUE)
        for case in (
            *route.person_ids(),
            route.bad("another person's", 404, "not-found", caller=GUS),
            route.bad("their Kamu's, by the colleague", 404, "not-found", id="kim"),
            route.bad("by people-ops", 404, "not-found", caller=OPS),
            route.bad("by a service", 404, "not-found", caller=SERVICE),
            *(
                route.invalid(f"limit {limit!r}", params={"limit": limit})
                for limit in (0, 201, -1, "ten", "true", "1.5", "", "1e1", 10**20)
            ),
            route.bad("limit with a NUL", 422, "invalid-characters", params={"limit": "1\x00"}),
            *(
                route.bad(f"cursor {label}", 400, "invalid-cursor", params={"cursor": value})
                for label, value in (
                    ("not base64", "not a cursor!"),
                    ("padded", "e30="),
                    ("not JSON", cursor("nope")),
                    ("not UTF-8", base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("=")),
                    ("a JSON list", cursor('["x"]')),
                    ("a JSON string", cursor('"x"')),
                    ("a JSON number", cursor("5")),
                    ("an empty object", encode_cursor({})),
                    ("without after", encode_cursor({"id": "x"})),
                    ("with a numeric after", encode_cursor({"after": 5})),
                    ("with a null after", encode_cursor({"after": None})),
                    ("with a list after", encode_cursor({"after": ["x"]})),
                    ("with a NUL in after", encode_cursor({"after": NUL})),
                    ("with a lone surrogate in after", encode_cursor({"after": "a\ud800"})),
                    ("of 2049 characters", "a" * 2049),
                )
            ),
        )
    ),
    *(
        LIST.invalid(f"status {label}", params={"status": value})
        for label, value in (
            ("done", "done"),
            ("empty", ""),
            ("in capitals", "ACTIVE"),
            ("with a newline", "active\n"),
            ("with a space", " active"),
            ("private", "private"),
        )
    ),
    LIST.bad("status with a NUL", 422, "invalid-characters", params={"status": NUL}),
    # GET /stats/goals?months=
    *(
        STATS.invalid(f"months {months!r}", params={"months": months})
        for months in (0, 37, -1, "twelve", "true", "1.5", "", "1e1", 10**20)
    ),
    STATS.bad("months with a NUL", 422, "invalid-characters", params={"months": "1\x00"}),
    *(
        STATS.bad(f"by {who}", 403, "forbidden", caller=caller)
        for who, caller in (("an employee", COLE), ("a Kamu", KIM), ("a service", SERVICE))
    ),
    # Authentication, on every route; every kind of refused token on four of them.
    *(case for route in ROUTES for case in route.unauthenticated()),
    *(
        case
        for route in (SET, PROGRESS, LIST, STATS)
        for case in route.unauthenticated(*TOKENS)[1:]
    ),
]


@pytest.mark.parametrize("request_", BAD)
async def test_bad_input_gets_a_problem_and_writes_nothing(stack, request_: Bad):
    before = await written(stack)

    response = await request_.send(stack, stack.ids)

    assert_problem(response, request_.status, request_.slug)
    assert await written(stack) == before


async def test_the_good_requests_the_cases_vary_do_succeed(service):
    """Each case above changes one thing in a request that, as it stands, succeeds (on a world
    of its own: the good requests write)."""
    ids = await world(service)
    for route in ROUTES:
        response = await route.request().send(service, ids)
        assert response.status_code == route.ok_status, (route.name, response.text)


async def test_an_idempotency_key_reused_for_another_request_is_refused(stack):
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    body = fill(SET.body, moments())
    async with stack.as_(*COLE) as cole:
        first = await cole.post("/goals", json=body, headers=key)
        before = await written(stack)
        again = await cole.post("/goals", json=body, headers=key)
        other_body = await cole.post("/goals", json={**body, "title": "x"}, headers=key)
        other_route = await cole.post(f"/goals/{first.json()['id']}/abandon", headers=key)

    assert first.status_code == 201, first.text
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert_problem(other_body, 422, "idempotency-key-reused")
    assert_problem(other_route, 422, "idempotency-key-reused")
    assert await written(stack) == before


async def test_a_refused_command_with_an_idempotency_key_stores_no_answer(stack):
    """A refusal is not kept for the key: the same key with fixed input then runs."""
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    path = f"/goals/{stack.ids['active']}/progress"
    before = await written(stack)
    async with stack.as_(*COLE) as cole:
        refused = await cole.post(path, json={"percent": 101, "status": "on-track"}, headers=key)
        assert_problem(refused, 422, "validation-failed")
        closed = await cole.post(
            f"/goals/{stack.ids['done']}/progress",
            json={"percent": 50, "status": "on-track"},
            headers=key,
        )
        assert_problem(closed, 409, "goal-closed")
    assert await written(stack) == before
    keys = "SELECT count(*) FROM kamu_idempotency_keys WHERE key = $1"
    assert await stack.count(keys, key["Idempotency-Key"]) == 0


# ----------------------------------------------------------------------------------------------
# The sweep: seeded random junk at every route, and not one 5xx.

JUNK_VALUES: tuple[Any, ...] = (
    None,
    "",
    " ",
    "x" * 10_000,
    "\u202e\u200b",
    "\ud800",
    "😀" * 300,
    "'; DROP TABLE goals_goals; --",
    "../../etc/passwd",
    "2030-02-30",
    "1970-01-01",
    "9999-12-31",
    "0001-01-01",
    "2030-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "1780000000",
    "P1D",
    "kamu",
    "private",
    "completed",
    "dropped",
    "blocked",
    "NaN",
    -1,
    0,
    1,
    52,
    100,
    2**31,
    2**63,
    1_780_000_000,
    253_402_300_799,
    10**30,
    -(10**30),
    1.5e308,
    float("nan"),
    float("inf"),
    True,
    False,
    [],
    {},
    [[[[[]]]]],
    ["a"] * 60,
    {"$gt": ""},
)
JUNK_BODIES = (
    b"",
    b"{",
    b"}",
    b"null",
    b"0",
    b'"x"',
    b"[]",
    b"{}",
    b"\xff\xfe",
    b"[" * 100_000,
    b'{"a": 1e999}',
    b'{"percent": 1e999, "status": "on-track"}',
    b'{"title": "\\ud800", "category": "personal", "target_date": "2031-01-01"}',
    b'{"note": "\\u0000"}',
    b'{"percent": 1, "percent": "x", "status": "blocked"}',
    b"\xef\xbb\xbf{}",
    b'{"outcome": "keep", "meeting_id": "\\udfff"}',
)
JUNK_HEADERS: tuple[dict[str, str], ...] = (
    {"If-Match": "*"},
    {"If-Match": '"' + "v" * 5000 + '"'},
    {"If-Match": '"v1", W/"v2", garbage'},
    {"If-Match": '"v-1"'},
    {"If-Match": '"v99999999999999999999999"'},
    {"If-Match": '"vNaN"'},
    {"Idempotency-Key": "k" * 5000},
    {"Idempotency-Key": '"quoted"'},
    {"Idempotency-Key": "same-key"},
    {"X-Correlation-ID": "c" * 5000},
    {"content-type": "application/json; charset=latin-1"},
    {"content-type": "application/x-www-form-urlencoded"},
    {"Authorization": "Bearer " + "a" * 5000},
    {"Authorization": "Bearer a.b.c"},
    {"Accept": "text/html"},
)
JUNK_IDS = (
    "%00",
    "..",
    "%2e%2e",
    "a%2Fb",
    "x" * 5000,
    "%F0%9F%98%80",
    "%ff",
    "-",
    "--",
    ":@.",
    "0",
    "cole",
    "kim",
    "%20",
    "due",
)
JUNK_QUERIES: tuple[dict[str, Any], ...] = (
    {"limit": 10**20},
    {"limit": ""},
    {"limit": "-0"},
    {"limit": "0x10"},
    {"cursor": ""},
    {"cursor": "=" * 10},
    {"cursor": encode_cursor({"after": "zzz"})},
    {"cursor": encode_cursor({"after": "x" * 5000})},
    {"cursor": encode_cursor({"after": None})},
    {"cursor": encode_cursor({"after": [], "id": {}})},
    {"cursor": encode_cursor({"after": "a\x00b"})},
    {"cursor": encode_cursor({"after": "\ud800"})},
    {"cursor": encode_cursor({"after": 10**30})},
    {"status": ["active", "completed"]},
    {"status": "completed"},
    {"months": 10**20},
    {"months": ["1", "2"]},
    {"months": ""},
    {"months": 36},
)


def junk_request(rng: random.Random, known: dict[str, Any]) -> tuple[Route, str, dict[str, Any]]:
    """A route, a path and request arguments, with one to three random things wrong."""
    route = rng.choice(ROUTES)
    path = route.path.replace("<id>", route.ok_id).format(**known)
    body: dict[str, Any] = fill(dict(route.body or {}), known)
    kw: dict[str, Any] = {"params": {}, "headers": dict(route.headers)}
    content: bytes | None = None
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("value", "value", "body", "id", "query", "header", "drop", "extra"))
        if kind == "value" and body:
            body[rng.choice(sorted(body))] = rng.choice(JUNK_VALUES)
        elif kind == "body" and route.method in ("POST", "PATCH"):
            content = rng.choice(JUNK_BODIES)
        elif kind == "id" and "<id>" in route.path:
            path = route.path.replace("<id>", rng.choice(JUNK_IDS))
        elif kind == "query":
            kw["params"].update(rng.choice(JUNK_QUERIES))
        elif kind == "header":
            kw["headers"].update(rng.choice(JUNK_HEADERS))
        elif kind == "drop" and body:
            body.pop(rng.choice(sorted(body)))
        elif kind == "extra":
            body[rng.choice(("unexpected", "id", "status", "owner_id", "visibility"))] = rng.choice(
                JUNK_VALUES
            )
    if route.method in ("POST", "PATCH"):
        if content is None:
            content = json.dumps(body).encode()  # NaN, Infinity and lone surrogates too
        kw["headers"].setdefault("content-type", "application/json")
        kw["content"] = content
    return route, path, kw


async def test_no_junk_gets_a_server_error(service):
    ids = await world(service)
    rng = random.Random(20260301)
    answers: list[tuple[str, int, str]] = []
    clients = {route.caller: service.as_(*route.caller) for route in ROUTES}
    try:
        for _ in range(400):
            route, path, kw = junk_request(rng, {**ids, **moments()})
            if kw["headers"].get("If-Match") == "$etag":
                kw["headers"]["If-Match"] = await current_etag(service, path)
            response = await clients[route.caller].request(route.method, path, **kw)
            answers.append(
                (f"{route.method} {path} {kw}"[:300], response.status_code, response.text)
            )
            if response.status_code >= 400:
                problem = response.headers["content-type"] == "application/problem+json"
                assert problem, answers[-1]
    finally:
        for client in clients.values():
            await client.aclose()

    assert len(answers) == 400
    assert [a for a in answers if a[1] >= 500] == []
    assert len({a[1] for a in answers}) > 3  # the junk reached more than one kind of answer


def test_the_table_covers_every_route_and_names_no_case_twice():
    assert {r.name for r in ROUTES} == {
        "POST /goals",
        "PATCH /goals/{id}",
        "POST /goals/{id}/progress",
        "POST /goals/{id}/reviews",
        "POST /goals/{id}/complete",
        "POST /goals/{id}/abandon",
        "POST /goals/{id}/share",
        "POST /goals/{id}/unshare",
        "GET /goals/{id}",
        "GET /people/{id}/goals",
        "GET /people/{id}/goals/due",
        "GET /stats/goals",
    }
    ids = [p.id for p in BAD]
    assert len(ids) == len(set(ids)), "case names must be unique"
    for route in ROUTES:
        assert any(i.startswith(f"{route.name} ") for i in ids), route.name
