"""Composition root of the insights service's HTTP API."""

from fastapi import FastAPI

from kamu_insights.service import DEFINITION
from kamu_shared.runtime import create_app as create_runtime_app
from kamu_shared.settings import ServiceSettings


def create_app(settings: ServiceSettings) -> FastAPI:
    """The insights API and dashboard; no connection is opened until the server starts."""
    return create_runtime_app(settings, DEFINITION)
