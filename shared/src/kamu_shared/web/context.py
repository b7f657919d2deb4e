"""Per-request context: request and correlation ids bound for logging and echoed to the caller.

A caller may send ``X-Correlation-ID`` to tie our work to theirs; otherwise the request id
starts a new correlation. Events written while handling the request carry the same id.
"""

import re
import time
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
CORRELATION_ID_HEADER = "x-correlation-id"

log = structlog.get_logger("kamu.http")
_TOKEN = re.compile(r"[A-Za-z0-9._:/@+=-]{1,200}")


def _header(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key.decode("latin-1").lower() == name:
            return str(value.decode("latin-1"))[:200]
    return None


class RequestContextMiddleware:
    """Binds request and correlation ids while a request runs; logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        given = _header(scope, CORRELATION_ID_HEADER)
        # Only a plain token travels on (logs, event headers, the database); anything else is
        # replaced rather than refused, since the id is the caller's convenience, not input.
        correlation_id = given if given and _TOKEN.fullmatch(given) else request_id
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                headers[CORRELATION_ID_HEADER] = correlation_id
            await send(message)

        with structlog.contextvars.bound_contextvars(
            request_id=request_id, correlation_id=correlation_id
        ):
            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                path = str(scope.get("path", ""))
                if path not in {"/healthz", "/readyz", "/readyz/background", "/metrics"}:
                    log.info(
                        "request",
                        method=scope.get("method"),
                        path=path,
                        status=status,
                        duration_ms=round((time.perf_counter() - start) * 1000, 2),
                    )
