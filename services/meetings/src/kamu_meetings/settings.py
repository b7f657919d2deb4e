"""Settings of the meetings service (environment variables with the ``KAMU_`` prefix)."""

from kamu_shared.settings import ServiceSettings


class MeetingsSettings(ServiceSettings):
    """The meetings service's settings; its time policies join here as the domain arrives."""

    service_name: str = "meetings"
    http_port: int = 8002
    database_url: str = "postgresql://postgres@127.0.0.1:5432/kamu_meetings"
