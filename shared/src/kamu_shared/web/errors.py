"""RFC 9457 problem+json answers for every error a service gives, including the unexpected ones.

A problem's ``type`` is the relative URI ``/problems/<slug>`` (RFC 9457 allows a URI reference):
clients switch on the slug, and the path stays stable whichever host serves it. Bad input is a
4xx problem; anything else is a 500 problem with a generic detail and the request id, while the
traceback goes to the log only.

A server the service needs that cannot be reached (PostgreSQL restarting, Kafka down) is not a
bug in the request: it answers **503** ``service-unavailable`` with ``Retry-After``, so clients
retry rather than report an error, and the log says which dependency failed.

Malformed JSON bodies answer **400** ``malformed-json``: the bytes are not JSON at all, which is
a different fault from JSON that fails validation (422 ``validation-failed``).
"""

import math
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kamu_shared.store.errors import ConcurrencyError
from kamu_shared.unavailable import unavailable_cause

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "/problems/"
_STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})

log = structlog.get_logger("kamu.errors")


class ProblemResponse(JSONResponse):
    """A JSON response served as ``application/problem+json``."""

    media_type = PROBLEM_CONTENT_TYPE


class ProblemError(Exception):
    """An error the caller can act on; rendered as a problem+json answer by the handlers."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not 400 <= status <= 599:
            raise ValueError(f"a problem's status is 4xx or 5xx, not {status}")
        clash = _STANDARD_MEMBERS.intersection(extra or {})
        if clash:
            raise ValueError(f"extra members may not replace standard ones: {sorted(clash)}")
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.extra: dict[str, Any] = dict(extra or {})
        self.headers: dict[str, str] = dict(headers or {})

    @property
    def type_uri(self) -> str:
        return f"{PROBLEM_TYPE_PREFIX}{self.slug}"

    def to_dict(self) -> dict[str, Any]:
        """The problem document (standard members first, then extensions)."""
        body: dict[str, Any] = {"type": self.type_uri, "title": self.title, "status": self.status}
        if self.detail is not None:
            body["detail"] = self.detail
        body.update(jsonable_encoder(self.extra))
        return body

    def to_response(self) -> Response:
        return ProblemResponse(self.to_dict(), status_code=self.status, headers=self.headers)


class _KnownProblem(ProblemError):
    """A problem whose status is fixed by its class; slug and title have defaults."""

    status_code: ClassVar[int]
    default_slug: ClassVar[str]
    default_title: ClassVar[str]

    def __init__(
        self,
        detail: str | None = None,
        *,
        slug: str | None = None,
        title: str | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            self.status_code,
            slug or self.default_slug,
            title or self.default_title,
            detail,
            extra=extra,
            headers=headers,
        )


class BadRequest(_KnownProblem):
    status_code, default_slug, default_title = 400, "bad-request", "Bad request"


class NotFound(_KnownProblem):
    """Also the answer for a resource the caller may not see (never 403: it would confirm it)."""

    status_code, default_slug, default_title = 404, "not-found", "Not found"


class Forbidden(_KnownProblem):
    status_code, default_slug, default_title = 403, "forbidden", "Forbidden"


class PreconditionFailed(_KnownProblem):
    status_code, default_slug, default_title = 412, "precondition-failed", "Precondition failed"


class Unprocessable(_KnownProblem):
    status_code, default_slug, default_title = 422, "unprocessable", "Unprocessable request"


class Unauthorized(_KnownProblem):
    """401 with ``WWW-Authenticate: Bearer`` (RFC 6750) so clients know how to authenticate."""

    status_code, default_slug, default_title = 401, "unauthorized", "Authentication required"

    def __init__(
        self,
        detail: str | None = None,
        *,
        slug: str | None = None,
        title: str | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        challenge: str = "Bearer",
    ) -> None:
        super().__init__(
            detail,
            slug=slug,
            title=title,
            extra=extra,
            headers={"WWW-Authenticate": challenge, **(headers or {})},
        )


class Conflict(_KnownProblem):
    """409; with ``retry_after`` the caller may simply retry later (``Retry-After`` seconds)."""

    status_code, default_slug, default_title = 409, "conflict", "Conflict"

    def __init__(
        self,
        detail: str | None = None,
        *,
        retry_after: int | None = None,
        slug: str | None = None,
        title: str | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        merged = dict(headers or {})
        if retry_after is not None:
            merged["Retry-After"] = str(max(0, int(retry_after)))
        super().__init__(detail, slug=slug, title=title, extra=extra, headers=merged)
        self.retry_after = retry_after


class ServiceUnavailable(_KnownProblem):
    """503 with ``Retry-After``: a server the service needs cannot be reached; retry later."""

    status_code, default_slug, default_title = 503, "service-unavailable", "Service unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 2) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, int(retry_after)))})


def awaiting_upstream(detail: str, retry_after: int = 2) -> Conflict:
    """The command needs another service's event that has not arrived yet: retry shortly."""
    return Conflict(
        detail, retry_after=retry_after, slug="awaiting-upstream", title="Not known here yet"
    )


