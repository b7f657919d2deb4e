"""The notifications service's published events.

Wire types ``kamu.notifications.<name>.v<N>``, on the topic ``kamu.notifications.events``.
A notification's outcomes are in its stream (``notification-<id>``): one event per channel,
for dashboards and audits. They name the kind of notification, never its content; a person's
preferences are in ``preferences-<person id>``, the webhook address as their personal data.
"""

from datetime import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from kamu_shared.events import DomainEvent, EventRegistry, PersonalData

registry = EventRegistry("notifications")

Channel = Literal["email", "slack", "teams", "webhook", "inapp"]
CHANNELS: tuple[Channel, ...] = ("email", "slack", "teams", "webhook", "inapp")
Digest = Literal["off", "daily"]


class _Outcome(DomainEvent):
    notification_id: str
    recipient_id: str
    channel: Channel
    kind: str = Field(description="What it is about: pairing-requested, meeting-reminder, ...")
    cause_id: str = Field(description="The id of the event (or reminder) that caused it.")


@registry.register
class NotificationSent(_Outcome, name="notification-sent", version=1):
    """Accepted by the channel (the SMTP server, the webhook's receiver) or put in the inbox."""

    attempts: int = Field(ge=1, description="Attempts it took (1 = the first).")
    digest_id: str | None = Field(
        default=None, description="The daily digest it went out in, if it did."
    )
    in_doubt: bool = Field(
        default=False,
        description="Sent again after a dispatcher stopped mid-send: the receiver may have it "
        "twice and de-duplicates by the notification id.",
    )


@registry.register
class NotificationFailed(_Outcome, name="notification-failed", version=1):
    """Given up: a permanent refusal, or transient failures until the retries ran out."""

    attempts: int = Field(ge=0)
    reason: str = Field(description="The last failure, without personal data.")


@registry.register
class NotificationSuppressed(_Outcome, name="notification-suppressed", version=1):
    """Not sent on this channel: the person turned it off (or left)."""

    reason: Literal["preference-off", "person-left", "no-identity", "withdrawn", "outdated"] = (
        Field(
            description="preference-off, person-left, no-identity (fell back to email), "
            "withdrawn (no longer theirs to see: the pairing ended, the goal was unshared), "
            "outdated (no longer true: the meeting moved, was cancelled or began; the goal was "
            "reviewed or closed)"
        )
    )


class QuietHours(BaseModel):
    """Local times in the person's zone; ``start`` after ``end`` spans midnight."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    start: time
    end: time


class ChannelChoice(BaseModel):
    """Which channels a person wants (configured channels only are used)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    email: bool = True
    slack: bool = True
    teams: bool = True
    webhook: bool = True
    inapp: bool = True


@registry.register
class PreferencesSet(DomainEvent, name="preferences-set", version=1):
    """A person's notification preferences, whole (each event replaces the last)."""

    person_id: str
    channels: ChannelChoice
    quiet_hours: QuietHours | None = None
    webhook_url: Annotated[str | None, PersonalData(subject="person_id")] = None
    digest: Digest = "off"
    digest_at: time = Field(description="Local time of the daily digest.")
