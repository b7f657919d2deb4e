"""HTTP channels: per-person webhook secrets, Standard Webhooks signatures, and how ``post``
reads a receiver's answer (sent, retry later, or never), against a real HTTP server (the
shared receiver, answering with headers per path for ``Retry-After`` and ``Location``).
"""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from kamu_notifications.commands.preferences import check_webhook_url
from kamu_notifications.dispatch.http import post, signed_headers, webhook_secret
from kamu_notifications.settings import NotificationsSettings
from kamu_shared.testing.receivers import free_port, http_receiver
from kamu_shared.web.errors import Unprocessable

JWT_SECRET = "notifications-unit-tests-secret-32-bytes!"
URL = "https://hooks.example.org/kamu"
BODY = json.dumps({"type": "kamu.notification.v1", "id": "n-1", "subject": "Hei"})


def settings(**fields: Any) -> NotificationsSettings:
    return NotificationsSettings(**{"jwt_secret": JWT_SECRET, **fields})


@pytest.fixture(scope="module")
async def sink():
    async with http_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
async def headed():
    async with http_receiver() as receiver:
        yield receiver


@pytest.fixture
async def client():
    # As the dispatcher's: a short timeout, redirects not followed.
    async with httpx.AsyncClient(timeout=2.0, follow_redirects=False) as c:
        yield c


def path() -> str:
    return f"/hook-{uuid.uuid4().hex[:8]}"


# --- secrets -------------------------------------------------------------------------------


def test_a_webhook_secret_is_in_the_standard_webhooks_form():
    secret = webhook_secret(settings(), "person-1", URL)

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    Webhook(secret)  # accepted by the reference library


def test_the_secret_is_stable_for_a_person_and_address():
    first, again = (webhook_secret(settings(), "person-1", URL) for _ in range(2))

    assert first == again


def test_each_person_has_a_secret_of_their_own():
    mine = webhook_secret(settings(), "person-1", URL)

    assert webhook_secret(settings(), "person-2", URL) != mine


def test_a_new_address_is_a_new_secret():
    first = webhook_secret(settings(), "person-1", URL)

    assert webhook_secret(settings(), "person-1", URL + "/v2") != first
    assert webhook_secret(settings(), "person-1", "https://other.example.org/kamu") != first


def test_the_secret_depends_on_the_services_key():
    derived = webhook_secret(settings(), "person-1", URL)

    other_jwt = webhook_secret(settings(jwt_secret=JWT_SECRET + "x"), "person-1", URL)
    own_key = webhook_secret(settings(webhook_signing_secret="a-signing-key-" * 3), "person-1", URL)

    assert other_jwt != derived
    assert own_key != derived


def test_no_key_no_secret():
    """Without a key (RS256 only, no KAMU_WEBHOOK_SIGNING_SECRET) there is no secret, and
    the preferences route refuses webhooks (422 webhooks-unavailable) rather than a 500."""
    without = NotificationsSettings(jwt_secret=None, webhook_signing_secret=None)

    assert webhook_secret(without, "person-1", URL) is None


# --- signatures ----------------------------------------------------------------------------


def test_signed_headers_verify_with_the_reference_library():
    secret = webhook_secret(settings(), "person-1", URL)

    headers = signed_headers(secret, "n-1", BODY)

    assert headers["webhook-id"] == "n-1"
    assert abs(int(headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 5
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    assert Webhook(secret).verify(BODY.encode(), headers) == json.loads(BODY)


def test_another_persons_secret_does_not_verify():
    headers = signed_headers(webhook_secret(settings(), "person-1", URL), "n-1", BODY)
    other = webhook_secret(settings(), "person-2", URL)

    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(BODY, headers)


def test_a_changed_body_does_not_verify():
    secret = webhook_secret(settings(), "person-1", URL)
    headers = signed_headers(secret, "n-1", BODY)

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace("Hei", "Moi"), headers)


def test_a_changed_message_id_does_not_verify():
    secret = webhook_secret(settings(), "person-1", URL)
    headers = signed_headers(secret, "n-1", BODY)

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-id": "n-2"})


async def test_what_the_receiver_gets_verifies(sink, client):
    where = path()
    secret = webhook_secret(settings(), "person-1", f"{sink.url}{where}")
    headers = {"idempotency-key": "n-1", **signed_headers(secret, "n-1", BODY)}

    outcome = await post(client, f"{sink.url}{where}", BODY, headers)

    assert outcome.result == "sent"
    (received,) = sink.to(where)
    assert received.body == BODY.encode()
    assert received.headers["content-type"] == "application/json"
    assert received.headers["idempotency-key"] == "n-1"
    assert Webhook(secret).verify(received.body, received.headers) == json.loads(BODY)


# --- outcomes ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 204])
async def test_a_2xx_is_sent(sink, client, status):
    where = path()
    sink.script(where, [status])

    outcome = await post(client, f"{sink.url}{where}", BODY, {})

    assert outcome.result == "sent"
    assert len(sink.to(where)) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408, 425])
