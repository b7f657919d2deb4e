"""The insights service: projecting the four services' topics into fact tables, and computing
the programme figures from them, each next to a baseline measured in the same run.

    .venv/bin/python -m benchmarks.insights [--people N] [--sizes 1000,10000,100000]
        [--runs R] [--only projection|queries] [--quick] [--out docs/benchmarks/insights.json]

1. Projection: a seeded organisation of N people (``benchmarks.organisation``) published as the
   producing services' own events (their registries, CloudEvents binary mode, as
   ``kamu_shared.testing.upstream.Upstream`` does) onto the four topics of a fresh namespace.
   Then the insights service starts (its app lifespan with ``InsightsSettings``: pool,
   migrations, one batched consumer per projection) and is timed until every event is recorded
   in the four ``kamu_applied`` tables. Baseline: four raw aiokafka consumers (one per topic, at
   once, like the service's four) inserting one row per event with asyncpg ``executemany`` into
   a plain table. Then ``rebuild`` of each projection from its topic. Both the live and the
   rebuilt tables are checked row for row against the generated facts.
2. Queries: at each size the fact tables hold an organisation of that size: the projected ones
   where the size is N, otherwise COPY'd straight into the live schemas the projections' own
   ``create`` made (rows of the same shape: the check above compares the two ways). Every
   figure of ``FIGURES`` over the route's default 12 months through ``api.answer`` and the whole
   ``/programme/overview`` over HTTP in process, warm, several runs; baseline: one pass over
   every fact row (``count(*)`` of each table with index scans off, in one statement).
"""

import argparse
import asyncio
import json
import logging
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI
from pydantic import SecretStr

from benchmarks.machine import machine_info
from benchmarks.organisation import REGISTRIES, TABLES, Organisation, Planned, organisation
from benchmarks.report import Figure, console_table, machine_and_run
from benchmarks.servers import PARTITIONS, Scratch, Servers, provided_servers
from kamu_insights.api import answer
from kamu_insights.app import create_app
from kamu_insights.figures.catalogue import FIGURES
from kamu_insights.figures.periods import Month, add_months, month_start, months_between
from kamu_insights.projections import PROJECTIONS
from kamu_insights.settings import InsightsSettings
from kamu_shared.auth.mint import mint_token
from kamu_shared.db.pool import create_pool
from kamu_shared.events.envelope import Envelope
from kamu_shared.kafka.topics import ensure_topics, in_namespace
from kamu_shared.projections.projection import live_schema
from kamu_shared.projections.rebuild import rebuild
from kamu_shared.runtime import Runtime

DEFAULT_PEOPLE = 10_000
DEFAULT_SIZES = (1_000, 10_000, 100_000)
QUICK_PEOPLE = 300
QUICK_SIZES = (300, 1_000)
DEFAULT_RUNS = 5
QUICK_RUNS = 3
STATEMENT_TIMEOUT_S = 150  # a figure slower than this is reported as not finished
SLOW_S = 20  # a figure slower than this in the warm-up run is measured that once
POLL_S = 0.5  # between counts of applied events
SECRET = "benchmark-secret-of-at-least-thirty-two-bytes"  # noqa: S105 - a throwaway stack
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "insights.json"
Json = dict[str, Any]
BASELINE = "read everything (baseline)"
OVERVIEW = "overview (all figures, HTTP)"


def say(text: str, end: str = "\n") -> None:
    sys.stdout.write(text + end)
    sys.stdout.flush()


def load() -> float:
    """The 1-minute load average: other work on the machine shows here."""
    return round(os.getloadavg()[0], 2)


PHASES: list[Json] = []  # every phase's label, seconds and the load average at its end


async def phase(label: str, work: Awaitable[Any], details: Callable[[Any], str]) -> Any:
    """One progress line: the label now, the duration and details when the work is done."""
    say(f"{label:<44}", end="")
    started = time.perf_counter()
    try:
        result = await work
    except BaseException:
        say("failed")
        raise
    seconds = time.perf_counter() - started
    PHASES.append({"phase": label, "seconds": round(seconds, 1), "load": load()})
    say(f"{seconds:7.1f} s  {details(result)}  (load {PHASES[-1]['load']})")
    return result


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def insights_settings(
    servers: Servers, url: str, namespace: str, consumers: bool
) -> InsightsSettings:
    return InsightsSettings(
        database_url=url,
        kafka_bootstrap=servers.kafka_bootstrap,
        jwt_secret=SecretStr(SECRET),
        topic_namespace=namespace,
        run_consumers=consumers,
        log_level="WARNING",
        log_format="console",
    )


