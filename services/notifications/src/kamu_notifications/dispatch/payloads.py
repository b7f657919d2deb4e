"""The JSON each HTTP channel receives. Words as rendered for the recipient; for personal
webhooks also the ids a receiver needs to act (meeting, pairing, goal) and nothing personal
beyond what the recipient sees in the message itself."""

from datetime import datetime
from typing import Any

from kamu_notifications.content.render import Recipient, Rendered

# What a webhook receiver may get from a notification's parameters besides its words.
WEBHOOK_FIELDS = (
    "meeting_id",
    "pairing_id",
    "goal_id",
    "starts_at",
    "time_zone",
    "duration_minutes",
    "sequence",
    "role",
    "lapse",
    "cause",
)


def slack(recipient: Recipient, rendered: Rendered, message_id: str) -> dict[str, Any]:
    """For a Slack workflow webhook with a ``user`` variable: a direct message to them."""
    text = f"*{rendered.subject}*\n{rendered.body}"
    return {"user": recipient.slack_user_id, "text": text, "notification_id": message_id}


def teams(recipient: Recipient, rendered: Rendered, message_id: str) -> dict[str, Any]:
    """An Adaptive Card mentioning the user, for a Teams workflow that posts to their chat."""
    mention = f"<at>{recipient.display_name}</at>"
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": f"{mention} {rendered.subject}",
                "weight": "Bolder",
                "wrap": True,
            },
            {"type": "TextBlock", "text": rendered.body, "wrap": True},
        ],
        "msteams": {
            "entities": [
                {
                    "type": "mention",
                    "text": mention,
                    "mentioned": {"id": recipient.teams_user_id, "name": recipient.display_name},
                }
            ]
        },
    }
    if rendered.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Kamu", "url": rendered.link}]
    return {
        "type": "message",
        "recipient": recipient.teams_user_id,
        "notification_id": message_id,
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def webhook(
    message_id: str,
    kind: str,
    recipient_id: str,
    rendered: Rendered,
    params: dict[str, Any],
    created_at: datetime,
    items: list[str] | None = None,
) -> dict[str, Any]:
    """The personal webhook's body (``type: kamu.notification.v1``)."""
    body: dict[str, Any] = {
        "type": "kamu.notification.v1",
        "id": message_id,
        "kind": kind,
        "recipient_id": recipient_id,
        "created_at": created_at.isoformat(),
        "subject": rendered.subject,
        "text": rendered.body,
        "link": rendered.link,
        "data": {k: params[k] for k in WEBHOOK_FIELDS if params.get(k) is not None},
    }
    if items is not None:
        body["notifications"] = items
    return body
