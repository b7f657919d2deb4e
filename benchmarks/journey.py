"""End-to-end latencies of the journey on the whole platform: every service its own process.

    .venv/bin/python -m benchmarks.journey [--pairings N] [--out PATH]

Starts Kafka and PostgreSQL (``provided_servers``), then the platform with ``running_platform``
exactly as the journey test and ``./kamu up`` run it: each service's API with its relay,
consumers, timers and the notifications dispatcher in its own OS process, and the catcher (mail
catcher and webhook receiver). Every service runs with its default settings.

Set-up, untimed: N colleagues and N/10 trained Kamus synced over HTTP; each colleague's
notifications go by email and to a personal webhook on the catcher (Slack and Teams off); N
pairing requests, whose emails to the Kamus are left to arrive before anything is timed.

Then, one pairing at a time and each after a random pause of up to a second (so that accepts
fall anywhere in any periodic cycle, such as the dispatcher's fallback poll), the Kamu accepts
(``POST /pairings/{id}/accept``) and, from the moment its HTTP response is received:

- (a) command accepted to read model updated in another service: the meetings consumer's
  transaction that marks the pairing active in ``meetings_pairings`` has committed, and so has
  the goals consumer's that records the Kamu in ``goals_kamus``; each row polled every 2 ms on
  a connection of the benchmark's own to that service's database (a primary-key read, cheap
  enough not to compete with the consumers, as HTTP polling did), the time taken when the
  first good answer is received. Then one read through the API (``GET /pairings/{id}/cadence``
  answering ``active``), which must show it: "meetings' API shows it" is that read's receipt;
- (b) event to notification delivered: the colleague's ``pairing-accepted`` email and webhook
  in the catcher, at the times the catcher recorded (the mail file's mtime, the webhook record's
  ``at``).

With ``--background-writes R`` the N pairings are timed twice: once on an otherwise idle
platform, then again (N more) while goals and meetings each take R writes a second
(``POST /goals``, ``POST /meetings`` from ``vegeta``, compiled: ``benchmarks.journey_load``),
and both sets of figures are reported side by side. The load matters because every service's
database lives on the same PostgreSQL server, and because the consumers and relays of the
services the event passes through share the machine with it.

Baselines on the same broker and server, measured in the same run: one Kafka hop as the
services make it (the relay's producer settings, a consumer group polling as theirs do), and
PostgreSQL ``NOTIFY`` to a listening connection (what wakes the relay).
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer

from benchmarks.journey_load import BackgroundLoad, LoadPlan, LoadReport, set_up_load
from benchmarks.machine import machine_info
from benchmarks.servers import Scratch, Servers, provided_servers
from kamu_devstack.gotools import ensure_tools
from kamu_devstack.platform import Platform, running_platform
from kamu_devstack.services import SERVICES
from kamu_shared.auth.mint import mint_token
from kamu_shared.kafka.producer import event_producer
from kamu_shared.kafka.topics import events_topic, in_namespace

POLL_SECONDS = 0.002  # between reads of the meetings and goals read-model rows
CATCHER_POLL_SECONDS = 0.01  # between looks into the catcher's folders (it records the times)
KAMU_CAPACITY = 10
SET_UP_CONCURRENCY = 8
WARM_UP_HOPS = 20
PAUSE_SECONDS = 1.0  # at most, before each timed pairing (twice the dispatcher's poll period)
# Under background load, (a) should take: median and p99 (ms).
TARGET_MEDIAN_MS = 50
TARGET_P99_MS = 200
Json = dict[str, Any]


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(values: Sequence[float]) -> Json:
    """Milliseconds: count, median, p90, p99, max (NaN for none)."""
    ms = [v * 1000 for v in values]
    if not ms:
        return {"count": 0, **dict.fromkeys(("median", "p90", "p99", "max"), math.nan)}
    return {
        "count": len(ms),
        "median": statistics.median(ms),
        "p90": percentile(ms, 90),
        "p99": percentile(ms, 99),
        "max": max(ms),
    }


@dataclass
class Clients:
    """HTTP to the platform with tokens minted for whoever calls."""

    platform: Platform
    http: httpx.AsyncClient
    tokens: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)

    def headers(self, sub: str, roles: tuple[str, ...] = ("employee",)) -> dict[str, str]:
        key = (sub, roles)
        if key not in self.tokens:
            self.tokens[key] = mint_token(
                secret=self.platform.secrets["jwt"], sub=sub, roles=roles, ttl_seconds=86400
            )
        return {"Authorization": f"Bearer {self.tokens[key]}"}

    async def call(
        self,
        method: str,
        service: str,
        path: str,
        sub: str,
        body: Json | None = None,
        roles: tuple[str, ...] = ("employee",),
        expect: int | None = None,
    ) -> httpx.Response:
        response = await self.http.request(
            method,
            f"{self.platform.url(service)}{path}",
            json=body,
            headers=self.headers(sub, roles),
        )
        if expect is not None and response.status_code != expect:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response


async def gather_limited(calls: Iterable[Callable[[], Awaitable[Any]]]) -> list[Any]:
    gate = asyncio.Semaphore(SET_UP_CONCURRENCY)

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(c) for c in calls))


class CatcherWatch:
    """New files in the catcher's folders: each email and webhook as the catcher recorded it.

    The catcher numbers its files in arrival order (``000001.eml``, ``000001.json``, ...), so a
    look costs one ``stat`` per folder rather than a listing."""

    def __init__(self, folder: Path) -> None:
        self.mail = folder / "mail"
        self.hooks = folder / "hooks"
        self.next = {".eml": 1, ".json": 1}

    def _fresh(self, folder: Path, suffix: str, parse: Callable[[Path], Any]) -> list[Any]:
        found = []
        while (path := folder / f"{self.next[suffix]:06d}{suffix}").exists():
            parsed = parse(path)
            if parsed is None:  # still being written: look again later
                break
            found.append(parsed)
            self.next[suffix] += 1
        return found

    def new_mail(self) -> list[tuple[str, float]]:
        """(To, arrival time) of each email that arrived since the last look."""

        def parse(path: Path) -> tuple[str, float] | None:
            raw = path.read_bytes()
            if not raw.rstrip().endswith(b"--"):  # a multipart message ends with its boundary
                return None
            message = message_from_bytes(raw, policy=policy.default)
            return str(message["To"]), path.stat().st_mtime

        return self._fresh(self.mail, ".eml", parse)

    def new_hooks(self) -> list[tuple[Json, float]]:
        """(body, arrival time) of each webhook that arrived since the last look."""

        def parse(path: Path) -> tuple[Json, float] | None:
            try:
                record = json.loads(path.read_text())
            except json.JSONDecodeError:
                return None
            return json.loads(record["body"]), float(record["at"])

        return self._fresh(self.hooks, ".json", parse)


@dataclass
class Sample:
    meetings: float  # meetings' read-model row committed
    goals: float  # goals' read-model row committed
    shown: float  # then the first read through meetings' API, which shows it
    email: float
    webhook: float
    window: float  # the poll's uncertainty: last unanswered query sent to first answer
    request: float  # the API read's round trip
    published: float  # when pairing's relay handed the event to Kafka (its record's CreateTime)


class ReadModels:
    """The two read-model rows (a) waits for, read through small pools of the benchmark's own."""

    def __init__(self, databases: dict[str, str]) -> None:
        self._urls = databases
        self._pools: dict[str, asyncpg.Pool] = {}

    async def start(self) -> None:
        for name in ("meetings", "goals"):
            self._pools[name] = await asyncpg.create_pool(self._urls[name], min_size=2, max_size=2)

    async def meetings_active(self, pairing_id: str) -> bool:
        return bool(
            await self._pools["meetings"].fetchval(
                "SELECT status = 'active' FROM meetings_pairings WHERE pairing_id = $1",
                pairing_id,
            )
        )

    async def goals_knows(self, colleague: str, kamu: str) -> bool:
        return bool(
            await self._pools["goals"].fetchval(
                "SELECT kamu_id = $2 FROM goals_kamus WHERE colleague_id = $1", colleague, kamu
            )
        )

    async def stop(self) -> None:
        for pool in self._pools.values():
            await pool.close()


