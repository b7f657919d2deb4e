"""API tests of every route with bad input (each gets problem+json, nothing written).

Three tables: bad input route by route (a 4xx problem and not one row written), the rules the
commands enforce (409 with the rule's slug, nothing written by the refused command), and a final
sweep of junk at every route that must never answer 5xx. Cases that found bugs are marked
``regression``: the bugs they found are fixed, and ``BUGS`` says what each was.
"""

import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from kamu_shared.auth.mint import mint_token
from kamu_shared.testing.problems import assert_problem
from kamu_shared.web.pagination import encode_cursor

OPS = ("ops", "people-ops")
HR = ("hr-sync", "service")
KIM = ("kim",)  # the Kamu of both of the world's pairings
COLE = ("cole",)  # asked kim: the pairing {requested}
DAN = ("dan",)  # kim's colleague: the pairing {active}

PERSON = {"display_name": "Nia", "email": "nia@example.org"}
KAMU = {"capacity": 2, "hours_per_month": 8}
TRAINING = {"training": "basics-2", "completed_on": "2026-02-01"}
REQUEST = {"colleague_id": "eve", "kamu_id": "kim"}
ACCEPT = {"cadence_weeks": 3, "meeting_minutes": 45}
LONG_ID = "a" * 101  # person ids: 1 to 100 of [A-Za-z0-9._@:-]
LONG_PAIRING_ID = "a" * 65  # pairing ids: 1 to 64 of [A-Za-z0-9-]
NUL = "a\x00b"

BUGS = {
    "nul": "a NUL character in a text field passes validation, then PostgreSQL refuses it: 500",
    "cursor": "a decodable cursor without a string 'after' (KeyError, asyncpg DataError): 500",
    "long-cursor": "a cursor over 2048 characters is refused by Query(max_length): 422, not 400",
    "delete-if-match": "DELETE ignores If-Match: 204 and the write happens (DESIGN: 412)",
    "bool-int": "JSON true is taken for the integer 1 (pydantic lax mode): 200 and written",
    "unknown-person": "the pairings of a person nobody registered answer 200 with empty lists",
    "nul-header": "a NUL in X-Correlation-ID is copied into the events' jsonb metadata: 500",
}


def bug(key: str) -> pytest.MarkDecorator:
    """Cases that once failed as ``BUGS[key]`` says; fixed, they guard against its return."""
    assert key in BUGS
    return pytest.mark.regression


# ----------------------------------------------------------------------------------------------
# The world every case starts from, what "nothing written" means, what a problem looks like.


async def world(service) -> dict[str, str]:
    """cole asked kim (requested), dan is kim's colleague (active), eve is a plain person."""
    for person in ("cole", "dan", "eve"):
        await service.person(person)
    await service.kamu("kim")
    requested = await service.request("cole", "kim")
    active = await service.request("dan", "kim")
    async with service.as_(*KIM) as kim:
        assert (await kim.post(f"/pairings/{active}/accept")).status_code == 200
    return {"requested": requested, "active": active}


COUNTED = (
    "kamu_events",
    "kamu_streams",
    "kamu_idempotency_keys",
    "pairing_people",
    "pairing_kamus",
    "pairing_pairings",
)
COMPARED = ("kamu_streams", "pairing_people", "pairing_kamus", "pairing_pairings")


async def written(service) -> dict[str, Any]:
    """Rows of the event store, the idempotency keys and the state tables, and the state rows
    themselves (an UPDATE is a write too)."""
    counts = {t: await service.count(f"SELECT count(*) FROM {t}") for t in COUNTED}
    rows = {
        t: [dict(r) for r in await service.pool.fetch(f"SELECT * FROM {t} ORDER BY 1")]
        for t in COMPARED
    }
    return {"counts": counts, "rows": rows}


