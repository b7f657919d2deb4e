"""Delivery: at most once per (event, recipient, channel), retried on transient failure, given
up on permanent ones, never held up by another endpoint, and recorded as events."""

import asyncio
import uuid
from collections import Counter

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from kamu_notifications.domain import inbound
from kamu_shared.testing.receivers import http_receiver
from kamu_shared.testing.waiting import eventually


async def with_webhook(service, person: str, path: str | None = None) -> str:
    """Gives the person a webhook on the test receiver; returns its signing secret."""
    async with service.as_(person) as client:
        response = await client.put(
            f"/people/{person}/preferences",
            json={
                "webhook_url": f"{service.receiver.url}{path or '/hook/' + person}",
                "channels": {"slack": False, "teams": False},
            },
        )
    assert response.status_code == 200, response.text
    return response.json()["webhook_secret"]


async def test_a_redelivered_event_sends_nothing_twice(service):
    kamu = await service.person()
    colleague = await service.person()
    await with_webhook(service, kamu)
    envelope = await service.publish(
        inbound.pairing_events,
        inbound.PairingRequested(pairing_id="p-1", colleague_id=colleague, kamu_id=kamu),
        "pairing-p-1",
    )
    await service.settled(5, kamu)
    for _ in range(3):  # Kafka redelivers (a rebalance, a replay of the topic)
        await service.upstream.send(inbound.pairing_events, envelope)
    await asyncio.sleep(1.5)  # time for wrong second deliveries
    rows = await service.settled(5, kamu)
    assert len(rows) == 5  # one row per channel, slack and teams suppressed (turned off)
    assert len(service.smtp.to(f"{kamu}@example.org")) == 1
    assert len(service.receiver.to(f"/hook/{kamu}")) == 1
    async with service.as_(kamu) as client:
        inbox = (await client.get(f"/people/{kamu}/inbox")).json()["items"]
    assert len(inbox) == 1
    sent = [e for e in await service.events("notification-sent") if e["recipient_id"] == kamu]
    assert Counter(e["channel"] for e in sent) == {"email": 1, "webhook": 1, "inapp": 1}


async def test_webhook_signatures_verify_with_the_persons_secret(service):
    kamu = await service.person()
    secret = await with_webhook(service, kamu)
    await service.pairing_event(inbound.PairingRequested, await service.person(), kamu)
    await service.settled(3, kamu)
    (request,) = service.receiver.to(f"/hook/{kamu}")
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["kind"] == "pairing-requested"
    assert payload["recipient_id"] == kamu
    assert request.headers["webhook-id"] == payload["id"]
    other = await service.person()
    other_secret = await with_webhook(service, other)
    assert other_secret != secret
    with pytest.raises(WebhookVerificationError, match="signature"):
        Webhook(other_secret).verify(request.body, request.headers)


async def test_a_receiver_answering_500_then_200_gets_exactly_one_accepted_delivery(service):
    kamu = await service.person()
    await with_webhook(service, kamu)
    service.receiver.script(f"/hook/{kamu}", [500, 503, 200])
    await service.pairing_event(inbound.PairingRequested, await service.person(), kamu)
    rows = await service.settled(3, kamu)
    webhook = next(r for r in rows if r["channel"] == "webhook")
    assert webhook["status"] == "sent"
    assert webhook["attempts"] == 3
    requests = service.receiver.to(f"/hook/{kamu}")
    assert [r.status for r in requests] == [500, 503, 200]
    assert len(service.receiver.accepted(f"/hook/{kamu}")) == 1
    assert len({r.headers["webhook-id"] for r in requests}) == 1  # one idempotency id
    async with service.as_(kamu) as client:
        history = (await client.get(f"/notifications/{webhook['notification_id']}")).json()
    (delivery,) = [d for d in history["deliveries"] if d["channel"] == "webhook"]
    assert [a["outcome"] for a in delivery["history"]] == ["retry", "retry", "sent"]
    assert delivery["history"][0]["detail"] == "http 500"


