"""The platform laid out as deployed: each service's API and its worker in two processes."""

import uuid
from pathlib import Path

import asyncpg
import httpx

from kamu_devstack.platform import running_platform
from kamu_devstack.pytest_plugin import DatabaseFactory
from kamu_devstack.services import SERVICES
from kamu_shared.auth.mint import mint_token
from kamu_shared.testing.waiting import eventually


async def test_an_api_without_background_work_and_its_worker_carry_an_event_across(
    kafka_bootstrap: str, make_database: DatabaseFactory, state_dir: Path
) -> None:
    databases = {name: await make_database(name) for name, _ in SERVICES}
    namespace = f"t{uuid.uuid4().hex[:12]}"
    with running_platform(
        state_dir, kafka_bootstrap, databases, namespace=namespace, workers_apart=True
    ) as platform:
        names = {p.name for p in platform.processes}
        assert names == {"catcher"} | {n for s, _ in SERVICES for n in (s, f"{s}-worker")}
        async with httpx.AsyncClient(timeout=30) as http:
            api = await http.get(f"{platform.url('pairing')}/readyz/background")
            worker = await http.get(f"{platform.url('pairing-worker')}/readyz")
            token = mint_token(secret=platform.secrets["jwt"], sub="hr", roles=("service",))
            synced = await http.put(
                f"{platform.url('pairing')}/people/ada",
                json={"display_name": "Ada", "email": "ada@example.org", "locale": "en"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert api.status_code == 200
        assert api.json()["checks"] == {}  # no background work runs in the API process
        assert worker.status_code == 200
        assert {"kafka", "consumers"} <= set(worker.json()["checks"])  # its tasks, relay too
        assert synced.status_code == 201, synced.text

        async def meetings_knows_ada() -> bool:  # pairing's worker relayed, meetings' applied
            conn = await asyncpg.connect(databases["meetings"])
            try:
                return bool(
                    await conn.fetchval("SELECT 1 FROM meetings_people WHERE person_id = 'ada'")
                )
            finally:
                await conn.close()

        assert await eventually(meetings_knows_ada, timeout=60)
