"""Fault tests against the real servers: what operators once did by hand (issue 15).

The faults must not hit servers other tests share, so this package starts a Kafka broker and a
PostgreSQL server of its own (package scope) and each module runs the whole platform on them
(every service its own process, plus the catcher) with the time policies below shortened, so
recovery takes seconds. Each test applies its fault to that platform while a stream of real
commands runs, then checks the same invariants (:mod:`tests.faults.invariants`) within a
bound it states. Before each test the servers run and every service is alive again, so a
test that leaves its fault unhealed fails alone.
"""

import asyncio
import shutil
import tempfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from kamu_devstack.kafka import KafkaBroker
from kamu_devstack.platform import Platform, running_platform
from kamu_devstack.postgres import PostgresServer
from kamu_devstack.probes import database_url, ensure_databases, wait_for_postgres
from kamu_devstack.processes import pid_alive
from kamu_devstack.services import SERVICES, service_database
from tests.faults.client import Api, ClientView, CommandStream, Story
from tests.faults.invariants import Invariants, Mark

# Every KAMU_* time policy a recovery waits on, shortened so recovery takes seconds (a setting
# a service does not have is ignored by it).
FAULT_ENV = {
    # A consumer cut off is replaced after 10 s. Not 5: a consumer working through a large
    # fetched batch gets no fetch response meanwhile, and at 5 s on a busy machine a restarted
    # service's consumers were replaced again and again while catching up.
    "KAMU_CONSUMER_STALL_TIMEOUT_SECONDS": "10",
    "KAMU_CONSUMER_RETRY_ATTEMPTS": "3",
    "KAMU_CONSUMER_BACKOFF_INITIAL_SECONDS": "0.1",
    "KAMU_CONSUMER_BACKOFF_MAX_SECONDS": "1",
    "KAMU_RELAY_POLL_INTERVAL_SECONDS": "0.2",
    "KAMU_TASK_RESTART_BACKOFF_INITIAL_SECONDS": "0.2",
    "KAMU_TASK_RESTART_BACKOFF_MAX_SECONDS": "2",
    "KAMU_UNAVAILABLE_RETRY_AFTER_SECONDS": "1",
    "KAMU_READINESS_TIMEOUT_SECONDS": "2",
    # notifications: a claim left by a dead dispatcher expires after 8 s; retries within 2 s
    "KAMU_DISPATCH_POLL_SECONDS": "0.2",
    "KAMU_SEND_TIMEOUT_SECONDS": "5",
    "KAMU_LEASE_SECONDS": "8",
    "KAMU_RETRY_INITIAL_SECONDS": "0.5",
    "KAMU_RETRY_MAX_SECONDS": "2",
    "KAMU_RETRY_ATTEMPTS": "8",
    # a message waiting for a person pairing's topic has not brought yet looks again within 2 s
    "KAMU_MISSING_DATA_RECHECK_SECONDS": "0.5",
    "KAMU_MISSING_DATA_RECHECK_MAX_SECONDS": "2",
}
# A killed service serves HTTP again within this: its keeper's pause (0.5 s), then a Python
# process importing FastAPI, asyncpg and aiokafka (3 s on an idle 2-core machine, 25 s
# measured on one shared by many test runs), applying no migration. The machine's bound more
# than the platform's: recovery bounds count from the moment the service serves again.
START_SECONDS = 90.0
# How long a test waits for the platform to be whole again after the test before it.
WHOLE_SECONDS = 90.0


@dataclass
class FaultServers:
    """The package's own Kafka broker and PostgreSQL server, killed and started at will."""

    home: Path
    kafka: KafkaBroker
    postgres: PostgresServer

    def start_kafka(self) -> None:
        """Again on the same ports and data (after a kill: log recovery first)."""
        self.kafka.start()

    def start_postgres(self) -> None:
        """Again on the same port (one attempt: another would pick a new port)."""
        self.postgres.start(attempts=1)

    def kafka_up(self) -> bool:
        return bool(self.kafka.pid) and pid_alive(self.kafka.pid)


