"""What the figures were measured on: hardware, Python, servers and client libraries."""

import importlib.metadata
import os
import platform
from pathlib import Path
from typing import Any

import asyncpg
import psycopg

from benchmarks.servers import Servers

_PG_SETTINGS = ("fsync", "synchronous_commit", "wal_sync_method", "shared_buffers")


def _proc_value(path: str, key: str) -> str:
    file = Path(path)
    if not file.exists():
        return "unknown"
    for line in file.read_text().splitlines():
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return "unknown"


def _memory() -> str:
    kib = _proc_value("/proc/meminfo", "MemTotal").removesuffix(" kB")
    return f"{int(kib) / 2**20:.1f} GiB" if kib.isdigit() else "unknown"


async def _postgres(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(url)
    try:
        settings = {"version": str(await conn.fetchval("SHOW server_version"))}
        for name in _PG_SETTINGS:
            settings[name] = str(await conn.fetchval(f"SHOW {name}"))
        return settings
    finally:
        await conn.close()


def _libraries() -> dict[str, str]:
    versions = {
        dist: importlib.metadata.version(dist)
        for dist in ("asyncpg", "aiokafka", "psycopg", "eventsourcing")
    }
    versions["psycopg"] += f" ({psycopg.pq.__impl__})"
    return versions


async def machine_info(servers: Servers) -> dict[str, Any]:
    """Cores, CPU, memory, Python, Kafka, PostgreSQL (with its durability settings), libraries."""
    return {
        "cores": os.cpu_count(),
        "cpu": _proc_value("/proc/cpuinfo", "model name"),
        "memory": _memory(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "kafka": servers.kafka_provider,
        "postgres_provider": servers.postgres_provider,
        "postgres": await _postgres(servers.postgres_url),
        "libraries": _libraries(),
    }
