"""``GET /notifications/{id}``: a notification's delivery history, channel by channel.

For its recipient, and for operators (roles ``admin`` and ``service``) who follow up failed
deliveries; operators see when and how, not what: no subject or text. Anyone else: 404.
"""

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from kamu_notifications.content.render import render_for_reading
from kamu_notifications.settings import settings_of
from kamu_notifications.state import person_of, unknown_recipient
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.runtime import RuntimeDep
from kamu_shared.web.errors import NotFound

router = APIRouter(tags=["deliveries"])
OPERATORS = ("admin", "service")


class AttemptOut(BaseModel):
    attempt: int
    at: datetime
    outcome: str = Field(description="sent, retry, failed, deferred, fallback, suppressed")
    detail: str | None


class DeliveryOut(BaseModel):
    channel: str
    status: str = Field(description="pending, sending, sent, failed, suppressed, fallback")
    attempts: int
    due_at: datetime | None = Field(description="When it is due next, while pending.")
    deferred_by: str | None
    finished_at: datetime | None
    detail: str | None
    history: list[AttemptOut]


class NotificationOut(BaseModel):
    id: str
    kind: str
    recipient_id: str
    cause_type: str
    cause_id: str
    created_at: datetime
    subject: str | None = Field(description="Shown to the recipient only.")
    deliveries: list[DeliveryOut]


@router.get("/notifications/{notification_id}", response_model=NotificationOut)
async def notification(
    notification_id: uuid.UUID, principal: CurrentPrincipal, runtime: RuntimeDep
) -> NotificationOut:
    """Where the notification went, each attempt, and why any failed or waits."""
    settings = settings_of(runtime)
    async with runtime.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT * FROM notifications_notifications WHERE notification_id = $1",
            notification_id,
        )
        recipient = row is not None and principal.sub == row["recipient_id"]
        operator = any(role in principal.roles for role in OPERATORS)
        if row is None or not (recipient or operator):
            raise NotFound(f"notification {notification_id} not found")
        deliveries = await conn.fetch(
            "SELECT * FROM notifications_deliveries WHERE notification_id = $1 ORDER BY channel",
            notification_id,
        )
        attempts = await conn.fetch(
            "SELECT * FROM notifications_attempts WHERE notification_id = $1 ORDER BY at, attempt",
            notification_id,
        )
        subject = None
        if recipient:
            person = await person_of(conn, row["recipient_id"], settings)
            params = dict(row["params"])
            other = params.get("other_id")
            name = (
                await conn.fetchval(
                    "SELECT display_name FROM notifications_people WHERE person_id = $1", other
                )
                if other
                else None
            )
            who = person.recipient if person else unknown_recipient(row["recipient_id"], settings)
            subject = render_for_reading(
                row["kind"], params, who, name, base_url=settings.app_base_url
            ).subject
    return NotificationOut(
        id=str(notification_id),
        kind=row["kind"],
        recipient_id=row["recipient_id"],
        cause_type=row["cause_type"],
        cause_id=row["cause_id"],
        created_at=row["created_at"],
        subject=subject,
        deliveries=[
            DeliveryOut(
                channel=d["channel"],
                status=d["status"],
                attempts=d["attempts"],
                due_at=d["due_at"] if d["status"] == "pending" else None,
                deferred_by=d["deferred_by"],
                finished_at=d["finished_at"],
                detail=d["detail"],
                history=[
                    AttemptOut(
                        attempt=a["attempt"], at=a["at"], outcome=a["outcome"], detail=a["detail"]
                    )
                    for a in attempts
                    if a["channel"] == d["channel"]
                ],
            )
            for d in deliveries
        ],
    )
