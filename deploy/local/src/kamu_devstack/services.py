"""Kamu's service processes on one machine: given the servers' addresses, proven ready."""

import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from kamu_devstack.errors import InfraError
from kamu_devstack.ports import LOOPBACK, port_is_free
from kamu_devstack.probes import database_url
from kamu_devstack.processes import pid_alive, spawn, stop_group

SERVICES: tuple[tuple[str, int], ...] = (
    ("pairing", 1),
    ("meetings", 2),
    ("goals", 3),
    ("notifications", 4),
    ("insights", 5),
)
# The services that publish events (each to its own topic, with an event catalogue in
# docs/events); insights only reads the others' topics.
PUBLISHERS: tuple[str, ...] = ("pairing", "meetings", "goals", "notifications")
DEFAULT_BASE_PORT = 8000
# the mail catcher (and webhook receiver): its page at BASE+25, SMTP at BASE+26.
CATCHER_HTTP_OFFSET, CATCHER_SMTP_OFFSET = 25, 26
# Every port a stack listens on, as an offset from its base port.
PORTS: tuple[tuple[str, int], ...] = (
    *SERVICES,
    ("catcher", CATCHER_HTTP_OFFSET),
    ("catcher SMTP", CATCHER_SMTP_OFFSET),
)
# With workers apart (as compose and Kubernetes run them), each service's worker process (relay,
# consumers, timers, dispatcher) listens for its operations endpoints 10 above its API.
WORKER_PORT_OFFSET = 10
WORKER_PORTS: tuple[tuple[str, int], ...] = tuple(
    (f"{name} worker", offset + WORKER_PORT_OFFSET) for name, offset in SERVICES
)
# What an API process runs when a worker process does the background work.
API_ONLY = {"KAMU_RUN_RELAY": "false", "KAMU_RUN_CONSUMERS": "false"}
# Meetings may be logged this far back: the demo's history of the past months.
DEMO_BACKDATE_DAYS = 400


def service_database(name: str) -> str:
    """Each service owns one database; no service reads another's."""
    return f"kamu_{name}"


@dataclass
class ServiceProcess:
    """One running service API."""

    name: str
    port: int
    log: str
    pid: int = 0

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def alive(self) -> bool:
        """The process (for a service: its keeper, which restarts the service) runs."""
        return bool(self.pid) and pid_alive(self.pid)

    @property
    def pidfile(self) -> Path:
        """Where the keeper writes the service's own pid (the one to ``kill -9`` in a drill)."""
        return Path(self.log).with_suffix(".pid")

    def service_pid(self) -> int | None:
        """The running service's own pid under its keeper, if it runs now."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def readiness(self) -> str:
        """``ready``, ``not-ready: <why>`` or ``down``: the API (``/readyz``) and its
        background work (``/readyz/background``) both."""
        if not self.alive():
            return "down"
        failing: dict[str, str] = {}
        for path in ("/readyz", "/readyz/background"):
            try:
                response = httpx.get(f"{self.url}{path}", timeout=5)
            except httpx.HTTPError as exc:
                return f"not-ready: {type(exc).__name__}"
            if response.status_code == 404:  # the catcher has no background work
                continue
            if response.status_code != 200:
                checks = response.json().get("checks", {})
                failing |= {k: v for k, v in checks.items() if v != "ok"}
        return f"not-ready: {failing}" if failing else "ready"

    def stop(self) -> None:
        if self.alive():
            stop_group(self.pid, timeout=15)


def check_ports_free(base_port: int) -> None:
    """Fail early, naming the port, if a service's port is taken."""
    taken = [(n, base_port + o) for n, o in PORTS if not port_is_free(base_port + o)]
    if taken:
        listing = ", ".join(f"{name} on {port}" for name, port in taken)
        raise InfraError(
            f"ports in use: {listing}. Stop what listens there (`./kamu down` if it is an earlier "
            f"Kamu), or choose other ports with --base-port."
        )


def service_env(name: str, base_port: int, secrets: dict[str, str]) -> dict[str, str]:
    """What one service needs beyond its servers on the local stack: notifications send to the
    catcher (email over SMTP, Slack, Teams and personal webhooks over plain HTTP on loopback,
    which a real deployment refuses), and meetings accept the demo's months of history.
    Insights needs nothing more: it reads every topic and relays nothing (its own default)."""
    env = {"KAMU_JWT_SECRET": secrets["jwt"]}
    if name == "meetings":
        env["KAMU_BACKDATE_DAYS"] = str(DEMO_BACKDATE_DAYS)
    if name == "notifications":
        catcher = f"http://{LOOPBACK}:{base_port + CATCHER_HTTP_OFFSET}"
        env |= {
            "KAMU_SMTP_HOST": LOOPBACK,
            "KAMU_SMTP_PORT": str(base_port + CATCHER_SMTP_OFFSET),
            "KAMU_SLACK_WEBHOOK_URL": f"{catcher}/hooks/slack",
            "KAMU_TEAMS_WEBHOOK_URL": f"{catcher}/hooks/teams",
            "KAMU_WEBHOOK_ALLOW_HTTP": "true",
            "KAMU_WEBHOOK_ALLOW_PRIVATE": "true",
            "KAMU_WEBHOOK_SIGNING_SECRET": secrets["webhook"],
            "KAMU_RETRY_INITIAL_SECONDS": "5",
        }
    return env


