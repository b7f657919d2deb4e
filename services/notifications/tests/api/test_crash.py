"""A dispatcher killed mid-batch (SIGKILL: no shutdown, no cleanup) resends nothing it had
recorded as sent and loses nothing it had not; the only messages a receiver may see twice are
those in flight at the kill, sent again with the same idempotency id and marked in doubt."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

from kamu_notifications.domain import inbound
from kamu_shared.testing.receivers import free_port
from kamu_shared.testing.waiting import eventually

PEOPLE = 120


def environment(settings) -> dict[str, str]:
    """The settings as the ``KAMU_`` variables a service process reads."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAMU_")}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, set | frozenset | list):  # read as JSON, e.g. resend_in_doubt
            value = json.dumps(sorted(value))
        env[f"KAMU_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


async def test_a_dispatcher_killed_mid_batch_resends_nothing_sent_and_loses_nothing(
    start, settings
):
    quiet = settings.model_copy(
        update={
            "smtp_host": None,  # webhooks and the inbox only: one message each to count
            "slack_webhook_url": None,
            "teams_webhook_url": None,
            "dispatch_concurrency": 8,
            "endpoint_concurrency": 8,
            "lease_seconds": 4.5,
            "send_timeout_seconds": 2.0,
            "log_format": "json",
        }
    )
    async with start(quiet) as service:
        people = await service.people(PEOPLE)
        # The colleagues who ask, known too: a request naming someone unknown waits for them.
        colleagues = await service.people(PEOPLE)
        for person in people:
            async with service.as_(person) as client:
                response = await client.put(
                    f"/people/{person}/preferences",
                    json={"webhook_url": f"{service.receiver.url}/hook"},
                )
            assert response.status_code == 200
        receiver = service.receiver
    # Nothing runs: the requests wait on the topic for the worker process.
    for colleague, person in zip(colleagues, people, strict=True):
        await service.pairing_event(inbound.PairingRequested, colleague, person)
    receiver.delay("/hook", 0.05)

    worker = subprocess.Popen(
        [sys.executable, "-m", "kamu_notifications", "worker", "--port", str(free_port())],
        env=environment(quiet),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        async def mid_batch():
            return len(receiver.to("/hook")) >= PEOPLE // 3

        await eventually(mid_batch, timeout=60)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    killed_at = time.monotonic()

    async with start(quiet) as service:
        recorded = {
            r["notification_id"]
            for r in await service.pool.fetch(
                "SELECT notification_id FROM notifications_deliveries "
                "WHERE channel = 'webhook' AND status = 'sent'"
            )
        }
        assert 0 < len(recorded) < PEOPLE  # killed mid-batch indeed
        rows = await service.settled(2 * PEOPLE, timeout=60)
        sent_events = [
            e for e in await service.events("notification-sent") if e["channel"] == "webhook"
        ]

    webhooks = [r for r in rows if r["channel"] == "webhook"]
    assert {r["status"] for r in webhooks} == {"sent"}  # nothing lost
    ids = Counter(r.headers["webhook-id"] for r in receiver.to("/hook"))
    assert set(ids) == {str(r["notification_id"]) for r in webhooks}  # every one arrived
    after_kill = {r.headers["webhook-id"] for r in receiver.to("/hook") if r.at > killed_at}
    assert not after_kill & {str(n) for n in recorded}  # nothing recorded as sent went again
    twice = {i for i, n in ids.items() if n > 1}
    in_doubt = {e["notification_id"] for e in sent_events if e["in_doubt"]}
    assert twice <= in_doubt  # only what was in flight at the kill
    assert len(in_doubt) <= quiet.dispatch_concurrency
    assert Counter(e["notification_id"] for e in sent_events) == Counter(set(ids))  # one event each