# 1. projection -------------------------------------------------------------------------------


async def publish(servers: Servers, namespace: str, plan: Sequence[Planned]) -> Counter[str]:
    """Every planned event onto its topic, as the producing service's relay would send it."""
    topics = {r.topic: in_namespace(r.topic, namespace) for r in REGISTRIES}
    await ensure_topics(servers.kafka_bootstrap, list(topics.values()), PARTITIONS)
    producer = AIOKafkaProducer(
        bootstrap_servers=servers.kafka_bootstrap, linger_ms=20, max_batch_size=256 * 1024
    )
    await producer.start()
    sequence: Counter[str] = Counter()
    sent: Counter[str] = Counter()
    pending: list[asyncio.Future[Any]] = []
    try:
        for p in plan:
            ce_type, data = p.registry.encode(p.event, subject=p.subject)
            sequence[p.subject] += 1
            envelope = Envelope(
                id=p.id,
                source=p.registry.source,
                type=ce_type,
                subject=p.subject,
                time=p.at,
                sequence=sequence[p.subject],
                data=data,
                actor="benchmark",
            )
            key, value, headers = envelope.to_kafka()
            topic = topics[p.registry.topic]
            pending.append(await producer.send(topic, value, key=key, headers=headers))
            sent[topic] += 1
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


async def applied(conn: asyncpg.Connection) -> dict[str, int]:
    """Events recorded as applied, per projection schema."""
    counts = {}
    for projection in PROJECTIONS:
        schema = live_schema(projection)
        counts[schema] = await conn.fetchval(f'SELECT count(*) FROM "{schema}".kamu_applied')  # noqa: S608
    return counts