async def test_a_permanent_refusal_fails_at_once_and_retries_run_out(service):
    refused, flaky = await service.person(), await service.person()
    await with_webhook(service, refused)
    await with_webhook(service, flaky)
    service.receiver.script(f"/hook/{refused}", [410])
    service.receiver.script(f"/hook/{flaky}", [500] * 20)
    short = service.settings.retry_attempts
    for person in (refused, flaky):
        await service.pairing_event(inbound.PairingRequested, await service.person(), person)
    rows = await service.settled(6, timeout=30)
    status = {(r["recipient_id"], r["channel"]): (r["status"], r["attempts"]) for r in rows}
    assert status[(refused, "webhook")] == ("failed", 1)
    assert status[(flaky, "webhook")] == ("failed", short)
    failed = await service.events("notification-failed")
    assert {(e["recipient_id"], e["channel"]) for e in failed} == {
        (refused, "webhook"),
        (flaky, "webhook"),
    }
    assert all("http" in e["reason"] for e in failed)
    assert status[(refused, "email")] == ("sent", 1)  # other channels are not affected


async def test_a_hanging_endpoint_does_not_hold_up_other_deliveries(start, settings):
    narrow = settings.model_copy(update={"dispatch_concurrency": 4, "endpoint_concurrency": 2})
    async with start(narrow) as service, http_receiver() as other_host:
        slow_people = [await service.person() for _ in range(6)]
        fast = await service.person()
        for person in slow_people:
            await with_webhook(service, person, "/slow")
        async with service.as_(fast) as client:
            await client.put(
                f"/people/{fast}/preferences", json={"webhook_url": f"{other_host.url}/fast"}
            )
        service.receiver.delay("/slow", 4)  # longer than the send timeout (2 s)
        for person in slow_people:
            await service.pairing_event(inbound.PairingRequested, await service.person(), person)

        async def slow_held():
            return len(service.receiver.to("/slow")) >= 2

        await eventually(slow_held, timeout=10)
        await service.pairing_event(inbound.PairingRequested, await service.person(), fast)

        async def fast_arrived():
            return other_host.to("/fast")

        # Well before the slow receiver's first requests time out and free their slots.
        await eventually(fast_arrived, timeout=narrow.send_timeout_seconds * 0.75)
        held_open = [r for r in service.receiver.to("/slow") if r.status == 0]
        assert 0 < len(held_open) <= narrow.endpoint_concurrency


async def test_a_channel_turned_off_is_suppressed_and_recorded(service):
    kamu = await service.person(slack_user_id="U1")
    async with service.as_(kamu) as client:
        response = await client.put(
            f"/people/{kamu}/preferences",
            json={"channels": {"email": False, "teams": False, "inapp": False}},
        )
    assert response.status_code == 200
    await service.pairing_event(inbound.PairingRequested, await service.person(), kamu)
    rows = await service.settled(4, kamu)
    assert {r["channel"]: r["status"] for r in rows} == {
        "email": "suppressed",
        "slack": "sent",
        "teams": "suppressed",
        "inapp": "suppressed",
    }
    suppressed = [
        e for e in await service.events("notification-suppressed") if e["recipient_id"] == kamu
    ]
    assert {(e["channel"], e["reason"]) for e in suppressed} == {
        ("email", "preference-off"),
        ("teams", "preference-off"),
        ("inapp", "preference-off"),
    }
    assert service.smtp.to(f"{kamu}@example.org") == []
    (slack,) = service.receiver.to("/slack")
    assert slack.json()["user"] == "U1"


async def test_without_a_slack_or_teams_identity_the_person_gets_one_email(service):
    kamu = await service.person(teams_user_id="T9")  # Teams known, Slack not
    async with service.as_(kamu) as client:
        await client.put(f"/people/{kamu}/preferences", json={"channels": {"email": False}})
    both = await service.person()  # neither known: both fall back, one email
    for person in (kamu, both):
        await service.pairing_event(inbound.PairingRequested, await service.person(), person)
    rows = await service.settled(3 + 4)
    status = {(r["recipient_id"], r["channel"]): r["status"] for r in rows}
    assert status[(kamu, "slack")] == "fallback"
    assert status[(kamu, "teams")] == "sent"
    assert status[(kamu, "email")] == "suppressed"  # email is off for them: not even by fallback
    assert status[(both, "slack")] == "fallback"
    assert status[(both, "teams")] == "fallback"
    assert status[(both, "email")] == "sent"
    assert len(service.smtp.to(f"{both}@example.org")) == 1
    assert service.smtp.to(f"{kamu}@example.org") == []
    teams = service.receiver.to("/teams")
    assert teams[0].json()["recipient"] == "T9"


