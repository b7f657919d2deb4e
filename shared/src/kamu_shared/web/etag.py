"""ETags from stream versions, and the ``If-Match`` / ``If-None-Match`` checks built on them.

An aggregate's ETag is the strong tag ``"v<version>"`` (e.g. ``"v3"``): the version changes with
every event appended to the stream, so the tag changes exactly when the resource does, and it
costs nothing to compute. ``If-Match`` uses strong comparison (RFC 9110 13.1.1), so a weak tag
``W/"v3"`` never matches it; ``If-None-Match`` uses weak comparison.
"""

import re

from starlette.requests import Request
from starlette.responses import Response

from kamu_shared.web.errors import PreconditionFailed, ProblemError

_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')


def etag(version: int) -> str:
    """The strong ETag of an aggregate at ``version``."""
    return f'"v{version}"'


def set_etag(response: Response, version: int) -> None:
    """Send the aggregate's ETag with ``response`` (GETs and mutations alike)."""
    response.headers["ETag"] = etag(version)


def _parse(header: str) -> list[tuple[bool, str]] | None:
    """``(weak, opaque)`` per entity tag; None for ``*``; empty list if unparseable."""
    if header.strip() == "*":
        return None
    tags: list[tuple[bool, str]] = []
    pos = 0
    while pos < len(header):
        match = _TAG.match(header, pos)
        if match is None:
            return []
        tags.append((match.group(1) is not None, match.group(2)))
        pos = match.end()
    return tags


def _header(source: Request | str | None, name: str) -> str | None:
    if isinstance(source, Request):
        return source.headers.get(name)
    return source


def check_if_match(
    source: Request | str | None, current_version: int, *, required: bool = False
) -> None:
    """Raise 412 unless ``If-Match`` (from a request or the raw header) allows this version.

    No header passes (the write is unconditional) unless ``required``, which answers 428.
    """
    header = _header(source, "if-match")
    if header is None:
        if required:
            raise ProblemError(
                428,
                "precondition-required",
                "Precondition required",
                "Send If-Match with the ETag you last read.",
            )
        return
    tags = _parse(header)
    if tags is None:  # "*": any current representation
        return
    wanted = etag(current_version)
    if not any(not weak and f'"{opaque}"' == wanted for weak, opaque in tags):
        raise PreconditionFailed(
            f"The resource changed: it is now at {wanted}; read it again and retry.",
            extra={"current_etag": wanted},
            headers={"ETag": wanted},
        )


def is_not_modified(source: Request | str | None, current_version: int) -> bool:
    """True when ``If-None-Match`` names the current version (a GET may answer 304)."""
    header = _header(source, "if-none-match")
    if header is None:
        return False
    tags = _parse(header)
    if tags is None:
        return True
    wanted = etag(current_version)
    return any(f'"{opaque}"' == wanted for _weak, opaque in tags)


def not_modified(request: Request, current_version: int) -> Response | None:
    """A 304 carrying the ETag when the caller's copy is current; None to answer normally."""
    if not is_not_modified(request, current_version):
        return None
    return Response(status_code=304, headers={"ETag": etag(current_version)})
