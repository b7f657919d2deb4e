"""Who sees what in the notifications API: a person's preferences, inbox and read marks are
theirs alone (404 for anyone else, whatever their roles); a notification's delivery history is
for its recipient (with its subject) and for operators (admin, service: without it); no token
is a 401. Each test runs on a service of its own (the ``service`` fixture) with people of its
own, one of whom has been asked for pairing and so has a notification on every channel.
"""

import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from kamu_notifications.domain import inbound
from kamu_shared.auth.mint import mint_token
from kamu_shared.testing.problems import assert_problem
from kamu_shared.testing.waiting import eventually

COLLEAGUE_NAME = "Aino Virtanen"
CHANNELS = {"email", "slack", "teams", "webhook", "inapp"}


def new_id(prefix: str = "p") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def assert_hidden(response: httpx.Response, *secrets: str) -> None:
    """A 404 problem that gives away none of ``secrets``."""
    assert_problem(response, 404, "not-found")
    for secret in secrets:
        assert secret not in response.text


class World:
    """A Kamu with a webhook of their own, asked for pairing by a colleague: one notification,
    delivered on every channel and settled."""

    def __init__(self, colleague: str, kamu: str, notification_id: str, prefs: dict) -> None:
        self.colleague = colleague
        self.kamu = kamu
        self.notification_id = notification_id
        self.prefs = prefs

    @property
    def secrets(self) -> tuple[str, ...]:
        """What nobody but the Kamu may read."""
        return (self.prefs["webhook_url"], self.prefs["webhook_secret"], COLLEAGUE_NAME)


async def world(service) -> World:
    colleague = await service.person(new_id("c"), display_name=COLLEAGUE_NAME)
    kamu = await service.person(new_id("k"), slack_user_id="U1", teams_user_id="T1")
    async with service.as_(kamu) as client:
        put = await client.put(
            f"/people/{kamu}/preferences",
            json={"webhook_url": f"{service.receiver.url}/hook/{kamu}"},
        )
    assert put.status_code == 200, put.text
    await service.pairing_event(inbound.PairingRequested, colleague, kamu)
    rows = await service.settled(5, kamu)
    assert {r["channel"] for r in rows} == CHANNELS

    async def in_inbox():
        return await service.pool.fetchval(
            "SELECT notification_id FROM notifications_inbox WHERE person_id = $1", kamu
        )

    notification_id = str(await eventually(in_inbox))
    return World(colleague, kamu, notification_id, put.json())


async def written(service) -> dict[str, Any]:
    counts = {
        t: await service.pool.fetchval(f"SELECT count(*) FROM {t}")
        for t in ("kamu_events", "kamu_streams", "kamu_idempotency_keys")
    }
    rows = {
        t: [dict(r) for r in await service.pool.fetch(f"SELECT * FROM {t} ORDER BY 1")]
        for t in ("notifications_preferences", "notifications_inbox")
    }
    return {"counts": counts, "rows": rows}


async def unread(service, w: World) -> list[str]:
    async with service.as_(w.kamu) as client:
        inbox = await client.get(f"/people/{w.kamu}/inbox", params={"unread": "true"})
    assert inbox.status_code == 200, inbox.text
    return [item["id"] for item in inbox.json()["items"]]


# ----------------------------------------------------------------------------------------------
# Preferences, inbox and read marks: the person's own.

OUTSIDERS = [
    pytest.param(("employee",), id="another employee"),
    pytest.param(("people-ops",), id="people-ops"),
    pytest.param(("admin",), id="admin"),
    pytest.param(("service",), id="a service"),
    pytest.param(("employee", "people-ops", "service", "admin"), id="every role"),
]


@pytest.mark.parametrize("roles", OUTSIDERS)
async def test_a_persons_preferences_inbox_and_read_marks_are_404_to_anyone_else(service, roles):
    w = await world(service)
    outsider = new_id("o")
    before = await written(service)
    read_path = f"/people/{w.kamu}/inbox/{w.notification_id}/read"

    async with service.as_(outsider, *roles) as client:
        answers = {
            "GET preferences": await client.get(f"/people/{w.kamu}/preferences"),
            "PUT preferences": await client.put(
                f"/people/{w.kamu}/preferences",
                json={"channels": {"email": False}, "webhook_url": "https://evil.example.org/"},
            ),
            "PUT preferences with If-Match": await client.put(
                f"/people/{w.kamu}/preferences",
                json={"digest": "daily"},
                headers={"If-Match": '"v1"'},
            ),
            "GET inbox": await client.get(f"/people/{w.kamu}/inbox"),
            "GET unread inbox": await client.get(
                f"/people/{w.kamu}/inbox", params={"unread": "true", "limit": 1}
            ),
            "POST read": await client.post(read_path),
            "POST read with a key": await client.post(
                read_path, headers={"Idempotency-Key": str(uuid.uuid4())}
            ),
        }

    for answer in answers.values():
        assert_hidden(answer, *w.secrets, w.notification_id)
    assert await written(service) == before
    assert await unread(service, w) == [w.notification_id]
    async with service.as_(w.kamu) as client:
        own = await client.get(f"/people/{w.kamu}/preferences")
    assert own.json() == w.prefs


