"""API tests of the notifications routes with bad input: each gets a problem+json, never a 500,
and nothing is written.

Route by route: ``PUT /people/{id}/preferences`` (times, quiet hours, channels, digest, webhook
addresses, body shapes, ``If-Match``), ``GET /people/{id}/inbox`` (limit, cursor, unread),
``POST /people/{id}/inbox/{notification_id}/read`` (ids, ``Idempotency-Key``) and
``GET /notifications/{id}``; then what a good ``PUT`` writes, so the refusals can be told apart
from a PUT that merely changed nothing.

The tables run against one service per module (a service per case would take minutes): each
case has people of its own and compares the rows before and after itself. Cases that need
other settings start a service of their own (the ``start`` fixture). Cases marked
``regression`` found a bug; the reason by each says what it is.
"""

import asyncio
import base64
import copy
import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
import structlog

from kamu_devstack.probes import database_url, ensure_databases
from kamu_notifications.app import create_app
from kamu_notifications.domain import inbound
from kamu_notifications.settings import NotificationsSettings
from kamu_shared.auth.mint import mint_token
from kamu_shared.testing.problems import assert_problem
from kamu_shared.testing.receivers import http_receiver, smtp_receiver
from kamu_shared.testing.upstream import Upstream
from kamu_shared.testing.waiting import eventually
from kamu_shared.web.pagination import encode_cursor

PREFERENCES_SET = "kamu.notifications.preferences-set.v1"
NUL = "a\x00b"
LONG_PERSON = "a" * 101  # person ids: 1 to 100 of [A-Za-z0-9._@:-]
DELETE: Any = object()  # a field left out of the body

# What a person sets first (so a refused PUT has something to leave as it was) ...
SEEDED = {
    "channels": {"email": True, "slack": True, "teams": False, "webhook": True, "inapp": True},
    "quiet_hours": {"start": "21:00", "end": "06:30"},
    "webhook_url": "https://seeded.example.org/kamu",
    "digest": "off",
    "digest_at": "09:15",
}
# ... and the good change each bad case spoils in one place.
GOOD = {
    "channels": {"email": True, "slack": False, "teams": True, "webhook": True, "inapp": True},
    "quiet_hours": {"start": "22:00", "end": "07:00"},
    "webhook_url": "https://hooks.example.org/kamu",
    "digest": "daily",
    "digest_at": "08:30",
}


def new_person() -> str:
    return f"p-{uuid.uuid4().hex[:8]}"


# ----------------------------------------------------------------------------------------------
# One running service for the module, on the session's real PostgreSQL and Kafka.


class Stack:
    """The notifications service with a database, a topic namespace, an SMTP server and an
    HTTP receiver of its own; the helpers these tests use of conftest's ``Service``."""

    def __init__(self, app: Any, settings: NotificationsSettings, upstream: Upstream) -> None:
        self.app = app
        self.settings = settings
        self.upstream = upstream

    @property
    def pool(self) -> Any:
        return self.app.state.runtime.pool

    def as_(self, sub: str, *roles: str) -> httpx.AsyncClient:
        token = mint_token(
            secret=self.settings.jwt_secret.get_secret_value(),
            sub=sub,
            roles=list(roles or ("employee",)),
        )
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://notifications",
            headers={"Authorization": f"Bearer {token}"},
        )

    async def person(self, person_id: str | None = None, **fields: Any) -> str:
        person_id = person_id or new_person()
        event = inbound.PersonRegistered(
            person_id=person_id,
            display_name=fields.pop("display_name", f"Person {person_id}"),
            email=f"{person_id}@example.org",
            locale="en",
            time_zone="Europe/Helsinki",
            **fields,
        )
        await self.upstream.publish(inbound.pairing_events, event, f"person-{person_id}")

        async def known() -> Any:
            return await self.pool.fetchval(
                "SELECT 1 FROM notifications_people WHERE person_id = $1", person_id
            )

        await eventually(known)
        return person_id

    async def pairing_event(self, cls: Any, colleague: str, kamu: str) -> str:
        pairing_id = str(uuid.uuid4())
        event = cls(pairing_id=pairing_id, colleague_id=colleague, kamu_id=kamu)
        await self.upstream.publish(inbound.pairing_events, event, f"pairing-{pairing_id}")
        return pairing_id

    async def settled(self, count: int, recipient: str) -> list[dict]:
        """Waits until ``count`` deliveries to ``recipient`` exist and none is under way."""

        async def done() -> Any:
            rows = await self.pool.fetch(
                "SELECT * FROM notifications_deliveries WHERE recipient_id = $1", recipient
            )
            if len(rows) < count or any(r["status"] in ("pending", "sending") for r in rows):
                return None
            return [dict(r) for r in rows]

        return await eventually(done, timeout=20)


