"""asyncpg pools that speak JSON: ``jsonb`` and ``json`` columns read and write Python objects."""

import json
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Pool = asyncpg.Pool
Connection = asyncpg.Connection | PoolConnectionProxy
"""A plain connection or one borrowed from a pool: both run queries and transactions."""


async def init_connection(conn: asyncpg.Connection) -> None:
    """Register JSON codecs so handlers pass dicts, never hand-encoded strings."""
    for name in ("jsonb", "json"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10, **kwargs: Any) -> Pool:
    """A pool for the service's own database; created in a lifespan, never at import time.

    Sessions run in UTC, so ``date_trunc`` and month buckets do not depend on the server's
    configured time zone.
    """
    settings = {"timezone": "UTC", **kwargs.pop("server_settings", {})}
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        server_settings=settings,
        **kwargs,
    )
    assert pool is not None
    return pool
