"""The database server the tests get is a real PostgreSQL 15+ with one database per service."""

import asyncpg

from kamu_devstack.probes import database_url, ensure_databases
from kamu_devstack.services import SERVICES, service_database


async def test_server_is_postgresql_15_or_newer(postgres_url):
    conn = await asyncpg.connect(postgres_url)
    try:
        version_num = int(await conn.fetchval("SHOW server_version_num"))
        # A real server runs transactions: a rolled-back write leaves nothing behind.
        await conn.execute("CREATE TEMP TABLE probe (id int)")
        async with conn.transaction():
            await conn.execute("INSERT INTO probe VALUES (1)")
        tx = conn.transaction()
        await tx.start()
        await conn.execute("INSERT INTO probe VALUES (2)")
        await tx.rollback()
        assert await conn.fetchval("SELECT array_agg(id) FROM probe") == [1]
    finally:
        await conn.close()
    assert version_num >= 150000


async def test_each_service_gets_its_own_database(postgres_url):
    names = [service_database(name) for name, _ in SERVICES]

    await ensure_databases(postgres_url, names)
    await ensure_databases(postgres_url, names)  # idempotent: a second `up` changes nothing

    for name in names:
        conn = await asyncpg.connect(database_url(postgres_url, name))
        try:
            assert await conn.fetchval("SELECT current_database()") == name
        finally:
            await conn.close()
    assert len(set(names)) == len(SERVICES) == 5


async def test_make_database_isolates_tests(make_database):
    first, second = await make_database("a"), await make_database("b")
    conn = await asyncpg.connect(first)
    await conn.execute("CREATE TABLE only_here (id int)")
    await conn.close()
    conn = await asyncpg.connect(second)
    try:
        assert await conn.fetchval("SELECT to_regclass('only_here')") is None
    finally:
        await conn.close()
