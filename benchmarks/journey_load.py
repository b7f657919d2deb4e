"""Background writes for the journey benchmark: other services busy while a pairing is timed.

Writes go over HTTP to goals (``POST /goals``) and meetings (``POST /meetings``) at a steady
rate each, from a process of their own, so that neither the load's own CPU nor its event loop
delays the timing process's polls (beyond what the shared cores do anyway). The people it
writes for are the load's own: they have every notification channel but the in-app inbox off,
so nothing they do reaches the catcher the timing watches.
"""

import asyncio
import multiprocessing
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

import httpx

from kamu_shared.auth.mint import mint_token

Json = dict[str, Any]
LOAD_PEOPLE = 10  # colleagues; their pairings (with one Kamu) are what meetings are scheduled in
MAX_IN_FLIGHT = 40  # per service: beyond this the load falls behind its rate (and says so)
QUIET = {"email": False, "slack": False, "teams": False, "webhook": False, "inapp": True}


@dataclass(frozen=True)
class LoadPlan:
    """What the load process needs: where the services are and whom it writes as."""

    goals_url: str
    meetings_url: str
    jwt_secret: str
    rate: float  # writes per second, to each service
    pairings: list[tuple[str, str]]  # (pairing id, colleague) active in meetings


@dataclass
class LoadReport:
    """Writes sent and answered per service while the timing ran."""

    seconds: float = 0.0
    sent: dict[str, int] = field(default_factory=dict)
    ok: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # not sent: too many in flight
    errors: list[str] = field(default_factory=list)

    def rate(self, service: str) -> float:
        return self.ok.get(service, 0) / self.seconds if self.seconds else 0.0


Call = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


async def set_up_load(
    call: Callable[..., Awaitable[httpx.Response]], meetings_active: Callable[[str, str], Any]
) -> list[tuple[str, str]]:
    """The load's people, one trained Kamu and an accepted pairing per colleague; returns
    (pairing id, colleague) once meetings shows each pairing active. ``call`` is the
    journey's ``Clients.call``; ``meetings_active(pairing, colleague)`` polls meetings."""
    colleagues = [f"load{i:03d}" for i in range(LOAD_PEOPLE)]
    kamu = "loadkamu"
    for pid in [*colleagues, kamu]:
        body = {"display_name": f"Load {pid}", "email": f"{pid}@example.org", "locale": "en"}
        await call("PUT", "pairing", f"/people/{pid}", "hr", body, ("service",), expect=201)
        prefs = {"channels": QUIET}
        await call("PUT", "notifications", f"/people/{pid}/preferences", pid, prefs, expect=200)
    offer = {"capacity": LOAD_PEOPLE, "hours_per_month": 40, "topics": [], "languages": []}
    await call("PUT", "pairing", f"/kamus/{kamu}", kamu, offer, expect=201)
    training = {"training": "Kamu basics", "completed_on": date.today().isoformat()}
    await call("POST", "pairing", f"/kamus/{kamu}/training", "ops", training, ("people-ops",), 200)
    pairings = []
    for colleague in colleagues:
        body = {"colleague_id": colleague, "kamu_id": kamu}
        made = await call("POST", "pairing", "/pairings", colleague, body, expect=201)
        pairing_id = str(made.json()["id"])
        await call("POST", "pairing", f"/pairings/{pairing_id}/accept", kamu, expect=200)
        pairings.append((pairing_id, colleague))
    deadline = time.monotonic() + 120
    for pairing_id, colleague in pairings:
        while not await meetings_active(pairing_id, colleague):
            if time.monotonic() > deadline:
                raise TimeoutError(f"meetings never showed load pairing {pairing_id} active")
            await asyncio.sleep(0.05)
    return pairings


