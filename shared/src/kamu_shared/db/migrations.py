"""Forward-only schema migrations, applied at start-up with yoyo-migrations.

Shared mechanisms ship theirs in ``kamu_shared/migrations``; each service adds its own folder.
yoyo records what ran in its own tables and holds a lock while applying, so replicas that start
together apply each migration once. Files are plain SQL named ``NNNN.<owner>.<what>.sql``; a
shipped file is never edited, a new one is added.
"""

import asyncio
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from yoyo import get_backend, read_migrations

SHARED_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _yoyo_url(dsn: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(scheme="postgresql+psycopg"))


def apply_migrations_sync(dsn: str, folders: Sequence[Path] = ()) -> list[str]:
    """Apply pending migrations from the shared folder then ``folders``; return their ids."""
    backend = get_backend(_yoyo_url(dsn), migration_table="kamu_schema_migrations")
    try:
        migrations = read_migrations(str(SHARED_MIGRATIONS), *(str(f) for f in folders))
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
        return [m.id for m in pending]
    finally:
        backend.connection.close()


async def apply_migrations(dsn: str, folders: Sequence[Path] = ()) -> list[str]:
    """Async front of :func:`apply_migrations_sync` (yoyo's drivers are synchronous)."""
    return await asyncio.to_thread(apply_migrations_sync, dsn, list(folders))