def _slug_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")
    except ValueError:
        return "http-error"


def _title_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"


def internal_error_response() -> Response:
    """The 500 answer: no internals, only the request id to quote when reporting it."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    extra = {"request_id": request_id} if request_id else None
    return ProblemError(
        500,
        "internal-error",
        "Internal server error",
        "The service failed to answer; the error is logged. Quote the request id to report it.",
        extra=extra,
    ).to_response()


async def _problem(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return exc.to_response()


async def _concurrency(request: Request, exc: Exception) -> Response:
    """A stale expected version: 412 when the caller sent If-Match, else 409; never merged."""
    assert isinstance(exc, ConcurrencyError)
    extra = {"current_version": exc.actual}
    detail = "the resource changed since it was read; read it again and retry"
    if request.headers.get("if-match"):
        return PreconditionFailed(detail, extra=extra).to_response()
    return Conflict(detail, slug="concurrent-modification", extra=extra).to_response()


async def _validation(_request: Request, exc: Exception) -> Response:
    """422 listing each field's location and message; never the input (it may be a secret)."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken is not None:
        reason = (broken.get("ctx") or {}).get("error", "invalid JSON")
        return BadRequest(
            f"The request body is not valid JSON: {reason}.",
            slug="malformed-json",
            title="Malformed JSON body",
        ).to_response()
    listed = [
        {
            "location": [str(part) for part in e.get("loc", ())],
            "message": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]
    return Unprocessable(
        "The request does not match the expected shape; see errors.",
        slug="validation-failed",
        title="Validation failed",
        extra={"errors": listed},
    ).to_response()


async def _http(_request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown route 404, 405, ...) as problems, keeping their headers."""
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status < 400:  # not an error: keep Starlette's behaviour
        return Response(status_code=status, headers=exc.headers)
    title = _title_for(status)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    if status == 404 and detail is None:
        detail = "No resource at this path."
    return ProblemError(status, _slug_for(status), title, detail, headers=exc.headers).to_response()


def unavailable_response(cause: BaseException, retry_after: int) -> Response:
    """The 503 answer for a dependency that cannot be reached, logged without a traceback."""
    log.warning("dependency-unavailable", error=repr(cause))
    return ServiceUnavailable(
        "A server this service needs cannot be reached right now; retry after the given delay.",
        retry_after=retry_after,
    ).to_response()


def _unexpected_handler(retry_after: int) -> "Callable[[Request, Exception], Awaitable[Response]]":
    async def unexpected(_request: Request, exc: Exception) -> Response:
        """Last resort (errors raised outside the catch-all middleware)."""
        if (cause := unavailable_cause(exc)) is not None:
            return unavailable_response(cause, retry_after)
        log.error("unhandled-error", exc_info=exc)
        return internal_error_response()

    return unexpected


class UnhandledErrorMiddleware:
    """Turns an unexpected exception into the 500 problem inside the request's log context.

    Sitting inside the request-context and metrics middleware, the error is logged with the
    request id and counted as a 500; unlike Starlette's outermost handler it does not re-raise,
    so the server does not log the same traceback a second time.
    """

    def __init__(self, app: ASGIApp, retry_after: int = 2) -> None:
        self.app = app
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # too late for a problem document; let the server close the stream
                log.exception("unhandled-error", method=scope.get("method"), path=scope.get("path"))
                raise
            if (cause := unavailable_cause(exc)) is not None:
                await unavailable_response(cause, self.retry_after)(scope, receive, send)
                return
            log.exception("unhandled-error", method=scope.get("method"), path=scope.get("path"))
            await internal_error_response()(scope, receive, send)


def install_problem_handlers(app: FastAPI, *, retry_after: float = 2) -> None:
    """Answer every error of ``app`` with problem+json; call before adding other middleware.
    ``retry_after``: seconds a client waits before retrying when a dependency is down."""
    seconds = max(1, math.ceil(retry_after))
    app.add_exception_handler(ProblemError, _problem)
    app.add_exception_handler(ConcurrencyError, _concurrency)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected_handler(seconds))
    app.add_middleware(UnhandledErrorMiddleware, retry_after=seconds)
