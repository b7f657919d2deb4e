"""The pairing service on the real servers, driven over HTTP with real tokens."""

import uuid

import httpx
import pytest

from kamu_pairing.app import create_app
from kamu_pairing.settings import PairingSettings
from kamu_shared.auth.mint import mint_token

SECRET = "pairing-tests-secret-of-at-least-32-bytes!"


@pytest.fixture
async def service(make_database, kafka_bootstrap):
    """The running app (lifespan included: migrations, relay, consumers) and a client factory."""
    settings = PairingSettings(
        database_url=await make_database("pairing"),
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=SECRET,
        relay_poll_interval_seconds=0.1,
        log_format="console",
        service_name=f"pairing-{uuid.uuid4().hex[:6]}",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield Service(app, settings)


class Service:
    def __init__(self, app, settings):
        self.app = app
        self.settings = settings

    @property
    def pool(self):
        return self.app.state.runtime.pool

    def as_(self, sub: str, *roles: str) -> httpx.AsyncClient:
        token = mint_token(secret=SECRET, sub=sub, roles=list(roles or ("employee",)))
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://pairing",
            headers={"Authorization": f"Bearer {token}"},
        )

    async def person(self, person_id: str, **fields) -> None:
        body = {
            "display_name": person_id.title(),
            "email": f"{person_id}@example.org",
            "team": "core",
            "time_zone": "Europe/Helsinki",
            **fields,
        }
        async with self.as_("hr-sync", "service") as hr:
            response = await hr.put(f"/people/{person_id}", json=body)
        assert response.status_code in (200, 201), response.text

    async def kamu(
        self,
        person_id: str,
        *,
        capacity: int = 3,
        hours: float = 10,
        trained: bool = True,
        **fields,
    ) -> None:
        await self.person(person_id, **fields)
        async with self.as_(person_id) as me:
            response = await me.put(
                f"/kamus/{person_id}",
                json={
                    "capacity": capacity,
                    "hours_per_month": hours,
                    "topics": ["goals"],
                    "languages": ["en"],
                },
            )
        assert response.status_code in (200, 201), response.text
        if trained:
            async with self.as_("ops", "people-ops") as ops:
                response = await ops.post(
                    f"/kamus/{person_id}/training",
                    json={"training": "basics", "completed_on": "2026-01-05"},
                )
            assert response.status_code == 200, response.text

    async def request(self, colleague: str, kamu: str, message: str = "hello") -> str:
        async with self.as_(colleague) as me:
            response = await me.post(
                "/pairings", json={"colleague_id": colleague, "kamu_id": kamu, "message": message}
            )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def count(self, sql: str, *args) -> int:
        return int(await self.pool.fetchval(sql, *args))
