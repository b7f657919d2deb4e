"""The whole platform on one machine: infrastructure, databases, services, and a state file.

The state file (``stack.json`` in the state folder) is what lets ``down`` and ``status`` find a
stack that a detached ``up`` left running, and lets the next ``up`` reuse its ports and data.
"""

import asyncio
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kamu_devstack.demo.load import PEOPLE_OPS
from kamu_devstack.errors import InfraError
from kamu_devstack.infra import Infrastructure, start_infrastructure
from kamu_devstack.probes import ensure_databases
from kamu_devstack.processes import pid_alive, processes_mentioning, stop_group
from kamu_devstack.services import (
    SERVICES,
    ServiceProcess,
    check_ports_free,
    service_database,
    service_databases,
    start_catcher,
    start_services,
    wait_ready,
)
from kamu_shared.auth.mint import mint_token

Say = Callable[[str], None]


@dataclass
class Stack:
    """What one ``up`` started, as recorded in the state file."""

    state_dir: Path
    infra: Infrastructure | None = None
    services: list[ServiceProcess] = field(default_factory=list)
    base_port: int = 0

    @property
    def state_file(self) -> Path:
        return self.state_dir / "stack.json"

    def save(self) -> None:
        data = {
            "base_port": self.base_port,
            "infra": self.infra.to_json() if self.infra else None,
            "services": [asdict(s) for s in self.services],
        }
        self.state_file.write_text(json.dumps(data, indent=2))

    @classmethod
    def load(cls, state_dir: Path) -> "Stack":
        stack = cls(state_dir=state_dir)
        if not stack.state_file.exists():
            return stack
        data: dict[str, Any] = json.loads(stack.state_file.read_text())
        stack.base_port = data.get("base_port", 0)
        stack.infra = Infrastructure.from_json(data["infra"]) if data.get("infra") else None
        stack.services = [ServiceProcess(**s) for s in data.get("services", [])]
        return stack

    def running(self) -> bool:
        """Whether anything this stack started is still alive."""
        if any(s.alive() for s in self.services):
            return True
        infra = self.infra
        return bool(
            infra
            and (
                (infra.kafka and infra.kafka.pid and pid_alive(infra.kafka.pid))
                or (infra.postgres and infra.postgres.running())
            )
        )


def stack_secret(state_dir: Path, name: str) -> str:
    """One of the stack's secrets (``jwt``: the HS256 key tokens are signed with; ``webhook``:
    the key personal webhooks are signed with): made once per state folder, readable only by
    its owner."""
    path = state_dir / f"{name}-secret"
    if not path.exists():  # created readable by its owner only, never for a moment by others
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as secret:
            secret.write(secrets.token_hex(32))
    return path.read_text().strip()


def jwt_secret(state_dir: Path) -> str:
    return stack_secret(state_dir, "jwt")


# How long the dashboard link ``up`` prints stays valid: a working day.
DASHBOARD_TOKEN_SECONDS = 12 * 3600


def dashboard_url(stack: Stack) -> str | None:
    """The insights dashboard with a People Operations token in the fragment (never sent to a
    server, so it stays out of access logs), signed with the stack's JWT secret like `./kamu
    token`; ``None`` when insights does not run."""
    insights = next((s for s in stack.services if s.name == "insights"), None)
    if insights is None:
        return None
    token = mint_token(
        secret=jwt_secret(stack.state_dir),
        sub=PEOPLE_OPS,
        roles=["people-ops"],
        ttl_seconds=DASHBOARD_TOKEN_SECONDS,
    )
    return f"{insights.url}/dashboard#token={token}"


def up(state_dir: Path, base_port: int, with_services: bool, say: Say) -> Stack:
    """Start everything and return once all of it is healthy."""
    previous = Stack.load(state_dir)
    if previous.running():
        raise InfraError(
            f"a Kamu stack already runs from {state_dir}; `./kamu status` shows it, "
            "`./kamu down` stops it"
        )
    if with_services:
        check_ports_free(base_port)
    started = time.monotonic()
    say(f"state folder: {state_dir}")
    say("starting Kafka and PostgreSQL ...")
    stack = Stack(state_dir=state_dir, base_port=base_port)
    stack.infra = start_infrastructure(state_dir, previous=previous.infra)
    stack.save()
    for line in stack.infra.describe():
        say("  " + line)
    say(f"infrastructure ready in {time.monotonic() - started:.1f}s")
    if not with_services:
        return stack
    try:
        asyncio.run(
            ensure_databases(stack.infra.postgres_url, [service_database(n) for n, _ in SERVICES])
        )
        say("starting services and the catcher ...")
        stack.services = [
            start_catcher(state_dir, base_port),
            *start_services(
                state_dir,
                stack.infra.kafka_bootstrap,
                service_databases(stack.infra.postgres_url),
                base_port,
                {"jwt": jwt_secret(state_dir), "webhook": stack_secret(state_dir, "webhook")},
            ),
        ]
        stack.save()
        wait_ready(stack.services)
    except BaseException:
        down(state_dir, say=lambda _line: None)
        raise
    say(f"all services ready in {time.monotonic() - started:.1f}s")
    return stack


def down(state_dir: Path, say: Say, purge: bool = False) -> None:
    """Stop services, then Kafka and PostgreSQL; leave no process behind."""
    stack = Stack.load(state_dir)
    for svc in stack.services:
        if svc.alive():
            say(f"stopping {svc.name} (pid {svc.pid})")
        svc.stop()
    if stack.infra:
        say("stopping Kafka and PostgreSQL")
        stack.infra.stop()
    for pid in processes_mentioning(f"{state_dir}/"):
        say(f"stopping leftover process {pid}")
        stop_group(pid, timeout=10)
    if stack.state_file.exists():
        stack.state_file.unlink()
    if purge and state_dir.exists():
        shutil.rmtree(state_dir)
        say(f"removed {state_dir}")
