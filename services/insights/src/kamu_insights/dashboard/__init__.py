"""The People Operations dashboard: one static page that draws the ``/programme`` figures.

``GET /dashboard`` is the page and ``GET /dashboard/static/<file>`` its assets (plain
JavaScript modules, CSS, no build step and nothing fetched from elsewhere). Neither needs a
token: the page holds no data. It reads a People Operations token from its URL fragment
(``#token=...``, never sent to a server), keeps it in ``sessionStorage`` and calls
``/programme/overview`` and ``/programme/teams`` with it. See ``docs/dashboard.md``.
"""

import hashlib
import mimetypes
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter, Request, Response

from kamu_shared.web.errors import NotFound

router = APIRouter(tags=["dashboard"])

# Only this origin, no inline code, no framing: the page shows figures about people.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def _walk(folder: Traversable, prefix: str = "") -> dict[str, Asset]:
    found: dict[str, Asset] = {}
    for entry in folder.iterdir():
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            found.update(_walk(entry, f"{name}/"))
            continue
        suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
        media = TYPES.get(suffix) or mimetypes.guess_type(entry.name)[0]
        if media is None:  # README.md, LICENSE: kept with the package, not served
            continue
        body = entry.read_bytes()
        found[name] = Asset(body, media, f'"{hashlib.sha256(body).hexdigest()[:16]}"')
    return found


STATIC = files(__name__) / "static"
# Read once at import: the set of files served is fixed, so no path reaches the file system.
ASSETS = _walk(STATIC)
PAGE = ASSETS.pop("index.html")


def _answer(asset: Asset, request: Request, headers: dict[str, str]) -> Response:
    common = {"ETag": asset.etag, "Cache-Control": "no-cache", **headers}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=common)
    return Response(asset.body, media_type=asset.media_type, headers=common)


@router.get("/dashboard", include_in_schema=False)
async def dashboard(request: Request) -> Response:
    """The page (no data in it: the figures come from ``/programme`` with the caller's token)."""
    return _answer(PAGE, request, SECURITY_HEADERS)


@router.get("/dashboard/static/{name:path}", include_in_schema=False)
async def static(name: str, request: Request) -> Response:
    """One of the page's scripts or style sheets."""
    asset = ASSETS.get(name)
    if asset is None:
        raise NotFound(f"The dashboard has no file named {name!r}.")
    return _answer(asset, request, {"X-Content-Type-Options": "nosniff"})