async def test_a_server_error_or_throttle_is_retried(sink, client, status):
    where = path()
    sink.script(where, [status])

    outcome = await post(client, f"{sink.url}{where}", BODY, {})

    assert outcome.result == "retry"
    assert outcome.detail == f"http {status}"
    assert outcome.retry_after is None  # the receiver gave none


async def test_a_retried_send_succeeds_when_the_receiver_recovers(sink, client):
    where = path()
    sink.script(where, [500, 503, 200])

    results = [(await post(client, f"{sink.url}{where}", BODY, {})).result for _ in range(3)]

    assert results == ["retry", "retry", "sent"]
    assert [r.status for r in sink.to(where)] == [500, 503, 200]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 413, 422])
async def test_a_client_error_is_failed_for_good(sink, client, status):
    where = path()
    sink.script(where, [status])

    outcome = await post(client, f"{sink.url}{where}", BODY, {})

    assert outcome.result == "failed"
    assert outcome.detail == f"http {status}"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_is_failed_and_not_followed(headed, client, status):
    where, elsewhere = path(), path()
    headed.script(where, [status])
    headed.headers[where] = {"location": f"{headed.url}{elsewhere}"}

    outcome = await post(client, f"{headed.url}{where}", BODY, {})

    assert outcome.result == "failed"
    assert outcome.detail == f"http {status}"
    assert len(headed.to(where)) == 1
    assert headed.to(elsewhere) == []


@pytest.mark.parametrize(
    ("status", "value", "seconds"),
    [
        (503, "120", 120.0),
        (429, "7", 7.0),
        (429, "1.5", 1.5),
        (503, "0", 0.0),
        (503, "-30", 0.0),
        (500, "soon", None),
    ],
)
async def test_retry_after_seconds_are_honoured(headed, client, status, value, seconds):
    where = path()
    headed.script(where, [status])
    headed.headers[where] = {"retry-after": value}

    outcome = await post(client, f"{headed.url}{where}", BODY, {})

    assert outcome.result == "retry"
    assert outcome.retry_after == seconds


async def test_retry_after_as_an_http_date_is_read_as_seconds_from_now(headed, client):
    where = path()
    headed.script(where, [503])
    when = datetime.now(UTC) + timedelta(minutes=10)
    headed.headers[where] = {"retry-after": format_datetime(when, usegmt=True)}

    outcome = await post(client, f"{headed.url}{where}", BODY, {})

    assert outcome.result == "retry"
    assert outcome.retry_after is not None
    assert 590 <= outcome.retry_after <= 600


async def test_retry_after_in_the_past_means_now(headed, client):
    where = path()
    headed.script(where, [503])
    headed.headers[where] = {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}

    outcome = await post(client, f"{headed.url}{where}", BODY, {})

    assert outcome.retry_after == 0.0


async def test_retry_after_on_a_refusal_does_not_make_it_transient(headed, client):
    where = path()
    headed.script(where, [400])
    headed.headers[where] = {"retry-after": "60"}

    outcome = await post(client, f"{headed.url}{where}", BODY, {})

    assert outcome.result == "failed"
    assert outcome.retry_after is None


async def test_an_unused_port_is_retried(client):
    outcome = await post(client, f"http://127.0.0.1:{free_port()}/hook", BODY, {})

    assert outcome.result == "retry"
    assert outcome.detail == "unreachable: ConnectError"


async def test_a_receiver_that_does_not_answer_in_time_leaves_the_message_in_doubt(sink):
    """The request reached it: it may have acted on it. Webhooks send it again with the same
    id; Slack and Teams, whose receivers do not de-duplicate, do not (domain.steps)."""
    where = path()
    sink.delay(where, 0.5)

    async with httpx.AsyncClient(timeout=0.1) as impatient:
        outcome = await post(impatient, f"{sink.url}{where}", BODY, {})

    assert outcome.result == "in-doubt"
    assert outcome.detail == "timed out"
    assert len(sink.to(where)) == 1


async def test_the_hand_over_mark_is_made_before_the_request_and_not_when_it_fails(sink, client):
    where, order = path(), []

    async def mark():
        order.append(len(sink.to(where)))

    await post(client, f"{sink.url}{where}", BODY, {}, before=mark)

    assert order == [0]  # marked while the receiver had nothing yet

    async def broken():
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        await post(client, f"{sink.url}{where}", BODY, {}, before=broken)
    assert len(sink.to(where)) == 1  # nothing sent without the mark


@pytest.mark.regression
async def test_an_address_httpx_cannot_use_is_failed_not_raised(client):
    url = "https://0251.0376.0251.0376/hook"
    # Octal 169.254.169.254: refused when set; and were it ever sent, a failure, not a raise.
    with pytest.raises(Unprocessable):
        check_webhook_url(NotificationsSettings(), url)

    outcome = await post(client, url, BODY, {})

    assert outcome.result == "failed"
