"""Composition root of the meetings service's HTTP API."""

from fastapi import FastAPI

from kamu_meetings import __version__
from kamu_shared.settings import ServiceSettings
from kamu_shared.web.app import create_service_app


def create_app(settings: ServiceSettings) -> FastAPI:
    """The meetings API; no connection is opened until the server starts."""
    return create_service_app(
        settings,
        title="kamu-meetings",
        description=(
            "Kamu meetings, their cadence and reminders, private notes and anonymous feedback."
        ),
        version=__version__,
    )
