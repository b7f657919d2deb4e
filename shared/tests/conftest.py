"""Fixtures for the shared library's tests: a migrated database and a pool on it."""

import pytest

from kamu_shared.db.migrations import apply_migrations
from kamu_shared.db.pool import create_pool
from kamu_shared.store.eventstore import EventStore


@pytest.fixture
async def migrated_db(make_database):
    url = await make_database("shared")
    await apply_migrations(url)
    return url


@pytest.fixture
async def pool(migrated_db):
    pool = await create_pool(migrated_db, min_size=1, max_size=12)
    yield pool
    await pool.close()


@pytest.fixture
def store(pool):
    return EventStore(pool)
