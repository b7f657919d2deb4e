"""Settings every service reads from the environment (prefix ``KAMU_``).

Each service subclasses :class:`ServiceSettings` to set its own name and default port, and adds
its own time policies there so tests and demos can shorten them.
"""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What one service process needs to know about its surroundings."""

    model_config = SettingsConfigDict(env_prefix="KAMU_", extra="ignore")

    service_name: str = "kamu"
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        description="The service's own PostgreSQL database.",
    )
    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers.")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|console)$")
    readiness_timeout_seconds: float = Field(default=2.0, gt=0)
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 secret for local runs and tests (KAMU_JWT_SECRET)."
    )
    jwt_jwks_url: str | None = Field(
        default=None, description="JWKS document with the RS256 keys used in production."
    )
    jwt_issuer: str = "kamu"
    jwt_audience: str = "kamu"
    jwt_leeway_seconds: float = Field(default=10, ge=0, description="Clock skew allowed on exp.")
    jwt_jwks_cache_seconds: float = Field(
        default=300, gt=0, description="How long a fetched JWKS document is reused."
    )
