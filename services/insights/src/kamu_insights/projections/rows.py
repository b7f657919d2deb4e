"""The one write every fact table needs: insert a row, or change only the given columns."""

from collections.abc import Mapping

from kamu_shared.db.pool import Connection


async def upsert(
    conn: Connection, table: str, key: Mapping[str, object], changes: Mapping[str, object]
) -> None:
    """Insert ``key`` + ``changes`` into ``table`` (schema-qualified), or update ``changes``.

    The first column of ``key`` is the primary key; the other ``key`` columns are written only
    when the row is new (what an aggregate's first event already said).
    """
    names = [*key, *changes]
    placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in changes)
    await conn.execute(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders}) "  # noqa: S608
        f"ON CONFLICT ({next(iter(key))}) DO UPDATE SET {updates}",
        *key.values(),
        *changes.values(),
    )
