"""The one composition root every service process goes through.

A service describes itself once (:class:`ServiceDefinition`: its events, migrations, routes,
reactions and projections); :func:`lifespan` turns that into running parts when the server
starts — pool, migrations, topic, relay, consumers — and stops them in reverse order.
"""

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import structlog
from fastapi import APIRouter, Depends, FastAPI, Request

from kamu_shared.auth.deps import install_auth
from kamu_shared.consumer.processing import Handler, Processor
from kamu_shared.consumer.runner import EventConsumer
from kamu_shared.db.migrations import apply_migrations
from kamu_shared.db.pool import create_pool
from kamu_shared.events import EventRegistry
from kamu_shared.kafka.producer import event_producer
from kamu_shared.kafka.topics import ensure_topics, events_topic, in_namespace
from kamu_shared.outbox.relay import OutboxRelay
from kamu_shared.outbox.tail import tail_reader
from kamu_shared.projections.projection import Projection, ensure_live_schema, live_consumer
from kamu_shared.settings import ServiceSettings
from kamu_shared.store.eventstore import EventStore
from kamu_shared.supervision import Supervised, SupervisedCheck
from kamu_shared.timers import Timer, TimerLoop
from kamu_shared.web.app import create_service_app
from kamu_shared.web.health import HealthCheck, KafkaCheck, PostgresCheck

log = structlog.get_logger("kamu.runtime")


@dataclass(frozen=True)
class Reaction:
    """A consumer group applying one handler to events of the given topics.

    Give ``handler``, or ``make_handler`` to build it from the running :class:`Runtime` (for
    handlers that append events or read settings).
    """

    group: str
    topics: Sequence[str]
    decoders: Sequence[EventRegistry]
    handler: Handler | None = None
    make_handler: "Callable[[Runtime], Handler] | None" = None

    def handler_for(self, runtime: "Runtime") -> Handler:
        if self.make_handler is not None:
            return self.make_handler(runtime)
        if self.handler is None:
            raise ValueError(f"reaction {self.group} has no handler")
        return self.handler


@dataclass(frozen=True)
class Worker:
    """A long-running task of a service beside its consumers (a delivery dispatcher): runs
    until ``stop`` is set, restarted if it ends earlier; ``/readyz/background`` fails while it
    is down or its ``problem`` names one."""

    name: str
    run: "Callable[[Runtime, asyncio.Event], Coroutine[Any, Any, None]]"
    problem: "Callable[[Runtime], str | None]" = lambda _runtime: None


StateRebuilder = Callable[[asyncpg.Pool, Callable[[int], None] | None], Awaitable[int]]
"""Replays the store into state tables; gets a progress callback (events so far)."""


@dataclass(frozen=True)
class ServiceDefinition:
    """Everything that makes one service what it is, in one visible place."""

    name: str
    title: str
    description: str
    version: str
    registry: EventRegistry
    migrations: Sequence[Path] = ()
    routers: Sequence[APIRouter] = ()
    reactions: Sequence[Reaction] = ()
    projections: Sequence[Projection] = ()
    # Read models kept in the command's transaction, rebuilt from the service's own store.
    state_rebuilders: Mapping[str, StateRebuilder] = field(default_factory=dict)
    # Durable time-driven work (overdue meetings, reviews due), run where consumers run.
    timers: Sequence[Timer] = ()
    # Long-running tasks beside the consumers (they run where consumers run).
    workers: Sequence[Worker] = ()


@dataclass
class Runtime:
    """What a running process holds (``app.state.runtime``)."""

    settings: ServiceSettings
    definition: ServiceDefinition
    pool: asyncpg.Pool
    store: EventStore
    consumers: list[EventConsumer] = field(default_factory=list)
    relay: OutboxRelay | None = None
    # What a service keeps per process beside its pool (caches), gone with the process.
    local: dict[str, Any] = field(default_factory=dict)

    @property
    def topic(self) -> str:
        return in_namespace(events_topic(self.definition.name), self.settings.topic_namespace)


