"""The meetings service on the real servers, driven over HTTP with real tokens, and fed
pairing and goal events over real Kafka topics (a namespace of their own per test)."""

import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from kamu_meetings.app import create_app
from kamu_meetings.domain import inbound
from kamu_meetings.settings import MeetingsSettings
from kamu_shared.auth.mint import mint_token
from kamu_shared.testing.upstream import Upstream
from kamu_shared.testing.waiting import eventually

SECRET = "meetings-tests-secret-of-at-least-32-bytes"


@pytest.fixture
async def settings(make_database, kafka_bootstrap):
    """Settings of a fresh service: its own database, its own topic namespace."""
    return MeetingsSettings(
        database_url=await make_database("meetings"),
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=SECRET,
        topic_namespace=f"t{uuid.uuid4().hex[:10]}",
        relay_poll_interval_seconds=0.1,
        overdue_poll_seconds=0.2,
        consumer_backoff_initial_seconds=0.05,
        consumer_retry_attempts=2,
        log_format="console",
    )


@pytest.fixture
async def upstream(settings):
    """Publishes other services' events onto the test's real topics."""
    registries = (inbound.pairing_events, inbound.goal_events)
    async with Upstream(settings.kafka_bootstrap, settings.topic_namespace, registries) as up:
        yield up


@pytest.fixture
def start(upstream):
    """Starts the service (lifespan included); several starts on one database are restarts."""

    @asynccontextmanager
    async def run(settings):
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            yield Service(app, settings, upstream)

    return run


@pytest.fixture
async def service(start, settings):
    async with start(settings) as running:
        yield running


@pytest.fixture
async def running_month_service(start, settings):
    """A service that shows the running month's feedback averages (withheld by default), so
    figures of answers given today can be checked."""
    async with start(settings.model_copy(update={"stats_running_month_feedback": True})) as s:
        yield s


class Service:
    def __init__(self, app, settings, upstream: Upstream) -> None:
        self.app = app
        self.settings = settings
        self.upstream = upstream

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
            base_url="http://meetings",
            headers={"Authorization": f"Bearer {token}"},
        )

    async def person(self, person_id: str, time_zone: str = "Europe/Helsinki") -> None:
        await self.upstream.publish(
            inbound.pairing_events,
            inbound.PersonRegistered(
                person_id=person_id,
                display_name=person_id.title(),
                email=f"{person_id}@example.org",
                time_zone=time_zone,
            ),
            f"person-{person_id}",
        )

    async def pair(
        self,
        colleague: str | None = None,
        kamu: str | None = None,
        *,
        cadence_weeks: int = 2,
        at: datetime | None = None,
        began_at: datetime | None = None,
    ) -> tuple[str, str, str]:
        """An active pairing (since ``at``, a day ago by default; ``began_at``: a programme's
        history moved into Kamu), known to the service once this returns."""
        colleague = colleague or f"c-{uuid.uuid4().hex[:8]}"
        kamu = kamu or f"k-{uuid.uuid4().hex[:8]}"
        pairing_id = str(uuid.uuid4())
        for person in (colleague, kamu):
            await self.person(person)
        await self.upstream.publish(
            inbound.pairing_events,
            inbound.PairingCreated(
                pairing_id=pairing_id,
                colleague_id=colleague,
                kamu_id=kamu,
                cadence_weeks=cadence_weeks,
                began_at=began_at,
            ),
            f"pairing-{pairing_id}",
            at=at or datetime.now(UTC) - timedelta(days=1),
        )
        await self.wait_for_pairing(pairing_id, "active")
        return pairing_id, colleague, kamu

    async def end(self, pairing_id: str, colleague: str, kamu: str) -> None:
        await self.upstream.publish(
            inbound.pairing_events,
            inbound.PairingEnded(pairing_id=pairing_id, colleague_id=colleague, kamu_id=kamu),
            f"pairing-{pairing_id}",
        )
        await self.wait_for_pairing(pairing_id, "ended")

    async def wait_for_pairing(self, pairing_id: str, status: str) -> None:
        async def known():
            return await self.pool.fetchval(
                "SELECT 1 FROM meetings_pairings WHERE pairing_id = $1 AND status = $2",
                pairing_id,
                status,
            )

        await eventually(known, timeout=30)

    async def schedule(self, pairing_id: str, by: str, *, in_days: float = 7, **fields) -> dict:
        starts = datetime.now(UTC) + timedelta(days=in_days)
        body = {
            "pairing_id": pairing_id,
            "starts_at": starts.isoformat(),
            "duration_minutes": 45,
            "location": "Room 3",
            **fields,
        }
        async with self.as_(by) as client:
            response = await client.post("/meetings", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def held(self, pairing_id: str, by: str, **complete) -> dict:
        """A meeting that started a minute ago, recorded as held."""
        meeting = await self.schedule(pairing_id, by, in_days=-1 / 1440)
        async with self.as_(by) as client:
            response = await client.post(f"/meetings/{meeting['id']}/complete", json=complete)
        assert response.status_code == 200, response.text
        return response.json()

    async def count(self, sql: str, *args) -> int:
        return int(await self.pool.fetchval(sql, *args))