def refused_token(service, kind: str) -> str:
    """An Authorization header value the service must refuse."""
    secret = service.settings.jwt_secret.get_secret_value()
    claims: dict[str, Any] = {"secret": secret, "sub": "ops", "roles": ["people-ops"]}
    if kind == "garbage":
        return "Bearer not.a.jwt"
    if kind == "basic":
        return "Basic b3BzOnNlY3JldA=="
    if kind == "expired":
        claims.update(now=time.time() - 7200, ttl_seconds=60)
    elif kind == "forged":
        claims.update(secret="another-secret-of-at-least-32-bytes!!")
    elif kind == "other-audience":
        claims.update(audience="elsewhere")
    elif kind == "other-issuer":
        claims.update(issuer="elsewhere")
    return f"Bearer {mint_token(**claims)}"


# ----------------------------------------------------------------------------------------------
# Bad input, route by route.


@dataclass(frozen=True)
class Bad:
    """One bad request and the problem it must get."""

    method: str
    path: str  # may name the world's pairings: "{requested}", "{active}"
    status: int
    slug: str | None
    caller: tuple[str, ...]
    json: Any = None
    content: bytes | None = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    auth: str | None = None  # "missing" or a kind of refused token

    async def send(self, service, ids: dict[str, str]):
        headers = dict(self.headers)
        if self.content is not None:
            headers.setdefault("content-type", "application/json")
        async with service.as_(*self.caller) as client:
            if self.auth == "missing":
                del client.headers["Authorization"]
            elif self.auth is not None:
                client.headers["Authorization"] = refused_token(service, self.auth)
            return await client.request(
                self.method,
                self.path.format(**ids),
                json=self.json,
                content=self.content,
                params=self.params,
                headers=headers,
            )


@dataclass(frozen=True)
class Route:
    """A route and a request to it that would succeed (and write, for a mutation)."""

    method: str
    path: str  # "<id>" is the id under test
    caller: tuple[str, ...]
    body: dict[str, Any] | None = None
    ok_id: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        query = "".join(f"?{k}=true" for k in self.params)
        return f"{self.method} {self.path.replace('<id>', '{id}')}{query}"

    def bad(self, name: str, status: int, slug: str | None = None, **kw: Any) -> Any:
        """The good request with ``kw`` changed; ``id=`` replaces the path id; ``bug=`` marks a
        regression case."""
        marks = [bug(kw.pop("bug"))] if "bug" in kw else []
        path = self.path.replace("<id>", kw.pop("id", self.ok_id))
        kw.setdefault("json", None if "content" in kw else self.body)
        kw["params"] = {**self.params, **kw.get("params", {})}
        request = Bad(self.method, path, status, slug, kw.pop("caller", self.caller), **kw)
        return pytest.param(request, id=f"{self.name} {name}", marks=marks)

    def invalid(self, name: str, **kw: Any) -> Any:
        return self.bad(name, 422, "validation-failed", **kw)

    def fields(self, *table: tuple[Any, ...]) -> list[Any]:
        """(field, value, label[, bug]): the good body with one field's value replaced."""
        assert self.body is not None
        return [
            self.bad(
                row[2],
                422,
                _slug_for(*row[3:]),
                json={**self.body, row[0]: row[1]},
                **marked(*row[3:]),
            )
            for row in table
        ]

    def shapes(self) -> list[Any]:
        """Malformed JSON, no body, another JSON type, not JSON, each required field missing."""
        assert self.body is not None
        missing = [
            self.invalid(f"without {name}", json={k: v for k, v in self.body.items() if k != name})
            for name in self.body
        ]
        return [
            self.bad("malformed JSON", 400, "malformed-json", content=b'{"a": 1,'),
            self.invalid("no body", content=b""),
            self.invalid("a list", json=[self.body]),
            self.invalid("a string", json="hello"),
            self.invalid("text/plain", content=b"x=1", headers={"content-type": "text/plain"}),
            *missing,
        ]

    def person_ids(self, *unknown: str, bug: str | None = None) -> list[Any]:
        return [
            self.invalid("id with a space", id="a%20b"),
            self.invalid("id too long", id=LONG_ID),
            self.bad("id with a NUL", 422, "invalid-characters", id="a%00b"),
            *(self.bad(f"unknown id {u}", 404, **marked(bug), id=u) for u in unknown),
        ]

    def pairing_ids(self) -> list[Any]:
        return [
            self.invalid("id with a space", id="a%20b"),
            self.invalid("id with an underscore", id="a_b"),
            self.invalid("id too long", id=LONG_PAIRING_ID),
            self.bad("unknown id", 404, "not-found", id="no-such-pairing"),
        ]

    def preconditions(self, *, every: bool = False, bug: str | None = None) -> list[Any]:
        """A stale If-Match; with ``every`` also a weak and an unparseable one."""
        tags = {"stale": '"v99"'} | ({"weak": 'W/"v1"', "garbage": "v1"} if every else {})
        return [
            self.bad(
                f"{label} If-Match",
                412,
                "precondition-failed",
                headers={"If-Match": tag},
                **marked(bug),
            )
            for label, tag in tags.items()
        ]

    def idempotency_keys(self, *, every: bool = False) -> list[Any]:
        """An Idempotency-Key with a space; with ``every`` also an empty and a too long one."""
        keys = {"with a space": "a b"} | ({"empty": "", "too long": "k" * 256} if every else {})
        return [
            self.bad(
                f"Idempotency-Key {label}",
                400,
                "invalid-idempotency-key",
                headers={"Idempotency-Key": key},
            )
            for label, key in keys.items()
        ]

    def unauthenticated(self, *kinds: str) -> list[Any]:
        return [self.bad(f"{kind} token", 401, auth=kind) for kind in ("missing", *kinds)]