async def warm_groups(servers: Servers, topic: str) -> None:
    """A throwaway group joins and commits once: a fresh broker creates its offsets topic and
    elects a coordinator on first use, which no long-running cluster makes a service wait for."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=servers.kafka_bootstrap,
        group_id=f"bench-warm-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=5000, max_records=1)
        await consumer.commit()
    finally:
        await consumer.stop()


async def project(servers: Servers, url: str, namespace: str, expected: dict[str, int]) -> Json:
    """Start the service; seconds until every published event is applied (per schema too)."""
    app = create_app(insights_settings(servers, url, namespace, consumers=True))
    total = sum(expected.values())
    started = time.perf_counter()
    finished: dict[str, float] = {}
    first: float | None = None
    async with app.router.lifespan_context(app):
        conn = await asyncpg.connect(url)
        try:
            progress, progressed = 0, time.perf_counter()
            while len(finished) < len(expected):
                await asyncio.sleep(POLL_S)
                counts = await applied(conn)
                now = time.perf_counter()
                done = sum(counts.values())
                if done and first is None:
                    first = now - started
                for schema, n in counts.items():
                    if n >= expected[schema] and schema not in finished:
                        finished[schema] = now - started
                if done > progress:
                    progress, progressed = done, now
                elif now - progressed > 120:
                    raise RuntimeError(f"no progress for 2 minutes at {done} of {total} events")
        finally:
            await conn.close()
    seconds = max(finished.values())
    return {
        "events": total,
        "seconds": round(seconds, 2),
        "per_s": round(total / seconds, 1),
        "first_applied_after_s": round(first or 0.0, 2),
        "finished_after_s": {s: round(t, 2) for s, t in finished.items()},
        "events_per_schema": expected,
    }


async def raw_consume(servers: Servers, url: str, topics: Sequence[str]) -> Json:
    """Baseline: one raw consumer per topic at once, one row per event, executemany a batch."""
    conn = await asyncpg.connect(url)
    await conn.execute(
        "CREATE TABLE raw_events (source text NOT NULL, event_id text NOT NULL, "
        "type text NOT NULL, subject text NOT NULL, data bytea NOT NULL)"
    )
    await conn.close()
    started = time.perf_counter()
    counts = await asyncio.gather(*(_raw_topic(servers, url, t) for t in topics))
    seconds = time.perf_counter() - started
    conn = await asyncpg.connect(url)
    stored = await conn.fetchval("SELECT count(*) FROM raw_events")
    await conn.close()
    if stored != sum(counts):
        raise RuntimeError(f"raw baseline stored {stored} rows for {sum(counts)} events")
    return {"events": stored, "seconds": round(seconds, 2), "per_s": round(stored / seconds, 1)}


async def _raw_topic(servers: Servers, url: str, topic: str) -> int:
    conn = await asyncpg.connect(url)
    consumer = AIOKafkaConsumer(bootstrap_servers=servers.kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    done = 0
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            batch = await consumer.getmany(timeout_ms=500, max_records=200)
            rows = []
            for records in batch.values():
                for r in records:
                    h = {name: value for name, value in r.headers}
                    rows.append(
                        (
                            h["ce_source"].decode(),
                            h["ce_id"].decode(),
                            h["ce_type"].decode(),
                            h["ce_subject"].decode(),
                            r.value,
                        )
                    )
            if rows:
                async with conn.transaction():
                    await conn.executemany(
                        "INSERT INTO raw_events VALUES ($1, $2, $3, $4, $5)", rows
                    )
                done += len(rows)
    finally:
        await consumer.stop()
        await conn.close()
    return done


async def rebuild_all(servers: Servers, url: str, namespace: str) -> list[Json]:
    """``rebuild`` of each projection in turn (the service stopped): events/s of each."""
    pool = await create_pool(url, max_size=4)
    found = []
    try:
        for projection in PROJECTIONS:
            report = await rebuild(pool, servers.kafka_bootstrap, projection, namespace=namespace)
            found.append(
                {
                    "projection": projection.name,
                    "events": report.events,
                    "seconds": round(report.seconds, 2),
                    "per_s": round(report.rate, 1),
                }
            )
    finally:
        await pool.close()
    return found


async def check_facts(url: str, org: Organisation) -> int:
    """Every fact table holds exactly the generated rows (as multisets); returns rows."""
    conn = await asyncpg.connect(url)
    try:
        for (schema, table), rows in org.facts.items():
            sql = f'SELECT * FROM "{schema}".{table}'  # noqa: S608 - our own names
            stored = Counter(tuple(r.values()) for r in await conn.fetch(sql))
            wanted = Counter(rows)
            if stored != wanted:
                extra = list((stored - wanted).elements())[:3]
                missing = list((wanted - stored).elements())[:3]
                raise RuntimeError(
                    f"{schema}.{table}: {len(rows)} rows generated, {stored.total()} stored; "
                    f"e.g. stored only {extra}, generated only {missing}"
                )
    finally:
        await conn.close()
    return org.rows


async def projection_phase(servers: Servers, scratch: Scratch, people: int, now: datetime) -> Json:
    namespace = f"bi{uuid.uuid4().hex[:8]}"
    url = await scratch.database("insights", migrate=False)
    raw_url = await scratch.database("insights_raw", migrate=False)
    org = await phase(
        f"generating {people:,} people's events",
        asyncio.to_thread(organisation, people, now, events=True),
        lambda o: f"{len(o.events):,} events, {o.rows:,} fact rows",
    )
    sent = await phase(
        "publishing onto the four topics",
        publish(servers, namespace, org.events),
        lambda s: ", ".join(f"{t.split('.')[1]} {n:,}" for t, n in s.items()),
    )
    expected = {
        live_schema(p): sum(sent[in_namespace(t, namespace)] for t in p.topics) for p in PROJECTIONS
    }
    raw = await phase(
        "baseline: raw consumers + executemany",
        raw_consume(servers, raw_url, list(sent)),
        lambda r: f"{r['per_s']:,.0f} events/s",
    )
    await phase(
        "warming Kafka's group coordinator", warm_groups(servers, next(iter(sent))), lambda _: ""
    )
    ours = await phase(
        "insights service applying every event",
        project(servers, url, namespace, expected),
        lambda r: f"{r['per_s']:,.0f} events/s",
    )
    await phase("checking live facts row for row", check_facts(url, org), lambda n: f"{n:,} rows")
    rebuilt = await phase(
        "rebuild of each projection",
        rebuild_all(servers, url, namespace),
        lambda rs: ", ".join(f"{r['projection']} {r['per_s']:,.0f}/s" for r in rs),
    )
    await phase("checking rebuilt facts", check_facts(url, org), lambda n: f"{n:,} rows")
    await drop_topics(servers, namespace)
    return {
        "people": people,
        "database": url,
        "fact_rows": org.rows,
        "events_per_topic": {t.split(".")[1]: n for t, n in sent.items()},
        "ours": ours,
        "raw": raw,
        "ratio": round(ours["per_s"] / raw["per_s"], 3),
        "rebuild": rebuilt,
        "rebuild_per_s": round(
            sum(r["events"] for r in rebuilt) / sum(r["seconds"] for r in rebuilt), 1
        ),
    }


async def drop_topics(servers: Servers, namespace: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers.kafka_bootstrap)
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(f"{namespace}.")]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()


# 2. queries ---------------------------------------------------------------------------------


def twelve_months(now: datetime) -> list[Month]:
    """The route's default period: the last 12 months, this one included."""
    this_month = month_start(now.date())
    return months_between(add_months(this_month, -11), this_month, now)


