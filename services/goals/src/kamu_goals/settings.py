"""Settings of the goals service (environment variables with the ``KAMU_`` prefix).

Every time policy is a setting, so tests and demos run a "week" in a second.
"""

from pydantic import Field

from kamu_shared.settings import ServiceSettings


class GoalsSettings(ServiceSettings):
    """The goals service's settings, its time policies among them."""

    service_name: str = "goals"
    http_port: int = 8003
    database_url: str = "postgresql://postgres@127.0.0.1:5432/kamu_goals"
    review_week_seconds: float = Field(
        default=7 * 24 * 3600,
        gt=0,
        description="Length of a review-interval week (shorter in tests).",
    )
    review_poll_seconds: float = Field(
        default=30.0, gt=0, description="How often the review-due timer looks for lapsed goals."
    )
    review_batch: int = Field(default=500, ge=1, description="Lapses handled per timer round.")
    target_date_grace_days: int = Field(
        default=1, ge=0, description="How far in the past a target date may be (time zones)."
    )
    min_group: int = Field(default=5, ge=1, description="Aggregates of fewer are suppressed.")
