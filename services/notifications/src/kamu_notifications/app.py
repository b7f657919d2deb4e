"""Composition root of the notifications service's HTTP API."""

from fastapi import FastAPI

from kamu_notifications import __version__
from kamu_shared.settings import ServiceSettings
from kamu_shared.web.app import create_service_app


def create_app(settings: ServiceSettings) -> FastAPI:
    """The notifications API; no connection is opened until the server starts."""
    return create_service_app(
        settings,
        title="kamu-notifications",
        description=(
            "Email with calendar invites, Slack, Teams, signed webhooks and the in-app inbox."
        ),
        version=__version__,
    )