@pytest.fixture(scope="package")
def fault_servers(request: pytest.FixtureRequest) -> Iterator[FaultServers]:
    """The servers, and their folder (with every service's log) kept when a test failed."""
    home = Path(tempfile.mkdtemp(prefix="kamu-faults-"))
    home.chmod(0o755)  # PostgreSQL's own user must reach its folder when we are root
    servers = FaultServers(home, KafkaBroker(home / "kafka"), PostgresServer(home / "postgres"))
    try:
        with ThreadPoolExecutor(2) as pool:
            for started in [pool.submit(servers.kafka.start), pool.submit(servers.postgres.start)]:
                started.result()
        yield servers
    finally:
        servers.kafka.stop()
        servers.postgres.stop()
        if request.session.testsfailed:
            print(f"\nkamu: fault tests failed; servers' and services' logs kept in {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


@dataclass
class Faults:
    """One module's platform on the package's servers, and the means to check it."""

    platform: Platform
    servers: FaultServers
    api: Api
    invariants: Invariants
    streams: list[CommandStream] = field(default_factory=list)
    mine: list[CommandStream] = field(default_factory=list)  # the running test's
    mark: Mark = field(default_factory=Mark)

    def stream(self, label: str, actors: int = 3) -> CommandStream:
        """A command stream of the running test (later tests check its events stay stored)."""
        stream = CommandStream(self.api, label, actors)
        self.streams.append(stream)
        self.mine.append(stream)
        return stream

    @property
    def stories(self) -> list[Story]:
        return [s for stream in self.streams for s in stream.stories]

    async def begin(self) -> None:
        """A test starts: its own client view and streams, and where the platform stood."""
        self.api.view = ClientView()
        self.mine = []
        self.mark = await self.invariants.mark(self.stories)

    async def settle(self, timeout: float) -> float:
        """Until every invariant holds for the running test; the seconds it took."""
        mine = [s for stream in self.mine for s in stream.stories]
        return await self.invariants.settle(self.stories, mine, self.api.view, self.mark, timeout)

    async def status(self, service: str, path: str = "/readyz") -> int | None:
        """The status of a GET on an operations endpoint; None when nothing answers."""
        try:
            response = await self.api.http.get(f"{self.platform.url(service)}{path}", timeout=5)
        except httpx.TransportError:
            return None
        return response.status_code

    async def statuses(self, path: str) -> dict[str, int | None]:
        names = [name for name, _ in SERVICES]
        found = await asyncio.gather(*(self.status(n, path) for n in names))
        return dict(zip(names, found, strict=True))

    async def wait_statuses(self, path: str, wanted: int, timeout: float) -> float:
        """Until every service answers ``path`` with ``wanted``; the seconds it took."""
        started = time.monotonic()
        while set((found := await self.statuses(path)).values()) != {wanted}:
            if 404 in found.values():
                raise AssertionError(f"no {path} here: {found}")
            if time.monotonic() - started > timeout:
                raise AssertionError(f"{path} not {wanted} everywhere in {timeout:g}s: {found}")
            await asyncio.sleep(0.2)
        return time.monotonic() - started

    async def serving_again(self, service: str, killed: int) -> float:
        """Until a new process of ``service`` (its keeper starts one after the ``killed``)
        serves HTTP; the seconds it took."""
        started = time.monotonic()
        process = self.platform.process(service)
        while (
            process.service_pid() in (None, killed) or await self.status(service, "/healthz") != 200
        ):
            if not process.alive():
                raise AssertionError(f"{service}'s keeper ended; see {process.log}")
            if time.monotonic() - started > START_SECONDS:
                raise AssertionError(
                    f"{service} not serving {START_SECONDS:g}s after it was killed; "
                    f"see {process.log}"
                )
            await asyncio.sleep(0.1)
        return time.monotonic() - started

    async def start_again(self, service: str) -> None:
        """Start a service whose keeper is gone too; until it serves HTTP."""
        started = time.monotonic()
        process = self.platform.start_again(service)
        while await self.status(service, "/healthz") != 200:
            if not process.alive():
                raise AssertionError(f"{service} exited while starting again; see {process.log}")
            if time.monotonic() - started > START_SECONDS:
                raise AssertionError(f"{service} not serving {START_SECONDS:g}s after a start")
            await asyncio.sleep(0.1)

    async def whole(self) -> None:
        """Servers running and every service alive and ready: what each test starts from.
        A service that did not recover from the test before is restarted (the person's step
        that test failed on), with a warning naming it, so the next test is judged alone."""
        if not self.servers.kafka_up():
            await asyncio.to_thread(self.servers.start_kafka)
        try:
            await wait_for_postgres(self.servers.postgres.admin_url, timeout=2)
        except Exception:
            await asyncio.to_thread(self.servers.start_postgres)
        for name, _ in SERVICES:
            if not self.platform.process(name).alive():
                await self.start_again(name)
        if await self._ready(WHOLE_SECONDS / 3):
            return
        for name, ready in (await self._readiness()).items():
            if not ready:
                warnings.warn(
                    f"fault tests: {name} had not recovered from the test before; restarted",
                    stacklevel=1,
                )
                await self.serving_again(name, self.platform.kill(name))
        if not await self._ready(WHOLE_SECONDS):
            raise AssertionError(f"not whole again: {await self._readiness()}")

    async def _readiness(self) -> dict[str, bool]:
        """Per service: ``/readyz`` 200, and ``/readyz/background`` 200 where it exists."""
        api = await self.statuses("/readyz")
        background = await self.statuses("/readyz/background")
        return {n: api[n] == 200 and background[n] in (200, 404) for n in api}

    async def _ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not all((await self._readiness()).values()):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.2)
        return True


@pytest.fixture(scope="module")
async def faults(fault_servers: FaultServers) -> AsyncIterator[Faults]:
    tag = uuid.uuid4().hex[:8]
    admin = fault_servers.postgres.admin_url
    names = {name: f"{service_database(name)}_{tag}" for name, _ in SERVICES}
    await ensure_databases(admin, names.values())
    databases = {name: database_url(admin, db) for name, db in names.items()}
    state_dir = fault_servers.home / f"platform-{tag}"
    state_dir.mkdir()
    with running_platform(
        state_dir,
        fault_servers.kafka.bootstrap,
        databases,
        namespace=f"f{tag}",
        extra_env=FAULT_ENV,
    ) as platform:
        async with httpx.AsyncClient(timeout=10) as http:
            api = Api(platform, http)
            yield Faults(platform, fault_servers, api, Invariants(platform, api))


@pytest.fixture(autouse=True)
async def whole_platform(faults: Faults) -> None:
    """Each test starts from a whole platform, whatever the one before left."""
    await faults.whole()
    await faults.begin()
