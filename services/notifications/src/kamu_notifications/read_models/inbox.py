"""The in-app inbox: ``GET /people/{id}/inbox`` and ``POST .../inbox/{notification_id}/read``.

Only the person sees their inbox (404 for anyone else). Its words are rendered when read, in
the person's locale and zone of now, from the notification's kind and parameters: what it
shows is what the person may see (names, times; never a goal's or a request's words).
"""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from kamu_notifications.content.render import render_for_reading
from kamu_notifications.settings import NotificationsSettings, settings_of
from kamu_notifications.state import person_of, unknown_recipient
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.auth.principal import Principal
from kamu_shared.db.pool import Connection
from kamu_shared.runtime import RuntimeDep
from kamu_shared.web.errors import BadRequest, NotFound
from kamu_shared.web.idempotency import CommandResult, Idempotency
from kamu_shared.web.ids import PersonId
from kamu_shared.web.pagination import Page, PageQuery, encode_cursor

router = APIRouter(tags=["inbox"])


class InboxItem(BaseModel):
    id: str
    kind: str
    subject: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


def _own(principal: Principal, person_id: str) -> None:
    if principal.sub != person_id:
        raise NotFound(f"inbox of {person_id} not found")


async def _items(
    conn: Connection, settings: NotificationsSettings, person_id: str, rows: list[Any]
) -> list[InboxItem]:
    person = await person_of(conn, person_id, settings)
    recipient = person.recipient if person else unknown_recipient(person_id, settings)
    others = {r["params"].get("other_id") for r in rows} - {None}
    names = {
        r["person_id"]: r["display_name"]
        for r in await conn.fetch(
            "SELECT person_id, display_name FROM notifications_people "
            "WHERE person_id = ANY($1::text[])",
            list(others),
        )
    }
    items = []
    for r in rows:
        params = dict(r["params"])
        text = render_for_reading(
            r["kind"],
            params,
            recipient,
            names.get(params.get("other_id")),
            base_url=settings.app_base_url,
        )
        items.append(
            InboxItem(
                id=str(r["notification_id"]),
                kind=r["kind"],
                subject=text.subject,
                body=text.body,
                link=text.link,
                created_at=r["created_at"],
                read_at=r["read_at"],
            )
        )
    return items


SELECT = """SELECT i.notification_id, i.created_at, i.read_at, n.kind, n.params
            FROM notifications_inbox i
            JOIN notifications_notifications n USING (notification_id)"""


@router.get("/people/{person_id}/inbox", response_model=Page[InboxItem])
async def inbox(
    person_id: PersonId,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    page: PageQuery,
    unread: Annotated[bool, Query(description="Only what is not read yet.")] = False,
) -> Page[InboxItem]:
    """The person's notifications in the app, newest first."""
    _own(principal, person_id)
    settings = settings_of(runtime)
    position = page.position() or {}
    before_at = position.get("at")
    before_id = position.get("id")
    try:
        at = datetime.fromisoformat(before_at) if isinstance(before_at, str) else None
        last = uuid.UUID(before_id) if isinstance(before_id, str) else None
        if at is not None:
            at = at.astimezone(UTC)  # out of range for a timestamp: not a cursor of ours
    except (ValueError, OverflowError):
        at, last = None, None
    if (at is None) != (last is None) or (page.cursor is not None and at is None):
        raise BadRequest("cursor is not valid", slug="invalid-cursor")
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            f"""{SELECT}
                WHERE i.person_id = $1 AND (NOT $2 OR i.read_at IS NULL)
                  AND ($3::timestamptz IS NULL OR (i.created_at, i.notification_id) < ($3, $4))
                ORDER BY i.created_at DESC, i.notification_id DESC
                LIMIT $5""",
            person_id,
            unread,
            at,
            last,
            page.limit + 1,
        )
        items = await _items(conn, settings, person_id, list(rows[: page.limit]))
    more = len(rows) > page.limit and items
    cursor = (
        encode_cursor({"at": items[-1].created_at.isoformat(), "id": items[-1].id})
        if more
        else None
    )
    return Page(items=items, next_cursor=cursor)


@router.post("/people/{person_id}/inbox/{notification_id}/read", response_model=InboxItem)
async def mark_read(
    person_id: PersonId,
    notification_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
) -> Response:
    """Mark one notification read (again: it stays read, with its first time)."""
    _own(principal, person_id)
    settings = settings_of(runtime)

    async def execute(conn: Connection) -> CommandResult:
        row = await conn.fetchrow(
            "UPDATE notifications_inbox SET read_at = coalesce(read_at, $3) "
            "WHERE notification_id = $1 AND person_id = $2 RETURNING notification_id",
            notification_id,
            person_id,
            datetime.now(UTC),
        )
        if row is None:
            raise NotFound(f"notification {notification_id} not found in the inbox")
        full = await conn.fetchrow(f"{SELECT} WHERE i.notification_id = $1", notification_id)
        (item,) = await _items(conn, settings, person_id, [full])
        return CommandResult(200, item.model_dump(mode="json"), {})

    return await Idempotency().respond(
        request, runtime.pool, principal=principal.sub, execute=execute
    )
