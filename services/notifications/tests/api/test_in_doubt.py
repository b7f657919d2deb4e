"""A dispatcher killed (SIGKILL: no shutdown, no cleanup) at the exact point of a send, in a
worker process of its own, and the service started again on the same database.

Killed after the message was handed over and before its outcome was recorded (the in-doubt
window), the email is not sent again (its receivers do not reliably drop a second copy with
the same Message-ID: it is recorded failed, in doubt) and the webhook is sent again with the
same ``webhook-id``, signed the same way, so its receiver drops the copy. Killed before the
hand-over (the SMTP server had the recipient, not the message), the email is simply sent, once.

Issue 15, item 5: one email was delivered twice, with the same Message-ID."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import asyncpg
from aiosmtpd.controller import Controller
from standardwebhooks import Webhook

from kamu_notifications.domain import inbound
from kamu_shared.testing.receivers import free_port, parse_mail
from kamu_shared.testing.waiting import eventually


@dataclass
class HoldingSmtp:
    """An SMTP server that holds the first mail transaction at ``hold_at`` (``RCPT``: it has
    the recipient, not the message; ``DATA``: it has the message and has not answered) until
    released, and keeps every message it received."""

    hold_at: str
    port: int = field(default_factory=free_port)
    messages: list[EmailMessage] = field(default_factory=list)
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    async def _hold(self, where: str) -> None:
        if where == self.hold_at and not self.released.is_set():
            self.reached.set()
            await asyncio.to_thread(self.released.wait)  # the server's loop, own thread

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        await self._hold("RCPT")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(parse_mail(envelope.content, utf8=envelope.smtp_utf8))
        await self._hold("DATA")
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


@asynccontextmanager
async def holding_smtp(hold_at: str) -> AsyncIterator[HoldingSmtp]:
    sink = HoldingSmtp(hold_at)
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, enable_SMTPUTF8=True)
    await asyncio.to_thread(controller.start)
    try:
        yield sink
    finally:
        sink.released.set()
        await asyncio.to_thread(controller.stop)


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
        elif isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, set | frozenset | list):
            value = json.dumps(sorted(value))
        env[f"KAMU_{name.upper()}"] = str(value)
    return env


def spawn(settings, log_path: Path) -> subprocess.Popen:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "kamu_notifications", "worker", "--port", str(free_port())],
            env=environment(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@asynccontextmanager
async def worker(settings, log_path: Path) -> AsyncIterator[subprocess.Popen]:
    """The service's worker (consumers, dispatcher) in a process of its own; killed with
    SIGKILL on leaving, if the test has not killed it already."""
    process = spawn(settings, log_path)
    try:
        yield process
    finally:
        kill(process)


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def crash_settings(settings, smtp: HoldingSmtp):
    """Email (to the holding server), webhooks and the inbox. The send timeout leaves the test
    ample time to kill the worker while a send is held, even on a busy machine (a send cut
    short by its timeout would be recorded by the worker itself); the lease must outlast it
    with room for claiming and composing (else a send is put back), and is what the restart
    waits for."""
    return settings.model_copy(
        update={
            "smtp_port": smtp.port,
            "slack_webhook_url": None,
            "teams_webhook_url": None,
            "send_timeout_seconds": 15.0,
            "lease_seconds": 20.0,
        }
    )


async def waited_for(check, settings, log_path: Path) -> None:
    """``eventually(check)``, failing with what the worker and the ledger show."""
    try:
        await eventually(check, timeout=90)
    except AssertionError as exc:
        conn = await asyncpg.connect(settings.database_url)
        try:
            rows = [dict(r) for r in await conn.fetch("SELECT * FROM notifications_deliveries")]
        finally:
            await conn.close()
        tail = (await asyncio.to_thread(log_path.read_text, errors="replace"))[-3000:]
        raise AssertionError(f"{exc}\ndeliveries: {rows}\nworker log: {tail}") from None


async def ledger(settings, person: str) -> dict[str, dict]:
    """The person's deliveries as the database holds them (no service running)."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            "SELECT * FROM notifications_deliveries WHERE recipient_id = $1", person
        )
    finally:
        await conn.close()
    return {r["channel"]: dict(r) for r in rows}


