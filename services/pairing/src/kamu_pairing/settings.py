"""Settings of the pairing service (environment variables with the ``KAMU_`` prefix)."""

from pydantic import Field

from kamu_shared.settings import ServiceSettings


class PairingSettings(ServiceSettings):
    """The pairing service's settings, its programme policies among them."""

    service_name: str = "pairing"
    http_port: int = 8001
    database_url: str = "postgresql://postgres@127.0.0.1:5432/kamu_pairing"
    default_cadence_weeks: int = Field(default=2, ge=1, le=12)
    default_meeting_minutes: int = Field(default=60, ge=15, le=240)
    training_required: bool = Field(default=True, description="Training before a first pairing.")
    history_days: int = Field(
        default=400,
        ge=0,
        description="How far back People Operations may date a pairing's start (began_at) when "
        "moving a programme's history into Kamu.",
    )
    near_limit_ratio: float = Field(
        default=0.8, gt=0, le=1, description="Load share from which a Kamu counts as near limit."
    )
    suggestions_cache_seconds: float = Field(
        default=5.0, ge=0, description="Age of the volunteer list suggestions shortlist from."
    )
    coverage_min_group: int = Field(default=5, ge=1, description="Smaller groups are suppressed.")
