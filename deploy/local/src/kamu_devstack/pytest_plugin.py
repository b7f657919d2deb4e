"""pytest fixtures on the real servers, registered for every run by the ``pytest11`` entry point.

One Kafka broker and one PostgreSQL server per test session, from the same providers as
``./kamu up``: given by the environment, testcontainers, or local processes in a private
temporary folder, so two test runs on one machine never share a server unless told to. Tests get
unique databases and topic names, so they never share state with each other either.
"""

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from kamu_devstack.infra import ENV_DATABASE, ENV_KAFKA, Infrastructure, start_infrastructure
from kamu_devstack.platform import Platform, running_platform
from kamu_devstack.probes import database_url, ensure_databases
from kamu_devstack.services import SERVICES

DatabaseFactory = Callable[[str], Awaitable[str]]


def _say(config: pytest.Config, line: str) -> None:
    """Straight to the terminal, past output capturing: the run's log shows what was started."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


@pytest.fixture(scope="session")
def kamu_infra(request: pytest.FixtureRequest) -> Iterator[Infrastructure]:
    """Kafka and PostgreSQL for this test session, started once and stopped at the end."""
    state_dir = Path(tempfile.mkdtemp(prefix="kamu-test-"))
    _say(request.config, f"\nkamu: providing Kafka and PostgreSQL for this run (state {state_dir})")
    started = time.monotonic()
    infra = start_infrastructure(state_dir)
    for line in infra.describe():
        _say(request.config, f"kamu:   {line}")
    _say(
        request.config,
        f"kamu: ready in {time.monotonic() - started:.1f}s "
        "(a message round-tripped through a new Kafka topic; PostgreSQL answered a query)",
    )
    try:
        yield infra
    finally:
        infra.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def kafka_bootstrap(kamu_infra: Infrastructure) -> str:
    return kamu_infra.kafka_bootstrap


@pytest.fixture(scope="session")
def postgres_url(kamu_infra: Infrastructure) -> str:
    """The server's maintenance database; tests create their own with ``make_database``."""
    return kamu_infra.postgres_url


@pytest.fixture
async def make_database(postgres_url: str) -> AsyncIterator[DatabaseFactory]:
    """Creates fresh, uniquely named databases; drops them after the test."""
    created: list[str] = []

    async def make(label: str = "db") -> str:
        name = f"kamu_t_{label}_{uuid.uuid4().hex[:10]}"
        await ensure_databases(postgres_url, [name])
        created.append(name)
        return database_url(postgres_url, name)

    yield make
    conn = await asyncpg.connect(postgres_url)
    try:
        for name in created:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
def state_dir() -> Iterator[Path]:
    """A state folder for a stack of the test's own, reachable by PostgreSQL's user when root.

    pytest's ``tmp_path`` lives below a folder only its owner may enter, which PostgreSQL
    (run as another user under root) could not reach.
    """
    path = Path(tempfile.mkdtemp(prefix="kamu-stack-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def topic_name() -> Callable[[str], str]:
    """Unique topic names, so tests sharing a broker never read each other's messages."""

    def name(base: str = "test") -> str:
        return f"kamu.test.{base}.{uuid.uuid4().hex[:10]}"

    return name


@pytest.fixture
def infra_env(kamu_infra: Infrastructure) -> dict[str, str]:
    """The environment a child process needs to use this session's servers."""
    return {
        **os.environ,
        ENV_KAFKA: kamu_infra.kafka_bootstrap,
        ENV_DATABASE: kamu_infra.postgres_url,
    }


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "kamu_env(**settings): KAMU_* settings every process of the test's kamu_platform gets",
    )


@pytest.fixture
async def kamu_platform(
    request: pytest.FixtureRequest,
    kafka_bootstrap: str,
    make_database: DatabaseFactory,
    state_dir: Path,
) -> AsyncIterator[Platform]:
    """Every service as its own process (insights too), plus the mail catcher (and webhook
    receiver), on this session's servers with databases and a topic namespace of the test's
    own. ``@pytest.mark.kamu_env(KAMU_X="1")`` gives every process more settings."""
    databases = {name: await make_database(name) for name, _ in SERVICES}
    namespace = f"t{uuid.uuid4().hex[:12]}"
    marker = request.node.get_closest_marker("kamu_env")
    extra_env = {k: str(v) for k, v in marker.kwargs.items()} if marker else None
    with running_platform(
        state_dir, kafka_bootstrap, databases, namespace=namespace, extra_env=extra_env
    ) as platform:
        yield platform