def _slug_for(key: str | None = None) -> str:
    """NUL characters are refused before validation, as text PostgreSQL cannot store."""
    return "invalid-characters" if key == "nul" else "validation-failed"


def marked(key: str | None = None) -> dict[str, str]:
    """``bug=key`` for :meth:`Route.bad` when a known bug applies."""
    return {"bug": key} if key else {}


PUT_PERSON = Route("PUT", "/people/<id>", HR, PERSON, "cole")
GET_PERSON = Route("GET", "/people/<id>", OPS, ok_id="cole")
DELETE_PERSON = Route("DELETE", "/people/<id>", HR, ok_id="eve")
PUT_KAMU = Route("PUT", "/kamus/<id>", OPS, KAMU, "kim")
GET_KAMU = Route("GET", "/kamus/<id>", OPS, ok_id="kim")
DELETE_KAMU = Route("DELETE", "/kamus/<id>", OPS, ok_id="kim")
TRAIN = Route("POST", "/kamus/<id>/training", OPS, TRAINING, "kim")
PAUSE = Route("POST", "/kamus/<id>/pause", OPS, ok_id="kim")
RESUME = Route("POST", "/kamus/<id>/resume", OPS, ok_id="kim")
AVAILABLE = Route("GET", "/kamus", COLE, params={"available": "true"})
NEAR_LIMIT = Route("GET", "/kamus", OPS, params={"near_limit": "true"})
PERSON_PAIRINGS = Route("GET", "/people/<id>/pairings", OPS, ok_id="cole")
REQUEST_PAIRING = Route("POST", "/pairings", OPS, REQUEST)
ACCEPT_PAIRING = Route("POST", "/pairings/<id>/accept", KIM, ACCEPT, "{requested}")
DECLINE = Route("POST", "/pairings/<id>/decline", KIM, ok_id="{requested}")
WITHDRAW = Route("POST", "/pairings/<id>/withdraw", COLE, ok_id="{requested}")
END = Route("POST", "/pairings/<id>/end", OPS, ok_id="{active}")
CHANGE = Route("POST", "/pairings/<id>/change-request", DAN, ok_id="{active}")
GET_PAIRING = Route("GET", "/pairings/<id>", OPS, ok_id="{active}")
COVERAGE = Route("GET", "/coverage", OPS)
ROUTES = (
    PUT_PERSON,
    GET_PERSON,
    DELETE_PERSON,
    PUT_KAMU,
    GET_KAMU,
    DELETE_KAMU,
    TRAIN,
    PAUSE,
    RESUME,
    AVAILABLE,
    NEAR_LIMIT,
    PERSON_PAIRINGS,
    REQUEST_PAIRING,
    ACCEPT_PAIRING,
    DECLINE,
    WITHDRAW,
    END,
    CHANGE,
    GET_PAIRING,
    COVERAGE,
)
TOKENS = ("expired", "forged", "other-audience", "other-issuer", "garbage", "basic")