@pytest.fixture(scope="module", autouse=True)
def plain_tracebacks():
    """Unconfigured (as in tests), structlog draws each logged traceback with rich, which takes
    seconds per 500; plain text here, the configuration as it was afterwards."""
    saved = structlog.get_config()
    renderer = structlog.dev.ConsoleRenderer(
        colors=False, exception_formatter=structlog.dev.plain_traceback
    )
    structlog.configure(processors=[*saved["processors"][:-1], renderer])
    yield
    structlog.configure(**saved)


@pytest.fixture(scope="module")
async def stack(postgres_url, kafka_bootstrap):
    name = f"kamu_t_notifications_{uuid.uuid4().hex[:10]}"
    await ensure_databases(postgres_url, [name])
    try:
        async with smtp_receiver() as smtp, http_receiver() as receiver:
            settings = NotificationsSettings(
                database_url=database_url(postgres_url, name),
                kafka_bootstrap=kafka_bootstrap,
                jwt_secret="notifications-bad-input-secret-of-32-bytes!",
                topic_namespace=f"t{uuid.uuid4().hex[:10]}",
                relay_poll_interval_seconds=0.1,
                consumer_backoff_initial_seconds=0.05,
                consumer_retry_attempts=2,
                log_format="console",
                smtp_host="127.0.0.1",
                smtp_port=smtp.port,
                slack_webhook_url=f"{receiver.url}/slack",
                teams_webhook_url=f"{receiver.url}/teams",
                webhook_allow_http=True,
                webhook_allow_private=True,
                dispatch_poll_seconds=0.1,
                retry_initial_seconds=0.2,
                retry_max_seconds=1.0,
                send_timeout_seconds=2.0,
                lease_seconds=5.0,
            )
            registries = (inbound.pairing_events, inbound.meeting_events, inbound.goal_events)
            upstream = Upstream(kafka_bootstrap, settings.topic_namespace, registries)
            app = create_app(settings)
            async with upstream, app.router.lifespan_context(app):
                yield Stack(app, settings, upstream)
    finally:
        conn = await asyncpg.connect(postgres_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


# ----------------------------------------------------------------------------------------------
# What a problem looks like, and what "nothing written" means.


COUNTED = ("kamu_events", "kamu_streams", "kamu_idempotency_keys")
COMPARED = {
    "notifications_preferences": "person_id",
    "notifications_inbox": "notification_id",
    "notifications_notifications": "notification_id",
}


async def written(service) -> dict[str, Any]:
    """Rows of the event store and the idempotency keys, and the full rows of the state tables
    a request could change (an UPDATE is a write too)."""
    counts = {t: await service.pool.fetchval(f"SELECT count(*) FROM {t}") for t in COUNTED}
    rows = {
        t: [dict(r) for r in await service.pool.fetch(f"SELECT * FROM {t} ORDER BY {key}")]
        for t, key in COMPARED.items()
    }
    return {"counts": counts, "rows": rows}


async def preferences_set_count(service, person: str) -> int:
    """How many preferences-set events the person's preferences stream holds."""
    return await service.pool.fetchval(
        "SELECT count(*) FROM kamu_events WHERE event_type = $1 AND data->>'person_id' = $2",
        PREFERENCES_SET,
        person,
    )


async def seeded(service, person: str) -> dict:
    """The person with their first preferences (version 1)."""
    async with service.as_(person) as client:
        response = await client.put(f"/people/{person}/preferences", json=SEEDED)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1
    return response.json()


async def notified(service, colleague: str | None = None, kamu: str | None = None):
    """A colleague asks a Kamu for pairing: the Kamu's inbox gets one notification, and every
    delivery of it has settled (nothing is written behind a test's back afterwards)."""
    colleague = await service.person(colleague, display_name="Aino Virtanen")
    kamu = await service.person(kamu)
    await service.pairing_event(inbound.PairingRequested, colleague, kamu)
    rows = await service.settled(4, kamu)
    assert {r["channel"] for r in rows} == {"email", "slack", "teams", "inapp"}

    async def in_inbox():
        return await service.pool.fetchval(
            "SELECT notification_id FROM notifications_inbox WHERE person_id = $1", kamu
        )

    notification_id = await eventually(in_inbox)
    return colleague, kamu, str(notification_id)


def changed(dotted: str, value: Any) -> dict:
    """GOOD with one (possibly nested) field replaced, or left out if ``value`` is DELETE."""
    body = copy.deepcopy(GOOD)
    *parents, name = dotted.split(".")
    node = body
    for parent in parents:
        node = node[parent]
    if value is DELETE:
        del node[name]
    else:
        node[name] = value
    return body


def cursor_of(raw: str | bytes) -> str:
    """A cursor in the right alphabet whose decoded bytes are ``raw``."""
    data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# ----------------------------------------------------------------------------------------------
# PUT /people/{id}/preferences: bad bodies (the person's preferences stay as they were).

REGRESSION = pytest.mark.regression


def case(label: str, body: Any, status: int = 422, slug: str | None = None, *marks) -> Any:
    """A bad JSON body; ``slug`` defaults to validation-failed for a 422."""
    if slug is None and status == 422:
        slug = "validation-failed"
    return pytest.param(body, status, slug, id=label, marks=marks)


def raw(label: str, content: bytes, status: int, slug: str | None, **headers: str) -> Any:
    """A body given as bytes (not JSON, or JSON Python's encoder would not write)."""
    return pytest.param(
        (content, headers or {"content-type": "application/json"}), status, slug, id=label
    )


NOT_A_URL = pytest.mark.regression  # was a bug: such strings were stored as addresses

BAD_TIMES = [
    ("25:00", "hour 25"),
    ("24:00", "hour 24"),
    ("7:00", "one-digit hour"),
    ("12:60", "minute 60"),
    ("12:00:60", "second 60"),
    ("", "empty"),
    ("noon", "a word"),
    ("12.00", "a dot"),
    ("12:00\n", "a trailing newline"),
    ("12:00+02:00", "an offset"),
    (12, "a number"),
    (["12:00"], "a list"),
]
TIME_FIELDS = ("quiet_hours.start", "quiet_hours.end", "digest_at")

BAD_PREFERENCES = [
    *(
        case(f"{field} {label}", changed(field, value))
        for field in TIME_FIELDS
        for value, label in BAD_TIMES
    ),
    case("quiet_hours.start null", changed("quiet_hours.start", None)),
    case("quiet_hours.end null", changed("quiet_hours.end", None)),
    case("quiet_hours without end", changed("quiet_hours.end", DELETE)),
    case("quiet_hours without start", changed("quiet_hours.start", DELETE)),
    case("quiet_hours empty", changed("quiet_hours", {})),
    case("quiet_hours a string", changed("quiet_hours", "22:00-07:00")),
    case("quiet_hours a list", changed("quiet_hours", ["22:00", "07:00"])),
    case("quiet_hours with a zone", changed("quiet_hours", {**GOOD["quiet_hours"], "zone": "UTC"})),
    case(
        "quiet_hours start == end",
        changed("quiet_hours", {"start": "09:00", "end": "09:00"}),
        422,
        "empty-quiet-hours",
    ),
    case(
        "quiet_hours start == end, one with seconds",
        changed("quiet_hours", {"start": "09:00", "end": "09:00:00"}),
        422,
        "",  # either refusal will do: seconds are optional
    ),
    *(
        case(f"channel {name}", changed(f"channels.{name}", True))
        for name in ("sms", "Email", "in_app", "push", "")
    ),
    *(
        case(f"channels.{channel} {label}", changed(f"channels.{channel}", value))
        for channel in ("email", "inapp", "webhook")
        for value, label in (
            ("yes", "'yes'"),
            ("true", "'true'"),
            (1, "1"),
            (0, "0"),
            (None, "null"),
            ([True], "a list"),
        )
    ),
    case("channels null", changed("channels", None)),
    case("channels a list", changed("channels", ["email"])),
    case("channels a string", changed("channels", "all")),
    *(
        case(f"digest {label}", changed("digest", value))
        for value, label in (
            ("weekly", "weekly"),
            ("", "empty"),
            ("Daily", "in capitals"),
            (" daily", "with a space"),
            (None, "null"),
            (1, "a number"),
            (True, "true"),
            (["daily"], "a list"),
        )
    ),
    *(
        case(f"webhook_url {label}", changed("webhook_url", url), 422, "invalid-webhook-url")
        for url, label in (
            ("not a url", "not a URL"),
            ("", "empty"),
            ("hooks.example.org/kamu", "without a scheme"),
            ("//hooks.example.org/kamu", "scheme-relative"),
            ("ftp://hooks.example.org/kamu", "ftp"),
            ("file:///etc/passwd", "file"),
            ("javascript:alert(1)", "javascript"),
            ("mailto:kamu@example.org", "mailto"),
            ("https://", "without a host"),
            ("https:///kamu", "with an empty host"),
            ("https://user:secret@hooks.example.org/kamu", "with credentials"),
            ("https://user@hooks.example.org/kamu", "with a user name"),
            ("https://hooks.example.org/kamu#part", "with a fragment"),
            ("https://hooks.example.org/kamu#", "with an empty fragment"),
            ("https://hooks.example.org:0/kamu", "port 0"),
            ("https://hooks.example.org:99999/kamu", "port 99999"),
            ("https://hooks.example.org:-1/kamu", "port -1"),
            ("https://hooks.example.org:http/kamu", "port a word"),
            ("https://[::1/kamu", "an unclosed IPv6 address"),
        )
    ),
    *(
        case(
            f"webhook_url {label}",
            changed("webhook_url", url),
            422,
            "invalid-webhook-url",
            REGRESSION,
            NOT_A_URL,
        )
        for url, label in (
            ("https://hooks example.org/kamu", "with a space in the host"),
            ("https://hooks.exa\tmple.org/kamu", "with a tab in the host"),
            ("https://hooks.example.org/ka\nmu", "with a newline"),
            (" https://hooks.example.org/kamu", "with a leading space"),
        )
    ),
    case(
        "webhook_url of 2001 characters",
        changed("webhook_url", "https://hooks.example.org/" + "a" * (2001 - 26)),
    ),
    case(
        "webhook_url of 500000 characters", changed("webhook_url", "https://x.org/" + "a" * 500_000)
    ),
    case("webhook_url a number", changed("webhook_url", 5)),
    case("webhook_url a list", changed("webhook_url", [GOOD["webhook_url"]])),
    case("webhook_url an object", changed("webhook_url", {"url": GOOD["webhook_url"]})),
    case("digest of 500000 characters", changed("digest", "d" * 500_000)),
    case("quiet_hours.start of 500000 characters", changed("quiet_hours.start", "1" * 500_000)),
    case("a list", [GOOD]),
    case("a string", "daily"),
    case("a number", 5),
    raw("null", b"null", 422, "validation-failed"),
    raw("no body", b"", 422, "validation-failed"),
    raw("malformed JSON", b'{"digest": ', 400, "malformed-json"),
    raw("not JSON at all", b"digest=daily", 400, "malformed-json"),
    raw("single quotes", b"{'digest': 'daily'}", 400, "malformed-json"),
    raw("trailing comma", b'{"digest": "daily",}', 400, "malformed-json"),
    raw(
        "text/plain",
        b'{"digest": "daily"}',
        422,
        "validation-failed",
        **{"content-type": "text/plain"},
    ),
    raw("a lone surrogate", b'{"webhook_url": "https://x.org/\\ud800"}', 422, "validation-failed"),
    raw("a NUL escaped", b'{"webhook_url": "https://x.org/\\u0000"}', 422, "invalid-characters"),
    raw(
        "over a megabyte",
        json.dumps({**GOOD, "note": "x" * (1024 * 1024)}).encode(),
        413,
        "payload-too-large",
    ),
]


@pytest.mark.parametrize(("body", "status", "slug"), BAD_PREFERENCES)
async def test_bad_preferences_are_refused_and_change_nothing(stack, body, status, slug):
    person = new_person()
    before_put = await seeded(stack, person)
    before = await written(stack)

    async with stack.as_(person) as client:
        if isinstance(body, tuple):
            content, headers = body
            response = await client.put(
                f"/people/{person}/preferences", content=content, headers=headers
            )
        else:
            response = await client.put(f"/people/{person}/preferences", json=body)
        after = await client.get(f"/people/{person}/preferences")

    assert_problem(response, status, slug or None)
    assert await written(stack) == before
    assert after.json() == before_put
    assert after.headers["etag"] == '"v1"'


# ----------------------------------------------------------------------------------------------
# PUT /people/{id}/preferences: webhook addresses the settings refuse.

PRIVATE_HOSTS = [
    "https://127.0.0.1/hook",
    "https://127.0.0.1:8443/hook",
    "https://localhost/hook",
    "https://LocalHost./hook",
    "https://api.localhost/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://0.0.0.0/hook",
    "https://10.1.2.3/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.10/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/hook",
    "https://[fd00::1]/hook",
    "https://printer.local/hook",
    "https://kamu.internal/hook",
    "https://intranet/hook",
    "https://2130706433/hook",
    "https://127.1/hook",
    "https://127.0.1/hook",
    "https://0x7f.0.0.1/hook",
    "https://0177.0.0.1/hook",
    "https://0x7f000001/hook",
    "https://10.1/hook",
]


@pytest.mark.parametrize("url", PRIVATE_HOSTS)
async def test_a_private_webhook_host_is_refused_unless_the_settings_allow_it(start, settings, url):
    strict = settings.model_copy(update={"webhook_allow_private": False})
    person = new_person()
    async with start(strict) as service:
        await seeded(service, person)
        before = await written(service)
        async with service.as_(person) as client:
            response = await client.put(
                f"/people/{person}/preferences", json=changed("webhook_url", url)
            )

        assert_problem(response, 422, "webhook-url-not-public")
        assert await written(service) == before


async def test_a_public_webhook_host_is_taken_when_private_hosts_are_refused(start, settings):
    strict = settings.model_copy(update={"webhook_allow_private": False})
    person = new_person()
    async with start(strict) as service, service.as_(person) as client:
        response = await client.put(f"/people/{person}/preferences", json=GOOD)

    assert response.status_code == 200, response.text
    assert response.json()["webhook_url"] == GOOD["webhook_url"]


@pytest.mark.parametrize(
    "url", ["http://hooks.example.org/kamu", "HTTP://hooks.example.org/kamu", "ws://x.org/k"]
)
async def test_plain_http_is_refused_unless_the_settings_allow_it(start, settings, url):
    no_http = settings.model_copy(update={"webhook_allow_http": False})
    person = new_person()
    async with start(no_http) as service:
        await seeded(service, person)
        before = await written(service)
        async with service.as_(person) as client:
            refused = await client.put(
                f"/people/{person}/preferences", json=changed("webhook_url", url)
            )
            after = await written(service)
            taken = await client.put(f"/people/{person}/preferences", json=GOOD)

    body = assert_problem(refused, 422, "invalid-webhook-url")
    assert "https" in body["detail"]
    assert after == before
    assert taken.status_code == 200, taken.text


# ----------------------------------------------------------------------------------------------
# PUT /people/{id}/preferences: If-Match.


@pytest.mark.parametrize(
    "if_match",
    [
        pytest.param('"v0"', id="stale"),
        pytest.param('"v2"', id="ahead"),
        pytest.param('W/"v1"', id="weak tag of the current version"),
        pytest.param("v1", id="unquoted"),
        pytest.param('"1"', id="bare version"),
        pytest.param("garbage", id="garbage"),
        pytest.param('"v0", "v2"', id="a list without the current one"),
    ],
)
async def test_an_if_match_that_is_not_current_is_412_and_writes_nothing(stack, if_match):
    person = new_person()
    shown = await seeded(stack, person)
    before = await written(stack)

    async with stack.as_(person) as client:
        response = await client.put(
            f"/people/{person}/preferences", json=GOOD, headers={"If-Match": if_match}
        )
        after = await client.get(f"/people/{person}/preferences")

    assert_problem(response, 412, "precondition-failed")
    assert await written(stack) == before
    assert after.json() == shown


async def test_a_stale_if_match_is_412_even_when_the_body_changes_nothing(stack):
    person = new_person()
    await seeded(stack, person)
    before = await written(stack)

    async with stack.as_(person) as client:
        response = await client.put(
            f"/people/{person}/preferences", json=SEEDED, headers={"If-Match": '"v0"'}
        )

    assert_problem(response, 412, "precondition-failed")
    assert await written(stack) == before


@pytest.mark.parametrize(
    "if_match", ['"v1"', '"v0", "v1"', "*"], ids=["current", "a list with it", "any"]
)
async def test_an_if_match_naming_the_current_version_is_200(stack, if_match):
    person = new_person()
    await seeded(stack, person)

    async with stack.as_(person) as client:
        response = await client.put(
            f"/people/{person}/preferences", json=GOOD, headers={"If-Match": if_match}
        )

    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert response.headers["etag"] == '"v2"'
    assert response.json()["digest"] == "daily"


async def test_two_puts_racing_with_the_same_if_match_give_one_200_and_one_412(stack):
    person = new_person()
    await seeded(stack, person)
    bodies = [changed("digest", "off"), changed("channels.email", False)]

    async def put(body: dict) -> httpx.Response:
        async with stack.as_(person) as client:
            return await client.put(
                f"/people/{person}/preferences", json=body, headers={"If-Match": '"v1"'}
            )

    answers = await asyncio.gather(*(put(body) for body in bodies))
    async with stack.as_(person) as client:
        shown = await client.get(f"/people/{person}/preferences")

    assert sorted(a.status_code for a in answers) == [200, 412]
    (won,) = [a for a in answers if a.status_code == 200]
    (lost,) = [a for a in answers if a.status_code == 412]
    assert_problem(lost, 412, "precondition-failed")
    assert shown.json() == won.json()
    assert shown.headers["etag"] == '"v2"'
    assert await preferences_set_count(stack, person) == 2


async def test_the_first_put_matches_the_etag_of_the_defaults(stack):
    person = new_person()
    async with stack.as_(person) as client:
        etag = (await client.get(f"/people/{person}/preferences")).headers["etag"]
        response = await client.put(
            f"/people/{person}/preferences", json=GOOD, headers={"If-Match": etag}
        )
        again = await client.put(
            f"/people/{person}/preferences", json=SEEDED, headers={"If-Match": etag}
        )

    assert etag == '"v0"'
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"v1"'
    assert_problem(again, 412, "precondition-failed")


# ----------------------------------------------------------------------------------------------
# What a good PUT writes: defaults, repeated PUTs, version and ETag.


async def test_preferences_before_any_put_are_the_defaults(stack):
    person = new_person()
    async with stack.as_(person) as client:
        response = await client.get(f"/people/{person}/preferences")

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"v0"'
    shown = response.json()
    assert shown["channels"] == dict.fromkeys(("email", "slack", "teams", "webhook", "inapp"), True)
    assert shown["digest"] == "off"
    assert shown["version"] == 0
    assert shown["quiet_hours"] is None
    assert shown["webhook_url"] is None
    assert shown["webhook_secret"] is None
    assert shown["person_id"] == person
    assert (
        await stack.pool.fetchval(
            "SELECT count(*) FROM notifications_preferences WHERE person_id = $1", person
        )
        == 0
    )


async def test_the_same_put_twice_records_one_preferences_set(stack):
    person = new_person()
    async with stack.as_(person) as client:
        first = await client.put(f"/people/{person}/preferences", json=GOOD)
        count = await preferences_set_count(stack, person)
        second = await client.put(f"/people/{person}/preferences", json=GOOD)
        reordered = await client.put(
            f"/people/{person}/preferences", json=dict(reversed(list(GOOD.items())))
        )

    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert count == 1
    assert await preferences_set_count(stack, person) == 1
    assert second.json() == first.json()
    assert reordered.json() == first.json()
    assert second.headers["etag"] == '"v1"'
    assert reordered.headers["etag"] == '"v1"'


async def test_a_changed_put_bumps_version_and_etag(stack):
    person = new_person()
    async with stack.as_(person) as client:
        first = await client.put(f"/people/{person}/preferences", json=GOOD)
        second = await client.put(
            f"/people/{person}/preferences", json=changed("channels.email", False)
        )
        third = await client.put(f"/people/{person}/preferences", json=changed("digest", "off"))
        shown = await client.get(f"/people/{person}/preferences")

    assert [r.json()["version"] for r in (first, second, third)] == [1, 2, 3]
    assert [r.headers["etag"] for r in (first, second, third)] == ['"v1"', '"v2"', '"v3"']
    assert await preferences_set_count(stack, person) == 3
    assert shown.headers["etag"] == '"v3"'
    assert shown.json()["channels"]["email"] is True
    assert shown.json()["digest"] == "off"
    assert second.json()["channels"]["email"] is False


async def test_a_webhook_url_of_2000_characters_is_taken(stack):
    person = new_person()
    url = "https://hooks.example.org/" + "a" * (2000 - 26)
    async with stack.as_(person) as client:
        response = await client.put(
            f"/people/{person}/preferences", json=changed("webhook_url", url)
        )

    assert response.status_code == 200, response.text
    assert response.json()["webhook_url"] == url


# ----------------------------------------------------------------------------------------------
# Person ids in paths.

BAD_PERSON_IDS = [
    pytest.param("a b", "a%20b", 422, "validation-failed", id="with a space"),
    pytest.param("a,b", "a,b", 422, "validation-failed", id="with a comma"),
    pytest.param("a\\b", "a%5Cb", 422, "validation-failed", id="with a backslash"),
    pytest.param(LONG_PERSON, LONG_PERSON, 422, "validation-failed", id="of 101 characters"),
    pytest.param(NUL, "a%00b", 422, "invalid-characters", id="with a NUL"),
]
PERSON_ROUTES = [
    ("GET", "/people/{id}/preferences"),
    ("PUT", "/people/{id}/preferences"),
    ("GET", "/people/{id}/inbox"),
    ("POST", "/people/{id}/inbox/" + str(uuid.UUID(int=1)) + "/read"),
]


@pytest.mark.parametrize(
    ("method", "route"), PERSON_ROUTES, ids=[" ".join(r) for r in PERSON_ROUTES]
)
@pytest.mark.parametrize(("sub", "in_path", "status", "slug"), BAD_PERSON_IDS)
async def test_a_malformed_person_id_is_a_problem(stack, method, route, sub, in_path, status, slug):
    before = await written(stack)
    kw = {"json": GOOD} if method == "PUT" else {}
    async with stack.as_(sub.replace("\x00", "")) as client:
        response = await client.request(method, route.format(id=in_path), **kw)

    assert 400 <= response.status_code < 500
    assert_problem(response, status, slug)
    assert await written(stack) == before


# ----------------------------------------------------------------------------------------------
# GET /people/{id}/inbox: limit, cursor, unread.


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"limit": "0"}, id="limit 0"),
        pytest.param({"limit": "-1"}, id="limit -1"),
        pytest.param({"limit": "201"}, id="limit 201"),
        pytest.param({"limit": "1000"}, id="limit 1000"),
        pytest.param({"limit": "99999999999999999999999"}, id="limit 10**23"),
        pytest.param({"limit": "abc"}, id="limit abc"),
        pytest.param({"limit": "1.5"}, id="limit 1.5"),
        pytest.param({"limit": ""}, id="limit empty"),
        pytest.param({"unread": "maybe"}, id="unread maybe"),
        pytest.param({"unread": "2"}, id="unread 2"),
    ],
)
async def test_bad_inbox_parameters_are_422(stack, params):
    person = new_person()
    async with stack.as_(person) as client:
        response = await client.get(f"/people/{person}/inbox", params=params)

    assert_problem(response, 422, "validation-failed")


