"""Composition root of the pairing service's HTTP API."""

from fastapi import FastAPI

from kamu_pairing import __version__
from kamu_shared.settings import ServiceSettings
from kamu_shared.web.app import create_service_app


def create_app(settings: ServiceSettings) -> FastAPI:
    """The pairing API; no connection is opened until the server starts."""
    return create_service_app(
        settings,
        title="kamu-pairing",
        description=(
            "People synced from HR, Kamu volunteers (capacity, hours, topics, training) "
            "and pairings."
        ),
        version=__version__,
    )