async def fill(url: str, org: Organisation) -> int:
    """COPY the generated facts into the live schemas the projections created."""
    conn = await asyncpg.connect(url)
    try:
        for (schema, table), rows in org.facts.items():
            await conn.copy_records_to_table(table, schema_name=schema, records=rows)
    finally:
        await conn.close()
    return org.rows


async def settle(url: str) -> None:
    """VACUUM ANALYZE every fact table: statistics and visibility as after a quiet while."""
    conn = await asyncpg.connect(url)
    try:
        for schema, tables in TABLES.items():
            for table in tables:
                await conn.execute(f'VACUUM ANALYZE "{schema}".{table}')
    finally:
        await conn.close()


def _count(schema: str, table: str) -> str:
    return f'(SELECT count(*) FROM "{schema}".{table})'  # noqa: S608 - our own names


BASELINE_SQL = "SELECT " + " + ".join(
    _count(schema, table) for schema, tables in TABLES.items() for table in tables
)


async def read_everything(runtime: Runtime) -> int:
    """Baseline: one sequential pass over every fact row, index-only scans not allowed."""
    async with runtime.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "SET LOCAL enable_indexonlyscan = off; SET LOCAL enable_indexscan = off; "
            "SET LOCAL enable_bitmapscan = off"
        )
        return int(await conn.fetchval(BASELINE_SQL))


class Timings:
    """Seconds per measured thing. The first run warms up and is not kept, unless it took
    longer than ``SLOW_S``: such a thing is measured that once. One that did not finish within
    the statement timeout is not asked again."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}
        self.failed: dict[str, str] = {}
        self.once: set[str] = set()

    async def time(self, name: str, work: Callable[[], Awaitable[Any]], warm_up: bool) -> None:
        if name in self.failed or name in self.once:
            return
        started = time.perf_counter()
        try:
            await work()
        except (asyncpg.QueryCanceledError, httpx.HTTPStatusError) as exc:
            self.failed[name] = f"not finished in {STATEMENT_TIMEOUT_S} s ({type(exc).__name__})"
            return
        seconds = time.perf_counter() - started
        if warm_up and seconds > SLOW_S:
            self.once.add(name)
        if not warm_up or name in self.once:
            self.seconds.setdefault(name, []).append(seconds)

    def summary(self, name: str) -> Json:
        if name in self.failed:
            return {"failed": self.failed[name]}
        ms = [s * 1000 for s in self.seconds[name]]
        return {
            "runs": len(ms),
            "median_ms": round(statistics.median(ms), 2),
            "p95_ms": round(percentile(ms, 95), 2),
            "max_ms": round(max(ms), 2),
        }


async def measure_queries(app: FastAPI, runs: int, label: str) -> tuple[Timings, int]:
    """The baseline, every figure and the overview, in that order, ``runs`` + 1 times."""
    runtime: Runtime = app.state.runtime
    months = twelve_months(datetime.now(UTC))
    token = mint_token(secret=SECRET, sub="po-bench", roles=["people-ops"])
    transport = httpx.ASGITransport(app=app)
    timings = Timings()
    rows = await read_everything(runtime)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://insights",
        headers={"Authorization": f"Bearer {token}"},
        timeout=STATEMENT_TIMEOUT_S * 12,
    ) as client:

        async def overview() -> None:
            (await client.get("/programme/overview")).raise_for_status()

        def figure(name: str) -> Callable[[], Awaitable[Any]]:
            return lambda: answer(runtime, FIGURES[name], None, None, months, datetime.now(UTC))

        things: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            (BASELINE, lambda: read_everything(runtime)),
            *[(name, figure(name)) for name in FIGURES],
            (OVERVIEW, overview),
        ]

        async def one_run(run: int) -> None:
            for name, work in things:
                if name == OVERVIEW and timings.failed:
                    timings.failed[name] = "not run: a figure it includes did not finish"
                await timings.time(name, work, warm_up=run == 0)

        for run in range(runs + 1):
            title = "warm-up run" if run == 0 else f"run {run} of {runs}"
            await phase(f"{label} {title}", one_run(run), lambda _: "")
    return timings, rows


async def explain(runtime: Runtime, name: str, analyse: bool) -> list[str]:
    """The figure's plan (with ANALYZE and BUFFERS when ``analyse``), as the engine runs it."""
    figure = FIGURES[name]
    months = twelve_months(datetime.now(UTC))
    sql = figure.sql.format(group=next(iter(figure.dimensions.values())))
    options = "ANALYZE, BUFFERS" if analyse else "COSTS"
    rows = await runtime.pool.fetch(
        f"EXPLAIN ({options}) {sql}",
        [m.starts for m in months],
        [m.ends for m in months],
        [m.as_of for m in months],
        datetime.now(UTC),
    )
    return [r[0] for r in rows]