def get_runtime(request: Request) -> Runtime:
    """The running process's runtime, for route dependencies."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def processor_for(runtime: Runtime, reaction: Reaction) -> Processor:
    s = runtime.settings
    return Processor(
        pool=runtime.pool,
        group=in_namespace(reaction.group, s.topic_namespace),
        decoders=reaction.decoders,
        handler=reaction.handler_for(runtime),
        attempts=s.consumer_retry_attempts,
        backoff_initial=s.consumer_backoff_initial_seconds,
        backoff_max=s.consumer_backoff_max_seconds,
    )


def build_consumers(runtime: Runtime) -> list[EventConsumer]:
    """One consumer per reaction and per projection, configured from settings."""
    s = runtime.settings
    consumers = [
        EventConsumer(
            processor=processor_for(runtime, reaction),
            bootstrap=s.kafka_bootstrap,
            topics=[in_namespace(t, s.topic_namespace) for t in reaction.topics],
            stall_timeout=s.consumer_stall_timeout_seconds,
            partitions=s.kafka_topic_partitions,
            replication=s.kafka_topic_replication,
            commit_interval=s.consumer_commit_interval_seconds,
        )
        for reaction in runtime.definition.reactions
    ]
    consumers += [
        live_consumer(
            runtime.pool,
            s.kafka_bootstrap,
            p,
            stall_timeout=s.consumer_stall_timeout_seconds,
            partitions=s.kafka_topic_partitions,
            replication=s.kafka_topic_replication,
            commit_interval=s.consumer_commit_interval_seconds,
            namespace=s.topic_namespace,
            attempts=s.consumer_retry_attempts,
            backoff_initial=s.consumer_backoff_initial_seconds,
            backoff_max=s.consumer_backoff_max_seconds,
        )
        for p in runtime.definition.projections
    ]
    return consumers


async def open_runtime(settings: ServiceSettings, definition: ServiceDefinition) -> Runtime:
    """Pool and migrations: what every command of a service needs before anything else."""
    applied = await apply_migrations(settings.database_url, definition.migrations)
    if applied:
        log.info("migrations-applied", migrations=applied)
    pool = await create_pool(settings.database_url, max_size=settings.database_pool_size)
    runtime = Runtime(settings=settings, definition=definition, pool=pool, store=EventStore(pool))
    for projection in definition.projections:
        await ensure_live_schema(pool, projection)
    return runtime


def _relay_task(runtime: Runtime) -> Supervised:
    """The relay under supervision; its topic is ensured inside, so a broker that is down at
    start delays the relay (and shows in readiness), never the API's start."""
    s = runtime.settings
    relay = OutboxRelay(
        dsn=s.database_url,
        store=runtime.store,
        pool=runtime.pool,
        topic=runtime.topic,
        source=runtime.definition.registry.source,
        name=f"{runtime.definition.name}-relay",
        batch_size=s.relay_batch_size,
        poll_interval=s.relay_poll_interval_seconds,
        recheck_initial=s.relay_recheck_initial_seconds,
        gather=s.relay_gather_seconds,
        unready_lag=s.relay_unready_lag_seconds,
        producer_factory=lambda: event_producer(
            s.kafka_bootstrap, f"{runtime.definition.name}-relay"
        ),
        reader_factory=lambda: tail_reader(s.kafka_bootstrap, f"{runtime.definition.name}-relay"),
    )
    runtime.relay = relay

    async def body(stop: asyncio.Event) -> None:
        await ensure_topics(
            s.kafka_bootstrap, [runtime.topic], s.kafka_topic_partitions, s.kafka_topic_replication
        )
        await relay.run_forever(stop)

    return _supervised(runtime, "relay", body, relay.problem)


def _supervised(
    runtime: Runtime,
    name: str,
    body: Callable[[asyncio.Event], Coroutine[Any, Any, None]],
    problem: Callable[[], str | None],
) -> Supervised:
    s = runtime.settings
    return Supervised(
        name,
        body,
        backoff_initial=s.task_restart_backoff_initial_seconds,
        backoff_max=s.task_restart_backoff_max_seconds,
        problem=problem,
    )


def background_tasks(runtime: Runtime) -> list[Supervised]:
    """Every long-running task this process runs (relay, consumers, timers, workers), each
    under supervision, as the process's settings ask."""
    s = runtime.settings
    tasks: list[Supervised] = []
    if s.run_relay and runtime.definition.registry.events():  # nothing to publish: no relay
        tasks.append(_relay_task(runtime))
    if not s.run_consumers:
        return tasks
    runtime.consumers = build_consumers(runtime)
    tasks += [
        _supervised(runtime, f"consumer:{c.group}", c.run, c.problem) for c in runtime.consumers
    ]
    for timer in runtime.definition.timers:
        loop = TimerLoop(timer, runtime)
        tasks.append(_supervised(runtime, f"timer:{timer.name}", loop.run_forever, loop.problem))
    for worker in runtime.definition.workers:
        tasks.append(
            _supervised(
                runtime,
                f"worker:{worker.name}",
                functools.partial(worker.run, runtime),
                functools.partial(worker.problem, runtime),
            )
        )
    return tasks


@asynccontextmanager
async def running(runtime: Runtime) -> AsyncIterator[list[HealthCheck]]:
    """The background tasks, supervised, for as long as the context lasts; yields their
    readiness checks."""
    stop = asyncio.Event()
    supervised = background_tasks(runtime)
    tasks = [asyncio.create_task(t.run(stop), name=f"supervise:{t.name}") for t in supervised]
    try:
        yield [SupervisedCheck(t) for t in supervised]
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def create_app(
    settings: ServiceSettings, definition: ServiceDefinition, *, with_routes: bool = True
) -> FastAPI:
    """The service's app: its routes (unless a worker) and the operations endpoints.

    Readiness follows the process's role: an API is ready when what its routes need (its
    database) answers, whatever Kafka does, so a broker outage never takes every API replica
    out of a load balancer; the background work (relay, consumers, timers, workers, and Kafka
    which they need) answers at ``/readyz/background``, and is a worker's ``/readyz``.
    """
    task_checks: list[HealthCheck] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await open_runtime(settings, definition)
        app.state.runtime = runtime
        try:
            async with running(runtime) as checks:
                task_checks.extend(checks)
                yield
        finally:
            await runtime.pool.close()

    database = PostgresCheck(settings.database_url)
    background: list[HealthCheck] = []
    if settings.run_relay or settings.run_consumers:
        background = [database, KafkaCheck(settings.kafka_bootstrap), _Dynamic(task_checks)]
    app = create_service_app(
        settings,
        title=f"kamu-{definition.name}" if not definition.title else definition.title,
        description=definition.description,
        version=definition.version,
        checks=[database] if with_routes else background,
        background_checks=background,
        lifespan=lifespan,
    )
    if settings.jwt_secret or settings.jwt_jwks_url:
        install_auth(app, settings)
    if with_routes:
        for router in definition.routers:
            app.include_router(router)
    return app


class _Dynamic:
    """The consumers' checks, known only once the lifespan has built them."""

    name = "consumers"

    def __init__(self, checks: list[HealthCheck]) -> None:
        self._checks = checks

    async def check(self) -> None:
        failing = []
        for check in self._checks:
            try:
                await check.check()
            except Exception as exc:
                failing.append(f"{check.name}: {exc}")
        if failing:
            raise RuntimeError("; ".join(failing))
