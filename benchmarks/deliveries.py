"""Delivery throughput to a local webhook receiver, next to raw httpx posting the same signed
messages with the same concurrency.

    .venv/bin/python -m benchmarks.deliveries [--messages N] [--out PATH]

The notifications service runs in-process (its real app: lifespan, consumers, dispatcher) on
real PostgreSQL and Kafka; the receiver is a separate process answering 204. Two phases:

- dispatch: N deliveries already planned in the ledger (one per person, each with their own
  webhook), drained by the dispatcher: claim, sign, POST, record the outcome event and row;
- end to end: N ``pairing-requested`` events on the pairing topic, consumed, planned (webhook
  and in-app inbox) and delivered.

The baseline posts the same N signed bodies with plain httpx and an ``asyncio.Semaphore`` of
the dispatcher's concurrency: the HTTP ceiling of this machine, with no ledger at all.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from benchmarks.servers import Scratch, Servers, provided_servers
from kamu_notifications.app import create_app
from kamu_notifications.dispatch.http import encode, signed_headers, webhook_secret
from kamu_notifications.domain import inbound
from kamu_notifications.settings import NotificationsSettings
from kamu_shared.testing.receivers import free_port
from kamu_shared.testing.upstream import Upstream

SECRET = "benchmark-secret-of-at-least-thirty-two-bytes"  # noqa: S105 - a throwaway stack
LEVELS = (4, 16)  # deliveries in flight: the service's default per endpoint, and more


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def start_receiver() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.webhook_receiver", str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/count", timeout=1)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the webhook receiver did not start")


def settings_for(
    servers: Servers, url: str, namespace: str, concurrency: int
) -> NotificationsSettings:
    return NotificationsSettings(
        database_url=url,
        kafka_bootstrap=servers.kafka_bootstrap,
        jwt_secret=SecretStr(SECRET),
        topic_namespace=namespace,
        log_level="WARNING",
        webhook_allow_http=True,
        webhook_allow_private=True,
        dispatch_poll_seconds=0.05,
        dispatch_concurrency=concurrency,
        endpoint_concurrency=concurrency,
        max_event_age_seconds=3600,
    )


async def seed_people(pool: Any, count: int, hook: str) -> list[str]:
    """People and their webhook preferences, straight into the state tables."""
    people = [f"b{i}" for i in range(count)]
    now = datetime.now(UTC)
    await pool.copy_records_to_table(
        "notifications_people",
        records=[(p, f"Person {p}", f"{p}@example.org", "en", "UTC", now) for p in people],
        columns=["person_id", "display_name", "email", "locale", "time_zone", "updated_at"],
    )
    await pool.copy_records_to_table(
        "notifications_preferences",
        records=[
            (
                p,
                False,
                False,
                False,
                True,
                True,
                f"{hook}/hook/{p}",
                "off",
                datetime.strptime("08:00", "%H:%M").time(),
                now,
                1,
            )
            for p in people
        ],
        columns=[
            "person_id",
            "email",
            "slack",
            "teams",
            "webhook",
            "inapp",
            "webhook_url",
            "digest",
            "digest_at",
            "updated_at",
            "version",
        ],
    )
    return people


async def seed_ledger(pool: Any, people: list[str], endpoint: str) -> None:
    """One planned webhook delivery per person, as planning would have written it."""
    now = datetime.now(UTC)
    ids = [uuid.uuid4() for _ in people]
    await pool.executemany(
        """INSERT INTO notifications_notifications (notification_id, recipient_id, kind,
               cause_source, cause_id, cause_type, params, digestible, created_at)
           VALUES ($1, $2, 'pairing-requested', '/kamu/pairing', $3,
                   'kamu.pairing.pairing-requested.v1', $4, false, $5)""",
        [
            (n, p, str(uuid.uuid4()), {"pairing_id": "x", "other_id": "b0"}, now)
            for n, p in zip(ids, people, strict=True)
        ],
    )
    await pool.copy_records_to_table(
        "notifications_deliveries",
        records=[
            (n, "webhook", p, "pending", endpoint, now, now)
            for n, p in zip(ids, people, strict=True)
        ],
        columns=[
            "notification_id",
            "channel",
            "recipient_id",
            "status",
            "endpoint",
            "due_at",
            "created_at",
        ],
    )


async def drained(pool: Any, expected: int, timeout: float = 600) -> float:
    """Seconds until ``expected`` webhook deliveries are recorded as sent."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        sent = await pool.fetchval(
            "SELECT count(*) FROM notifications_deliveries "
            "WHERE channel = 'webhook' AND status = 'sent'"
        )
        if sent >= expected:
            return time.perf_counter() - started
        await asyncio.sleep(0.02)
    raise TimeoutError(f"only {sent} of {expected} sent")