UUID_1 = str(uuid.UUID(int=1))
AT = "2030-01-01T00:00:00+00:00"


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not a cursor", id="with spaces"),
        pytest.param("!!!!", id="outside the alphabet"),
        pytest.param("a", id="one character"),
        pytest.param("eyJhdCI6", id="truncated JSON"),
        pytest.param(cursor_of("not json"), id="not JSON"),
        pytest.param(cursor_of("[1, 2]"), id="a list"),
        pytest.param(cursor_of('"at"'), id="a string"),
        pytest.param(cursor_of("null"), id="null"),
        pytest.param("A" * 3000, id="3000 characters"),
        pytest.param(encode_cursor({"id": UUID_1}), id="another list's shape (id only)"),
        pytest.param(encode_cursor({"at": AT}), id="at only"),
        pytest.param(encode_cursor({"at": 5, "id": 7}), id="numbers"),
        pytest.param(encode_cursor({"at": "yesterday", "id": UUID_1}), id="at not a time"),
        pytest.param(encode_cursor({"at": AT, "id": "nope"}), id="id not a UUID"),
        pytest.param(encode_cursor({"at": None, "id": None}), id="nulls"),
        pytest.param(encode_cursor({"at": [AT], "id": [UUID_1]}), id="lists"),
        pytest.param(cursor_of('{"at": "2030\\u0000", "id": "' + UUID_1 + '"}'), id="a NUL"),
        pytest.param(cursor_of('{"at": "' + AT + '", "id": "\\u0000"}'), id="a NUL in id"),
        pytest.param(cursor_of('{"at": "\\ud800", "id": "' + UUID_1 + '"}'), id="a surrogate"),
        pytest.param(cursor_of('{"at": "\ud800"}'), id="a raw lone surrogate"),
        pytest.param(cursor_of(b"\xff\xfe"), id="not UTF-8"),
    ],
)
async def test_a_bad_cursor_is_400(stack, cursor):
    person = new_person()
    async with stack.as_(person) as client:
        response = await client.get(f"/people/{person}/inbox", params={"cursor": cursor})

    assert_problem(response, 400, "invalid-cursor")


