"""Kafka and PostgreSQL for one run: started here unless the environment names them, fresh
databases and topics for each phase, and everything removed at the end."""

import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from kamu_devstack.infra import start_infrastructure
from kamu_devstack.probes import database_url, ensure_databases
from kamu_shared.db.migrations import apply_migrations
from kamu_shared.kafka.topics import ensure_topics

PARTITIONS = 3


@dataclass(frozen=True)
class Servers:
    """Where the servers listen and who provided them."""

    kafka_bootstrap: str
    postgres_url: str
    kafka_provider: str
    postgres_provider: str


@contextmanager
def provided_servers() -> Iterator[Servers]:
    """``start_infrastructure`` in a private temporary folder; stopped and removed on exit."""
    state_dir = Path(tempfile.mkdtemp(prefix="kamu-bench-"))
    state_dir.chmod(0o755)  # PostgreSQL's own user must traverse it when we are root
    try:
        infra = start_infrastructure(state_dir)
        try:
            yield Servers(
                kafka_bootstrap=infra.kafka_bootstrap,
                postgres_url=infra.postgres_url,
                kafka_provider=re.sub(r",? ?pid \d+", "", infra.kafka_provider),
                postgres_provider=infra.postgres_provider,
            )
        finally:
            infra.stop()
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


class Scratch:
    """Fresh databases and topics with unique names; ``drop_all`` removes them."""

    def __init__(self, servers: Servers) -> None:
        self._servers = servers
        self._run = uuid.uuid4().hex[:8]
        self._databases: list[str] = []
        self._topics: list[str] = []

    async def database(self, purpose: str, *, migrate: bool = True) -> str:
        """The URL of a new database, with Kamu's shared migrations applied if ``migrate``."""
        name = f"kamu_bench_{purpose}_{self._run}"
        await ensure_databases(self._servers.postgres_url, [name])
        self._databases.append(name)
        url = database_url(self._servers.postgres_url, name)
        if migrate:
            await apply_migrations(url)
        return url

    async def topic(self, purpose: str) -> str:
        """A new topic with ``PARTITIONS`` partitions, created the way services create theirs."""
        name = f"kamu.bench.{purpose}.{self._run}"
        await ensure_topics(self._servers.kafka_bootstrap, [name], PARTITIONS)
        self._topics.append(name)
        return name

    async def drop_all(self) -> None:
        """Drop the databases and delete the topics this run created."""
        conn = await asyncpg.connect(self._servers.postgres_url)
        try:
            for name in self._databases:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
        if self._topics:
            admin = AIOKafkaAdminClient(bootstrap_servers=self._servers.kafka_bootstrap)
            await admin.start()
            try:
                await admin.delete_topics(self._topics)
            finally:
                await admin.close()
