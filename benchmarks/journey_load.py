"""Background writes for the journey benchmark: other services busy while a pairing is timed.

Writes go over HTTP to goals (``POST /goals``) and meetings (``POST /meetings``) at a steady
rate each, open loop, from ``vegeta`` (compiled; built by ``kamu_devstack.gotools``): a Python
client took some 15% of a core for 40 writes/s here, CPU the services under test then lacked.
The people it writes for are the load's own: they have every notification channel but the
in-app inbox off, so nothing they do reaches the catcher the timing watches.
"""

import asyncio
import base64
import csv
import io
import json
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from kamu_shared.auth.mint import mint_token

Json = dict[str, Any]
LOAD_PEOPLE = 10  # colleagues; their pairings (with one Kamu) are what meetings are scheduled in
MAX_IN_FLIGHT = 200  # vegeta's workers (requests in flight) at most, both services together
MAX_SECONDS = 900  # the longest a load runs (targets are written for this long)
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
    errors: list[str] = field(default_factory=list)

    def rate(self, service: str) -> float:
        return self.ok.get(service, 0) / self.seconds if self.seconds else 0.0


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


def _targets(plan: LoadPlan, count: int) -> Iterator[Json]:
    """vegeta's JSON targets, goals and meetings alternating: ``count`` of each. Meetings are
    90 minutes apart per pairing, a month ahead, so none overlaps another of its pair."""
    tokens = {
        colleague: [
            "Bearer "
            + mint_token(
                secret=plan.jwt_secret, sub=colleague, roles=("employee",), ttl_seconds=86400
            )
        ]
        for _, colleague in plan.pairings
    }
    first_start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    for i in range(count):
        pairing_id, colleague = plan.pairings[i % len(plan.pairings)]
        goal = {"title": f"Load goal {i}", "category": "competence", "target_date": "2099-01-01"}
        starts = first_start + timedelta(minutes=90 * (i // len(plan.pairings)))
        meeting = {
            "pairing_id": pairing_id,
            "starts_at": starts.isoformat(),
            "duration_minutes": 60,
        }
        for url, body in (
            (f"{plan.goals_url}/goals", goal),
            (f"{plan.meetings_url}/meetings", meeting),
        ):
            yield {
                "method": "POST",
                "url": url,
                "body": base64.b64encode(json.dumps(body).encode()).decode(),
                "header": {
                    "Authorization": tokens[colleague],
                    "Content-Type": ["application/json"],
                },
            }


class BackgroundLoad:
    """``vegeta attack`` in a process of its own: open loop (a slow answer does not lower the
    rate), compiled (its CPU stays small beside the servers'). ``start()`` returns once it
    attacks, ``stop()`` interrupts it and returns its :class:`LoadReport` from vegeta's own
    record of every request."""

    def __init__(self, plan: LoadPlan, vegeta: Path, folder: Path) -> None:
        self._plan = plan
        self._vegeta = vegeta
        self._folder = folder
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        targets = self._folder / "targets.jsonl"
        count = int(self._plan.rate * MAX_SECONDS)
        with targets.open("w") as out:
            for target in _targets(self._plan, count):
                out.write(json.dumps(target) + "\n")
        results = self._folder / "results.bin"
        self._process = subprocess.Popen(
            [
                str(self._vegeta), "attack", "-format=json", f"-targets={targets}",
                f"-rate={2 * self._plan.rate:g}/1s", f"-duration={MAX_SECONDS}s",
                f"-max-workers={MAX_IN_FLIGHT}", "-timeout=30s", f"-output={results}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self._folder / "vegeta.log").open("wb"),
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not results.exists() or results.stat().st_size == 0:  # its first answer is in
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"vegeta ended at once: {(self._folder / 'vegeta.log').read_text()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError("vegeta wrote no result")
            time.sleep(0.05)

    def stop(self, timeout: float = 60) -> LoadReport:
        assert self._process is not None
        self._process.send_signal(signal.SIGINT)  # vegeta finishes what is in flight, then ends
        self._process.wait(timeout)
        csv_text = subprocess.run(
            [str(self._vegeta), "encode", "--to=csv", str(self._folder / "results.bin")],
            check=True,
            capture_output=True,
            timeout=timeout,
        ).stdout.decode()
        return _report(csv_text, self._plan)


def _report(csv_text: str, plan: LoadPlan) -> LoadReport:
    """Per service from vegeta's CSV (timestamp ns, code, latency ns, bytes out, bytes in,
    error, body, attack, seq, method, url, headers)."""
    report = LoadReport()
    first, last = float("inf"), 0.0
    for row in csv.reader(io.StringIO(csv_text)):
        at, code, error, url = int(row[0]) / 1e9, int(row[1]), row[5], row[10]
        service = "goals" if url.startswith(plan.goals_url) else "meetings"
        first, last = min(first, at), max(last, at)
        report.sent[service] = report.sent.get(service, 0) + 1
        if 200 <= code < 300:
            report.ok[service] = report.ok.get(service, 0) + 1
        else:
            report.failed[service] = report.failed.get(service, 0) + 1
            report.errors.append(f"{service}: {code} {error}"[:200])
    report.seconds = max(0.0, last - first)
    return report
