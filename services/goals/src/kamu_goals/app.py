"""Composition root of the goals service's HTTP API."""

from fastapi import FastAPI

from kamu_goals.service import DEFINITION
from kamu_shared.runtime import create_app as create_runtime_app
from kamu_shared.settings import ServiceSettings


def create_app(settings: ServiceSettings) -> FastAPI:
    """The goals API; no connection is opened until the server starts."""
    return create_runtime_app(settings, DEFINITION)