async def test_a_404_does_not_tell_a_known_person_from_an_unknown_one(service):
    w = await world(service)
    nobody = new_id("nobody")

    async with service.as_(new_id("o"), "people-ops", "admin") as client:
        pairs = [
            (await client.get(f"/people/{who}/preferences"), who) for who in (w.kamu, nobody)
        ] + [(await client.get(f"/people/{who}/inbox"), who) for who in (w.kamu, nobody)]

    shapes = set()
    for answer, who in pairs:
        body = assert_problem(answer, 404, "not-found")
        shapes.add((body["title"], body.get("detail", "").replace(who, "<id>")))
    assert len(shapes) == 2  # one shape for preferences, one for the inbox


@pytest.mark.parametrize(
    ("caller", "roles"),
    [
        pytest.param("colleague", ("employee",), id="the colleague who caused it"),
        pytest.param("outsider", ("employee",), id="another employee"),
        pytest.param("outsider", ("admin",), id="an admin"),
        pytest.param("outsider", ("service", "people-ops"), id="a service in people-ops"),
    ],
)
async def test_marking_someone_elses_notification_read_in_your_own_inbox_is_404(
    service, caller, roles
):
    w = await world(service)
    me = w.colleague if caller == "colleague" else new_id("o")
    before = await written(service)

    async with service.as_(me, *roles) as client:
        plain = await client.post(f"/people/{me}/inbox/{w.notification_id}/read")
        keyed = await client.post(
            f"/people/{me}/inbox/{w.notification_id}/read",
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        own_inbox = await client.get(f"/people/{me}/inbox")

    assert_hidden(plain, COLLEAGUE_NAME)
    assert_hidden(keyed, COLLEAGUE_NAME)
    assert await written(service) == before
    assert await unread(service, w) == [w.notification_id]
    assert own_inbox.status_code == 200, own_inbox.text
    assert w.notification_id not in {item["id"] for item in own_inbox.json()["items"]}


async def test_the_owner_marks_their_own_notification_read(service):
    w = await world(service)
    async with service.as_(w.kamu) as client:
        marked = await client.post(f"/people/{w.kamu}/inbox/{w.notification_id}/read")
        inbox = await client.get(f"/people/{w.kamu}/inbox")

    assert marked.status_code == 200, marked.text
    assert marked.json()["id"] == w.notification_id
    assert marked.json()["read_at"] is not None
    assert await unread(service, w) == []
    assert [item["read_at"] for item in inbox.json()["items"]] == [marked.json()["read_at"]]


async def test_roles_do_not_stop_a_person_using_their_own_preferences_and_inbox(service):
    w = await world(service)
    async with service.as_(w.kamu, "employee", "people-ops", "admin", "service") as client:
        prefs = await client.get(f"/people/{w.kamu}/preferences")
        inbox = await client.get(f"/people/{w.kamu}/inbox")

    assert prefs.status_code == 200, prefs.text
    assert prefs.json()["webhook_secret"] == w.prefs["webhook_secret"]
    assert [item["id"] for item in inbox.json()["items"]] == [w.notification_id]


async def test_the_webhook_secret_is_shown_to_the_person_only(service):
    w = await world(service)
    secret = w.prefs["webhook_secret"]
    other = new_id("o")
    async with service.as_(other) as client:
        same_url = await client.put(
            f"/people/{other}/preferences", json={"webhook_url": w.prefs["webhook_url"]}
        )
    async with service.as_(w.kamu) as client:
        own = await client.get(f"/people/{w.kamu}/preferences")
    seen_by_others = []
    for roles in (("employee",), ("people-ops",), ("admin",), ("service",)):
        async with service.as_(new_id("o"), *roles) as client:
            seen_by_others += [
                await client.get(f"/people/{w.kamu}/preferences"),
                await client.get(f"/notifications/{w.notification_id}"),
                await client.get(f"/people/{w.kamu}/inbox"),
            ]

    assert secret.startswith("whsec_")
    assert own.json()["webhook_secret"] == secret
    assert same_url.status_code == 200, same_url.text
    assert same_url.json()["webhook_secret"].startswith("whsec_")
    assert same_url.json()["webhook_secret"] != secret
    for answer in seen_by_others:
        assert answer.status_code in (200, 404), answer.text
        assert secret not in answer.text
        assert secret.removeprefix("whsec_") not in answer.text
        assert w.prefs["webhook_url"] not in answer.text


# ----------------------------------------------------------------------------------------------
# GET /notifications/{id}: the recipient, with the subject; operators, without it.


async def test_the_recipient_sees_the_delivery_history_with_its_subject(service):
    w = await world(service)
    async with service.as_(w.kamu) as client:
        response = await client.get(f"/notifications/{w.notification_id}")

    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["id"] == w.notification_id
    assert shown["recipient_id"] == w.kamu
    assert shown["kind"] == "pairing-requested"
    assert COLLEAGUE_NAME in shown["subject"]
    assert {d["channel"]: d["status"] for d in shown["deliveries"]} == dict.fromkeys(
        CHANNELS, "sent"
    )
    for delivery in shown["deliveries"]:
        assert [a["outcome"] for a in delivery["history"]] == ["sent"]


@pytest.mark.parametrize(
    "roles",
    [
        pytest.param(("admin",), id="admin"),
        pytest.param(("service",), id="a service"),
        pytest.param(("employee", "admin"), id="an employee who is an admin"),
        pytest.param(("people-ops", "service"), id="a service in people-ops"),
    ],
)
async def test_operators_see_the_delivery_history_without_the_subject(service, roles):
    w = await world(service)
    async with service.as_(w.kamu) as client:
        own = (await client.get(f"/notifications/{w.notification_id}")).json()
    async with service.as_(new_id("op"), *roles) as client:
        response = await client.get(f"/notifications/{w.notification_id}")

    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["subject"] is None
    assert shown["id"] == w.notification_id
    assert shown["recipient_id"] == w.kamu
    assert shown["deliveries"] == own["deliveries"]
    for secret in w.secrets:
        assert secret not in response.text
    assert own["subject"] not in response.text


@pytest.mark.parametrize(
    ("caller", "roles"),
    [
        pytest.param("outsider", ("employee",), id="another employee"),
        pytest.param("outsider", ("people-ops",), id="people-ops"),
        pytest.param("outsider", ("employee", "people-ops"), id="an employee in people-ops"),
        pytest.param("colleague", ("employee",), id="the colleague who caused it"),
        pytest.param("colleague", ("people-ops",), id="the colleague, in people-ops"),
    ],
)
async def test_anyone_else_gets_404_for_a_notification(service, caller, roles):
    w = await world(service)
    me = w.colleague if caller == "colleague" else new_id("o")
    async with service.as_(me, *roles) as client:
        response = await client.get(f"/notifications/{w.notification_id}")
        unknown = await client.get(f"/notifications/{uuid.uuid4()}")

    assert_hidden(response, *w.secrets, w.kamu, "pairing-requested")
    assert_problem(unknown, 404, "not-found")
    assert response.json()["title"] == unknown.json()["title"]


# ----------------------------------------------------------------------------------------------
# No token, or one the service must refuse: 401 on every route.


def refused_token(service, kind: str, sub: str) -> str | None:
    secret = service.settings.jwt_secret.get_secret_value()
    claims = {"sub": sub, "roles": ["employee"], "iss": "kamu", "aud": "kamu"}
    if kind == "missing":
        return None
    if kind == "garbage":
        return "Bearer not.a.jwt"
    if kind == "basic":
        return "Basic a2FtdTpzZWNyZXQ="
    if kind == "unsigned":
        return "Bearer " + jwt.encode({**claims, "exp": time.time() + 600}, None, algorithm="none")
    if kind == "expired":
        return "Bearer " + mint_token(
            secret=secret, sub=sub, roles=["employee"], now=time.time() - 7200, ttl_seconds=60
        )
    if kind == "forged":
        other = "another-secret-of-at-least-32-bytes!!"
        return "Bearer " + mint_token(secret=other, sub=sub, roles=["employee"])
    if kind == "other-audience":
        return "Bearer " + mint_token(
            secret=secret, sub=sub, roles=["employee"], audience="elsewhere"
        )
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind", ["missing", "garbage", "basic", "unsigned", "expired", "forged", "other-audience"]
)
async def test_without_a_valid_token_every_route_is_401(service, kind):
    w = await world(service)
    before = await written(service)
    header = refused_token(service, kind, w.kamu)
    routes = [
        ("GET", f"/people/{w.kamu}/preferences", {}),
        ("PUT", f"/people/{w.kamu}/preferences", {"json": {"digest": "daily"}}),
        ("GET", f"/people/{w.kamu}/inbox", {}),
        ("POST", f"/people/{w.kamu}/inbox/{w.notification_id}/read", {}),
        ("GET", f"/notifications/{w.notification_id}", {}),
    ]

    async with service.as_(w.kamu) as client:
        if header is None:
            del client.headers["Authorization"]
        else:
            client.headers["Authorization"] = header
        answers = [await client.request(method, path, **kw) for method, path, kw in routes]

    for answer in answers:
        assert_problem(answer, 401)
        for secret in w.secrets:
            assert secret not in answer.text
    assert await written(service) == before
    assert await unread(service, w) == [w.notification_id]
