"""Composition root of the goals service's HTTP API."""

from fastapi import FastAPI

from kamu_goals import __version__
from kamu_shared.settings import ServiceSettings
from kamu_shared.web.app import create_service_app


def create_app(settings: ServiceSettings) -> FastAPI:
    """The goals API; no connection is opened until the server starts."""
    return create_service_app(
        settings,
        title="kamu-goals",
        description=("Goals, progress check-ins and reviews in Kamu meetings; private by default."),
        version=__version__,
    )
