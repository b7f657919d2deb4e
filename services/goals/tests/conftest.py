"""The goals service on the real servers, driven over HTTP with real tokens, and fed pairing
and meeting events over real Kafka topics (a namespace of their own per test)."""

import uuid
from contextlib import asynccontextmanager
from datetime import date, timedelta

import httpx
import pytest

from kamu_goals.app import create_app
from kamu_goals.domain import inbound
from kamu_goals.settings import GoalsSettings
from kamu_shared.auth.mint import mint_token
from kamu_shared.testing.upstream import Upstream
from kamu_shared.testing.waiting import eventually

SECRET = "goals-tests-secret-of-at-least-32-bytes!!"


@pytest.fixture
async def settings(make_database, kafka_bootstrap):
    return GoalsSettings(
        database_url=await make_database("goals"),
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=SECRET,
        topic_namespace=f"t{uuid.uuid4().hex[:10]}",
        relay_poll_interval_seconds=0.1,
        review_poll_seconds=0.2,
        consumer_backoff_initial_seconds=0.05,
        consumer_retry_attempts=2,
        log_format="console",
    )


@pytest.fixture
async def upstream(settings):
    registries = (inbound.pairing_events, inbound.meeting_events)
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
            base_url="http://goals",
            headers={"Authorization": f"Bearer {token}"},
        )

    async def pair(self, colleague: str | None = None, kamu: str | None = None, *, at=None):
        """An active pairing, known to the service once this returns."""
        colleague = colleague or f"c-{uuid.uuid4().hex[:8]}"
        kamu = kamu or f"k-{uuid.uuid4().hex[:8]}"
        pairing_id = str(uuid.uuid4())
        await self.upstream.publish(
            inbound.pairing_events,
            inbound.PairingCreated(pairing_id=pairing_id, colleague_id=colleague, kamu_id=kamu),
            f"pairing-{pairing_id}",
            at=at,
        )

        async def known():
            return await self.pool.fetchval(
                "SELECT 1 FROM goals_kamus WHERE pairing_id = $1", pairing_id
            )

        await eventually(known)
        return pairing_id, colleague, kamu

    async def end(self, pairing_id: str, colleague: str, kamu: str) -> None:
        await self.upstream.publish(
            inbound.pairing_events,
            inbound.PairingEnded(pairing_id=pairing_id, colleague_id=colleague, kamu_id=kamu),
            f"pairing-{pairing_id}",
        )

        async def gone():
            return not await self.pool.fetchval(
                "SELECT 1 FROM goals_kamus WHERE pairing_id = $1", pairing_id
            )

        await eventually(gone)

    async def goal(self, owner: str, **fields) -> dict:
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

    async def count(self, sql: str, *args) -> int:
        return int(await self.pool.fetchval(sql, *args))
