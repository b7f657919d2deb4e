"""Structured logging: JSON lines carrying the ids bound for the current request or message.

Ids are bound with ``structlog.contextvars`` so everything logged while a request or an event is
handled carries them without passing a logger around.
"""

import logging
import sys
from typing import TextIO

import structlog


def configure_logging(
    service: str, level: str = "INFO", fmt: str = "json", stream: TextIO | None = None
) -> None:
    """Route structlog and the standard library's loggers to one JSON (or console) stream.

    Servers log to stdout; commands whose stdout is their answer (``dlq list``) pass stderr.
    """
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,  # reconfigurable (tests, CLI); the cost is small
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log duplicates our request log line; its error log stays.
    logging.getLogger("uvicorn.access").disabled = True
    # aiokafka narrates every (re)subscription at INFO; its warnings and errors still show.
    logging.getLogger("aiokafka").setLevel(max(root.level, logging.WARNING))
    # httpx logs every request's full URL at INFO: webhook URLs are secrets (Slack, Teams).
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))


def _add_service(service: str) -> structlog.types.Processor:
    def processor(
        _logger: object, _method: str, event: structlog.types.EventDict
    ) -> structlog.types.EventDict:
        event.setdefault("service", service)
        return event

    return processor
