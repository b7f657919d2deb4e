"""Settings of the notifications service (environment variables with the ``KAMU_`` prefix)."""

from kamu_shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    """The notifications service's settings; its time policies join here as the domain arrives."""

    service_name: str = "notifications"
    http_port: int = 8004
    database_url: str = "postgresql://postgres@127.0.0.1:5432/kamu_notifications"