@pytest.mark.regression
async def test_a_cursor_of_an_empty_object_is_400(stack):
    person = new_person()
    async with stack.as_(person) as client:
        response = await client.get(f"/people/{person}/inbox", params={"cursor": encode_cursor({})})

    assert_problem(response, 400, "invalid-cursor")


@pytest.mark.regression
@pytest.mark.parametrize(
    "at",
    [
        pytest.param("0001-01-01T00:00:00+01:00", id="before year 1 in UTC"),
        pytest.param("9999-12-31T23:59:59-01:00", id="after year 9999 in UTC"),
    ],
)
async def test_a_cursor_time_out_of_range_is_400_not_500(stack, at):
    person = new_person()
    async with stack.as_(person) as client:
        response = await client.get(
            f"/people/{person}/inbox", params={"cursor": encode_cursor({"at": at, "id": UUID_1})}
        )

    assert_problem(response, 400, "invalid-cursor")


@pytest.mark.parametrize(
    "at",
    ["0001-01-01T00:00:00", "2030-01-01", "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59Z"],
)
async def test_an_odd_but_representable_cursor_time_is_never_a_500(stack, at):
    person = new_person()
    async with stack.as_(person) as client:
        response = await client.get(
            f"/people/{person}/inbox", params={"cursor": encode_cursor({"at": at, "id": UUID_1})}
        )

    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert_problem(response, 400, "invalid-cursor")


