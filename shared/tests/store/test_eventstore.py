"""The event store's guarantees against a real PostgreSQL server."""

import asyncio
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from prometheus_client import REGISTRY

from kamu_shared.db.migrations import apply_migrations
from kamu_shared.store.errors import AppendOrderError, ConcurrencyError
from kamu_shared.store.records import NO_STREAM, Checkpoint, Metadata, NewEvent, StreamAppend


def events(*types: str) -> list[NewEvent]:
    return [NewEvent(t, {"n": i}, datetime.now(UTC)) for i, t in enumerate(types)]


def append(stream: str, expected: int | None, *types: str) -> StreamAppend:
    return StreamAppend(stream, "thing", expected, events(*types))


async def test_appended_events_read_back_in_version_order(store):
    await store.append([append("s-1", NO_STREAM, "a", "b")], Metadata(correlation_id="c-1"))
    await store.append([append("s-1", 2, "c")])

    stream = await store.read_stream("s-1")

    assert [(e.version, e.event_type) for e in stream] == [(1, "a"), (2, "b"), (3, "c")]
    assert stream[0].metadata == {"correlation_id": "c-1"}
    assert stream[0].data == {"n": 0}
    assert await store.stream_version("s-1") == 3
    assert await store.stream_version("nope") == 0


async def test_stale_expected_version_is_refused_and_nothing_is_written(store):
    await store.append([append("s-1", NO_STREAM, "a")])
    await store.append([append("s-2", NO_STREAM, "a")])

    with pytest.raises(ConcurrencyError) as refused:
        # s-1 is current, s-2 is stale: the whole append fails, s-1 included.
        await store.append([append("s-1", 1, "b"), append("s-2", 0, "b")])

    assert (refused.value.stream_id, refused.value.expected, refused.value.actual) == ("s-2", 0, 1)
    assert await store.stream_version("s-1") == 1
    assert len(await store.read_stream("s-1")) == 1


async def test_multi_stream_append_is_atomic(store):
    recorded = await store.append([append("a", NO_STREAM, "x"), append("b", NO_STREAM, "y", "z")])

    assert [(e.stream_id, e.version) for e in recorded] == [("a", 1), ("b", 1), ("b", 2)]
    assert len({e.transaction_id for e in recorded}) == 1


async def test_concurrent_appends_at_the_same_version_have_one_winner(store):
    await store.append([append("hot", NO_STREAM, "created")])

    results = await asyncio.gather(
        *(store.append([append("hot", 1, f"update-{i}")]) for i in range(10)),
        return_exceptions=True,
    )

    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, ConcurrencyError)]
    assert (len(winners), len(losers)) == (1, 9)
    assert [e.version for e in await store.read_stream("hot")] == [1, 2]


async def test_append_after_another_write_in_the_transaction_is_refused(store, pool):
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("CREATE TEMP TABLE scratch (id int)")
        await conn.execute("INSERT INTO scratch VALUES (1)")
        with pytest.raises(AppendOrderError):
            await store.append([append("s", NO_STREAM, "a")], conn=conn)


async def test_a_late_commit_is_never_skipped(store, pool):
    """A transaction that commits after one with a higher position is still read, in order."""
    async with pool.acquire() as early:
        tx = early.transaction()
        await tx.start()
        await store.append([append("early", NO_STREAM, "e")], conn=early)
        await store.append([append("late", NO_STREAM, "l")])  # commits at once, higher position

        while_open = await store.read_committed(Checkpoint())
        await tx.commit()
    after_commit = await store.read_committed(Checkpoint())

    # Nothing past the open transaction is visible, so the checkpoint cannot jump over it.
    assert while_open == []
    assert [e.stream_id for e in after_commit] == ["early", "late"]


async def test_read_committed_keeps_each_stream_in_order_across_transactions(store, pool):
    """A writer that waited for a stream's lock sorts after the holder, whatever it wrote first."""
    async with pool.acquire() as holder:
        tx = holder.transaction()
        await tx.start()
        await store.append([append("x", NO_STREAM, "x1")], conn=holder)
        waiter = asyncio.create_task(
            store.append([append("y", NO_STREAM, "y1"), append("x", 1, "x2")])
        )
        await asyncio.sleep(0.3)
        assert not waiter.done()  # blocked on x's lock, before taking a transaction id
        await tx.commit()
    await waiter

    read = await store.read_committed(Checkpoint())

    assert [(e.stream_id, e.version) for e in read if e.stream_id == "x"] == [("x", 1), ("x", 2)]
    assert read[0].transaction_id < read[-1].transaction_id


async def test_read_committed_pages_from_a_checkpoint(store):
    for i in range(5):
        await store.append([append(f"s-{i}", NO_STREAM, "a", "b")])

    first = await store.read_committed(Checkpoint(), limit=4)
    rest = await store.read_committed(Checkpoint.after(first[-1]), limit=100)

    assert len(first) == 4
    assert len(rest) == 6
    assert {e.position for e in first}.isdisjoint({e.position for e in rest})