class RelayWatch:
    """When pairing's relay handed each ``pairing-created`` event to Kafka: the record's
    CreateTime, which the relay's producer stamps at ``send``. It splits (a) into the relay's
    part and the rest (Kafka, the consumer, its transaction, the read). A consumer of our own
    (no group), reading from the topic's end from before the first timed accept."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, enable_auto_commit=False
        )
        self._handed: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for record in self._consumer:
            headers = {k: v for k, v in record.headers}
            if headers.get("ce_type", b"").endswith(b".pairing-created.v1") and record.key:
                self._handed[record.key.decode()] = record.timestamp / 1000

    async def handed(self, subject: str, timeout: float = 30) -> float:
        deadline = time.monotonic() + timeout
        while subject not in self._handed:
            if time.monotonic() > deadline:
                return math.nan
            await asyncio.sleep(CATCHER_POLL_SECONDS)
        return self._handed[subject]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()


async def poll_until(check: Callable[[], Awaitable[bool]]) -> tuple[float, float, list[float]]:
    """Poll every POLL_SECONDS; (time the first good answer arrived, time the request before it
    was sent, each request's round trip)."""
    previous_sent = time.time()
    trips = []
    while True:
        sent = time.time()
        good = await check()
        received = time.time()
        trips.append(received - sent)
        if good:
            return received, previous_sent, trips
        previous_sent = sent
        await asyncio.sleep(POLL_SECONDS)


async def set_up(c: Clients, n: int, watch: CatcherWatch) -> list[tuple[str, str, str]]:
    """People, trained Kamus, preferences and n pairing requests; returns (pairing, colleague,
    Kamu) and returns once every request's email has reached the catcher."""
    colleagues = [f"c{i:04d}" for i in range(n)]
    kamus = [f"k{i:03d}" for i in range(math.ceil(n / KAMU_CAPACITY))]
    hook_base = f"{c.platform.url('catcher')}/hooks"

    def person(pid: str) -> Callable[[], Awaitable[Any]]:
        body = {"display_name": f"Person {pid}", "email": f"{pid}@example.org", "locale": "en"}
        return lambda: c.call(
            "PUT", "pairing", f"/people/{pid}", "hr", body, ("service",), expect=201
        )

    say(f"set-up: {len(colleagues)} colleagues and {len(kamus)} Kamus ...")
    await gather_limited(person(p) for p in [*colleagues, *kamus])
    offer = {"capacity": KAMU_CAPACITY, "hours_per_month": 40, "topics": [], "languages": []}
    training = {"training": "Kamu basics", "completed_on": date.today().isoformat()}

    def volunteer(k: str) -> Callable[[], Awaitable[Any]]:
        return lambda: c.call("PUT", "pairing", f"/kamus/{k}", k, offer, expect=201)

    def train(k: str) -> Callable[[], Awaitable[Any]]:
        return lambda: c.call(
            "POST", "pairing", f"/kamus/{k}/training", "ops", training, ("people-ops",), 200
        )

    await gather_limited(volunteer(k) for k in kamus)
    await gather_limited(train(k) for k in kamus)
    quiet_channels = {"slack": False, "teams": False}

    def prefs(pid: str, hook: bool) -> Callable[[], Awaitable[Any]]:
        body: Json = {"channels": quiet_channels}
        if hook:
            body["webhook_url"] = f"{hook_base}/{pid}"
        return lambda: c.call(
            "PUT", "notifications", f"/people/{pid}/preferences", pid, body, expect=200
        )

    await gather_limited([*(prefs(p, True) for p in colleagues), *(prefs(k, False) for k in kamus)])
    pairs = [(p, kamus[i // KAMU_CAPACITY]) for i, p in enumerate(colleagues)]

    async def request(colleague: str, kamu: str) -> tuple[str, str, str]:
        body = {"colleague_id": colleague, "kamu_id": kamu}
        response = await c.call("POST", "pairing", "/pairings", colleague, body, expect=201)
        return str(response.json()["id"]), colleague, kamu

    say(f"set-up: {n} pairing requests ...")

    def ask(colleague: str, kamu: str) -> Callable[[], Awaitable[tuple[str, str, str]]]:
        return lambda: request(colleague, kamu)

    made: list[tuple[str, str, str]] = await gather_limited(ask(p, k) for p, k in pairs)
    # Each request mails its Kamu (pairing-requested): let all of them arrive before timing.
    arrived = 0
    deadline = time.monotonic() + 600
    while arrived < n:
        arrived += len(watch.new_mail())
        watch.new_hooks()
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {arrived} of {n} request emails arrived")
        await asyncio.sleep(0.1)
    return made


async def meetings_shows_active(c: Clients, pairing_id: str, colleague: str) -> bool:
    r = await c.call("GET", "meetings", f"/pairings/{pairing_id}/cadence", colleague)
    return r.status_code == 200 and bool(r.json()["status"] == "active")


async def one_pairing(
    c: Clients,
    watch: CatcherWatch,
    relay: RelayWatch,
    rows: ReadModels,
    pairing: tuple[str, str, str],
) -> Sample:
    """Accept one pairing; time its effects in meetings, goals and the catcher."""
    pairing_id, colleague, kamu = pairing
    await c.call("POST", "pairing", f"/pairings/{pairing_id}/accept", kamu, expect=200)
    accepted = time.time()

    async def meetings_active() -> bool:
        return await rows.meetings_active(pairing_id)

    async def goals_knows() -> bool:
        return await rows.goals_knows(colleague, kamu)

    async def shown() -> tuple[float, float]:
        """The row, then one read through meetings' API: (its receipt, its round trip)."""
        await poll_until(meetings_active)
        sent = time.time()
        if not await meetings_shows_active(c, pairing_id, colleague):
            raise RuntimeError(f"meetings has {pairing_id} active, its API does not show it")
        return time.time(), time.time() - sent

    async def delivered() -> tuple[float, float]:
        mail: float | None = None
        hook: float | None = None
        address = f"{colleague}@example.org"
        deadline = time.monotonic() + 120
        while mail is None or hook is None:
            for to, at in watch.new_mail():
                if address not in to:
                    raise RuntimeError(f"unexpected email to {to} while timing {colleague}")
                mail = at
            for body, at in watch.new_hooks():
                if (body.get("recipient_id"), body.get("kind")) != (colleague, "pairing-accepted"):
                    raise RuntimeError(f"unexpected webhook {body.get('kind')} while timing")
                hook = at
            if time.monotonic() > deadline:
                raise TimeoutError(f"no email or webhook for {colleague}")
            await asyncio.sleep(CATCHER_POLL_SECONDS)
        return mail, hook

    meetings, goals, (read, trip), (mail, hook), handed = await asyncio.gather(
        poll_until(meetings_active),
        poll_until(goals_knows),
        shown(),
        delivered(),
        relay.handed(f"pairing-{pairing_id}"),  # the subject: the pairing's stream
    )
    return Sample(
        published=handed - accepted,
        meetings=meetings[0] - accepted,
        goals=goals[0] - accepted,
        shown=read - accepted,
        email=mail - accepted,
        webhook=hook - accepted,
        window=meetings[0] - max(meetings[1], accepted),
        request=trip,
    )


@dataclass
class Measured:
    idle: list[Sample]
    loaded: list[Sample] = field(default_factory=list)
    load: LoadReport | None = None


async def time_pairings(
    c: Clients,
    watch: CatcherWatch,
    relay: RelayWatch,
    rows: ReadModels,
    pairings: Sequence[tuple[str, str, str]],
    warm_up: int,
    pauses: random.Random,
    label: str,
) -> list[Sample]:
    say(
        f"timing ({label}): {warm_up} untimed warm-up pairings, then {len(pairings) - warm_up} "
        "one at a time ..."
    )
    samples = []
    for i, pairing in enumerate(pairings):
        # A random pause, so that each accept falls at a random point of anything periodic
        # (the dispatcher's fallback poll, timers): back to back, each would come at the same
        # point of such a cycle (just after the dispatcher's last look, whose wait restarts
        # when a send finishes) and bias every sample alike.
        await asyncio.sleep(pauses.uniform(0, PAUSE_SECONDS))
        sample = await one_pairing(c, watch, relay, rows, pairing)
        if i >= warm_up:
            samples.append(sample)
        if (i + 1) % 50 == 0:
            say(f"  {i + 1} of {len(pairings)}")
    return samples


async def measure_platform(platform: Platform, n: int, warm_up: int, load_rate: float) -> Measured:
    watch = CatcherWatch(platform.catcher_folder)
    limits = httpx.Limits(max_connections=SET_UP_CONCURRENCY * 2)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        c = Clients(platform, http)
        load_pairings: list[tuple[str, str]] = []
        if load_rate:
            say("set-up: the background load's people and pairings ...")
            load_pairings = await set_up_load(
                c.call, lambda pairing, colleague: meetings_shows_active(c, pairing, colleague)
            )
        per_phase = n + warm_up
        pairings = await set_up(c, per_phase * (2 if load_rate else 1), watch)
        pauses = random.Random(8)  # noqa: S311 - pacing, not secrets
        relay = RelayWatch(
            platform.kafka_bootstrap,
            in_namespace(events_topic("pairing"), platform.namespace),
        )
        rows = ReadModels(dict(platform.databases))
        await relay.start()
        await rows.start()
        try:
            return await time_phases(
                platform, c, (watch, relay, rows), pairings, warm_up, pauses, load_rate,
                load_pairings,
            )  # fmt: skip
        finally:
            await rows.stop()
            await relay.stop()


async def time_phases(
    platform: Platform,
    c: Clients,
    watches: tuple[CatcherWatch, RelayWatch, ReadModels],
    pairings: list[tuple[str, str, str]],
    warm_up: int,
    pauses: random.Random,
    load_rate: float,
    load_pairings: list[tuple[str, str]],
) -> Measured:
    per_phase = len(pairings) // (2 if load_rate else 1)
    idle = await time_pairings(c, *watches, pairings[:per_phase], warm_up, pauses, "idle")
    if not load_rate:
        return Measured(idle)
    say(f"background load: {load_rate:g} writes/s to goals and to meetings each ...")
    load = BackgroundLoad(
        LoadPlan(
            goals_url=platform.url("goals"),
            meetings_url=platform.url("meetings"),
            jwt_secret=platform.secrets["jwt"],
            rate=load_rate,
            pairings=load_pairings,
        ),
        ensure_tools(say).vegeta,
        platform.state_dir / "load",
    )
    await asyncio.to_thread(load.start)
    try:
        # The warm-up pairings also give the load's process time to start and settle.
        loaded = await time_pairings(
            c, *watches, pairings[per_phase:], warm_up, pauses, "under load"
        )
    finally:
        report = await asyncio.to_thread(load.stop)
    return Measured(idle, loaded, report)


async def kafka_round_trips(servers: Servers, scratch: Scratch, n: int) -> list[float]:
    """One hop as services make it: the relay's producer (idempotent, acks=all, linger 5 ms)
    to a consumer group polling with ``getmany(timeout_ms=500)``, like the EventConsumer."""
    topic = await scratch.topic("journey-hop")
    arrived: dict[bytes, asyncio.Future[float]] = {}
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=servers.kafka_bootstrap,
        group_id=f"bench-hop-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=200,
    )
    producer = event_producer(servers.kafka_bootstrap, "bench-hop")
    await consumer.start()
    await producer.start()
    stop = asyncio.Event()

    async def consume() -> None:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500)
            now = time.time()
            for tp, records in batch.items():
                for record in records:
                    waiting = arrived.get(record.key or b"")
                    if waiting is not None and not waiting.done():
                        waiting.set_result(now)
                await consumer.commit({tp: records[-1].offset + 1})

    loop = asyncio.create_task(consume())
    try:
        trips = []
        for i in range(-WARM_UP_HOPS, n):  # the first ones wait for the group's assignment
            key = f"pairing-{i}".encode()
            arrived[key] = asyncio.get_running_loop().create_future()
            sent = time.time()
            await producer.send_and_wait(topic, b'{"n":%d}' % i, key=key)
            trips.append(await asyncio.wait_for(arrived[key], 60) - sent)
        return trips[WARM_UP_HOPS:]
    finally:
        stop.set()
        await loop
        await producer.stop()
        await consumer.stop()


async def notify_round_trips(url: str, n: int) -> list[float]:
    """``NOTIFY`` committed on one connection to the callback on a listening one."""
    listener = await asyncpg.connect(url)
    sender = await asyncpg.connect(url)
    heard: asyncio.Queue[float] = asyncio.Queue()
    await listener.add_listener("bench_journey", lambda *_: heard.put_nowait(time.time()))
    try:
        trips = []
        for _ in range(n):
            sent = time.time()
            await sender.execute("NOTIFY bench_journey")
            trips.append(await asyncio.wait_for(heard.get(), 10) - sent)
        return trips
    finally:
        await sender.close()
        await listener.close()


def loaded_section(r: Json) -> str:
    """The side-by-side table of the run under background load ("" without one)."""
    if "loaded" not in r:
        return ""
    idle, loaded, load = r["figures"], r["loaded"], r["load"]

    def row(name: str, key: str) -> str:
        a, b = idle[key], loaded[key]
        return (
            f"| {name} | {a['median']:.1f} | {a['p90']:.1f} | {a['p99']:.1f} "
            f"| {b['median']:.1f} | {b['p90']:.1f} | {b['p99']:.1f} | {b['max']:.1f} |"
        )

    meetings = loaded["meetings"]
    met = meetings["median"] < TARGET_MEDIAN_MS and meetings["p99"] < TARGET_P99_MS
    return f"""
## Under background load

Then {loaded["meetings"]["count"]} more pairings (after {r["warm_up"]} untimed warm-up ones)
timed the same way while goals and meetings each took {r["background_writes"]:g} writes a
second (`benchmarks/journey_load.py`: `POST /goals` and `POST /meetings` from `vegeta`,
compiled and open loop, for people whose notifications go to the in-app inbox only):
{load["goals_rate"]:.1f} and {load["meetings_rate"]:.1f} successful writes/s over
{load["seconds"]:.0f} s ({load["sent"]} requests sent), {load["failed"]} failed.
A read of meetings' API took {r["loaded_request_ms"]:.1f} ms at the median meanwhile
({r["request_ms"]:.1f} ms idle).

| latency (ms) | idle median | p90 | p99 | loaded median | p90 | p99 | max |
|---|--:|--:|--:|--:|--:|--:|--:|
{row("(a) accept → meetings' read model has the pairing active", "meetings")}
{row("(a) of which: accept → pairing's relay hands the event to Kafka", "published")}
{row("(a) of which: handed to Kafka → meetings' row committed", "consumed")}
{row("(a) accept → goals' read model knows the Kamu", "goals")}
{row("(a) then: accept → a read of meetings' API shows it", "shown")}
{row("(b) accept → colleague's email in the catcher", "email")}
{row("(b) accept → colleague's webhook in the catcher", "webhook")}

Target under load for (a) accept → meetings: median below {TARGET_MEDIAN_MS} ms and p99 below
{TARGET_P99_MS} ms: **{"met" if met else "missed"}** ({meetings["median"]:.1f} ms and
{meetings["p99"]:.1f} ms).
"""


def markdown(r: Json) -> str:
    def row(name: str, s: Json) -> str:
        return (
            f"| {name} | {s['count']:,} | {s['median']:.1f} | {s['p90']:.1f} | {s['p99']:.1f} "
            f"| {s['max']:.1f} |"
        )

    f = r["figures"]
    return f"""# Journey latency benchmark

Generated by `python -m benchmarks.journey {r["arguments"]}` on {r["date"]}:
{r["cores"]} cores ({r["cpu"]}), 1-minute load average {r["load_before"]:.2f} before and
{r["load_after"]:.2f} after; Kafka: {r["kafka"]}; PostgreSQL: {r["postgres"]}.

{LAYOUTS[r["layout"]]}, every setting at its default, and the catcher (mail catcher and
webhook receiver). After {r["warm_up"]} untimed warm-up pairings, {r["pairings"]} pairings are
accepted one at a time, each after a random pause of up to {r["pause_s"]:g} s; every time is
measured from the moment the accept's HTTP response is received.

| latency (ms) | count | median | p90 | p99 | max |
|---|--:|--:|--:|--:|--:|
{row("(a) accept → meetings' read model has the pairing active", f["meetings"])}
{row("(a) of which: accept → pairing's relay hands the event to Kafka", f["published"])}
{row("(a) of which: handed to Kafka → meetings' row committed", f["consumed"])}
{row("(a) accept → goals' read model knows the Kamu", f["goals"])}
{row("(a) then: accept → a read of meetings' API shows it", f["shown"])}
{row("(b) accept → colleague's email in the catcher", f["email"])}
{row("(b) accept → colleague's webhook in the catcher", f["webhook"])}
{row("baseline: one Kafka hop (relay's producer → consumer group)", f["kafka_hop"])}
{row("baseline: PostgreSQL NOTIFY → listener", f["notify"])}
{loaded_section(r)}
## What is measured

**(a) Command accepted to read model updated in another service.** The `pairing-created`
event, committed with the accept, is published by pairing's relay and applied by the meetings
(or goals) consumer; the time is when a query of the benchmark's own, on a connection to that
service's database, first finds the consumer's transaction committed (`meetings_pairings` has
the pairing `active`; `goals_kamus` names the Kamu). The two rows "of which" split it at the
moment pairing's relay handed the event to Kafka (the record's CreateTime, which the relay's
producer stamps when it sends; read by a consumer of the benchmark's own), so the relay's part
(woken by the append's `NOTIFY`, held back only by transactions of pairing's own database)
shows apart from Kafka and the meetings consumer; it can be slightly negative, as the relay may
send before the accept's answer reaches the client. The rows are polled every
{r["poll_ms"]:.0f} ms with a primary-key read, so the figure is an upper bound by at most that
much plus one query: the change became visible between the sending of the last query that did
not show it and the receipt of the first that did ({r["window_ms"]:.1f} ms at the median). An
earlier version polled both services' HTTP APIs every 5 ms instead; a read then took 10 to 20
ms, added half of that window to every figure and cost the two services CPU their consumers
needed. "Then: a read of meetings' API shows it" is one `GET /pairings/{{id}}/cadence` sent
once the row is there (it must answer `active`): what a person sees, including the read's own
time ({r["request_ms"]:.1f} ms at the median).

**(b) Event to notification delivered.** The same event consumed by notifications, planned as
ledger rows, claimed by the dispatcher and sent; the time is when the catcher received it, by
its own clock on the same machine (the mail file's mtime, the webhook record's `at`), so no
poll of ours is involved. The random pause before each pairing keeps the accepts independent
of anything periodic (the dispatcher's fallback poll, the timers): back to back, each accept
would come at the same point of such a cycle.

**Baselines**, on the same broker and server in the same run: one Kafka hop as the services
make it (the relay's `event_producer`: idempotent, `acks=all`, `linger_ms=5`; a consumer group
polling with `getmany(timeout_ms=500)` like the EventConsumer), send to receipt; and a `NOTIFY`
committed on one connection to the callback on another, which is how the relay is woken.

## What bounds them

(a) is one Kafka hop plus the work around it: the append's `NOTIFY` wakes the leading relay
(`shared/src/kamu_shared/outbox/relay.py`), which reads what is committed (`read_committed`),
publishes it and waits for the broker's acknowledgement; the consumer's fetch returns as soon
as the record arrives (`shared/src/kamu_shared/consumer/runner.py`: `getmany(timeout_ms=500)`
with aiokafka's `fetch_max_wait_ms=500` and `fetch_min_bytes=1`, so the 500 ms is a ceiling
idle consumers hit, not a cost per event); then one transaction per message (lock the
subject, check the ledger, apply, record) before a read can see it. The settings that matter:

- `KAMU_RELAY_POLL_INTERVAL_SECONDS` (1 s) only when a `NOTIFY` is missed: the relay is woken
  by every append, so it does not show here; a relay that lost its listener would add up to
  1 s. Committed events that wait behind a running transaction of pairing's own database are
  looked for again after `KAMU_RELAY_RECHECK_INITIAL_SECONDS` (10 ms, doubling while they
  wait); transactions of the other services' databases on the same server hold nothing back
  (decision 0004), which the row "accept → pairing's relay hands the event to Kafka" shows.
- `linger_ms=5` in `kamu_shared.kafka.producer.event_producer`: up to 5 ms of batching per
  publish; `acks=all` waits for the in-sync replicas (one broker here).
- The consumer's fetch wait (`getmany(timeout_ms=500)` and aiokafka's fetch defaults) bounds
  how long an idle consumer takes to notice, but a waiting fetch is answered on arrival.

(b) adds the notifications side (`services/notifications/src/kamu_notifications/`): the
consumer plans the rows and, in the same transaction, `NOTIFY kamu_notifications_planned`
(`planning.py`); the dispatcher, listening on a connection of its own
(`dispatch/dispatcher.py`), wakes, claims the due deliveries (committing the claim before it
sends), renders and sends them (SMTP with a connection per message, or an HTTP POST), and
records each outcome with its event in a transaction of its own. Here the medians differ by
{r["b_minus_a_ms"]:.0f} ms between (b) (email) and (a) (meetings): what the notifications side
takes beyond meetings' consumer (each carries at most a couple of milliseconds of its own
polling). The email
arrives {r["email_minus_webhook_ms"]:.0f} ms after the webhook at the median (SMTP opens a
connection per message). The settings that matter:

- `KAMU_DISPATCH_POLL_SECONDS` (0.5 s) is now only the fallback when a `NOTIFY` is missed (or
  the listening connection could not be opened); before the dispatcher listened, it was a
  wait spread evenly over 0 to 0.5 s in every (b) (see the comparison below).
- `KAMU_DISPATCH_CONCURRENCY` and `KAMU_ENDPOINT_CONCURRENCY` (16, 4) do not bind one message
  at a time; under a burst they queue deliveries per endpoint.
- `KAMU_SEND_TIMEOUT_SECONDS` bounds a slow endpoint, not a healthy one.

Everything (Kafka, PostgreSQL, the four services, the catcher and this client) shares
{r["cores"]} cores, so the tails include scheduling delays; other work on the machine shows in
the load average above.
"""


async def prepare(servers: Servers, scratch: Scratch) -> tuple[Json, dict[str, str]]:
    machine = await machine_info(servers)
    databases = {name: await scratch.database(name, migrate=False) for name, _ in SERVICES}
    return machine, databases


async def baselines(
    servers: Servers, scratch: Scratch, database: str, n: int
) -> tuple[list[float], list[float]]:
    say(f"baselines: {n} Kafka hops and {n} NOTIFY round trips ...")
    return await kafka_round_trips(servers, scratch, n), await notify_round_trips(database, n)


def figures(samples: Sequence[Sample]) -> Json:
    split = [s for s in samples if not math.isnan(s.published)]
    return {
        "published": summary([s.published for s in split]),
        "consumed": summary([s.meetings - s.published for s in split]),
        "meetings": summary([s.meetings for s in samples]),
        "shown": summary([s.shown for s in samples]),
        "goals": summary([s.goals for s in samples]),
        "email": summary([s.email for s in samples]),
        "webhook": summary([s.webhook for s in samples]),
    }


LAYOUTS = {
    "apart": "The whole platform as `running_platform(workers_apart=True)` starts it, laid out "
    "as compose\nand Kubernetes run it: each service's API in one process and its worker "
    "(relay, consumers,\ntimers, the notifications dispatcher) in another",
    "together": "The whole platform as `running_platform` starts it (as the journey test and "
    "`./kamu up` do):\neach service's API with its relay, consumers, timers and the "
    "notifications dispatcher in its\nown process",
}


def run(
    servers: Servers,
    n: int,
    warm_up: int,
    state_dir: Path,
    load_rate: float = 0,
    layout: str = "apart",
) -> Json:
    scratch = Scratch(servers)
    try:
        machine, databases = asyncio.run(prepare(servers, scratch))
        load_before = os.getloadavg()[0]
        say("starting the platform (each service its own process) ...")
        namespace = f"bench{uuid.uuid4().hex[:8]}"
        with running_platform(
            state_dir,
            servers.kafka_bootstrap,
            databases,
            namespace=namespace,
            workers_apart=layout == "apart",
        ) as platform:
            measured = asyncio.run(measure_platform(platform, n, warm_up, load_rate))
        hops, notify = asyncio.run(baselines(servers, scratch, databases["pairing"], n))
        load_after = os.getloadavg()[0]
    finally:
        asyncio.run(scratch.drop_all())
    samples = measured.idle
    result: Json = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "pairings": n,
        "arguments": f"--pairings {n}"
        + (f" --background-writes {load_rate:g}" if load_rate else "")
        + f" --layout {layout}",
        "layout": layout,
        "warm_up": warm_up,
        "cores": machine["cores"],
        "cpu": machine["cpu"],
        "kafka": servers.kafka_provider,
        "postgres": servers.postgres_provider,
        "load_before": load_before,
        "load_after": load_after,
        "poll_ms": POLL_SECONDS * 1000,
        "pause_s": PAUSE_SECONDS,
        "email_minus_webhook_ms": (
            statistics.median(s.email for s in samples)
            - statistics.median(s.webhook for s in samples)
        )
        * 1000,
        "b_minus_a_ms": (
            statistics.median(s.email for s in samples)
            - statistics.median(s.meetings for s in samples)
        )
        * 1000,
        "request_ms": statistics.median(s.request for s in samples) * 1000,
        "window_ms": statistics.median(s.window for s in samples) * 1000,
        "figures": {
            **figures(samples),
            "kafka_hop": summary(hops),
            "notify": summary(notify),
        },
    }
    if measured.load is not None:
        report = measured.load
        result["background_writes"] = load_rate
        result["loaded"] = figures(measured.loaded)
        result["loaded_request_ms"] = statistics.median(s.request for s in measured.loaded) * 1000
        result["load"] = {
            "seconds": report.seconds,
            "goals_rate": report.rate("goals"),
            "meetings_rate": report.rate("meetings"),
            "failed": sum(report.failed.values()),
            "sent": sum(report.sent.values()),
            "errors": report.errors[:5],
        }
        for error in report.errors[:5]:
            say(f"background write failed: {error}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairings", type=int, default=200, help="timed pairings (default 200)")
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/journey.md"))
    parser.add_argument(
        "--background-writes",
        type=float,
        default=0,
        metavar="RATE",
        help="also time N more pairings while goals and meetings each take RATE writes/s "
        "(default 0: idle only)",
    )
    parser.add_argument(
        "--layout",
        choices=sorted(LAYOUTS),
        default="apart",
        help="apart (default): each service's API and worker in two processes, as compose and "
        "Kubernetes run them; together: one process per service, as ./kamu up runs it",
    )
    args = parser.parse_args()
    warm_up = max(5, args.pairings // 20)
    state_dir = Path(tempfile.mkdtemp(prefix="kamu-bench-journey-"))
    state_dir.chmod(0o755)  # PostgreSQL's own user may need to traverse it when we are root
    try:
        with provided_servers() as servers:
            result = run(
                servers, args.pairings, warm_up, state_dir, args.background_writes, args.layout
            )
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
    text = markdown(result)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
