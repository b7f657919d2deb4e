"""The JSON bodies of the HTTP channels: Slack, Teams and personal webhooks."""

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from kamu_notifications.content.render import Recipient, Rendered, render
from kamu_notifications.dispatch import payloads
from kamu_notifications.dispatch.http import encode
from kamu_notifications.domain import inbound as e
from kamu_notifications.domain.routing import route

C, K = "colleague-1", "kamu-1"
MEETING = {"meeting_id": "meeting-1", "pairing_id": "pairing-1", "colleague_id": C, "kamu_id": K}
STARTS = datetime(2025, 6, 2, 7, 0, tzinfo=UTC)
SLOT = {
    "starts_at": STARTS,
    "time_zone": "Europe/Helsinki",
    "duration_minutes": 45,
    "location": "Room Aalto, 3rd floor",
}
AINO = Recipient(
    person_id=C,
    display_name="Aino Virtanen",
    email="aino@example.org",
    locale="en",
    zone=ZoneInfo("Europe/Helsinki"),
    slack_user_id="U024BE7LH",
    teams_user_id="29:1a2b3c-teams-aad-id",
)
MESSAGE_ID = "6f1d1c1e-0000-4000-8000-000000000001"
CREATED = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
# What a personal webhook's ``data`` may ever hold.
NON_PERSONAL = {
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
}


def scheduled_params() -> dict:
    return route(e.MeetingScheduled(**MEETING, **SLOT))[0].params


def rendered(kind: str = "meeting-scheduled", params: dict | None = None) -> Rendered:
    params = scheduled_params() if params is None else params
    return render(kind, params, AINO, "Bertta Kamunen", base_url="https://kamu.example.org")


def test_slack_is_sent_to_the_users_slack_id_with_the_rendered_words():
    message = rendered()

    body = payloads.slack(AINO, message, MESSAGE_ID)

    assert body["user"] == "U024BE7LH"
    assert body["notification_id"] == MESSAGE_ID
    assert body["text"].startswith(f"*{message.subject}*\n")
    assert message.body in body["text"]


def test_teams_mentions_the_user_by_their_teams_id():
    message = rendered()

    body = payloads.teams(AINO, message, MESSAGE_ID)

    assert body["recipient"] == "29:1a2b3c-teams-aad-id"
    assert body["notification_id"] == MESSAGE_ID
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    (mention,) = card["msteams"]["entities"]
    assert mention["type"] == "mention"
    assert mention["mentioned"] == {"id": "29:1a2b3c-teams-aad-id", "name": "Aino Virtanen"}
    # The mention's text must appear verbatim in the card for Teams to resolve it.
    assert mention["text"] == "<at>Aino Virtanen</at>"
    assert card["body"][0]["text"] == f"<at>Aino Virtanen</at> {message.subject}"
    assert card["body"][1]["text"] == message.body


def test_teams_offers_the_link_as_an_action_only_when_there_is_one():
    with_link = payloads.teams(AINO, rendered(), MESSAGE_ID)
    no_link = payloads.teams(
        AINO, Rendered(subject="S", body="B", html="<p>B</p>", link=None), MESSAGE_ID
    )

    (action,) = with_link["attachments"][0]["content"]["actions"]
    assert action == {
        "type": "Action.OpenUrl",
        "title": "Kamu",
        "url": "https://kamu.example.org/meetings/meeting-1",
    }
    assert "actions" not in no_link["attachments"][0]["content"]


def test_the_webhook_carries_only_ids_and_times_never_the_place_or_the_people():
    params = scheduled_params()
    assert params["location"] == "Room Aalto, 3rd floor"

    body = payloads.webhook(MESSAGE_ID, "meeting-scheduled", C, rendered(), params, CREATED)

    assert body["data"] == {
        "meeting_id": "meeting-1",
        "pairing_id": "pairing-1",
        "starts_at": "2025-06-02T07:00:00+00:00",
        "time_zone": "Europe/Helsinki",
        "duration_minutes": 45,
        "sequence": 0,
        "role": "colleague",
    }
    assert "location" not in body["data"]
    assert "other_id" not in body["data"]
    assert "Room Aalto" not in json.dumps(body["data"])


@pytest.mark.parametrize(
    "inbound",
    [
        e.PairingRequested(pairing_id="pairing-1", colleague_id=C, kamu_id=K),
        e.MeetingRescheduled(**MEETING, **SLOT, sequence=2),
        e.MeetingCancelled(**MEETING, starts_at=STARTS, cause="pairing-ended"),
        e.MeetingOverdue(pairing_id="pairing-1", colleague_id=C, kamu_id=K, lapse=1, nudge="kamu"),
        e.GoalReviewDue(goal_id="goal-1", owner_id=C, lapse=2, kamu_id=K),
    ],
    ids=lambda ev: ev.event_name,
)
def test_no_webhook_data_beyond_the_non_personal_fields(inbound):
    for planned in route(inbound):
        body = payloads.webhook(
            MESSAGE_ID, planned.kind, planned.recipient_id, rendered(), planned.params, CREATED
        )

        assert set(body["data"]) <= NON_PERSONAL
        assert set(body["data"]) == NON_PERSONAL & {
            k for k, v in planned.params.items() if v is not None
        }


def test_the_webhook_envelope():
    message = rendered()

    body = payloads.webhook(MESSAGE_ID, "meeting-scheduled", C, message, {}, CREATED)

    assert body["type"] == "kamu.notification.v1"
    assert body["id"] == MESSAGE_ID
    assert body["kind"] == "meeting-scheduled"
    assert body["recipient_id"] == C
    assert body["created_at"] == "2025-06-01T09:00:00+00:00"
    assert body["subject"] == message.subject
    assert body["text"] == message.body
    assert body["link"] == "https://kamu.example.org/meetings/meeting-1"
    assert body["data"] == {}
    assert "notifications" not in body


def test_a_digest_webhook_lists_the_notifications_it_gathers():
    items = ["n-1", "n-2"]

    body = payloads.webhook(MESSAGE_ID, "digest", C, rendered(), {}, CREATED, items)

    assert body["notifications"] == ["n-1", "n-2"]


def test_every_payload_encodes_as_compact_utf8_json():
    message = render(
        "pairing-requested",
        {"pairing_id": "pairing-1", "other_id": K},
        AINO,
        "Bertta Kämäräinen",
        base_url="https://kamu.example.org",
    )
    for body in (
        payloads.slack(AINO, message, MESSAGE_ID),
        payloads.teams(AINO, message, MESSAGE_ID),
        payloads.webhook(MESSAGE_ID, "pairing-requested", C, message, {}, CREATED),
    ):
        text = encode(body)

        assert json.loads(text) == body
        assert "Kämäräinen" in text  # not \\u-escaped
        assert '": ' not in text  # compact: no space after a key
        assert '", "' not in text
