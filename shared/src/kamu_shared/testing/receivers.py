"""Real receivers for tests of outgoing messages: an SMTP server (aiosmtpd) and an HTTP server
(uvicorn) on loopback, recording what reached them.

The HTTP receiver answers from a script per path (``script("/hook", [500, 200])``: the first
request gets 500, the next 200, later ones the default), can be slowed (``delay``), answers
with headers per path (``headers``), and records each request with its headers, body and the
status it answered.
"""

import asyncio
import json
import socket
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # 0 while the receiver holds the request open
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


def parse_mail(raw: bytes, *, utf8: bool = False) -> EmailMessage:
    """A received message; one sent with SMTPUTF8 has raw UTF-8 headers, which only a text
    parse reads as text (a bytes parse leaves them as surrogate escapes)."""
    if utf8:
        message = message_from_string(raw.decode("utf-8", "replace"), policy=policy.default)
    else:
        message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


@dataclass
class HttpReceiver:
    """Records every POST; answers per path from a script, else ``default``."""

    port: int = 0
    default: int = 200
    requests: list[Received] = field(default_factory=list)
    scripts: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    delays: dict[str, float] = field(default_factory=dict)
    # Response headers per path (a Retry-After, a redirect's Location).
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, path: str, statuses: list[int]) -> None:
        self.scripts[path] = list(statuses)

    def delay(self, path: str, seconds: float) -> None:
        self.delays[path] = seconds

    def to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def accepted(self, path: str | None = None) -> list[Received]:
        return [r for r in self.requests if 200 <= r.status < 300 and path in (None, r.path)]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        # Recorded on arrival (status 0 until answered), so a test sees a request held open.
        received = Received(path, headers, body, 0, time.monotonic())
        self.requests.append(received)
        if path in self.delays:
            await asyncio.sleep(self.delays[path])
        script = self.scripts.get(path)
        status = script.pop(0) if script else self.default
        received.status = status
        answer = [(k.encode(), v.encode()) for k, v in self.headers.get(path, {}).items()]
        await send({"type": "http.response.start", "status": status, "headers": answer})
        await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def http_receiver() -> AsyncIterator[HttpReceiver]:
    receiver = HttpReceiver(port=free_port())
    config = uvicorn.Config(
        receiver,
        host="127.0.0.1",
        port=receiver.port,
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task


@dataclass
class SmtpReceiver:
    """Messages as the SMTP server accepted them, parsed."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    refuse_next: list[int] = field(default_factory=list)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


class _Handler:
    def __init__(self, sink: SmtpReceiver) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.refuse_next:
            code = self.sink.refuse_next.pop(0)
            return f"{code} not now" if code < 500 else f"{code} refused"
        message = parse_mail(envelope.content, utf8=envelope.smtp_utf8)
        self.sink.messages.append(message)
        return "250 OK"


@asynccontextmanager
async def smtp_receiver() -> AsyncIterator[SmtpReceiver]:
    from aiosmtpd.controller import Controller

    sink = SmtpReceiver(port=free_port())
    controller = Controller(
        _Handler(sink), hostname="127.0.0.1", port=sink.port, enable_SMTPUTF8=True
    )
    await asyncio.to_thread(controller.start)
    try:
        yield sink
    finally:
        await asyncio.to_thread(controller.stop)
