"""Errors that say a server (PostgreSQL, Kafka) cannot be reached: never the request's or the
message's fault. An API answers them 503 with ``Retry-After``; a consumer retries, never parks."""

import asyncpg
from aiokafka.errors import KafkaError

INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,  # the connection broke or never opened
    asyncpg.InterfaceError,  # "connection is closed", "pool is closing"
    asyncpg.OperatorInterventionError,  # admin shutdown, crash, cannot connect now, cancelled
    asyncpg.TooManyConnectionsError,
    KafkaError,
)


def unavailable_cause(exc: BaseException, depth: int = 8) -> BaseException | None:
    """The infrastructure error ``exc`` is or was raised from (its causes, contexts and, for an
    exception group, its members), if any: wrapped, it is still not the caller's fault."""
    seen: set[int] = set()
    pending = [exc]
    while pending and len(seen) < depth * 4:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, INFRASTRUCTURE_ERRORS):
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None


__all__ = ["INFRASTRUCTURE_ERRORS", "unavailable_cause"]
