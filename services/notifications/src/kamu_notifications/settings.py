"""Settings of the notifications service (environment variables with the ``KAMU_`` prefix).

Channels are on when configured: email when ``smtp_host`` is set, Slack and Teams when their
webhook addresses are, personal webhooks always (each person gives their own address). Every
time policy (reminder lead, retries, leases, polls) is a setting so tests run in seconds.
"""

from datetime import time
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, model_validator

from kamu_notifications.domain.events import Channel
from kamu_shared.settings import ServiceSettings

if TYPE_CHECKING:
    from kamu_shared.runtime import Runtime


# A send starts only with this much of its claim's lease left beyond the send timeout.
LEASE_MARGIN_SECONDS = 2.0


class NotificationsSettings(ServiceSettings):
    """The notifications service's settings: channels, time policies, delivery limits."""

    service_name: str = "notifications"
    http_port: int = 8004
    database_url: str = "postgresql://postgres@127.0.0.1:5432/kamu_notifications"

    # Channels
    smtp_host: str | None = Field(default=None, description="SMTP server; unset: no email.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS.")
    smtp_tls: bool = Field(default=False, description="Connect over TLS (port 465 style).")
    email_from: str = Field(default="Kamu <kamu@kamu.invalid>", description="From and ORGANIZER.")
    slack_webhook_url: str | None = Field(
        default=None,
        description="Slack workflow webhook that sends a direct message to the ``user`` given.",
    )
    teams_webhook_url: str | None = Field(
        default=None,
        description="Teams workflow webhook that posts the card to the chat of the user given.",
    )
    webhook_signing_secret: SecretStr | None = Field(
        default=None,
        description="Key from which each person's webhook secret is derived "
        "(default: derived from the JWT secret).",
    )
    webhook_allow_http: bool = Field(
        default=False, description="Accept http:// webhook addresses (local runs and tests)."
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Accept webhook addresses on loopback and private networks (local runs).",
    )
    app_base_url: str = Field(
        default="http://localhost:8080", description="Where links in notifications point."
    )

    # People
    default_locale: str = Field(default="en", description="For people without a known locale.")
    default_time_zone: str = Field(default="UTC", description="For people without a known zone.")
    default_digest_at: time = Field(default=time(8, 0), description="Local time of the digest.")

    # Time policies
    max_event_age_seconds: float = Field(
        default=2 * 24 * 3600,
        gt=0,
        description="Events older than this are learned from but notify nobody (a new "
        "deployment reading a topic's history must not send its past).",
    )
    reminder_lead_seconds: float = Field(
        default=3600, gt=0, description="How long before a meeting its reminder goes out."
    )
    reminder_poll_seconds: float = Field(default=30.0, gt=0)
    reminder_batch: int = Field(default=500, ge=1)
    dispatch_poll_seconds: float = Field(
        default=0.5, gt=0, description="How often the dispatcher looks for due deliveries."
    )
    dispatch_concurrency: int = Field(
        default=16, ge=1, description="Deliveries in flight at once, per process."
    )
    endpoint_concurrency: int = Field(
        default=4,
        ge=1,
        description="Deliveries in flight at once to one endpoint (a slow one takes no more).",
    )
    send_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest wait for one channel to accept a message."
    )
    lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A delivery claimed longer ago (its dispatcher gone) is sent again.",
    )
    retry_attempts: int = Field(default=6, ge=1, description="Attempts before giving up.")
    retry_initial_seconds: float = Field(default=30.0, gt=0)
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    missing_data_wait_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Longest a message waits for what it needs and is not known here yet "
        "(a person's name or address from pairing's topic) before it fails; it is never "
        "sent with a blank.",
    )
    missing_data_recheck_seconds: float = Field(
        default=5.0,
        gt=0,
        description="First re-check of a message waiting for data (it is also re-checked as "
        "soon as the person's event arrives); each wait as long as the time waited so far.",
    )
    missing_data_recheck_max_seconds: float = Field(
        default=300.0, gt=0, description="Longest pause between re-checks of a waiting message."
    )
    resend_in_doubt: frozenset[Channel] = Field(
        default=frozenset({"webhook"}),
        description="Channels on which a message that may have arrived (the dispatcher "
        "stopped, or the answer never came, after it was handed over) is sent again with the "
        "same id, because their receivers de-duplicate by it (webhooks by webhook-id). On the "
        "others it is recorded failed, in doubt, and not sent again (at most once). As JSON: "
        'KAMU_RESEND_IN_DOUBT=["webhook", "email"].',
    )

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> "NotificationsSettings":
        if self.lease_seconds < self.send_timeout_seconds + LEASE_MARGIN_SECONDS:
            raise ValueError(
                f"lease_seconds must be at least send_timeout_seconds + {LEASE_MARGIN_SECONDS:g}"
            )
        return self


def settings_of(runtime: "Runtime") -> NotificationsSettings:
    assert isinstance(runtime.settings, NotificationsSettings)
    return runtime.settings