async def test_a_raw_nul_in_the_cursor_is_a_problem(stack):
    person = new_person()
    async with stack.as_(person) as client:
        response = await client.get(f"/people/{person}/inbox?cursor=eyJh%00")

    assert_problem(response, 422, "invalid-characters")


async def test_an_issued_cursor_pages_on_and_a_tampered_one_is_refused(stack):
    colleague = await stack.person()
    kamu = await stack.person()
    for _ in range(3):
        await stack.pairing_event(inbound.PairingRequested, colleague, kamu)

    async def three():
        n = await stack.pool.fetchval(
            "SELECT count(*) FROM notifications_inbox WHERE person_id = $1", kamu
        )
        return n == 3

    await eventually(three)
    async with stack.as_(kamu) as client:
        first = (await client.get(f"/people/{kamu}/inbox", params={"limit": 2})).json()
        rest = await client.get(
            f"/people/{kamu}/inbox", params={"limit": 2, "cursor": first["next_cursor"]}
        )
        tampered = await client.get(
            f"/people/{kamu}/inbox",
            params={"limit": 2, "cursor": first["next_cursor"][:-3] + "$$$"},
        )

    assert len(first["items"]) == 2
    assert rest.status_code == 200, rest.text
    assert len(rest.json()["items"]) == 1
    assert rest.json()["next_cursor"] is None
    ids = [i["id"] for i in first["items"] + rest.json()["items"]]
    assert len(set(ids)) == 3
    assert_problem(tampered, 400, "invalid-cursor")


