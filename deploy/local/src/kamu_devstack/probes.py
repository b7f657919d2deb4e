"""Client-side proofs that a server is usable, plus the databases each service needs.

A port that accepts connections is not enough: Kafka is ready when a client can create a topic
and read back a message it wrote; PostgreSQL when it answers a query.
"""

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from kamu_devstack.errors import InfraError


async def kafka_round_trip(bootstrap: str, timeout: float = 60.0) -> str:
    """Create a probe topic, write a message and read it back; return the cluster id."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            return await asyncio.wait_for(
                _round_trip(bootstrap), max(1.0, deadline - time.monotonic())
            )
        except Exception as exc:
            last = exc
            await asyncio.sleep(0.5)
    raise InfraError(f"Kafka at {bootstrap} is not usable: {last!r}")


async def _round_trip(bootstrap: str) -> str:
    topic = f"kamu.devstack.probe.{uuid.uuid4().hex[:12]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="kamu-devstack")
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        payload = uuid.uuid4().bytes
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, payload)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, 0)])
            message = await consumer.getone()
        finally:
            await consumer.stop()
        if message.value != payload:
            raise InfraError("Kafka returned another message than the one written")
        await admin.delete_topics([topic])
        cluster = await admin.describe_cluster()
        return str(cluster["cluster_id"])
    finally:
        await admin.close()


async def wait_for_postgres(url: str, timeout: float = 30.0) -> str:
    """Poll until ``url`` answers a query; return ``server_version``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = await asyncpg.connect(url, timeout=2)
            try:
                return str(await conn.fetchval("SHOW server_version"))
            finally:
                await conn.close()
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            if time.monotonic() > deadline:
                raise InfraError(f"PostgreSQL at {url} does not answer: {exc}") from exc
            await asyncio.sleep(0.3)


def database_url(server_url: str, database: str) -> str:
    """``server_url`` with its database name replaced."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def ensure_databases(server_url: str, names: Iterable[str]) -> None:
    """Create each database that does not exist yet (idempotent, safe to run concurrently)."""
    conn = await asyncpg.connect(server_url)
    try:
        for name in names:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if exists:
                continue
            # A concurrent run may create it in the meantime: that is success too.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
