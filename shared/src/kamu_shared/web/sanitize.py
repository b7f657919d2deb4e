"""Refuses input PostgreSQL cannot store, before any handler sees it.

A NUL character is valid JSON (``\\u0000``) and valid in a URL (``%00``), but PostgreSQL text
cannot hold it, so it would surface as a 500 from the first write. Requests carrying one get a
422 problem instead; bodies larger than the limit get a 413. Nothing is written either way.
"""

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kamu_shared.web.errors import ProblemError, Unprocessable

MAX_BODY_BYTES = 1024 * 1024
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _has_nul(data: bytes) -> bool:
    return b"\x00" in data or bool(_JSON_NUL.search(data))


class RejectUnstorableInput:
    """ASGI middleware: NUL characters in the path, query or body are a 422, not a 500."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if b"%00" in target or b"\x00" in target or "\x00" in scope.get("path", ""):
            await _refuse(scope, receive, send, "the URL contains a NUL character")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                problem = ProblemError(
                    413,
                    "payload-too-large",
                    "Payload too large",
                    f"bodies are limited to {self.max_body_bytes} bytes",
                )
                await problem.to_response()(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if _has_nul(body):
            await _refuse(scope, receive, send, "the body contains a NUL character (\\u0000)")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, detail: str) -> None:
    problem = Unprocessable(detail, slug="invalid-characters", title="Invalid characters")
    await problem.to_response()(scope, receive, send)