async def test_migrations_are_applied_once(migrated_db):
    assert await apply_migrations(migrated_db) == []
    conn = await asyncpg.connect(migrated_db)
    try:
        assert await conn.fetchval("SELECT to_regclass('kamu_events')") is not None
    finally:
        await conn.close()


def appended(event_type: str) -> float:
    labels = {"stream_type": "thing", "event_type": event_type}
    return REGISTRY.get_sample_value("kamu_events_appended_total", labels) or 0.0


async def test_appended_events_are_counted_by_type_once_committed(store):
    kind = f"counted-{uuid.uuid4().hex[:8]}"

    await store.append([append("s-1", NO_STREAM, kind, kind), append("s-2", NO_STREAM, kind)])

    assert appended(kind) == 3


async def test_an_append_joining_a_transaction_counts_once_it_succeeded(store, pool):
    kind = f"joined-{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as conn, conn.transaction():
        await store.append([append("s-1", NO_STREAM, kind, kind)], conn=conn)
    with pytest.raises(ConcurrencyError):  # a stale append counts nothing
        async with pool.acquire() as conn, conn.transaction():
            await store.append([append("s-1", NO_STREAM, kind)], conn=conn)

    assert appended(kind) == 2


async def _open_writing_transaction(url: str) -> asyncpg.Connection:
    """A connection whose transaction has a transaction id and stays open until closed."""
    conn = await asyncpg.connect(url)
    await conn.execute("BEGIN")
    await conn.fetchval("SELECT pg_current_xact_id()")
    return conn


async def test_a_transaction_open_in_another_database_does_not_hold_reads_back(
    store, make_database
):
    """Snapshots are cluster-wide; only transactions that can write here may hold reads back."""
    elsewhere = await _open_writing_transaction(await make_database("elsewhere"))
    try:
        await store.append([append("a", NO_STREAM, "x")])
        await store.append([append("b", NO_STREAM, "y")])

        read = await store.read_committed(Checkpoint())

        assert [e.stream_id for e in read] == ["a", "b"]
        assert elsewhere.is_in_transaction()  # still open while we read past it
    finally:
        await elsewhere.close()


async def test_the_oldest_transaction_of_this_database_is_the_horizon_not_an_older_one_elsewhere(
    store, migrated_db, make_database
):
    elsewhere = await _open_writing_transaction(await make_database("elsewhere"))
    await store.append([append("before", NO_STREAM, "x")])  # after the other database's
    here = await _open_writing_transaction(migrated_db)
    try:
        await store.append([append("after", NO_STREAM, "y")])  # after ours: held back

        while_open = await store.read_committed(Checkpoint())
        await here.execute("COMMIT")
        after_commit = await store.read_committed(Checkpoint())
    finally:
        await here.close()
        await elsewhere.close()

    assert [e.stream_id for e in while_open] == ["before"]
    assert [e.stream_id for e in after_commit] == ["before", "after"]


async def test_a_reader_without_privileges_sees_other_roles_transactions_elsewhere(
    store, migrated_db, make_database, postgres_url
):
    """pg_stat_activity shows every role's datid and backend_xid to every role: a relay
    connecting as an unprivileged service role is not held back by another service's role."""
    suffix = uuid.uuid4().hex[:8]
    reader_role, writer_role = f"kamu_t_reader_{suffix}", f"kamu_t_writer_{suffix}"
    other = await make_database("elsewhere")
    admin = await asyncpg.connect(postgres_url)
    ours = await asyncpg.connect(migrated_db)
    try:
        for role in (reader_role, writer_role):
            await admin.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER')
        await ours.execute(f'GRANT SELECT ON kamu_events TO "{reader_role}"')
        elsewhere = await _open_writing_transaction(_as_role(other, writer_role))
        reader = await asyncpg.connect(_as_role(migrated_db, reader_role))
        try:
            await store.append([append("a", NO_STREAM, "x")])
            privileged = await reader.fetchval("SELECT pg_has_role('pg_read_all_stats', 'MEMBER')")
            read = await store.read_committed(Checkpoint(), conn=reader)
        finally:
            await reader.close()
            await elsewhere.close()
        assert not privileged
        assert [e.stream_id for e in read] == ["a"]
    finally:
        await ours.execute(f'REVOKE ALL ON kamu_events FROM "{reader_role}"')
        for role in (reader_role, writer_role):
            await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        await ours.close()
        await admin.close()


def _as_role(url: str, role: str) -> str:
    """``url`` with another user (the test servers trust loopback connections)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


async def test_a_read_inside_a_transaction_looks_at_the_backends_again(store, pool, make_database):
    """PostgreSQL caches the backends' status for the rest of a transaction; the store looks
    afresh, so a transaction elsewhere that began after an earlier look holds nothing back."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.fetchval("SELECT count(*) FROM pg_stat_activity")  # caches the status
        elsewhere = await _open_writing_transaction(await make_database("elsewhere"))
        try:
            await store.append([append("a", NO_STREAM, "x")])
            read = await store.read_committed(Checkpoint(), conn=conn)
        finally:
            await elsewhere.close()

    assert [e.stream_id for e in read] == ["a"]