async def query_size(
    servers: Servers, scratch: Scratch, size: int, now: datetime, runs: int, plan: Json
) -> Json:
    """Figures at one size; ``plan``: the projected database to reuse (if any), and whether to
    EXPLAIN the slowest figures."""
    url = plan.get("database") or await scratch.database(f"q{size}", migrate=False)
    admin = await asyncpg.connect(url)
    name = await admin.fetchval("SELECT current_database()")
    timeout = f"{STATEMENT_TIMEOUT_S}s"
    await admin.execute(f"ALTER DATABASE \"{name}\" SET statement_timeout = '{timeout}'")
    await admin.close()
    app = create_app(insights_settings(servers, url, "bench", consumers=False))
    label = f"{size:,} people:"
    async with app.router.lifespan_context(app):  # creates the live schemas (projections' own)
        if "database" not in plan:
            org = await phase(
                f"{label} generating facts",
                asyncio.to_thread(organisation, size, now, events=False),
                lambda o: f"{o.rows:,} fact rows",
            )
            await phase(f"{label} COPY into the live schemas", fill(url, org), rows_done)
        await phase(f"{label} VACUUM ANALYZE", settle(url), lambda _: "")
        timings, rows = await measure_queries(app, runs, label)
        results = {n: timings.summary(n) for n in [*timings.seconds, *timings.failed]}
        plans = []
        if plan.get("explain"):
            plans = await phase(
                f"{label} EXPLAIN the slowest",
                explain_slowest(app.state.runtime, results),
                lambda ps: ", ".join(p["figure"] for p in ps),
            )
    return {
        "people": size,
        "filled": "projected from Kafka" if "database" in plan else "COPY",
        "fact_rows": rows,
        "timings": results,
        "plans": plans,
    }


def rows_done(n: int) -> str:
    return f"{n:,} rows"


async def explain_slowest(runtime: Runtime, timings: Json, count: int = 2) -> list[Json]:
    """Plans of the ``count`` slowest figures (not finished ones first)."""
    figures = [n for n in FIGURES if n in timings]
    slow = sorted(figures, key=lambda n: timings[n].get("median_ms", math.inf), reverse=True)
    plans = []
    for name in slow[:count]:
        analyse = "failed" not in timings[name]
        try:
            lines = await explain(runtime, name, analyse)
        except asyncpg.QueryCanceledError:
            lines, analyse = await explain(runtime, name, False), False
        plans.append({"figure": name, "analyzed": analyse, "plan": lines})
    return plans


# the run --------------------------------------------------------------------------------------


async def run(servers: Servers, args: argparse.Namespace) -> Json:
    scratch = Scratch(servers)
    now = datetime.now(UTC)
    started, load_before = time.perf_counter(), load()
    machine = await machine_info(servers)
    projection: Json | None = None
    sizes: list[Json] = []
    try:
        if args.only != "queries":
            projection = await projection_phase(servers, scratch, args.people, now)
        if args.only != "projection":
            for size in args.sizes:
                plan: Json = {"explain": size == max(args.sizes)}
                if projection and projection["people"] == size:
                    plan["database"] = projection["database"]
                sizes.append(await query_size(servers, scratch, size, now, args.runs, plan))
    finally:
        say(f"{'dropping databases and topics':<44}", end="")
        await scratch.drop_all()
        say("done")
    if projection:
        projection.pop("database")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine,
        "run": {
            "people_projected": args.people if projection else None,
            "query_sizes": list(args.sizes),
            "runs_per_query": args.runs,
            "statement_timeout_s": STATEMENT_TIMEOUT_S,
            "seconds": round(time.perf_counter() - started, 1),
            "load_average_before_after": [load_before, load()],
        },
        "projection": projection,
        "queries": sizes,
        "phases": PHASES,
    }


