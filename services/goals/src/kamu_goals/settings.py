"""Settings of the goals service (environment variables with the ``KAMU_`` prefix)."""

from kamu_shared.settings import ServiceSettings


class GoalsSettings(ServiceSettings):
    """The goals service's settings; its time policies join here as the domain arrives."""

    service_name: str = "goals"
    http_port: int = 8003
    database_url: str = "postgresql://postgres@127.0.0.1:5432/kamu_goals"