def start_catcher(state_dir: Path, base_port: int) -> ServiceProcess:
    """The mail catcher and webhook receiver (:mod:`kamu_devstack.catcher`)."""
    port = base_port + CATCHER_HTTP_OFFSET
    log = state_dir / "services" / "catcher.log"
    argv = [
        sys.executable,
        "-m",
        "kamu_devstack.catcher",
        "--dir",
        str(state_dir / "catcher"),
        "--http-port",
        str(port),
        "--smtp-port",
        str(base_port + CATCHER_SMTP_OFFSET),
    ]
    proc = spawn(argv, log, dict(os.environ))
    return ServiceProcess(name="catcher", port=port, log=str(log), pid=proc.pid)


def service_databases(postgres_url: str) -> dict[str, str]:
    """Each service's own database on the server at ``postgres_url``."""
    return {name: database_url(postgres_url, service_database(name)) for name, _ in SERVICES}


def start_services(
    state_dir: Path,
    kafka_bootstrap: str,
    databases: Mapping[str, str],
    base_port: int,
    secrets: dict[str, str],
    extra_env: Mapping[str, str] | None = None,
    *,
    workers_apart: bool = False,
) -> list[ServiceProcess]:
    """Start every service API (with its relay, consumers, timers and workers) in its own
    process group, under a keeper that starts it again whenever it ends unasked
    (:mod:`kamu_devstack.keeper`). ``databases``: each service's database URL; ``extra_env``
    goes to all. ``workers_apart``: each service as two processes, as compose and Kubernetes
    run it: the API (``KAMU_RUN_RELAY`` and ``KAMU_RUN_CONSUMERS`` false) and ``<name>-worker``
    (``python -m kamu_<name> worker``), so consumers never wait behind HTTP requests on one
    event loop."""
    started = []
    for name, _ in SERVICES:
        args = (name, state_dir, kafka_bootstrap, databases, base_port, secrets)
        if not workers_apart:
            started.append(start_service(*args, extra_env))
            continue
        started.append(start_service(*args, {**(extra_env or {}), **API_ONLY}))
        started.append(start_service(*args, extra_env, role="worker"))
    return started


def start_service(
    name: str,
    state_dir: Path,
    kafka_bootstrap: str,
    databases: Mapping[str, str],
    base_port: int,
    secrets: dict[str, str],
    extra_env: Mapping[str, str] | None = None,
    role: str = "api",
) -> ServiceProcess:
    """Start one service API (or, ``role="worker"``, its worker) in its own process group under
    its keeper, which starts it again whenever it ends unasked (a crash, ``kill -9``); stopping
    the group stops both."""
    port = base_port + dict(SERVICES)[name] + (WORKER_PORT_OFFSET if role == "worker" else 0)
    label = name if role == "api" else f"{name}-{role}"
    log = state_dir / "services" / f"{label}.log"
    env = {
        **os.environ,
        "KAMU_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "KAMU_DATABASE_URL": databases[name],
        "KAMU_HTTP_PORT": str(port),
        "KAMU_LOG_FORMAT": "json",
        **service_env(name, base_port, secrets),
        **(extra_env or {}),
    }
    process = ServiceProcess(name=label, port=port, log=str(log))
    command = [sys.executable, "-m", f"kamu_{name}", role, "--port", str(port)]
    keeper = [sys.executable, "-m", "kamu_devstack.keeper", "--pidfile", str(process.pidfile)]
    process.pid = spawn([*keeper, "--", *command], log, env).pid
    return process


def wait_ready(services: list[ServiceProcess], timeout: float = 90.0) -> None:
    """Return once every service answers ``/readyz`` and ``/readyz/background`` with 200."""
    deadline = time.monotonic() + timeout
    pending = list(services)
    while pending:
        for svc in list(pending):
            state = svc.readiness()
            if state == "ready":
                pending.remove(svc)
            elif state == "down":
                raise InfraError(f"{svc.name} exited while starting; see {svc.log}")
        if pending and time.monotonic() > deadline:
            names = ", ".join(f"{s.name} ({s.readiness()})" for s in pending)
            raise InfraError(f"not ready after {timeout:g}s: {names}")
        time.sleep(0.2)
