"""A message whose words need data another topic has not brought yet (the other person's name
from pairing, when the meetings topic runs ahead after a restart) waits for it, goes out
complete when it arrives, and fails clearly if it never does: never sent with a blank.

Issue 15, item 5: twelve emails went out as "Kamu meeting with : ..."."""

import uuid

from icalendar import Calendar
from prometheus_client import REGISTRY

from kamu_notifications.domain import inbound
from kamu_shared.testing.waiting import eventually


def failed_count(channel: str) -> float:
    labels = {"channel": channel, "outcome": "failed"}
    return REGISTRY.get_sample_value("kamu_notification_outcomes_total", labels) or 0.0


async def register(service, person_id: str, display_name: str) -> None:
    """pairing's person-registered, published late (the service learns of it when it can)."""
    event = inbound.PersonRegistered(
        person_id=person_id,
        display_name=display_name,
        email=f"{person_id}@example.org",
        locale="en",
        time_zone="Europe/Helsinki",
    )
    await service.publish(inbound.pairing_events, event, f"person-{person_id}")


async def webhook_to(service, person: str) -> None:
    async with service.as_(person) as client:
        response = await client.put(
            f"/people/{person}/preferences",
            json={"webhook_url": f"{service.receiver.url}/hook/{person}"},
        )
    assert response.status_code == 200, response.text


async def test_a_meeting_ahead_of_its_people_waits_then_goes_out_complete(start, settings):
    # Re-checks every 30 s at first: only the person's arrival can make it go out sooner.
    patient = settings.model_copy(
        update={
            "slack_webhook_url": None,
            "teams_webhook_url": None,
            "missing_data_recheck_seconds": 30.0,
            "missing_data_wait_seconds": 120.0,
        }
    )
    async with start(patient) as service:
        colleague = await service.person(display_name="Aino Virtanen")
        await webhook_to(service, colleague)
        kamu = f"p-{uuid.uuid4().hex[:8]}"  # pairing has not told of them yet
        await service.schedule(colleague, kamu)

        async def waiting():
            rows = await service.deliveries()
            mine = {r["channel"]: r for r in rows if r["recipient_id"] == colleague}
            theirs = [r for r in rows if r["recipient_id"] == kamu]
            if len(mine) < 3 or len(theirs) < 2:
                return None
            if any(r["status"] != "pending" or r["waiting_for"] is None for r in rows):
                return None
            return mine, theirs

        mine, theirs = await eventually(waiting, timeout=20)
        assert {r["waiting_for"] for r in mine.values()} == {f"display name of person {kamu}"}
        assert {r["deferred_by"] for r in mine.values()} == {"missing-data"}
        assert {r["waiting_for"] for r in theirs} == {f"contact details of person {kamu}"}
        assert service.smtp.messages == []
        assert service.receiver.to(f"/hook/{colleague}") == []
        async with service.as_(colleague) as client:
            inbox = (await client.get(f"/people/{colleague}/inbox")).json()["items"]
        assert inbox == []  # the inbox waits too: it would read "with : ..."

        await register(service, kamu, "Kalle Kamunen")

        async def mailed():
            return service.smtp.to(f"{colleague}@example.org")

        # Well before the first re-check (30 s): woken by the person's arrival.
        (mail,) = await eventually(mailed, timeout=15)
        rows = await service.settled(5, timeout=15)
        async with service.as_(colleague) as client:
            (item,) = (await client.get(f"/people/{colleague}/inbox")).json()["items"]

    assert mail["Subject"].startswith("Kamu meeting with Kalle Kamunen: ")
    text = mail.get_body(("plain",)).get_content()
    assert "A Kamu meeting with Kalle Kamunen is planned" in text
    invite = next(p for p in mail.iter_attachments() if p.get_filename() == "invite.ics")
    (event,) = Calendar.from_ical(invite.get_content()).walk("VEVENT")
    attendees = {str(a) for a in event.get("ATTENDEE")}
    assert attendees == {f"mailto:{colleague}@example.org", f"mailto:{kamu}@example.org"}
    (hook,) = service.receiver.to(f"/hook/{colleague}")
    assert hook.json()["subject"].startswith("Kamu meeting with Kalle Kamunen: ")
    (to_kamu,) = service.smtp.to(f"{kamu}@example.org")
    assert to_kamu["Subject"].startswith("Kamu meeting with Aino Virtanen: ")
    assert {r["status"] for r in rows} == {"sent"}
    assert all(r["attempts"] == 1 for r in rows)  # waiting is not an attempt
    assert item["subject"].startswith("Kamu meeting with Kalle Kamunen: ")


async def test_data_that_never_arrives_fails_clearly_after_the_bound_and_nothing_is_sent(
    start, settings
):
    short = settings.model_copy(
        update={
            "slack_webhook_url": None,
            "teams_webhook_url": None,
            "missing_data_wait_seconds": 2.0,
            "missing_data_recheck_seconds": 0.2,
        }
    )
    async with start(short) as service:
        colleague = await service.person()
        await webhook_to(service, colleague)
        kamu = f"p-{uuid.uuid4().hex[:8]}"  # never registered
        before = {c: failed_count(c) for c in ("email", "webhook", "inapp")}
        await service.pairing_event(inbound.PairingCreated, colleague, kamu)
        rows = await service.settled(3, colleague, timeout=20)
        failures = [e for e in await service.events("notification-failed")]
        sent = await service.events("notification-sent")
        async with service.as_(colleague) as client:
            inbox = (await client.get(f"/people/{colleague}/inbox")).json()["items"]
            history = (await client.get(f"/notifications/{rows[0]['notification_id']}")).json()

    reason = f"missing display name of person {kamu}"
    assert {r["channel"]: (r["status"], r["detail"]) for r in rows} == {
        "email": ("failed", reason),
        "webhook": ("failed", reason),
        "inapp": ("failed", reason),
    }
    assert {(e["channel"], e["reason"]) for e in failures} == {
        ("email", reason),
        ("webhook", reason),
        ("inapp", reason),
    }
    assert sent == []
    assert service.smtp.messages == []
    assert service.receiver.to(f"/hook/{colleague}") == []
    assert inbox == []
    for channel in ("email", "webhook", "inapp"):  # counted where the alerts look
        assert failed_count(channel) == before[channel] + 1
    for delivery in history["deliveries"]:
        outcomes = [a["outcome"] for a in delivery["history"]]
        assert outcomes[-1] == "failed"
        assert set(outcomes[:-1]) == {"deferred"}  # waited, re-checked, then gave up
        assert delivery["attempts"] <= 1
