"""The local stack's mail catcher (SMTP) and webhook receiver (HTTP), in one process.

``./kamu up`` points notifications at it, so every email (with its calendar file), Slack and
Teams message and personal webhook the platform sends can be read at ``http://127.0.0.1:8025``
instead of reaching anyone. What arrives is kept as files in its folder (``mail/*.eml``,
``hooks/*.json``), so it survives a restart and can be read by scripts and tests::

    python -m kamu_devstack.catcher --dir DIR --smtp-port 1025 --http-port 8025
"""

import argparse
import html
import json
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from kamu_devstack.ports import LOOPBACK
from kamu_shared.testing.receivers import parse_mail


class Caught:
    """What reached the catcher, one file per message, numbered in arrival order."""

    def __init__(self, folder: Path) -> None:
        self.mail = folder / "mail"
        self.hooks = folder / "hooks"
        self.mail.mkdir(parents=True, exist_ok=True)
        self.hooks.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # SMTP arrives on aiosmtpd's thread, hooks on uvicorn's
        self._last = {".eml": _highest(self.mail, ".eml"), ".json": _highest(self.hooks, ".json")}

    def _keep(self, folder: Path, suffix: str, data: bytes) -> None:
        """Numbered after the highest kept so far; written whole, then renamed into place, so
        a reader never sees half a message."""
        with self._lock:
            self._last[suffix] += 1
            path = folder / f"{self._last[suffix]:06d}{suffix}"
            partial = path.with_suffix(".partial")
            partial.write_bytes(data)
            partial.replace(path)

    def keep_mail(self, raw: bytes) -> None:
        self._keep(self.mail, ".eml", raw)

    def keep_hook(self, record: dict[str, Any]) -> None:
        self._keep(self.hooks, ".json", json.dumps(record).encode())

    def mails(self) -> list[dict[str, Any]]:
        return [_summary(p) for p in sorted(self.mail.glob("*.eml"))]

    def webhooks(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted(self.hooks.glob("*.json"))]


def _highest(folder: Path, suffix: str) -> int:
    return max((int(p.stem) for p in folder.glob(f"*{suffix}") if p.stem.isdigit()), default=0)


def _summary(path: Path) -> dict[str, Any]:
    # As UTF-8 text: headers of a message sent with SMTPUTF8 are raw UTF-8 (ASCII reads the same).
    message = parse_mail(path.read_bytes(), utf8=True)
    methods = [
        part.get_param("method")
        for part in message.walk()
        if part.get_content_type() == "text/calendar" and part.get_param("method")
    ]
    return {
        "id": path.stem,
        "at": path.stat().st_mtime,
        "from": message["From"],
        "to": message["To"],
        "subject": message["Subject"],
        "calendar": methods[0] if methods else None,
    }


class _Handler:
    def __init__(self, catcher: Caught) -> None:
        self.catcher = catcher

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        self.catcher.keep_mail(content if isinstance(content, bytes) else content.encode())
        return "250 Message accepted for delivery"


def app_for(catcher: Caught) -> Starlette:
    """The receiver's HTTP side: webhooks in, what arrived out (HTML and JSON)."""

    async def hook(request: Request) -> Response:
        body = await request.body()
        catcher.keep_hook(
            {
                "path": request.url.path,
                "at": time.time(),
                "headers": dict(request.headers),
                "body": body.decode("utf-8", "replace"),
            }
        )
        return Response(status_code=204)

    async def mail_list(_request: Request) -> Response:
        return JSONResponse(catcher.mails())

    async def mail_raw(request: Request) -> Response:
        path = catcher.mail / f"{request.path_params['id']}.eml"
        if not path.name[:-4].isdigit() or not path.exists():
            return JSONResponse({"title": "no such message"}, status_code=404)
        return Response(path.read_bytes(), media_type="message/rfc822")

    async def hook_list(_request: Request) -> Response:
        return JSONResponse(catcher.webhooks())

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def page(_request: Request) -> Response:
        return HTMLResponse(_page(catcher.mails()[-200:], catcher.webhooks()[-200:]))

    return Starlette(
        routes=[
            Route("/", page),
            Route("/healthz", healthz),
            Route("/readyz", healthz),
            Route("/api/mail", mail_list),
            Route("/api/mail/{id}", mail_raw),
            Route("/api/hooks", hook_list),
            Route("/hooks/{path:path}", hook, methods=["POST"]),
        ]
    )


def _page(mails: list[dict[str, Any]], hooks: list[dict[str, Any]]) -> str:
    def cell(value: Any) -> str:
        return f"<td>{html.escape(str(value or ''))}</td>"

    mail_rows = "".join(
        f"<tr>{cell(m['id'])}{cell(m['to'])}{cell(m['subject'])}{cell(m['calendar'])}"
        f"<td><a href='/api/mail/{m['id']}'>raw</a></td></tr>"
        for m in reversed(mails)
    )
    hook_rows = "".join(
        f"<tr>{cell(time.strftime('%H:%M:%S', time.localtime(h['at'])))}{cell(h['path'])}"
        f"{cell(h['body'][:160])}</tr>"
        for h in reversed(hooks)
    )
    return f"""<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="5"><title>Kamu mail catcher</title>
<style>body{{font-family:system-ui,sans-serif;margin:1rem}}table{{border-collapse:collapse}}
td,th{{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;font-size:.9rem}}</style>
</head><body><h1>Kamu mail catcher</h1>
<p>What the local stack sent: the latest 200 emails and webhooks
(JSON: <a href="/api/mail">/api/mail</a>, <a href="/api/hooks">/api/hooks</a>).</p>
<h2>Email ({len(mails)})</h2><table>
<tr><th>#</th><th>to</th><th>subject</th><th>invite</th><th></th></tr>
{mail_rows}</table>
<h2>Webhooks, Slack and Teams ({len(hooks)})</h2><table>
<tr><th>at</th><th>path</th><th>body</th></tr>
{hook_rows}</table></body></html>"""


def main() -> None:
    parser = argparse.ArgumentParser(prog="kamu-catcher", description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    args = parser.parse_args()
    catcher = Caught(args.dir)
    smtp = Controller(
        _Handler(catcher), hostname=LOOPBACK, port=args.smtp_port, enable_SMTPUTF8=True
    )
    smtp.start()
    try:
        uvicorn.run(app_for(catcher), host=LOOPBACK, port=args.http_port, log_level="warning")
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()
