"""The notifications service on the real servers, fed pairing, meetings and goals events over
real Kafka topics (a namespace of their own per test), delivering to a real SMTP server
(aiosmtpd) and a real HTTP receiver started here."""

import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from kamu_notifications.app import create_app
from kamu_notifications.domain import inbound
from kamu_notifications.settings import NotificationsSettings
from kamu_shared.auth.mint import mint_token
from kamu_shared.testing.receivers import http_receiver, smtp_receiver
from kamu_shared.testing.upstream import Upstream
from kamu_shared.testing.waiting import eventually

SECRET = "notifications-tests-secret-of-32-bytes!!"


@pytest.fixture
async def smtp():
    async with smtp_receiver() as sink:
        yield sink


@pytest.fixture
async def receiver():
    async with http_receiver() as sink:
        yield sink


@pytest.fixture
async def settings(make_database, kafka_bootstrap, smtp, receiver):
    return NotificationsSettings(
        database_url=await make_database("notifications"),
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=SECRET,
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
        app_base_url="https://kamu.example.org",
        dispatch_poll_seconds=0.1,
        reminder_poll_seconds=0.2,
        retry_initial_seconds=0.2,
        retry_max_seconds=1.0,
        send_timeout_seconds=2.0,
        lease_seconds=5.0,
    )


@pytest.fixture
async def upstream(settings):
    registries = (inbound.pairing_events, inbound.meeting_events, inbound.goal_events)
    async with Upstream(settings.kafka_bootstrap, settings.topic_namespace, registries) as up:
        yield up


@pytest.fixture
def start(upstream, smtp, receiver):
    """Starts the service (lifespan included); several starts on one database are restarts."""

    @asynccontextmanager
    async def run(settings):
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            yield Service(app, settings, upstream, smtp, receiver)

    return run


@pytest.fixture
async def service(start, settings):
    async with start(settings) as running:
        yield running


class Service:
    def __init__(self, app, settings, upstream: Upstream, smtp, receiver) -> None:
        self.app = app
        self.settings = settings
        self.upstream = upstream
        self.smtp = smtp
        self.receiver = receiver

    @property
    def runtime(self):
        return self.app.state.runtime

    @property
    def pool(self):
        return self.runtime.pool

    def as_(self, sub: str, *roles: str) -> httpx.AsyncClient:
        token = mint_token(secret=SECRET, sub=sub, roles=list(roles or ("employee",)))
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://notifications",
            headers={"Authorization": f"Bearer {token}"},
        )

    async def person(self, person_id: str | None = None, **fields) -> str:
        """A person pairing has registered, known to the service once this returns."""
        person_id = person_id or f"p-{uuid.uuid4().hex[:8]}"
        event = inbound.PersonRegistered(
            person_id=person_id,
            display_name=fields.pop("display_name", f"Person {person_id}"),
            email=fields.pop("email", f"{person_id}@example.org"),
            **{"locale": "en", "time_zone": "Europe/Helsinki", **fields},
        )
        await self.upstream.publish(inbound.pairing_events, event, f"person-{person_id}")

        async def known():
            return await self.pool.fetchval(
                "SELECT 1 FROM notifications_people WHERE person_id = $1", person_id
            )

        await eventually(known)
        return person_id

    async def people(self, count: int, **fields) -> list[str]:
        """Many people at once (published together, waited for once)."""
        ids = [f"p-{uuid.uuid4().hex[:8]}" for _ in range(count)]
        for person_id in ids:
            event = inbound.PersonRegistered(
                person_id=person_id,
                display_name=f"Person {person_id}",
                email=f"{person_id}@example.org",
                **{"locale": "en", "time_zone": "Europe/Helsinki", **fields},
            )
            await self.upstream.publish(inbound.pairing_events, event, f"person-{person_id}")

        async def known():
            found = await self.pool.fetchval(
                "SELECT count(*) FROM notifications_people WHERE person_id = ANY($1::text[])", ids
            )
            return found == count

        await eventually(known, timeout=30)
        return ids

    async def publish(self, registry, event, subject: str, *, at=None):
        return await self.upstream.publish(registry, event, subject, at=at)

    async def pairing_event(self, cls, colleague: str, kamu: str, pairing_id=None, **fields):
        pairing_id = pairing_id or str(uuid.uuid4())
        event = cls(pairing_id=pairing_id, colleague_id=colleague, kamu_id=kamu, **fields)
        await self.publish(inbound.pairing_events, event, f"pairing-{pairing_id}")
        return pairing_id

    async def schedule(self, colleague: str, kamu: str, *, in_minutes: float = 60 * 24, **fields):
        meeting_id = fields.pop("meeting_id", str(uuid.uuid4()))
        event = inbound.MeetingScheduled(
            meeting_id=meeting_id,
            pairing_id=fields.pop("pairing_id", str(uuid.uuid4())),
            colleague_id=colleague,
            kamu_id=kamu,
            starts_at=fields.pop("starts_at", datetime.now(UTC) + timedelta(minutes=in_minutes)),
            time_zone=fields.pop("time_zone", "Europe/Helsinki"),
            duration_minutes=fields.pop("duration_minutes", 45),
            location=fields.pop("location", "Room Aalto"),
            scheduled_by=colleague,
            **fields,
        )
        await self.publish(inbound.meeting_events, event, f"meeting-{meeting_id}")
        return event

    async def cancel(self, scheduled, **fields) -> None:
        """Publishes the cancellation of a meeting ``schedule`` returned."""
        event = inbound.MeetingCancelled(
            meeting_id=scheduled.meeting_id,
            pairing_id=scheduled.pairing_id,
            colleague_id=scheduled.colleague_id,
            kamu_id=scheduled.kamu_id,
            **fields,
        )
        await self.publish(inbound.meeting_events, event, f"meeting-{scheduled.meeting_id}")

    async def deliveries(self, recipient: str | None = None) -> list[dict]:
        rows = await self.pool.fetch(
            """SELECT d.*, n.kind FROM notifications_deliveries d
               JOIN notifications_notifications n USING (notification_id)
               WHERE $1::text IS NULL OR d.recipient_id = $1
               ORDER BY d.created_at, d.channel""",
            recipient,
        )
        return [dict(r) for r in rows]

    async def settled(self, count: int, recipient: str | None = None, timeout: float = 20):
        """Waits until ``count`` deliveries exist and none is pending or sending."""

        async def done():
            rows = await self.deliveries(recipient)
            if len(rows) < count or any(r["status"] in ("pending", "sending") for r in rows):
                return None
            return rows

        return await eventually(done, timeout=timeout)

    async def events(self, name: str) -> list[dict]:
        rows = await self.pool.fetch(
            "SELECT data FROM kamu_events WHERE event_type = $1 ORDER BY position",
            f"kamu.notifications.{name}.v1",
        )
        return [r["data"] for r in rows]
