"""Settings every service reads from the environment (prefix ``KAMU_``).

Each service subclasses :class:`ServiceSettings` to set its own name and default port, and adds
its own time policies there so tests and demos can shorten them.
"""

from typing import Self

from pydantic import Field, SecretStr, model_validator
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
    # Background work in this process; API-only replicas set both to false (see docs/operations).
    run_relay: bool = Field(default=True, description="Publish committed events to Kafka here.")
    run_consumers: bool = Field(default=True, description="Run reactions and projections here.")
    topic_namespace: str = Field(
        default="kamu",
        pattern=r"^[a-z][a-z0-9-]{0,30}$",
        description="First part of topic and consumer group names (kamu.<service>.events); "
        "another value lets several environments or test runs share one Kafka cluster.",
    )
    kafka_topic_partitions: int = Field(default=3, ge=1, description="Partitions of new topics.")
    kafka_topic_replication: int = Field(
        default=1,
        ge=1,
        description="Replicas of topics a service creates itself (its event topic if missing, its "
        "dead-letter topics): 3 on a production cluster, 1 on a single broker.",
    )
    relay_poll_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How long the relay waits for a NOTIFY before it looks anyway; also the "
        "longest pause between its looks while committed events wait behind a running "
        "transaction.",
    )
    relay_recheck_initial_seconds: float = Field(
        default=0.01,
        gt=0,
        description="First pause before the relay looks again when committed events wait "
        "behind a transaction of its database that is still running (whose end may send no "
        "NOTIFY); doubles with each such look up to relay_poll_interval_seconds.",
    )
    relay_unready_lag_seconds: float = Field(
        default=30.0,
        gt=0,
        description="The relay's readiness check fails while, leading, its oldest unpublished "
        "event is older.",
    )
    relay_batch_size: int = Field(default=500, ge=1)
    relay_gather_seconds: float = Field(
        default=0.02,
        ge=0,
        description="After a round that published, the relay starts its next one no sooner: "
        "a relay woken by a commit every few milliseconds sends one batch per this interval "
        "instead of one per commit; a relay that was idle is not delayed at all. 0: a round "
        "per wake.",
    )
    consumer_stall_timeout_seconds: float = Field(default=30.0, gt=0)
    consumer_commit_interval_seconds: float = Field(
        default=1.0,
        ge=0,
        description="A consumer commits its Kafka offsets at most this often: each message is "
        "recorded in its group's ledger when applied, so a later offset commit only means more "
        "redelivery after a crash, which the ledger drops. 0: after every batch.",
    )
    consumer_retry_attempts: int = Field(default=5, ge=1)
    consumer_backoff_initial_seconds: float = Field(default=0.2, gt=0)
    consumer_backoff_max_seconds: float = Field(default=10.0, gt=0)
    database_pool_size: int = Field(default=10, ge=1)
    task_restart_backoff_initial_seconds: float = Field(
        default=0.5, gt=0, description="First pause before a background task that ended restarts."
    )
    task_restart_backoff_max_seconds: float = Field(
        default=30.0, gt=0, description="Longest pause between restarts of a background task."
    )
    unavailable_retry_after_seconds: float = Field(
        default=2.0,
        gt=0,
        description="Retry-After of the 503 answered while PostgreSQL or Kafka cannot be reached.",
    )

    @model_validator(mode="after")
    def _no_placeholders(self) -> Self:
        """A secret still holding the templates' ``CHANGE-ME`` (deploy/compose's
        secrets.env.example, deploy/k8s/secrets.template.yaml) is refused at start: a known
        signing key would let anyone mint People Operations tokens."""
        for name in type(self).model_fields:
            value = getattr(self, name)
            checked = name in PLACEHOLDER_CHECKED or isinstance(value, SecretStr)
            text = value.get_secret_value() if isinstance(value, SecretStr) else value
            if checked and isinstance(text, str) and PLACEHOLDER in text:
                raise ValueError(f"{name} still holds the template's {PLACEHOLDER}")
        return self


PLACEHOLDER = "CHANGE-ME"
PLACEHOLDER_CHECKED = frozenset({"database_url", "slack_webhook_url", "teams_webhook_url"})