def cursor(text: str) -> str:
    """A cursor in the right alphabet whose decoded bytes are ``text``."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD = [
    # PUT /people/{id}: people from HR.
    *PUT_PERSON.shapes(),
    *PUT_PERSON.fields(
        ("display_name", "", "empty display_name"),
        ("display_name", "x" * 201, "display_name too long"),
        ("display_name", 5, "display_name a number"),
        ("display_name", None, "display_name null"),
        ("email", "not-an-email", "email without @"),
        ("email", "a b@example.org", "email with a space"),
        ("email", "a@b@example.org", "email with two @"),
        ("email", "a@" + "e" * 319, "email too long"),
        ("team", "x" * 201, "team too long"),
        ("team", ["core"], "team a list"),
        ("manager_id", "a b", "manager_id with a space"),
        ("manager_id", LONG_ID, "manager_id too long"),
        ("manager_id", 7, "manager_id a number"),
        ("locale", "english!", "locale not a language tag"),
        ("locale", "en-" + "x" * 33, "locale too long"),
        ("time_zone", "Mars/Olympus", "unknown time zone"),
        ("time_zone", "europe/helsinki", "time zone in the wrong case"),
        ("time_zone", "", "empty time zone"),
        ("slack_user_id", "x" * 101, "slack_user_id too long"),
        ("teams_user_id", "x" * 201, "teams_user_id too long"),
        ("display_name", NUL, "display_name with a NUL", "nul"),
    ),
    *PUT_PERSON.person_ids(),
    *PUT_PERSON.preconditions(every=True),
    # GET and DELETE /people/{id}
    *GET_PERSON.person_ids("nobody"),
    *DELETE_PERSON.person_ids("nobody"),
    *DELETE_PERSON.preconditions(every=True, bug="delete-if-match"),
    # PUT /kamus/{id}: volunteering.
    *PUT_KAMU.shapes(),
    *PUT_KAMU.fields(
        ("capacity", 0, "capacity 0"),
        ("capacity", 11, "capacity 11"),
        ("capacity", -1, "capacity negative"),
        ("capacity", 2.5, "capacity a fraction"),
        ("capacity", "many", "capacity a word"),
        ("capacity", None, "capacity null"),
        ("hours_per_month", 0, "hours 0"),
        ("hours_per_month", 161, "hours 161"),
        ("hours_per_month", -5, "hours negative"),
        ("hours_per_month", "lots", "hours a word"),
        ("topics", "goals", "topics a string"),
        ("topics", [""], "empty topic"),
        ("topics", ["x" * 61], "topic too long"),
        ("topics", [f"t{i}" for i in range(31)], "31 topics"),
        ("topics", [5], "topic a number"),
        ("languages", [f"l{i}" for i in range(21)], "21 languages"),
        ("languages", [""], "empty language"),
        ("capacity", True, "capacity true", "bool-int"),
        ("topics", [NUL], "topic with a NUL", "nul"),
    ),
    PUT_KAMU.invalid("hours NaN", content=b'{"capacity": 2, "hours_per_month": NaN}'),
    PUT_KAMU.invalid("hours Infinity", content=b'{"capacity": 2, "hours_per_month": Infinity}'),
    *PUT_KAMU.person_ids("nobody"),
    *PUT_KAMU.preconditions(),
    # GET and DELETE /kamus/{id}
    *GET_KAMU.person_ids("nobody", "eve"),
    *DELETE_KAMU.person_ids("nobody", "eve"),
    *DELETE_KAMU.preconditions(bug="delete-if-match"),
    # POST /kamus/{id}/training|pause|resume
    *TRAIN.shapes(),
    *TRAIN.fields(
        ("training", "", "empty training"),
        ("training", "x" * 201, "training too long"),
        ("training", 5, "training a number"),
        ("completed_on", "yesterday", "completed_on a word"),
        ("completed_on", "2026-13-01", "completed_on month 13"),
        ("completed_on", "2026-02-30", "completed_on 30 February"),
        ("completed_on", "", "empty completed_on"),
        ("training", NUL, "training with a NUL", "nul"),
    ),
    *TRAIN.person_ids("nobody", "eve"),
    *TRAIN.preconditions(),
    *TRAIN.idempotency_keys(every=True),
    *PAUSE.person_ids("nobody", "eve"),
    *PAUSE.preconditions(),
    *PAUSE.idempotency_keys(),
    *RESUME.person_ids("nobody", "eve"),
    *RESUME.preconditions(),
    *RESUME.idempotency_keys(),
    # GET /kamus?available=true (any employee) and ?near_limit=true (People Operations)
    AVAILABLE.invalid("available not a boolean", params={"available": "maybe"}),
    NEAR_LIMIT.invalid("near_limit not a boolean", params={"near_limit": "perhaps"}),
    *(
        route.invalid(f"limit {limit}", params={"limit": limit})
        for route in (AVAILABLE, NEAR_LIMIT)
        for limit in (0, 201, -1, "ten")
    ),
    *(
        route.bad(f"cursor {label}", 400, "invalid-cursor", params={"cursor": value})
        for route in (AVAILABLE, NEAR_LIMIT)
        for label, value in (
            ("not base64", "not a cursor!"),
            ("not JSON", cursor("nope")),
            ("a JSON list", cursor("[1]")),
            ("a JSON string", cursor('"after"')),
        )
    ),
    *(
        AVAILABLE.bad(f"cursor {label}", 400, "invalid-cursor", params={"cursor": value}, bug=key)
        for label, value, key in (
            ("without after", encode_cursor({"x": 1}), "cursor"),
            ("with a numeric after", encode_cursor({"after": 5}), "cursor"),
            ("with a NUL in after", encode_cursor({"after": NUL}), "cursor"),
            ("of 2049 characters", "a" * 2049, "long-cursor"),
        )
    ),
    # GET /people/{id}/pairings
    *PERSON_PAIRINGS.person_ids("nobody", bug="unknown-person"),
    # POST /pairings
    *REQUEST_PAIRING.shapes(),
    *REQUEST_PAIRING.fields(
        ("colleague_id", "a b", "colleague_id with a space"),
        ("colleague_id", LONG_ID, "colleague_id too long"),
        ("colleague_id", 5, "colleague_id a number"),
        ("kamu_id", "", "empty kamu_id"),
        ("kamu_id", None, "kamu_id null"),
        ("message", "x" * 2001, "message too long"),
        ("message", ["hi"], "message a list"),
        ("message", NUL, "message with a NUL", "nul"),
    ),
    REQUEST_PAIRING.bad(
        "unknown kamu", 422, "unknown-person", json={**REQUEST, "kamu_id": "nobody"}
    ),
    REQUEST_PAIRING.bad(
        "unknown colleague", 422, "unknown-person", json={**REQUEST, "colleague_id": "nobody"}
    ),
    *REQUEST_PAIRING.idempotency_keys(every=True),
    # POST /pairings/{id}/accept|decline|withdraw|end|change-request
    ACCEPT_PAIRING.bad("malformed JSON", 400, "malformed-json", content=b'{"cadence_weeks": '),
    ACCEPT_PAIRING.invalid("a list", json=[ACCEPT]),
    *ACCEPT_PAIRING.fields(
        ("cadence_weeks", 0, "cadence 0"),
        ("cadence_weeks", 13, "cadence 13"),
        ("cadence_weeks", 1.5, "cadence a fraction"),
        ("cadence_weeks", "two", "cadence a word"),
        ("meeting_minutes", 5, "meeting_minutes 5"),
        ("meeting_minutes", 241, "meeting_minutes 241"),
        ("meeting_minutes", "long", "meeting_minutes a word"),
    ),
    *(
        request
        for route in (ACCEPT_PAIRING, DECLINE, WITHDRAW, END, CHANGE)
        for request in (
            *route.pairing_ids(),
            *route.preconditions(every=route is ACCEPT_PAIRING),
            *route.idempotency_keys(),
        )
    ),
    # GET /pairings/{id}
    *GET_PAIRING.pairing_ids(),
    # Authentication, on every route.
    *(request for route in ROUTES for request in route.unauthenticated()),
    *(
        request
        for route in (PUT_PERSON, ACCEPT_PAIRING, COVERAGE)
        for request in route.unauthenticated(*TOKENS)[1:]
    ),
]


@pytest.mark.parametrize("request_", BAD)
async def test_bad_input_gets_a_problem_and_writes_nothing(service, request_: Bad):
    ids = await world(service)
    before = await written(service)

    response = await request_.send(service, ids)

    assert_problem(response, request_.status, request_.slug)
    assert await written(service) == before


async def test_an_idempotency_key_reused_for_another_request_is_refused(service):
    ids = await world(service)
    key = {"Idempotency-Key": "req-1"}
    async with service.as_(*OPS) as ops:
        first = await ops.post("/pairings", json=REQUEST, headers=key)
        before = await written(service)
        other_body = await ops.post("/pairings", json={**REQUEST, "message": "hi"}, headers=key)
        other_route = await ops.post(f"/pairings/{ids['requested']}/decline", headers=key)

    assert first.status_code == 201, first.text
    assert_problem(other_body, 422, "idempotency-key-reused")
    assert_problem(other_route, 422, "idempotency-key-reused")
    assert await written(service) == before


# ----------------------------------------------------------------------------------------------
# Every rule answers 409 with its slug, and the refused command writes nothing.

Command = tuple[tuple[str, ...], str, str, Any]
"""(caller, method, path, JSON body) of the command the rule refuses."""


async def post(service, caller: tuple[str, ...], path: str, body: Any = None) -> Any:
    async with service.as_(*caller) as client:
        response = await client.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def leave(service, person: str) -> None:
    async with service.as_(*HR) as hr:
        assert (await hr.delete(f"/people/{person}")).status_code == 204


def ask(colleague: str, kamu: str, caller: tuple[str, ...] | None = None) -> Command:
    body = {"colleague_id": colleague, "kamu_id": kamu}
    return (caller or (colleague,)), "POST", "/pairings", body


async def requested(service, colleague: str = "cole", kamu: str = "kim") -> str:
    await service.person(colleague)
    return await service.request(colleague, kamu)


async def active(service, colleague: str = "cole", kamu: str = "kim") -> str:
    pairing_id = await requested(service, colleague, kamu)
    await post(service, (kamu,), f"/pairings/{pairing_id}/accept")
    return pairing_id


def act(caller: tuple[str, ...], pairing_id: str, action: str) -> Command:
    return caller, "POST", f"/pairings/{pairing_id}/{action}", None


async def own_kamu(s) -> Command:
    await s.kamu("kim")
    return ask("kim", "kim")


async def own_manager(s) -> Command:
    await s.person("cole")
    return HR, "PUT", "/people/cole", {**PERSON, "manager_id": "cole"}


async def kamu_is_the_manager(s) -> Command:
    await s.kamu("kim")
    await s.person("cole", manager_id="kim")
    return ask("cole", "kim")


async def kamu_is_a_direct_report(s) -> Command:
    await s.kamu("kim", manager_id="cole")
    await s.person("cole")
    return ask("cole", "kim")


async def kamu_paused(s) -> Command:
    await s.kamu("kim")
    await s.person("cole")
    await post(s, KIM, "/kamus/kim/pause")
    return ask("cole", "kim")


async def kamu_retired(s) -> Command:
    await s.kamu("kim")
    await s.person("cole")
    async with s.as_(*KIM) as kim:
        assert (await kim.delete("/kamus/kim")).status_code == 204
    return ask("cole", "kim")


async def pausing_a_retired_kamu(s) -> Command:
    await kamu_retired(s)
    return KIM, "POST", "/kamus/kim/pause", None


async def accepting_after_retiring(s) -> Command:
    await s.kamu("kim")
    pairing_id = await requested(s)
    async with s.as_(*KIM) as kim:
        assert (await kim.delete("/kamus/kim")).status_code == 204
    return act(KIM, pairing_id, "accept")


async def not_a_kamu(s) -> Command:
    await s.person("cole")
    await s.person("eve")
    return ask("cole", "eve")


async def already_paired(s) -> Command:
    await s.kamu("kim")
    await s.kamu("kai")
    await active(s)
    return ask("cole", "kai")


async def already_paired_on_acceptance(s) -> Command:
    await s.kamu("kim")
    await s.kamu("kai")
    second = await requested(s, "cole", "kai")
    await active(s)
    return act(("kai",), second, "accept")


async def kamu_at_capacity(s) -> Command:
    await s.kamu("kim", capacity=1)
    await active(s, "cole")
    return act(KIM, await requested(s, "dan"), "accept")


async def kamu_hours_exceeded(s) -> Command:
    await s.kamu("kim", hours=1)  # one 60-minute meeting every 2 weeks is 2.2 h a month
    return act(KIM, await requested(s), "accept")


async def training_required(s) -> Command:
    await s.kamu("kim", trained=False)
    return act(KIM, await requested(s), "accept")


async def accepting_twice(s) -> Command:
    await s.kamu("kim")
    return act(KIM, await active(s), "accept")


async def declining_an_active_pairing(s) -> Command:
    await s.kamu("kim")
    return act(OPS, await active(s), "decline")


async def withdrawing_a_declined_request(s) -> Command:
    await s.kamu("kim")
    pairing_id = await requested(s)
    await post(s, KIM, f"/pairings/{pairing_id}/decline")
    return act(COLE, pairing_id, "withdraw")


async def ending_a_request(s) -> Command:
    await s.kamu("kim")
    return act(COLE, await requested(s), "end")


async def asking_for_a_change_of_a_request(s) -> Command:
    await s.kamu("kim")
    return act(COLE, await requested(s), "change-request")


async def a_colleague_who_left(s) -> Command:
    await s.kamu("kim")
    await s.person("cole")
    await leave(s, "cole")
    return ask("cole", "kim", caller=OPS)


async def a_kamu_who_left(s) -> Command:
    await s.kamu("kim")
    await s.person("cole")
    await leave(s, "kim")
    return ask("cole", "kim")


async def volunteering_after_leaving(s) -> Command:
    await s.person("cole")
    await leave(s, "cole")
    return OPS, "PUT", "/kamus/cole", KAMU


async def syncing_someone_who_left(s) -> Command:
    await s.person("cole")
    await leave(s, "cole")
    return HR, "PUT", "/people/cole", PERSON


RULES: list[tuple[str, Callable[[Any], Awaitable[Command]]]] = [
    ("own-kamu", own_kamu),
    ("own-manager", own_manager),
    ("manager-pairing", kamu_is_the_manager),
    ("manager-pairing", kamu_is_a_direct_report),
    ("kamu-paused", kamu_paused),
    ("kamu-retired", kamu_retired),
    ("kamu-retired", pausing_a_retired_kamu),
    ("kamu-retired", accepting_after_retiring),
    ("not-a-kamu", not_a_kamu),
    ("already-paired", already_paired),
    ("already-paired", already_paired_on_acceptance),
    ("kamu-at-capacity", kamu_at_capacity),
    ("kamu-hours-exceeded", kamu_hours_exceeded),
    ("training-required", training_required),
    ("pairing-not-requested", accepting_twice),
    ("pairing-not-requested", declining_an_active_pairing),
    ("pairing-not-requested", withdrawing_a_declined_request),
    ("pairing-not-active", ending_a_request),
    ("pairing-not-active", asking_for_a_change_of_a_request),
    ("person-left", a_colleague_who_left),
    ("person-left", a_kamu_who_left),
    ("person-left", volunteering_after_leaving),
    ("person-left", syncing_someone_who_left),
]


@pytest.mark.parametrize(
    ("slug", "arrange"), [pytest.param(s, a, id=f"{s}: {a.__name__}") for s, a in RULES]
)
async def test_a_rule_violation_is_a_409_with_its_slug_and_writes_nothing(service, slug, arrange):
    caller, method, path, body = await arrange(service)
    before = await written(service)

    async with service.as_(*caller) as client:
        headers = {"Idempotency-Key": "refused-1"} if method == "POST" else {}
        response = await client.request(method, path, json=body, headers=headers)

    assert_problem(response, 409, slug)
    assert await written(service) == before


# ----------------------------------------------------------------------------------------------
# The final sweep: junk at every route, and not one 5xx.

JUNK_VALUES: tuple[Any, ...] = (
    None,
    "",
    "x" * 10_000,
    "\u202e\u200b",
    "\ud800",
    "😀" * 300,
    -1,
    0,
    10**30,
    1.5e308,
    float("nan"),
    True,
    [],
    {},
    [[[[[]]]]],
)
JUNK_BODIES = (
    b"",
    b"{",
    b"null",
    b"0",
    b'"x"',
    b"[]",
    b"{}",
    b"\xff\xfe",
    b"[" * 100_000,
    b'{"a": 1e999}',
)
JUNK_HEADERS = (
    {"If-Match": "*"},
    {"If-Match": '"' + "v" * 5000 + '"'},
    {"If-Match": '"v1", W/"v2", garbage'},
    {"Idempotency-Key": "k" * 5000},
    {"Idempotency-Key": '"quoted"'},
    {"X-Correlation-ID": "c" * 5000},
    {"content-type": "application/json; charset=latin-1"},
)
JUNK_IDS = ("%00", "..", "%2e%2e", "a%2Fb", "x" * 5000, "%F0%9F%98%80", "%ff", "-", ":@.")
JUNK_QUERIES = (
    {"limit": 10**20},
    {"limit": ""},
    {"cursor": ""},
    {"cursor": "=" * 10},
    {"cursor": encode_cursor({"after": "zzz"})},
    {"available": "", "near_limit": ""},
    {"available": ["true", "false"]},
)


async def test_no_input_gets_a_server_error(service):
    ids = await world(service)
    answers: list[tuple[str, int, str]] = []

    async def send(route: Route, path: str, **kw: Any) -> None:
        async with service.as_(*route.caller) as client:
            response = await client.request(route.method, path.format(**ids), **kw)
        answers.append((f"{route.method} {path} {kw}"[:300], response.status_code, response.text))
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", answers[-1]

    for route in ROUTES:
        path = route.path.replace("<id>", route.ok_id)
        params = route.params
        for junk_id in JUNK_IDS if "<id>" in route.path else ():
            await send(route, route.path.replace("<id>", junk_id), params=params)
        for query in JUNK_QUERIES:
            await send(route, path, params={**params, **query})
        for headers in JUNK_HEADERS:
            await send(route, path, params=params, headers=headers, json=route.body)
        if route.method in ("GET", "DELETE"):
            continue
        for body in JUNK_BODIES:
            headers = {"content-type": "application/json"}
            await send(route, path, params=params, content=body, headers=headers)
        for name in route.body or {}:
            for value in JUNK_VALUES:
                body = json.dumps({**(route.body or {}), name: value}).encode()  # NaN, \ud800
                headers = {"content-type": "application/json"}
                await send(route, path, params=params, content=body, headers=headers)
            extra = {**(route.body or {}), "unexpected": 1}
            await send(route, path, params=params, json=extra)

    assert len(answers) > 500
    assert [a for a in answers if a[1] >= 500] == []


@pytest.mark.regression
async def test_a_nul_in_the_correlation_id_is_no_server_error(service):
    async with service.as_(*HR) as hr:
        response = await hr.put("/people/nia", json=PERSON, headers={"X-Correlation-ID": "a\x00b"})

    assert response.status_code < 500, response.text


def test_the_tables_cover_every_route_of_the_brief():
    """The tables above name every route the brief lists, and no case twice."""
    assert {r.name for r in ROUTES} >= {
        "PUT /people/{id}",
        "GET /people/{id}",
        "DELETE /people/{id}",
        "PUT /kamus/{id}",
        "GET /kamus/{id}",
        "DELETE /kamus/{id}",
        "POST /kamus/{id}/training",
        "POST /kamus/{id}/pause",
        "POST /kamus/{id}/resume",
        "GET /kamus?available=true",
        "GET /kamus?near_limit=true",
        "GET /people/{id}/pairings",
        "POST /pairings",
        "POST /pairings/{id}/accept",
        "POST /pairings/{id}/decline",
        "POST /pairings/{id}/withdraw",
        "POST /pairings/{id}/end",
        "POST /pairings/{id}/change-request",
        "GET /pairings/{id}",
        "GET /coverage",
    }
    ids = [p.id for p in BAD]
    assert len(ids) == len(set(ids)), "case names must be unique"