async def baseline(
    settings: NotificationsSettings, people: list[str], hook: str, concurrency: int
) -> float:
    """The same signed POSTs with plain httpx and the same concurrency; seconds."""
    bodies = [
        (p, encode({"type": "kamu.notification.v1", "id": str(uuid.uuid4()), "text": "x" * 300}))
        for p in people
    ]
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency)) as client:

        async def one(person: str, body: str) -> None:
            async with gate:
                url = f"{hook}/hook/{person}"
                secret = webhook_secret(settings, person, url)
                assert secret is not None  # the benchmark's settings carry a JWT secret
                headers = signed_headers(secret, str(uuid.uuid4()), body)
                response = await client.post(
                    url, content=body, headers={"content-type": "application/json", **headers}
                )
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one(p, b) for p, b in bodies))
        return time.perf_counter() - started


async def dispatch_phase(
    scratch: Scratch, servers: Servers, messages: int, hook: str, concurrency: int
) -> dict[str, Any]:
    """Ours then the baseline at one concurrency, on a fresh database."""
    url = await scratch.database(f"deliver{concurrency}", migrate=False)
    settings = settings_for(servers, url, f"b{uuid.uuid4().hex[:8]}", concurrency)
    app = create_app(settings)
    endpoint = f"webhook:127.0.0.1:{hook.rsplit(':', 1)[1]}"
    async with app.router.lifespan_context(app):
        pool = app.state.runtime.pool
        people = await seed_people(pool, messages, hook)
        say(f"dispatch, {concurrency} in flight: {messages:,} planned webhook deliveries ...")
        await seed_ledger(pool, people, endpoint)
        ours = await drained(pool, messages)
        say(f"  ours: {messages / ours:,.0f} deliveries/s ({ours:.2f} s)")
        base = await baseline(settings, people, hook, concurrency)
        say(f"  raw httpx: {messages / base:,.0f} posts/s ({base:.2f} s)")
    return {
        "concurrency": concurrency,
        "messages": messages,
        "ours_seconds": ours,
        "ours_per_second": messages / ours,
        "baseline_seconds": base,
        "baseline_per_second": messages / base,
        "ratio": (messages / ours) / (messages / base),
    }


async def end_to_end_phase(
    scratch: Scratch, servers: Servers, messages: int, hook: str, concurrency: int
) -> dict[str, Any]:
    """Events on the pairing topic to webhook deliveries recorded as sent."""
    url = await scratch.database("e2e", migrate=False)
    settings = settings_for(servers, url, f"b{uuid.uuid4().hex[:8]}", concurrency)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        pool = app.state.runtime.pool
        people = await seed_people(pool, messages, hook)
        registries = [inbound.pairing_events]
        async with Upstream(servers.kafka_bootstrap, settings.topic_namespace, registries) as up:
            say(f"end to end: {messages:,} pairing-requested events on the topic ...")
            started = time.perf_counter()
            for i, person in enumerate(people):
                await up.publish(
                    inbound.pairing_events,
                    inbound.PairingRequested(pairing_id=f"x{i}", colleague_id="b0", kamu_id=person),
                    f"pairing-x{i}",
                )
            published = time.perf_counter() - started
            seconds = await drained(pool, messages) + published
    say(f"  ours: {messages / seconds:,.0f} events/s delivered ({seconds:.2f} s)")
    return {
        "concurrency": concurrency,
        "messages": messages,
        "seconds": seconds,
        "per_second": messages / seconds,
        "publishing_seconds": published,
    }


async def measure(servers: Servers, messages: int, hook: str) -> dict[str, Any]:
    scratch = Scratch(servers)
    try:
        levels = [await dispatch_phase(scratch, servers, messages, hook, c) for c in LEVELS]
        end_to_end = await end_to_end_phase(scratch, servers, messages, hook, LEVELS[-1])
    finally:
        await scratch.drop_all()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "dispatch": levels,
        "end_to_end": end_to_end,
    }


def markdown(r: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {d['concurrency']} | {d['messages']:,} | {d['ours_per_second']:,.0f} "
        f"| {d['baseline_per_second']:,.0f} | {d['ratio']:.2f} |"
        for d in r["dispatch"]
    )
    e = r["end_to_end"]
    return f"""# Delivery benchmark

Generated by `python -m benchmarks.deliveries` on {r["date"]} ({r["cores"]} cores); a local
webhook receiver in its own process answering 204; every webhook signed (Standard Webhooks).

Dispatch of planned deliveries (per second; ours claims each row, signs, posts, appends a
`notification-sent` event and records the outcome in PostgreSQL; the baseline, raw httpx with
the same concurrency, only signs and posts):

| in flight | messages | ours | raw httpx | ours / raw |
|--:|--:|--:|--:|--:|
{rows}

End to end, {e["messages"]:,} `pairing-requested` events on the pairing topic, consumed,
planned (webhook and in-app inbox) and delivered, {e["concurrency"]} in flight:
{e["seconds"]:.2f} s, {e["per_second"]:,.0f} events per second (publishing them took
{e["publishing_seconds"]:.2f} s of it).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/deliveries.json"))
    args = parser.parse_args()
    receiver, hook = start_receiver()
    try:
        with provided_servers() as servers:
            result = asyncio.run(measure(servers, args.messages, hook))
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