# the report -----------------------------------------------------------------------------------


def cell(timing: Json, baseline: Json | None) -> str:
    """``median / p95 ms (ratio to one read of everything)``."""
    if "failed" in timing:
        return str(timing["failed"])
    text = f"{timing['median_ms']:,.1f} / {timing['p95_ms']:,.1f}"
    if baseline is not None and "median_ms" in baseline:
        text += f" ({timing['median_ms'] / baseline['median_ms']:,.1f}x)"
    return text


def query_rows(sizes: list[Json]) -> list[list[str]]:
    header = ["figure", *[f"{s['people']:,} people" for s in sizes]]
    rows = [
        header,
        ["fact rows (filled by)", *[f"{s['fact_rows']:,} ({s['filled']})" for s in sizes]],
    ]
    for name in [BASELINE, *FIGURES, OVERVIEW]:
        cells = []
        for s in sizes:
            timing = s["timings"].get(name, {"failed": "not run"})
            cells.append(cell(timing, None if name == BASELINE else s["timings"].get(BASELINE)))
        rows.append([name, *cells])
    return rows


def projection_figures(p: Json) -> list[Figure]:
    ours, raw = p["ours"], p["raw"]
    found = [
        Figure(
            key="project",
            name="live projection",
            events=ours["events"],
            ours_name="insights service",
            ours_rounds=(ours["seconds"],),
            baseline_name="raw consumers + executemany",
            baseline_rounds=(raw["seconds"],),
        )
    ]
    found += [
        Figure(
            key=f"rebuild-{r['projection']}",
            name=f"rebuild {r['projection']}",
            events=r["events"],
            ours_name="projections.rebuild",
            ours_rounds=(r["seconds"],),
            baseline_name="raw consumers + executemany",
            baseline_rounds=(raw["seconds"] * r["events"] / raw["events"],),
        )
        for r in p["rebuild"]
    ]
    return found


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(rows[0]) + " |",
        "|---|" + "--:|" * (len(rows[0]) - 1),
        *["| " + " | ".join(r) + " |" for r in rows[1:]],
    ]


def projection_markdown(p: Json) -> list[str]:
    ours, raw = p["ours"], p["raw"]
    topics = ", ".join(f"{t} {n:,}" for t, n in p["events_per_topic"].items())
    finished = ", ".join(f"{s} {t} s" for s, t in ours["finished_after_s"].items())
    rows = [
        ["what", "events", "seconds", "events/s", "ours / raw"],
        [
            "insights service, live (4 projection consumers)",
            f"{ours['events']:,}",
            f"{ours['seconds']:,.1f}",
            f"{ours['per_s']:,.0f}",
            f"{p['ratio']:.2f}",
        ],
        [
            "raw: 4 aiokafka consumers + executemany",
            f"{raw['events']:,}",
            f"{raw['seconds']:,.1f}",
            f"{raw['per_s']:,.0f}",
            "1",
        ],
        *[
            [
                f"rebuild {r['projection']}",
                f"{r['events']:,}",
                f"{r['seconds']:,.1f}",
                f"{r['per_s']:,.0f}",
                f"{r['per_s'] / raw['per_s']:.2f}",
            ]
            for r in p["rebuild"]
        ],
    ]
    return [
        f"## Projection: {p['people']:,} people, {ours['events']:,} events",
        "",
        f"Events per topic: {topics}. Fact rows: {p['fact_rows']:,}, equal row for row to the "
        "generated ones, live and rebuilt.",
        "",
        *markdown_table(rows),
        "",
        f"The service's time runs from its start (pool, migrations, consumer groups joining; "
        f"the first event was applied after {ours['first_applied_after_s']} s) until the last "
        f"event was recorded in `kamu_applied`; each schema finished after: {finished}. "
        f"The four rebuilds, one after another: {p['rebuild_per_s']:,.0f} events/s overall.",
        "",
    ]


