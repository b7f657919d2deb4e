"""``./kamu dlq``: the dead letters of every consumer group of every service of a running
platform, handled in one command.

A poison event is usually parked by several groups at once (every service that reads the
topic it came on). Each service keeps its dead letters in its own database, so this module
runs each service's own ``python -m kamu_<service> dlq ... --json`` with that service's
settings, side by side, and merges the answers: the same command a deployment runs in a pod
(``kubectl exec -n kamu deploy/kamu-meetings-worker -- python -m kamu_meetings dlq list``).
The services' log lines of those commands (a discard's who and why among them) are appended
to each service's log, where its other log lines are.
"""

import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kamu_devstack.errors import InfraError
from kamu_devstack.platform import Platform
from kamu_devstack.services import service_databases, service_env
from kamu_devstack.stack import Stack, jwt_secret, stack_secret

Json = dict[str, Any]
# The services with consumer groups, and so dead letters (pairing reads no topic); checked
# against the services' definitions by deploy/local/tests/test_dlq_command.py.
CONSUMERS: tuple[str, ...] = ("meetings", "goals", "notifications", "insights")
COMMAND_TIMEOUT = 600.0  # seconds; a replay retries each failing message with backoff


@dataclass(frozen=True)
class ServiceCommands:
    """How to run one service's commands: its name, its settings as environment variables,
    and the log its lines go to (if any)."""

    service: str
    env: Mapping[str, str]
    log: Path | None = None


def _env(
    name: str,
    kafka_bootstrap: str,
    database_url: str,
    base_port: int,
    secrets: dict[str, str],
    extra: Mapping[str, str],
) -> dict[str, str]:
    """The settings the service's processes run with (as :func:`start_services` gives them),
    with JSON logs on standard error."""
    return {
        **os.environ,
        "KAMU_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "KAMU_DATABASE_URL": database_url,
        **service_env(name, base_port, secrets),
        **extra,
        "KAMU_LOG_FORMAT": "json",
    }


def stack_services(stack: Stack) -> list[ServiceCommands]:
    """The services of a stack ``./kamu up`` started (from its state folder)."""
    if stack.infra is None or not stack.running() or not stack.services:
        raise InfraError("the services do not run; start them with `./kamu up --detach`")
    secrets = {
        "jwt": jwt_secret(stack.state_dir),
        "webhook": stack_secret(stack.state_dir, "webhook"),
    }
    databases = service_databases(stack.infra.postgres_url)
    logs = {s.name: Path(s.log) for s in stack.services}
    return [
        ServiceCommands(
            name,
            _env(name, stack.infra.kafka_bootstrap, databases[name], stack.base_port, secrets, {}),
            logs.get(name),
        )
        for name in CONSUMERS
    ]


def platform_services(platform: Platform) -> list[ServiceCommands]:
    """The services of a platform the tests started (:func:`running_platform`)."""
    extra = {"KAMU_TOPIC_NAMESPACE": platform.namespace}
    logs = {p.name: Path(p.log) for p in platform.processes}
    return [
        ServiceCommands(
            name,
            _env(
                name,
                platform.kafka_bootstrap,
                platform.databases[name],
                platform.base_port,
                platform.secrets,
                extra,
            ),
            logs.get(name),
        )
        for name in CONSUMERS
    ]


async def _dlq(service: ServiceCommands, args: Sequence[str], timeout: float) -> list[Json]:
    """``python -m kamu_<service> dlq <args>``: its JSON lines. Exit 1 (a replay that failed)
    still answers; anything else that is not 0 raises InfraError with its errors."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        f"kamu_{service.service}",
        "dlq",
        *args,
        env=dict(service.env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise InfraError(
            f"{service.service}: `dlq {' '.join(args)}` did not finish in {timeout:g} s"
        ) from None
    if service.log is not None and err:
        with service.log.open("ab") as log:  # the service's log keeps the command's lines too
            log.write(err if err.endswith(b"\n") else err + b"\n")
    if process.returncode not in (0, 1) or (process.returncode == 1 and not out.strip()):
        tail = "\n".join(err.decode(errors="replace").strip().splitlines()[-15:])
        raise InfraError(
            f"{service.service}: `python -m kamu_{service.service} dlq {' '.join(args)}` "
            f"failed (exit {process.returncode}):\n{tail}"
        )
    return [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]


async def _everywhere(
    services: Sequence[ServiceCommands], args: Sequence[str], timeout: float = COMMAND_TIMEOUT
) -> list[Json]:
    """The same dlq command in every service at once; their answers, service by service."""
    answers = await asyncio.gather(*(_dlq(s, args, timeout) for s in services))
    return [row for rows in answers for row in rows]


def _filters(event_id: str | None, subject: str | None) -> list[str]:
    return [
        *(["--event-id", event_id] if event_id else []),
        *(["--subject", subject] if subject else []),
    ]


async def list_parked(
    services: Sequence[ServiceCommands],
    *,
    status: str = "parked",
    event_id: str | None = None,
    subject: str | None = None,
) -> list[Json]:
    """Every message in ``status`` of every group of every service (each row names its
    ``service`` and ``group``), oldest first."""
    rows = await _everywhere(services, ["list", "--status", status, *_filters(event_id, subject)])
    return sorted(rows, key=lambda r: (r["parked_at"], r["service"], r["group"]))


async def replay(
    services: Sequence[ServiceCommands],
    *,
    event_id: str | None = None,
    subject: str | None = None,
) -> list[Json]:
    """Replay in every group of every service (with ``event_id``: in each group that parked
    that event, its subject from the oldest parked message on). One report per group:
    ``service``, ``group``, ``replayed``, ``failed``, ``still_parked``."""
    return await _everywhere(services, ["replay", "--json", *_filters(event_id, subject)])


async def discard(
    services: Sequence[ServiceCommands], *, event_id: str, reason: str | None, by: str
) -> list[Json]:
    """Discard the event in every group of every service that parked it. One answer per
    group: ``service``, ``group``, ``discarded`` (the messages), ``still_parked_behind``."""
    args = ["discard", "--json", "--event-id", event_id, "--by", by]
    if reason:
        args += ["--reason", reason]
    return await _everywhere(services, args)
