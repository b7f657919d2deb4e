"""Settings of the insights service (environment variables with the ``KAMU_`` prefix)."""

from pydantic import Field

from kamu_shared.settings import ServiceSettings


class InsightsSettings(ServiceSettings):
    """The insights service's settings."""

    service_name: str = "insights"
    http_port: int = 8005
    database_url: str = "postgresql://postgres@127.0.0.1:5432/kamu_insights"
    run_relay: bool = False  # insights appends no events: nothing to relay
    min_group: int = Field(
        default=5, ge=2, description="A figure describing fewer people than this is withheld."
    )
    default_months: int = Field(
        default=12, ge=1, le=120, description="Months a figure covers when no period is asked for."
    )
    max_months: int = Field(
        default=60, ge=1, description="The longest period one request may ask for."
    )
    figure_concurrency: int = Field(
        default=3,
        ge=1,
        description="Figure queries one process runs at once (the overview asks for eleven): "
        "the rest of the pool stays free for other requests and the consumers.",
    )