async def test_a_person_who_left_is_not_notified(service):
    kamu = await service.person()
    await service.publish(
        inbound.pairing_events, inbound.PersonLeft(person_id=kamu), f"person-{kamu}"
    )

    async def gone():
        return await service.pool.fetchval(
            "SELECT left_at FROM notifications_people WHERE person_id = $1", kamu
        )

    await eventually(gone)
    await service.pairing_event(inbound.PairingRequested, await service.person(), kamu)

    async def suppressed():
        found = [
            e for e in await service.events("notification-suppressed") if e["recipient_id"] == kamu
        ]
        return found if len(found) == 4 else None

    found = await eventually(suppressed)
    assert {e["reason"] for e in found} == {"person-left"}
    assert {r["status"] for r in await service.deliveries(kamu)} == {"suppressed"}


@pytest.mark.regression
async def test_a_meetings_messages_arrive_in_order_even_when_the_first_is_retried(service):
    """Was a bug: deliveries went out in parallel, so a cancellation could reach a person
    before the invitation it cancels. A meeting's messages now form a thread per person and
    channel: each waits for the one before it (here retried) to be finished."""
    colleague, kamu = await service.person(), await service.person()
    await with_webhook(service, colleague)
    service.receiver.script(f"/hook/{colleague}", [503, 503])
    meeting = await service.schedule(colleague, kamu)
    await service.cancel(meeting)
    await service.settled(6, colleague)
    kinds = [(r.json()["kind"], r.status) for r in service.receiver.to(f"/hook/{colleague}")]
    assert kinds == [
        ("meeting-scheduled", 503),
        ("meeting-scheduled", 503),
        ("meeting-scheduled", 200),
        ("meeting-cancelled", 200),
    ]


@pytest.mark.regression
async def test_a_delivery_that_cannot_be_composed_fails_after_its_retries_not_for_ever(service):
    """Was a bug: an error before sending (here a start time that is not one, as a ledger
    written by a broken version could hold) left the claim to expire and be taken again every
    lease, for ever. It is now an attempt like any other: retried with backoff, then failed."""
    person = await service.person()
    notification = uuid.uuid4()
    await service.pool.execute(
        """INSERT INTO notifications_notifications (notification_id, recipient_id, kind,
               cause_source, cause_id, cause_type, params, digestible, created_at)
           VALUES ($1, $2, 'meeting-scheduled', '/kamu/tests', 'x', 'x',
                   '{"starts_at": "not a time", "meeting_id": "m"}', false, now());
           """,
        notification,
        person,
    )
    await service.pool.execute(
        """INSERT INTO notifications_deliveries (notification_id, channel, recipient_id, status,
               endpoint, due_at, created_at)
           VALUES ($1, 'email', $2, 'pending', 'email', now(), now())""",
        notification,
        person,
    )
    (row,) = await service.settled(1, person, timeout=30)
    assert row["status"] == "failed"
    assert row["attempts"] == service.settings.retry_attempts
    assert "internal error" in row["detail"]
    assert service.smtp.to(f"{person}@example.org") == []


async def test_planning_wakes_the_dispatcher_rather_than_waiting_for_its_poll(start, settings):
    """The dispatcher LISTENs for what planning NOTIFYs: with a poll of a minute, a message
    still leaves as soon as its event is consumed."""
    async with start(settings.model_copy(update={"dispatch_poll_seconds": 60.0})) as service:
        kamu, colleague = await service.person(), await service.person()
        await asyncio.sleep(0.5)  # the dispatcher's first claim has found nothing: it now waits
        await service.pairing_event(inbound.PairingRequested, colleague, kamu)

        async def emailed():
            return service.smtp.to(f"{kamu}@example.org")

        assert len(await eventually(emailed, timeout=20)) == 1
