"""Runs a service's HTTP API under uvicorn: the body of every ``python -m kamu_<service> api``."""

import argparse
from collections.abc import Callable, Sequence

import uvicorn
from fastapi import FastAPI

from kamu_shared.logging import configure_logging
from kamu_shared.settings import ServiceSettings


def serve_main(
    settings: ServiceSettings,
    create_app: Callable[[ServiceSettings], FastAPI],
    argv: Sequence[str] | None = None,
) -> None:
    """Parse ``api [--host H] [--port P]`` and serve the app until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog=f"kamu-{settings.service_name}")
    sub = parser.add_subparsers(dest="command", required=True)
    api = sub.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", default=settings.http_host)
    api.add_argument("--port", type=int, default=settings.http_port)
    args = parser.parse_args(argv)
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
