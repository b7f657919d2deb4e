"""Time: quiet hours defer (never drop), the daily digest gathers reminders into one message,
and meeting reminders go out a set time before the meeting, once per start time."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from kamu_notifications.domain import inbound
from kamu_shared.testing.waiting import eventually

HELSINKI = ZoneInfo("Europe/Helsinki")


def local(moment: datetime) -> str:
    return moment.astimezone(HELSINKI).strftime("%H:%M:%S")


async def test_quiet_hours_defer_until_they_end_and_the_inbox_is_not_held(service):
    kamu = await service.person()  # in Europe/Helsinki
    now = datetime.now(UTC)
    ends = now + timedelta(seconds=4)
    async with service.as_(kamu) as client:
        response = await client.put(
            f"/people/{kamu}/preferences",
            json={
                "quiet_hours": {"start": local(now - timedelta(minutes=1)), "end": local(ends)},
                "channels": {"slack": False, "teams": False},
            },
        )
    assert response.status_code == 200, response.text
    await service.pairing_event(inbound.PairingRequested, await service.person(), kamu)

    async def deferred():
        rows = {r["channel"]: r for r in await service.deliveries(kamu)}
        email, inbox = rows.get("email"), rows.get("inapp")
        held = email is not None and email["deferred_by"] == "quiet-hours"
        # The inbox is filled by the dispatcher too, a moment apart: wait for both.
        return rows if held and inbox is not None and inbox["status"] == "sent" else None

    rows = await eventually(deferred, timeout=10)
    assert rows["inapp"]["status"] == "sent"  # the inbox is silent: not held
    assert rows["email"]["status"] == "pending"
    assert abs((rows["email"]["due_at"] - ends).total_seconds()) < 1
    assert rows["email"]["attempts"] == 0  # a deferral is not an attempt
    assert service.smtp.to(f"{kamu}@example.org") == []
    rows = await service.settled(2, kamu, timeout=15)
    assert len(service.smtp.to(f"{kamu}@example.org")) == 1
    email = next(r for r in rows if r["channel"] == "email")
    assert email["finished_at"] >= ends - timedelta(seconds=1)  # sent when they ended
    async with service.as_(kamu) as client:
        history = (await client.get(f"/notifications/{email['notification_id']}")).json()
    (delivery,) = [d for d in history["deliveries"] if d["channel"] == "email"]
    assert [a["outcome"] for a in delivery["history"]] == ["deferred", "sent"]


async def test_a_daily_digest_gathers_reminders_into_one_message(service):
    colleague = await service.person()
    kamu = await service.person()
    digest_at = datetime.now(UTC) + timedelta(seconds=5)
    async with service.as_(colleague) as client:
        response = await client.put(
            f"/people/{colleague}/preferences",
            json={
                "digest": "daily",
                "digest_at": local(digest_at),
                "channels": {"slack": False, "teams": False},
                "webhook_url": f"{service.receiver.url}/hook/{colleague}",
            },
        )
    assert response.status_code == 200, response.text
    pairing = str(uuid.uuid4())
    await service.publish(
        inbound.meeting_events,
        inbound.MeetingOverdue(
            pairing_id=pairing, colleague_id=colleague, kamu_id=kamu, lapse=1, nudge="colleague"
        ),
        f"cadence-{pairing}",
    )
    await service.publish(
        inbound.goal_events,
        inbound.GoalReviewDue(goal_id="g-1", owner_id=colleague, lapse=1),
        "goal-g-1",
    )
    # News is not held for the digest: a pairing request goes out at once.
    await service.pairing_event(inbound.PairingRequested, kamu, colleague)

    async def request_sent():
        return [m for m in service.smtp.to(f"{colleague}@example.org") if "Kamu" in m["Subject"]]

    first = await eventually(request_sent, timeout=10)
    assert len(first) == 1
    assert datetime.now(UTC) < digest_at  # the reminders wait
    rows = await service.settled(9, colleague, timeout=20)
    mails = service.smtp.to(f"{colleague}@example.org")
    print(
        "DEBUG",
        [m["Subject"] for m in mails],
        [
            (r["kind"], r["channel"], r["status"], r["digest_id"], r["deferred_by"], r["attempts"])
            for r in rows
        ],
    )
    assert len(mails) == 2  # the request, then one digest
    digest = mails[1]
    assert digest["Subject"] == "Your Kamu reminders"
    text = digest.get_body(("plain",)).get_content()
    assert "Time for a Kamu meeting" in text
    assert "One of your goals is due for review" in text
    hooks = service.receiver.to(f"/hook/{colleague}")
    assert len(hooks) == 2
    assert len(hooks[1].json()["notifications"]) == 2
    digest_ids = {r["digest_id"] for r in rows if r["channel"] in ("email", "webhook")} - {None}
    assert len(digest_ids) == 2  # one digest per channel
    sent = [e for e in await service.events("notification-sent") if e["digest_id"]]
    assert len(sent) == 4  # two reminders, two channels


async def test_reminders_go_out_before_the_meeting_once_per_start_time(start, settings):
    lead = settings.model_copy(update={"reminder_lead_seconds": 3.0})
    async with start(lead) as service:
        colleague = await service.person()
        kamu = await service.person()
        starts = datetime.now(UTC) + timedelta(seconds=6)
        meeting = await service.schedule(colleague, kamu, starts_at=starts)
        near = datetime.now(UTC) + timedelta(seconds=1)  # inside the lead: no reminder
        await service.schedule(colleague, kamu, starts_at=near)

        async def reminded():
            rows = [r for r in await service.deliveries() if r["kind"] == "meeting-reminder"]
            return rows if len(rows) >= 8 else None

        rows = await eventually(reminded, timeout=15)
        # Sent before the move (a reminder still waiting when its meeting moves is outdated).
        await service.settled(2 * 2 * 4 + 8, timeout=15)
        first = min(r["created_at"] for r in rows)
        assert first >= starts - timedelta(seconds=3.5)  # not before the lead
        assert first < starts
        assert {r["recipient_id"] for r in rows} == {colleague, kamu}
        params = await service.pool.fetch(
            "SELECT params FROM notifications_notifications WHERE kind = 'meeting-reminder'"
        )
        assert {p["params"]["meeting_id"] for p in params} == {meeting.meeting_id}

        # Moved: reminded again for the new start; cancelled: never.
        moved = datetime.now(UTC) + timedelta(seconds=5)
        await service.publish(
            inbound.meeting_events,
            inbound.MeetingRescheduled(
                meeting_id=meeting.meeting_id,
                pairing_id=meeting.pairing_id,
                colleague_id=colleague,
                kamu_id=kamu,
                starts_at=moved,
                time_zone="Europe/Helsinki",
                duration_minutes=30,
                sequence=1,
            ),
            f"meeting-{meeting.meeting_id}",
        )
        cancelled = await service.schedule(
            colleague, kamu, starts_at=datetime.now(UTC) + timedelta(seconds=5)
        )
        await service.cancel(cancelled)

        async def reminded_again():
            rows = [r for r in await service.deliveries() if r["kind"] == "meeting-reminder"]
            return rows if len(rows) >= 16 else None

        await eventually(reminded_again, timeout=15)
        await service.settled(1, timeout=15)
        params = await service.pool.fetch(
            "SELECT params FROM notifications_notifications WHERE kind = 'meeting-reminder'"
        )
        starts_seen = sorted({p["params"]["starts_at"] for p in params})
        assert starts_seen == sorted({starts.isoformat(), moved.isoformat()})
        assert len(params) == 4  # two members, two start times
        reminders = [
            m for m in service.smtp.to(f"{colleague}@example.org") if "Reminder" in m["Subject"]
        ]
        assert len(reminders) == 2


async def test_a_reminder_due_while_the_service_was_down_goes_out_after_restart(start, settings):
    # The reminder falls due 10 s after scheduling, while the service is down, and the meeting
    # starts 20 s after that: room for a busy machine to stop, start again and send it.
    lead = settings.model_copy(update={"reminder_lead_seconds": 20.0})
    async with start(lead) as service:
        colleague = await service.person()
        kamu = await service.person()
        starts = datetime.now(UTC) + timedelta(seconds=30)
        await service.schedule(colleague, kamu, starts_at=starts)
        await eventually(
            lambda: service.pool.fetchval("SELECT count(*) FROM notifications_meetings")
        )
        await service.settled(8)
    # Down while the reminder falls due, up again half a second after it, well before the meeting.
    wait = (starts - timedelta(seconds=19.5) - datetime.now(UTC)).total_seconds()
    await asyncio.sleep(max(0.0, wait))
    async with start(lead) as service:

        async def reminded():
            rows = [r for r in await service.deliveries() if r["kind"] == "meeting-reminder"]
            return rows if len(rows) >= 8 else None

        await eventually(reminded, timeout=10)
        await service.settled(16)
        mails = service.smtp.to(f"{colleague}@example.org")
        assert len([m for m in mails if "Reminder" in m["Subject"]]) == 1