def plans_markdown(sizes: list[Json]) -> list[str]:
    lines = []
    for s in sizes:
        for plan in s["plans"]:
            kind = "EXPLAIN (ANALYZE, BUFFERS)" if plan["analyzed"] else "EXPLAIN (not finished)"
            lines += [
                f"### {plan['figure']} at {s['people']:,} people: {kind}",
                "",
                "```",
                *plan["plan"][:60],
                *(["..."] if len(plan["plan"]) > 60 else []),
                "```",
                "",
            ]
    return lines


def markdown(result: Json) -> str:
    lines = [
        "# Insights benchmark",
        "",
        f"Generated by `python -m benchmarks.insights` on {result['date']}; see "
        "[README.md](README.md#insights) for what is measured and how to read it.",
        "",
    ]
    if result["projection"]:
        lines += projection_markdown(result["projection"])
    if result["queries"]:
        lines += [
            "## Queries: every figure over 12 months, warm",
            "",
            "Milliseconds, median / p95 of "
            f"{result['run']['runs_per_query']} runs after a warm-up run; in brackets the "
            "median's ratio to the baseline's (how many reads of every fact row a figure "
            "costs). Figures through `api.answer` (SQL, suppression, derivation), the overview "
            "through `GET /programme/overview` in process (eleven figures, JSON).",
            "",
            *markdown_table(query_rows(result["queries"])),
            "",
            "## Plans of the slowest figures at the largest size",
            "",
            *plans_markdown(result["queries"]),
        ]
    if result.get("phases"):
        lines += [
            "## Phases",
            "",
            "Seconds, and the 1-minute load average when each phase ended (2 cores: above 2, "
            "something else on the machine competed with this run).",
            "",
            *[f"- {p['phase']}: {p['seconds']:,} s, load {p['load']}" for p in result["phases"]],
            "",
        ]
    lines += machine_and_run(result["machine"], result["run"])
    return "\n".join(lines)


def quiet_logs() -> None:
    """Warnings and errors only: info lines from consumers or rebuilds would break the lines."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.basicConfig(level=logging.WARNING)
    # A fresh broker answers the first produce and group requests with retriable errors
    # (leaders being elected, the offsets topic being created), which aiokafka logs and retries.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def sizes_list(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted(int(part) for part in text.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError("--sizes takes numbers separated by commas") from None
    if not sizes or sizes[0] < 50:
        raise argparse.ArgumentTypeError("every size must be at least 50 people")
    return sizes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.insights",
        description="The insights projections and figures next to raw baselines.",
    )
    parser.add_argument("--people", type=int, help=f"people projected (default {DEFAULT_PEOPLE:,})")
    parser.add_argument(
        "--sizes",
        type=sizes_list,
        help="organisation sizes for the queries (default "
        + ",".join(str(s) for s in DEFAULT_SIZES)
        + ")",
    )
    parser.add_argument("--runs", type=int, help=f"timed runs per query (default {DEFAULT_RUNS})")
    parser.add_argument("--only", choices=("projection", "queries"), help="one part only")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_PEOPLE} people, sizes {QUICK_SIZES}, {QUICK_RUNS} runs: a smoke test",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help=f"JSON to write, markdown next to it (default {DEFAULT_OUT}; with --quick a "
        "temporary folder)",
    )
    args = parser.parse_args(argv)
    args.people = args.people or (QUICK_PEOPLE if args.quick else DEFAULT_PEOPLE)
    args.sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    args.runs = args.runs or (QUICK_RUNS if args.quick else DEFAULT_RUNS)
    if args.out is None:
        folder = Path(tempfile.gettempdir()) / "kamu-benchmarks"
        args.out = folder / "insights.json" if args.quick else DEFAULT_OUT
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the phases, print the tables, write the JSON and markdown."""
    args = parse_args(argv)
    quiet_logs()
    say(
        f"insights benchmark: {args.people:,} people projected; queries at "
        f"{', '.join(f'{s:,}' for s in args.sizes)} people, {args.runs} runs each"
    )
    say(f"{'starting Kafka and PostgreSQL':<44}", end="")
    with provided_servers() as servers:
        say(f"{servers.kafka_provider}; {servers.postgres_provider}")
        result = asyncio.run(run(servers, args))
    if result["projection"]:
        say("\n" + console_table(projection_figures(result["projection"])))
    if result["queries"]:
        say("\nmilliseconds, median / p95 (x one read of every fact row)\n")
        say(text_table(query_rows(result["queries"])))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))
    say(f"\nwrote {args.out} and {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