async def test_killed_in_the_in_doubt_window_no_email_twice_and_the_webhook_again_with_its_id(
    start, settings, tmp_path
):
    async with holding_smtp("DATA") as smtp:
        crashy = crash_settings(settings, smtp)
        async with start(crashy) as service:
            kamu, colleague = await service.person(), await service.person()
            hook = f"/hook/{kamu}"
            async with service.as_(kamu) as client:
                response = await client.put(
                    f"/people/{kamu}/preferences",
                    json={"webhook_url": f"{service.receiver.url}{hook}"},
                )
            assert response.status_code == 200, response.text
            secret = response.json()["webhook_secret"]
            receiver = service.receiver
        receiver.delay(hook, 15)  # holds the request: the receiver has it, no answer yet
        await service.pairing_event(inbound.PairingRequested, colleague, kamu)

        log = tmp_path / "worker.log"
        async with worker(crashy, log) as process:

            async def both_handed_over():
                return smtp.reached.is_set() and receiver.to(hook)

            await waited_for(both_handed_over, crashy, log)
            kill(process)  # SIGKILL between the send and the record of its outcome

        window = await ledger(crashy, kamu)
        for channel in ("email", "webhook"):  # in the window: handed over, nothing recorded
            assert window[channel]["status"] == "sending", window[channel]
            assert window[channel]["handed_over_at"] is not None
        smtp.released.set()
        receiver.delays.pop(hook)

        async with start(crashy) as service:
            rows = await service.settled(3, kamu, timeout=30)
            failed = [e for e in await service.events("notification-failed")]
            sent = {e["channel"]: e for e in await service.events("notification-sent")}
            async with service.as_(kamu) as client:
                inbox = (await client.get(f"/people/{kamu}/inbox")).json()["items"]

    status = {r["channel"]: r for r in rows}
    # Email: handed over once, never again; recorded as what it is.
    assert len(smtp.to(f"{kamu}@example.org")) == 1
    assert status["email"]["status"] == "failed"
    assert status["email"]["detail"].startswith("in doubt:")
    ((email_failure),) = failed
    assert email_failure["channel"] == "email"
    assert email_failure["reason"].startswith("in doubt:")
    assert "email" not in sent
    # Webhook: sent again with the same id, signed the same way; recorded sent, in doubt.
    requests = receiver.to(hook)
    assert len(requests) == 2
    nid = str(status["webhook"]["notification_id"])
    assert [r.headers["webhook-id"] for r in requests] == [nid, nid]
    for request in requests:
        assert Webhook(secret).verify(request.body, request.headers)["id"] == nid
    assert status["webhook"]["status"] == "sent"
    assert sent["webhook"]["in_doubt"] is True
    # The inbox: a row of ours, recorded with its outcome, once.
    assert status["inapp"]["status"] == "sent"
    assert len(inbox) == 1


async def test_killed_before_the_hand_over_the_email_is_sent_once_and_not_in_doubt(
    start, settings, tmp_path
):
    async with holding_smtp("RCPT") as smtp:
        crashy = crash_settings(settings, smtp)
        async with start(crashy) as service:
            kamu, colleague = await service.person(), await service.person()
        await service.pairing_event(inbound.PairingRequested, colleague, kamu)

        log = tmp_path / "worker.log"
        async with worker(crashy, log) as process:

            async def at_the_recipient():
                return smtp.reached.is_set()

            await waited_for(at_the_recipient, crashy, log)
            kill(process)  # claimed, connected, recipient given: the message not yet

        window = await ledger(crashy, kamu)
        assert window["email"]["status"] == "sending", window["email"]
        assert window["email"]["handed_over_at"] is None, window["email"]
        smtp.released.set()

        async with start(crashy) as service:
            rows = await service.settled(2, kamu, timeout=30)
            failed = await service.events("notification-failed")
            sent = {e["channel"]: e for e in await service.events("notification-sent")}

    (email,) = [r for r in rows if r["channel"] == "email"]
    assert email["status"] == "sent"
    assert email["attempts"] == 2  # the interrupted claim, and the one that sent it
    assert len(smtp.to(f"{kamu}@example.org")) == 1
    assert sent["email"]["in_doubt"] is False
    assert failed == []