# ----------------------------------------------------------------------------------------------
# POST /people/{id}/inbox/{notification_id}/read and GET /notifications/{id}: ids and keys.


@pytest.mark.parametrize(
    ("notification_id", "status", "slug"),
    [
        pytest.param("abc", 422, "validation-failed", id="not a UUID"),
        pytest.param("123", 422, "validation-failed", id="digits"),
        pytest.param(str(uuid.UUID(int=1))[:-1], 422, "validation-failed", id="a UUID too short"),
        pytest.param(str(uuid.UUID(int=1)) + "0", 422, "validation-failed", id="a UUID too long"),
        pytest.param("a%00b", 422, "invalid-characters", id="a NUL"),
        pytest.param(str(uuid.uuid4()), 404, "not-found", id="an unknown UUID"),
    ],
)
async def test_marking_a_bad_or_unknown_notification_read_is_a_problem(
    stack, notification_id, status, slug
):
    _, kamu, mine = await notified(stack)
    before = await written(stack)

    async with stack.as_(kamu) as client:
        response = await client.post(
            f"/people/{kamu}/inbox/{notification_id}/read",
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        inbox = (await client.get(f"/people/{kamu}/inbox")).json()

    assert_problem(response, status, slug)
    assert await written(stack) == before
    assert [(i["id"], i["read_at"]) for i in inbox["items"]] == [(mine, None)]


async def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(stack):
    _, kamu, notification_id = await notified(stack)
    key = str(uuid.uuid4())
    path = f"/people/{kamu}/inbox/{notification_id}/read"

    async with stack.as_(kamu) as client:
        first = await client.post(path, headers={"Idempotency-Key": key})
        after_first = await written(stack)
        retry = await client.post(path, headers={"Idempotency-Key": key})
        after_retry = await written(stack)
        other_path = await client.post(
            f"/people/{kamu}/inbox/{uuid.uuid4()}/read", headers={"Idempotency-Key": key}
        )
        after_other = await written(stack)

    assert first.status_code == 200, first.text
    assert first.json()["id"] == notification_id
    assert first.json()["read_at"] is not None
    assert retry.status_code == 200, retry.text
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert after_retry == after_first
    assert_problem(other_path, 422, "idempotency-key-reused")
    assert after_other == after_first


async def test_marking_read_again_without_a_key_keeps_the_first_time(stack):
    _, kamu, notification_id = await notified(stack)
    path = f"/people/{kamu}/inbox/{notification_id}/read"
    async with stack.as_(kamu) as client:
        first = await client.post(path)
        again = await client.post(path)

    assert first.status_code == 200, first.text
    assert again.status_code == 200, again.text
    assert again.json()["read_at"] == first.json()["read_at"]


@pytest.mark.parametrize(
    "key", ["a b", "k" * 256, "ключ"], ids=["with a space", "of 256 characters", "not ASCII"]
)
async def test_a_malformed_idempotency_key_is_400(stack, key):
    _, kamu, notification_id = await notified(stack)
    before = await written(stack)
    async with stack.as_(kamu) as client:
        response = await client.post(
            f"/people/{kamu}/inbox/{notification_id}/read",
            headers={"Idempotency-Key": key.encode()},
        )

    assert_problem(response, 400, "invalid-idempotency-key")
    assert await written(stack) == before


@pytest.mark.parametrize(
    ("notification_id", "status", "slug"),
    [
        pytest.param("not-a-uuid", 422, "validation-failed", id="not a UUID"),
        pytest.param("12345", 422, "validation-failed", id="digits"),
        pytest.param("a%00b", 422, "invalid-characters", id="a NUL"),
        pytest.param("x" * 5000, 422, "validation-failed", id="5000 characters"),
        pytest.param(str(uuid.uuid4()), 404, "not-found", id="an unknown UUID"),
    ],
)
async def test_a_bad_or_unknown_notification_id_is_a_problem(stack, notification_id, status, slug):
    async with stack.as_("ops-1", "admin") as client:
        response = await client.get(f"/notifications/{notification_id}")

    assert_problem(response, status, slug)