async def _paced(
    service: str,
    http: httpx.AsyncClient,
    call: Call,
    rate: float,
    stop: asyncio.Event,
    report: LoadReport,
) -> None:
    """``call`` at ``rate`` per second on a fixed schedule (not one after another), so a slow
    answer does not lower the rate; at most MAX_IN_FLIGHT at once (the rest are skipped and
    counted)."""
    in_flight: set[asyncio.Task[None]] = set()

    async def one(i: int) -> None:
        try:
            response = await call(http, i)
        except httpx.HTTPError as exc:
            report.failed[service] = report.failed.get(service, 0) + 1
            report.errors.append(f"{service}: {exc!r}")
            return
        if response.is_success:
            report.ok[service] = report.ok.get(service, 0) + 1
        else:
            report.failed[service] = report.failed.get(service, 0) + 1
            report.errors.append(f"{service}: {response.status_code} {response.text[:200]}")

    start = time.monotonic()
    i = 0
    while not stop.is_set():
        pause = start + i / rate - time.monotonic()
        if pause > 0:
            try:
                await asyncio.wait_for(stop.wait(), pause)
                break
            except TimeoutError:
                pass
        if len(in_flight) >= MAX_IN_FLIGHT:
            report.skipped[service] = report.skipped.get(service, 0) + 1
        else:
            report.sent[service] = report.sent.get(service, 0) + 1
            task = asyncio.create_task(one(i))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        i += 1
    await asyncio.gather(*in_flight)


async def _run_load(
    plan: LoadPlan, stop_flag: ProcessEvent, ready: "multiprocessing.Queue[Any]"
) -> LoadReport:
    report = LoadReport()
    # Everything slow to make comes first (an HTTP client loads the CA bundle: seconds on a
    # busy machine), before the parent is told to start timing.
    tokens = {
        colleague: {
            "Authorization": "Bearer "
            + mint_token(
                secret=plan.jwt_secret, sub=colleague, roles=("employee",), ttl_seconds=86400
            )
        }
        for _, colleague in plan.pairings
    }
    first_start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)

    async def goal(http: httpx.AsyncClient, i: int) -> httpx.Response:
        owner = plan.pairings[i % len(plan.pairings)][1]
        body = {"title": f"Load goal {i}", "category": "competence", "target_date": "2099-01-01"}
        return await http.post(f"{plan.goals_url}/goals", json=body, headers=tokens[owner])

    async def meeting(http: httpx.AsyncClient, i: int) -> httpx.Response:
        pairing_id, colleague = plan.pairings[i % len(plan.pairings)]
        starts = first_start + timedelta(minutes=90 * (i // len(plan.pairings)))
        body = {"pairing_id": pairing_id, "starts_at": starts.isoformat(), "duration_minutes": 60}
        return await http.post(
            f"{plan.meetings_url}/meetings", json=body, headers=tokens[colleague]
        )

    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT)
    async with (
        httpx.AsyncClient(timeout=30, limits=limits) as goals_http,
        httpx.AsyncClient(timeout=30, limits=limits) as meetings_http,
    ):
        stop = asyncio.Event()

        async def watch_flag() -> None:
            await asyncio.to_thread(stop_flag.wait)  # the parent's signal, across processes
            stop.set()

        watcher = asyncio.create_task(watch_flag())
        ready.put("ready")
        began = time.monotonic()
        await asyncio.gather(
            _paced("goals", goals_http, goal, plan.rate, stop, report),
            _paced("meetings", meetings_http, meeting, plan.rate, stop, report),
        )
        report.seconds = time.monotonic() - began
        await watcher
    return report


def _load_main(
    plan: LoadPlan, stop_flag: ProcessEvent, results: "multiprocessing.Queue[Any]"
) -> None:
    results.put(asyncio.run(_run_load(plan, stop_flag, results)))


class BackgroundLoad:
    """The load in a process of its own (``spawn``: nothing of the parent's loop is copied):
    ``start()`` returns once it writes, ``stop()`` returns its :class:`LoadReport`."""

    def __init__(self, plan: LoadPlan) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._results: multiprocessing.Queue[Any] = context.Queue()
        self._process = context.Process(
            target=_load_main, args=(plan, self._stop, self._results), daemon=True
        )

    def start(self, timeout: float = 120) -> None:
        self._process.start()
        if self._results.get(timeout=timeout) != "ready":
            raise RuntimeError("the background load did not start")

    def stop(self, timeout: float = 60) -> LoadReport:
        self._stop.set()
        report: LoadReport = self._results.get(timeout=timeout)
        self._process.join(timeout)
        return report
