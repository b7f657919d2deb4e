"""Settings of the pairing service (environment variables with the ``KAMU_`` prefix)."""

from kamu_shared.settings import ServiceSettings


class PairingSettings(ServiceSettings):
    """The pairing service's settings; its time policies join here as the domain arrives."""

    service_name: str = "pairing"
    http_port: int = 8001
    database_url: str = "postgresql://postgres@127.0.0.1:5432/kamu_pairing"
