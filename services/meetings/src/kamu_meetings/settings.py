"""Settings of the meetings service (environment variables with the ``KAMU_`` prefix).

Every time policy is a setting, so tests and demos run a "week" in a second.
"""

from pydantic import Field, SecretStr

from kamu_shared.settings import ServiceSettings


class MeetingsSettings(ServiceSettings):
    """The meetings service's settings, its time policies among them."""

    service_name: str = "meetings"
    http_port: int = 8002
    database_url: str = "postgresql://postgres@127.0.0.1:5432/kamu_meetings"
    cadence_week_seconds: float = Field(
        default=7 * 24 * 3600, gt=0, description="Length of a cadence week (shorter in tests)."
    )
    overdue_poll_seconds: float = Field(
        default=30.0, gt=0, description="How often the overdue timer looks for lapsed pairings."
    )
    overdue_batch: int = Field(default=500, ge=1, description="Lapses handled per timer round.")
    backdate_days: int = Field(
        default=30, ge=0, description="How far in the past a meeting may be scheduled (to log it)."
    )
    horizon_days: int = Field(default=366, ge=1, description="How far ahead it may be scheduled.")
    lock_wait_seconds: float = Field(
        default=5.0, gt=0, description="How long a command waits for its pairing's lock."
    )
    pairing_retry_after_seconds: int = Field(
        default=2, ge=1, description="Retry-After for a pairing this service has not heard of."
    )
    calendar_past_days: int = Field(
        default=180, ge=0, description="How far back the iCalendar feed reaches."
    )
    calendar_feed_secret: SecretStr | None = Field(
        default=None,
        description="Key of the secret calendar feed links (default: derived from the JWT secret).",
    )
    min_group: int = Field(default=5, ge=1, description="Aggregates of fewer are suppressed.")
    stats_running_month_feedback: bool = Field(
        default=False,
        description="Show the running month's feedback averages (off: an answer could be "
        "singled out from how one more answer moves the average).",
    )
